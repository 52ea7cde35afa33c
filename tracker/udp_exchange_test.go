package tracker

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// newTestExchange returns an announce exchange with sequential transaction
// ids (1, 2, 3, ...) and a 1 s retry unit.
func newTestExchange(conn *udpConnID) *udpExchange {
	var next uint32
	req := testRequest()
	return &udpExchange{
		unit:   time.Second,
		conn:   conn,
		action: actionAnnounce,
		request: func(dst []byte, id uint64, tid uint32) []byte {
			return appendAnnounceRequest(dst, id, tid, req)
		},
		newTID: func() uint32 { next++; return next },
	}
}

func announceReply(tid uint32) []byte {
	return appendAnnounceReply(nil, tid, time.Minute, 1, 2, nil, false)
}

func TestUDPExchangeConnectThenAnnounce(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var conn udpConnID
	x := newTestExchange(&conn)

	st := x.start(t0)
	if !bytes.Equal(st.send, appendConnectRequest(nil, 1)) || st.wait != time.Second {
		t.Fatalf("start: got send %x wait %v, want connect tid 1 wait 1s", st.send, st.wait)
	}
	// A late or foreign answer is ignored.
	if st = x.receive(appendConnectReply(nil, 99, 5), t0); st.send != nil || st.reply != nil || st.err != nil {
		t.Fatalf("wrong tid: got %+v, want a no-op step", st)
	}
	st = x.receive(appendConnectReply(nil, 1, 0xabc), t0)
	if !bytes.Equal(st.send, appendAnnounceRequest(nil, 0xabc, 2, testRequest())) {
		t.Fatalf("after connect: got send %x, want announce with conn id 0xabc tid 2", st.send)
	}
	// A reply of the wrong kind with the right tid is also ignored.
	if st = x.receive(appendScrapeReply(nil, 2, nil), t0); st.reply != nil || st.err != nil {
		t.Fatalf("wrong action: got %+v, want a no-op step", st)
	}
	st = x.receive(announceReply(2), t0)
	if st.err != nil || st.reply == nil || st.reply.announce.Complete != 2 {
		t.Fatalf("got %+v, want the announce reply", st)
	}

	// Within a minute the id is reused: the next exchange skips connect.
	y := newTestExchange(&conn)
	if st = y.start(t0.Add(59 * time.Second)); !bytes.Equal(st.send[:8], []byte{0, 0, 0, 0, 0, 0, 0x0a, 0xbc}) {
		t.Errorf("reuse: got %x, want an announce with the cached id", st.send)
	}
	z := newTestExchange(&conn)
	if st = z.start(t0.Add(time.Minute)); !bytes.Equal(st.send, appendConnectRequest(nil, 1)) {
		t.Errorf("expired: got %x, want a connect", st.send)
	}
}

func TestUDPExchangeRetransmitSchedule(t *testing.T) {
	var conn udpConnID
	x := newTestExchange(&conn)
	now := time.Unix(0, 0)
	st := x.start(now)
	var waits []time.Duration
	for i := 0; i < 20 && st.err == nil; i++ {
		waits = append(waits, st.wait)
		now = now.Add(st.wait)
		st = x.timeout(now)
	}
	want := []time.Duration{1, 2, 4, 8, 16, 32, 64, 128, 256}
	if len(waits) != len(want) {
		t.Fatalf("got %d sends %v, want %d", len(waits), waits, len(want))
	}
	for i := range want {
		if waits[i] != want[i]*time.Second {
			t.Errorf("wait %d: got %v, want %v", i, waits[i], want[i]*time.Second)
		}
	}
	if !errors.Is(st.err, ErrTimeout) {
		t.Errorf("got %v, want ErrTimeout", st.err)
	}
}

func TestUDPExchangeTimeoutDropsConnID(t *testing.T) {
	t0 := time.Unix(0, 0)
	conn := udpConnID{id: 7, expires: t0.Add(time.Minute)}
	x := newTestExchange(&conn)
	x.start(t0)
	st := x.timeout(t0.Add(time.Second))
	if !bytes.Equal(st.send, appendConnectRequest(nil, 2)) || st.wait != 2*time.Second {
		t.Errorf("got send %x wait %v, want a fresh connect (tid 2) waiting 2s", st.send, st.wait)
	}
}

func TestUDPExchangeErrors(t *testing.T) {
	var conn udpConnID
	x := newTestExchange(&conn)
	x.start(time.Unix(0, 0))
	st := x.receive(appendErrorReply(nil, 1, "not authorized"), time.Unix(0, 0))
	var fe *FailureError
	if !errors.As(st.err, &fe) || fe.Reason != "not authorized" {
		t.Errorf("got %v, want FailureError \"not authorized\"", st.err)
	}

	y := newTestExchange(&conn)
	y.start(time.Unix(0, 0))
	for i := 0; i <= udpMaxReplyPackets; i++ {
		st = y.receive([]byte("junk"), time.Unix(0, 0))
	}
	if !errors.Is(st.err, ErrBadResponse) {
		t.Errorf("after a flood of junk: got %v, want ErrBadResponse", st.err)
	}
}
