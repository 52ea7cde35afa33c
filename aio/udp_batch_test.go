package aio_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// batchRoundTrip sends count numbered datagrams (of size(i) bytes) from a
// to b in one TryWriteBatch and reads them back with ReadBatch, checking
// each byte for byte with its sender.
func batchRoundTrip(t *aio.Task, a, b *aio.UDPConn, to netip.AddrPort, wantFrom netip.AddrPort, count int, size func(i int) int) error {
	out := make([]aio.Message, count)
	for i := range out {
		out[i] = aio.Message{Buf: bytes.Repeat([]byte{byte(i)}, size(i)), Addr: to}
	}
	if n, err := a.TryWriteBatch(out); n != count || err != nil {
		return fmt.Errorf("TryWriteBatch sent %d of %d: %v", n, count, err)
	}
	in := make([]aio.Message, count)
	for i := range in {
		in[i].Buf = make([]byte, 2048)
	}
	b.SetDeadline(t.Loop().Now().Add(5 * time.Second))
	for got := 0; got < count; {
		n, err := b.ReadBatch(t, in[got:])
		if err != nil {
			return fmt.Errorf("ReadBatch after %d: %w", got, err)
		}
		for _, m := range in[got : got+n] {
			if m.Addr != wantFrom {
				return fmt.Errorf("datagram %d from %v, want %v", got, m.Addr, wantFrom)
			}
			if !bytes.Equal(m.Buf[:m.N], out[got].Buf) {
				return fmt.Errorf("datagram %d: got %d bytes of %x, want %d of %x", got, m.N, m.Buf[0], len(out[got].Buf), out[got].Buf[0])
			}
			got++
		}
	}
	if n, err := b.TryReadBatch(in); n != 0 || err != nil {
		return fmt.Errorf("TryReadBatch on an empty socket: %d, %v; want 0, nil", n, err)
	}
	return nil
}

func TestUDPBatchRoundTrip(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		_, err := aio.Run(func(t *aio.Task) (struct{}, error) {
			a, err := aio.ListenUDP(t, netip.MustParseAddrPort(addr))
			if err != nil {
				return struct{}{}, err
			}
			defer a.Close()
			b, err := aio.ListenUDP(t, netip.MustParseAddrPort(addr))
			if err != nil {
				return struct{}{}, err
			}
			defer b.Close()
			// More than MaxBatch: the write is split, the reads are several.
			return struct{}{}, batchRoundTrip(t, a, b, b.LocalAddr(), a.LocalAddr(), aio.MaxBatch+10, func(i int) int { return 100 + i })
		})
		if err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
	}
}

// A [::] socket writes IPv4 destinations as mapped addresses and reports
// IPv4 senders unmapped, as WriteTo and ReadFrom do.
func TestUDPBatchDualStackMapsIPv4(t *testing.T) {
	_, err := aio.Run(func(t *aio.Task) (struct{}, error) {
		six, err := aio.ListenUDP(t, netip.MustParseAddrPort("[::]:0"))
		if err != nil {
			return struct{}{}, errNoIPv6
		}
		defer six.Close()
		four, err := aio.ListenUDP(t, netip.MustParseAddrPort("127.0.0.1:0"))
		if err != nil {
			return struct{}{}, err
		}
		defer four.Close()
		sixAt := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), six.LocalAddr().Port())
		if err := batchRoundTrip(t, six, four, four.LocalAddr(), sixAt, 3, oneSize); err != nil {
			return struct{}{}, fmt.Errorf("[::] to 127.0.0.1: %w", err)
		}
		if err := batchRoundTrip(t, four, six, sixAt, four.LocalAddr(), 3, oneSize); err != nil {
			return struct{}{}, fmt.Errorf("127.0.0.1 to [::]: %w", err)
		}
		return struct{}{}, nil
	})
	if errors.Is(err, errNoIPv6) {
		t.Skip("no IPv6 on this machine")
	}
	if err != nil {
		t.Fatal(err)
	}
}

var errNoIPv6 = errors.New("no IPv6")

func oneSize(int) int { return 1400 }

