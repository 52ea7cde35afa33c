package utp

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/peer"
)

var _ peer.Stream = (*Conn)(nil)

// sink is a Transport that keeps count and sends nowhere.
type sink struct{ sent int }

func (s *sink) SendTo([]byte, netip.AddrPort) error { s.sent++; return nil }

func packet(h header, payload ...byte) []byte {
	b := make([]byte, hdrRoom+len(payload))
	n := encodeHeader(b, &h)
	return append(b[:n], payload...)
}

func TestMalformedDatagramsCreateNoState(t *testing.T) {
	runLoop(t, func(t *aio.Task) error {
		tr := &sink{}
		s := NewSocket(t.Loop(), tr, Config{})
		defer s.Close()
		syn := packet(header{typ: stSyn, connID: 100, seq: 1})
		bad := [][]byte{
			nil,
			syn[:19],                         // truncated SYN
			append([]byte{0x42}, syn[1:]...), // SYN, version 2
			append([]byte{0x61}, syn[1:]...), // type 6
			append(append([]byte{}, syn...)[:20:20], 0, 9), // extension cut
		}
		bad[4][1] = extSACK
		sackPastEnd := append([]byte(nil), syn...)
		sackPastEnd[1] = extSACK
		bad = append(bad, append(sackPastEnd, 0, 40, 1, 2))
		for i, b := range bad {
			s.Receive(b, addrA)
			if len(s.conns) != 0 || tr.sent != 0 {
				return fmt.Errorf("datagram %d (%x): %d connections, %d replies; want none", i, b, len(s.conns), tr.sent)
			}
		}
		if got := s.Stats().Malformed; got != uint64(len(bad)) {
			return fmt.Errorf("Malformed: got %d, want %d", got, len(bad))
		}
		// A packet for no connection gets a RESET, and no state either.
		s.Receive(packet(header{typ: stData, connID: 7, seq: 3}, 'x'), addrA)
		s.Receive(packet(header{typ: stReset, connID: 7}), addrA)
		if len(s.conns) != 0 || tr.sent != 1 {
			return fmt.Errorf("after stray DATA and RESET: %d connections, %d replies; want 0, 1 RESET", len(s.conns), tr.sent)
		}
		return nil
	})
}

func TestSYNFloodIsCappedAndExpires(t *testing.T) {
	runLoop(t, func(t *aio.Task) error {
		s := NewSocket(t.Loop(), &sink{}, Config{MaxHalfOpen: 16})
		defer s.Close()
		for i := range 1000 {
			from := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 6881)
			s.Receive(packet(header{typ: stSyn, connID: uint16(i), seq: 1}), from)
		}
		if len(s.conns) != 16 || s.Stats().Refused != 1000-16 {
			return fmt.Errorf("after 1000 SYNs: %d connections, %d refused; want 16, 984", len(s.conns), s.Stats().Refused)
		}
		if err := aio.Sleep(t, halfOpenTimeout+time.Second); err != nil {
			return err
		}
		if len(s.conns) != 0 || s.halfOpen != 0 {
			return fmt.Errorf("after the half-open timeout: %d connections (%d half-open), want 0", len(s.conns), s.halfOpen)
		}
		return nil
	}, aio.WithVirtualTime())
}

// TestWildPacketsOnAnOpenConnection sends an established connection acks
// for packets never sent, seqs far outside the window, SACK bits past
// everything, and RESETs for other connection ids: each is dropped and
// the connection still carries data intact.
func TestWildPacketsOnAnOpenConnection(t *testing.T) {
	runLoop(t, func(t *aio.Task) error {
		sa, sb, _, _ := shimPair(t.Loop(), path{delay: 10 * time.Millisecond}, 3)
		defer sa.Close()
		defer sb.Close()
		a, b, err := dialAccept(t, sa, sb, addrB)
		if err != nil {
			return err
		}
		id := b.recvID // what a sends with
		invalid := sb.Stats().Invalid
		wild := []header{
			{typ: stState, connID: id, seq: a.seqNext, ack: b.seqSent + 100},    // acks the future
			{typ: stData, connID: id, seq: b.ackNr + 30000, ack: b.seqSent - 1}, // far ahead
			{typ: stData, connID: id, seq: b.ackNr - 30000, ack: b.seqSent - 1}, // far behind
			{typ: stState, connID: id, ack: b.seqAcked - 5000},                  // ancient ack
		}
		for _, h := range wild {
			sb.Receive(packet(h, 'z'), addrA)
		}
		if got := sb.Stats().Invalid - invalid; got != uint64(len(wild)) {
			return fmt.Errorf("Invalid: got %d more, want %d", got, len(wild))
		}
		// SACK bits for packets never sent are ignored.
		sb.Receive(packet(header{typ: stState, connID: id, ack: b.seqSent - 1, sack: []byte{0xff, 0xff, 0xff, 0xff}}), addrA)
		// RESETs for ids that are not this connection's change nothing.
		for _, rid := range []uint16{id + 2, id - 2, id + 7} {
			sb.Receive(packet(header{typ: stReset, connID: rid}), addrA)
		}
		sb.Receive(packet(header{typ: stReset, connID: id}), netip.MustParseAddrPort("10.9.9.9:1"))
		if b.err != nil || sb.conns[connKey{addrA, id}] != b {
			return fmt.Errorf("connection gone after foreign RESETs: %v", b.err)
		}
		return exchange(t, a, b, 256<<10)
	}, aio.WithVirtualTime())
}

