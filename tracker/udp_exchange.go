package tracker

import (
	"fmt"
	"time"
)

// The client side of one BEP 15 request as a pure state machine: it says
// what to send and how long to wait, and is told what arrived and when a
// wait ran out. udp_client.go drives it over a socket; tests drive it by
// hand with a made-up clock.
//
//	        start                           connect reply (tid ok)
//	  ┌───────────────► connecting ───────────────────────────┐
//	  │ no valid id        │ timeout: resend connect,         ▼
//	  │                    │ wait unit·2^n          requesting ── reply / error ──► done
//	  └── valid id ────────┼──────────────────────────►  │ timeout: reconnect
//	                       └── n > maxRetransmits ──► ErrTimeout

// BEP 15 retransmission schedule: wait 15·2^n seconds, n = 0..8.
const (
	udpRetryUnit       = 15 * time.Second
	udpMaxRetransmits  = 8
	udpConnIDLifetime  = time.Minute
	udpMaxReplyPackets = 64 // stray packets tolerated per request
)

// udpConnID is a tracker's connection id and when it stops being valid.
// One lives per tracker and is shared by its exchanges, so announces within
// a minute skip the connect round trip.
type udpConnID struct {
	id      uint64
	expires time.Time
}

func (c *udpConnID) valid(now time.Time) bool {
	return !c.expires.IsZero() && now.Before(c.expires)
}

// udpStep is what the driver does next. Exactly one of these holds: send is
// set (send it, then wait at most wait); reply or err is set (done); or all
// are zero (keep waiting for the current deadline).
type udpStep struct {
	send  []byte
	wait  time.Duration
	reply *udpReply
	err   error
}

// udpExchange is one announce or scrape, with its connect if needed.
type udpExchange struct {
	unit    time.Duration // 15 s by BEP 15; tests scale it down
	v6      bool          // tracker reached over IPv6: 18-byte peers
	conn    *udpConnID
	action  uint32 // actionAnnounce or actionScrape: the reply we want
	request func(dst []byte, connID uint64, tid uint32) []byte
	newTID  func() uint32

	// Invariant: tid is the transaction id of the last packet sent, and
	// connecting says whether that packet was a connect request.
	tid        uint32
	connecting bool
	out        []byte // the last packet sent, its memory reused for the next
	n          int    // retransmissions so far
	strays     int    // packets ignored so far
}

// start sends the first packet: the request itself when the connection id
// is still fresh, a connect otherwise.
func (x *udpExchange) start(now time.Time) udpStep {
	if x.unit <= 0 {
		x.unit = udpRetryUnit
	}
	return x.send(now)
}

func (x *udpExchange) send(now time.Time) udpStep {
	x.tid = x.newTID()
	wait := x.unit << x.n
	if x.out == nil {
		x.out = make([]byte, 0, 128) // an announce is 98 bytes: one allocation, not five appends
	}
	if x.conn.valid(now) {
		x.connecting = false
		x.out = x.request(x.out[:0], x.conn.id, x.tid)
		return udpStep{send: x.out, wait: wait}
	}
	x.connecting = true
	x.out = appendConnectRequest(x.out[:0], x.tid)
	return udpStep{send: x.out, wait: wait}
}

// timeout is called when a wait ran out without an answer. A request that
// went unanswered may mean the tracker forgot our connection id (it
// restarted, say), so the retry connects afresh.
func (x *udpExchange) timeout(now time.Time) udpStep {
	if x.n >= udpMaxRetransmits {
		return udpStep{err: fmt.Errorf("%w: no answer after %d retransmissions", ErrTimeout, x.n)}
	}
	x.n++
	if !x.connecting {
		*x.conn = udpConnID{}
	}
	return x.send(now)
}

// receive handles a datagram from the tracker. Packets that are not for the
// outstanding transaction are ignored (a late answer to an earlier
// retransmission, or noise); too many of them end the exchange so a
// flooding source cannot keep us here.
func (x *udpExchange) receive(pkt []byte, now time.Time) udpStep {
	r, err := parseUDPReply(pkt, x.v6)
	if r.tid != x.tid || len(pkt) < udpHeaderLen {
		return x.stray()
	}
	if err != nil {
		return udpStep{err: err}
	}
	switch {
	case r.action == actionError:
		return udpStep{err: &FailureError{Reason: r.errMsg}}
	case x.connecting && r.action == actionConnect:
		*x.conn = udpConnID{id: r.connID, expires: now.Add(udpConnIDLifetime)}
		return x.send(now)
	case !x.connecting && r.action == x.action:
		return udpStep{reply: &r}
	}
	return x.stray()
}

func (x *udpExchange) stray() udpStep {
	x.strays++
	if x.strays > udpMaxReplyPackets {
		return udpStep{err: fmt.Errorf("%w: too many unexpected packets", ErrBadResponse)}
	}
	return udpStep{}
}