// Runs of one size to one destination go out as one segmented send (UDP
// GSO) where the kernel has it: the receiver still gets each datagram
// whole, in order, whether the run ends with a shorter datagram, at the
// 64 KiB limit of one run, or at a change of destination.
func TestUDPBatchSameSizeRunsArriveAsDatagrams(t *testing.T) {
	_, err := aio.Run(func(t *aio.Task) (struct{}, error) {
		a, err := aio.ListenUDP(t, netip.MustParseAddrPort("127.0.0.1:0"))
		if err != nil {
			return struct{}{}, err
		}
		defer a.Close()
		b, err := aio.ListenUDP(t, netip.MustParseAddrPort("127.0.0.1:0"))
		if err != nil {
			return struct{}{}, err
		}
		defer b.Close()
		_ = b.SetReadBuffer(1 << 20)
		// 60 x 1,400 bytes is more than one run may carry; every 7th is
		// shorter and ends a run.
		shortEvery7 := func(i int) int {
			if i%7 == 6 {
				return 500
			}
			return 1400
		}
		if err := batchRoundTrip(t, a, b, b.LocalAddr(), a.LocalAddr(), 60, oneSize); err != nil {
			return struct{}{}, fmt.Errorf("one size: %w", err)
		}
		if err := batchRoundTrip(t, a, b, b.LocalAddr(), a.LocalAddr(), 60, shortEvery7); err != nil {
			return struct{}{}, fmt.Errorf("a shorter one every 7: %w", err)
		}
		// Alternating destinations: no run is longer than one.
		c, err := aio.ListenUDP(t, netip.MustParseAddrPort("127.0.0.1:0"))
		if err != nil {
			return struct{}{}, err
		}
		defer c.Close()
		out := make([]aio.Message, 10)
		for i := range out {
			out[i] = aio.Message{Buf: bytes.Repeat([]byte{byte(i)}, 1400), Addr: b.LocalAddr()}
			if i%2 == 1 {
				out[i].Addr = c.LocalAddr()
			}
		}
		if n, err := a.TryWriteBatch(out); n != len(out) || err != nil {
			return struct{}{}, fmt.Errorf("alternating: sent %d of %d: %v", n, len(out), err)
		}
		for r, first := range map[*aio.UDPConn]int{b: 0, c: 1} {
			in := make([]aio.Message, 5)
			for i := range in {
				in[i].Buf = make([]byte, 2048)
			}
			r.SetDeadline(t.Loop().Now().Add(5 * time.Second))
			for got := 0; got < 5; {
				n, err := r.ReadBatch(t, in[got:])
				if err != nil {
					return struct{}{}, err
				}
				for _, m := range in[got : got+n] {
					if want := out[first+2*got].Buf; !bytes.Equal(m.Buf[:m.N], want) {
						return struct{}{}, fmt.Errorf("alternating: datagram %d to %v: %d bytes of %x, want %d of %x", got, r.LocalAddr(), m.N, m.Buf[0], len(want), want[0])
					}
					got++
				}
			}
		}
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A datagram the kernel refuses (an IPv6 destination on an IPv4 socket)
// stops the batch there with its error; the caller skips it and the rest
// go out. A refused run is told datagram by datagram too.
func TestUDPBatchSkipsRefusedDatagram(t *testing.T) {
	_, err := aio.Run(func(t *aio.Task) (struct{}, error) {
		a, err := aio.ListenUDP(t, netip.MustParseAddrPort("127.0.0.1:0"))
		if err != nil {
			return struct{}{}, err
		}
		defer a.Close()
		b, err := aio.ListenUDP(t, netip.MustParseAddrPort("127.0.0.1:0"))
		if err != nil {
			return struct{}{}, err
		}
		defer b.Close()
		bad := netip.MustParseAddrPort("[2001:db8::1]:6881")
		msgs := []aio.Message{
			{Buf: []byte("one"), Addr: b.LocalAddr()},
			{Buf: []byte("bad"), Addr: bad},
			{Buf: []byte("two"), Addr: b.LocalAddr()},
			// A run of one size to one destination, refused: sent
			// segmented where the kernel can, then one by one to say which.
			{Buf: []byte("bd1"), Addr: bad},
			{Buf: []byte("bd2"), Addr: bad},
			{Buf: []byte("thr"), Addr: b.LocalAddr()},
		}
		n, err := a.TryWriteBatch(msgs)
		if n != 1 || err == nil || errors.Is(err, aio.ErrWouldBlock) {
			return struct{}{}, fmt.Errorf("TryWriteBatch: %d, %v; want 1 and the refusal", n, err)
		}
		refused := []string{string(msgs[n].Buf)}
		for rest := msgs[n+1:]; len(rest) > 0; {
			n, err := a.TryWriteBatch(rest)
			rest = rest[n:]
			if err != nil {
				if errors.Is(err, aio.ErrWouldBlock) {
					return struct{}{}, err
				}
				refused = append(refused, string(rest[0].Buf))
				rest = rest[1:]
			}
		}
		if fmt.Sprint(refused) != "[bad bd1 bd2]" {
			return struct{}{}, fmt.Errorf("refused %q, want [bad bd1 bd2]", refused)
		}
		var got []string
		in := make([]aio.Message, 4)
		for i := range in {
			in[i].Buf = make([]byte, 16)
		}
		b.SetDeadline(t.Loop().Now().Add(5 * time.Second))
		for len(got) < 3 {
			n, err := b.ReadBatch(t, in)
			if err != nil {
				return struct{}{}, err
			}
			for _, m := range in[:n] {
				got = append(got, string(m.Buf[:m.N]))
			}
		}
		if fmt.Sprint(got) != "[one two thr]" {
			return struct{}{}, fmt.Errorf("got %q, want [one two thr]", got)
		}
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// On Linux a batch is one recvmmsg or sendmmsg over arrays kept per
// socket, and addresses never pass through unix.Sockaddr: nothing is
// allocated per datagram.
func TestUDPBatchAllocatesNothing(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("one syscall per datagram, through unix.Sockaddr, elsewhere")
	}
	_, err := aio.Run(func(t *aio.Task) (struct{}, error) {
		a, err := aio.ListenUDP(t, netip.MustParseAddrPort("127.0.0.1:0"))
		if err != nil {
			return struct{}{}, err
		}
		defer a.Close()
		b, err := aio.ListenUDP(t, netip.MustParseAddrPort("127.0.0.1:0"))
		if err != nil {
			return struct{}{}, err
		}
		defer b.Close()
		out := make([]aio.Message, 8)
		in := make([]aio.Message, 8)
		for i := range out {
			out[i] = aio.Message{Buf: make([]byte, 1400), Addr: b.LocalAddr()}
			in[i].Buf = make([]byte, 2048)
		}
		var got int
		allocs := testing.AllocsPerRun(20, func() {
			n, _ := a.TryWriteBatch(out)
			for k := 0; k < n; {
				m, err := b.TryReadBatch(in)
				if err != nil || m == 0 {
					break
				}
				k += m
				got += m
			}
		})
		if got == 0 {
			return struct{}{}, fmt.Errorf("no datagram went through")
		}
		if allocs != 0 {
			return struct{}{}, fmt.Errorf("%v allocations per batch of %d, want 0", allocs, len(out))
		}
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