func TestResetEndsBothCalls(t *testing.T) {
	runLoop(t, func(t *aio.Task) error {
		sa, sb, _, _ := shimPair(t.Loop(), path{delay: 5 * time.Millisecond}, 4)
		defer sa.Close()
		defer sb.Close()
		a, b, err := dialAccept(t, sa, sb, addrB)
		if err != nil {
			return err
		}
		rd := aio.Spawn(t, "read", func(t *aio.Task) (int, error) { return b.Read(t, make([]byte, 10)) })
		a.reset()
		if _, err := aio.Await(t, rd); err != ErrReset {
			return fmt.Errorf("parked Read after the peer's RESET: got %v, want ErrReset", err)
		}
		if _, err := b.Write(t, []byte("x")); err != ErrReset {
			return fmt.Errorf("Write after RESET: got %v, want ErrReset", err)
		}
		if len(sa.conns)+len(sb.conns) != 0 {
			return fmt.Errorf("%d connections left after RESET, want 0", len(sa.conns)+len(sb.conns))
		}
		return nil
	}, aio.WithVirtualTime())
}

func TestCloseFailsParkedReadAndDeadlinesTimeOut(t *testing.T) {
	runLoop(t, func(t *aio.Task) error {
		sa, sb, _, _ := shimPair(t.Loop(), path{delay: 5 * time.Millisecond}, 5)
		defer sa.Close()
		defer sb.Close()
		a, b, err := dialAccept(t, sa, sb, addrB)
		if err != nil {
			return err
		}
		b.SetReadDeadline(t.Loop().Now().Add(time.Second))
		if _, err := b.Read(t, make([]byte, 10)); err != aio.ErrTimeout {
			return fmt.Errorf("Read past its deadline: got %v, want ErrTimeout", err)
		}
		b.SetReadDeadline(time.Time{})
		rd := aio.Spawn(t, "read", func(t *aio.Task) (int, error) { return a.Read(t, make([]byte, 10)) })
		if err := aio.Sleep(t, time.Millisecond); err != nil {
			return err
		}
		a.Close()
		if _, err := aio.Await(t, rd); err != aio.ErrClosed {
			return fmt.Errorf("parked Read after Close: got %v, want ErrClosed", err)
		}
		// a's FIN reaches b, b closes too, and both Sockets forget them.
		if _, err := b.Read(t, make([]byte, 1)); err == nil {
			return fmt.Errorf("Read after the peer's FIN: got no error")
		}
		b.Close()
		if err := aio.Sleep(t, time.Second); err != nil {
			return err
		}
		if len(sa.conns)+len(sb.conns) != 0 {
			return fmt.Errorf("%d connections left after both FINs, want 0", len(sa.conns)+len(sb.conns))
		}
		return nil
	}, aio.WithVirtualTime())
}

func TestDialTimesOutWithNoAnswer(t *testing.T) {
	runLoop(t, func(t *aio.Task) error {
		tr := &sink{}
		s := NewSocket(t.Loop(), tr, Config{})
		defer s.Close()
		_, err := s.Dial(t, addrB)
		if err == nil || tr.sent != maxSynTimeouts || len(s.conns) != 0 {
			return fmt.Errorf("Dial into the void: got %v after %d SYNs, %d connections; want ErrTimedOut after %d, none", err, tr.sent, len(s.conns), maxSynTimeouts)
		}
		return nil
	}, aio.WithVirtualTime())
}
