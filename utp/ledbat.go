package utp

import "time"

// LEDBAT (RFC 6817, BEP 29) keeps the queueing delay its own packets add
// near a target: the sender learns the one-way delay of each packet from
// the receiver's timestamp_difference, subtracts the smallest delay seen
// lately (the base delay: the path without queues, plus the offset
// between the two clocks), and grows its window while the rest, the
// queueing delay, is under target and shrinks it when it is over. A TCP
// flow that fills a queue therefore makes LEDBAT back off: uTP yields.
//
// The controller is a pure function of what it is told (bytes acked,
// delays, loss, the time as a duration): no clock, no I/O, so its tests
// feed it numbers.
const (
	// packetSize is the payload of a full DATA packet: with the 20-byte
	// header and up to 34 bytes of SACK, plus 8 of UDP and 40 of IPv6, it
	// stays under a 1,500-byte Ethernet MTU.
	packetSize = 1400

	targetDelay = 100 * time.Millisecond // BEP 29's CCONTROL_TARGET

	// gainPerRTT is how much the window may grow in one round trip when
	// the queue is empty (libutp's MAX_CWND_INCREASE_BYTES_PER_RTT).
	gainPerRTT = 3000

	minWindow = 2 * packetSize // RFC 6817's MIN_CWND of 2 packets
	maxWindow = 8 << 20        // far more than the send buffer allows

	// A new base-delay bucket starts every minute; the base is the minimum
	// over the last historyBuckets of them, so a clock that drifts against
	// the peer's is forgotten after a few minutes.
	historyBucket  = time.Minute
	historyBuckets = 3
)

// ledbat is one connection's congestion window.
type ledbat struct {
	cwnd      int  // bytes that may be in flight
	ssthresh  int  // slow start ends here
	slowStart bool // doubling per RTT until loss, ssthresh, or delay
	lastCut   time.Duration
	history   delayHistory
}

func newLEDBAT() ledbat {
	return ledbat{cwnd: minWindow, ssthresh: maxWindow, slowStart: true, lastCut: -time.Hour}
}

// onAck grows or shrinks the window after acked bytes were acknowledged
// while flight bytes (counted before the ack) were outstanding.
// queueDelay is the delay sample minus the base delay.
//
// The window grows by gainPerRTT·off_target/target·acked/cwnd: over one
// round trip (cwnd bytes acked) that is gainPerRTT when the queue is
// empty, nothing at target, and a decrease above it. A window that was
// not full (the application had nothing to send) does not grow: it was
// not the limit, and growing it would unleash a burst later.
func (c *ledbat) onAck(acked, flight int, queueDelay time.Duration) {
	if acked <= 0 {
		return
	}
	limited := flight+packetSize > c.cwnd
	if c.slowStart {
		if queueDelay >= targetDelay/2 || c.cwnd >= c.ssthresh {
			c.slowStart = false
		} else {
			if limited {
				c.cwnd = min(c.cwnd+acked, maxWindow)
			}
			return
		}
	}
	offTarget := float64(targetDelay-queueDelay) / float64(targetDelay)
	offTarget = max(offTarget, -1) // a huge delay spike must not zero the window
	delta := gainPerRTT * offTarget * float64(acked) / float64(c.cwnd)
	if delta > 0 && !limited {
		return
	}
	c.cwnd = min(max(c.cwnd+int(delta), minWindow), maxWindow)
}

// onLoss halves the window (BEP 29's loss factor 0.5), at most once per
// round trip: the packets lost in one burst are one congestion event.
func (c *ledbat) onLoss(now, rtt time.Duration) {
	if now-c.lastCut < rtt {
		return
	}
	c.lastCut = now
	c.slowStart = false
	c.ssthresh = max(c.cwnd/2, minWindow)
	c.cwnd = c.ssthresh
}

// onTimeout is a retransmission timeout: nothing came back for a whole
// RTO, so start over from the minimum window and slow-start back to half
// of where we were.
func (c *ledbat) onTimeout(now time.Duration) {
	c.lastCut = now
	c.ssthresh = max(c.cwnd/2, minWindow)
	c.cwnd = minWindow
	c.slowStart = true
}

// delayHistory keeps the minimum one-way delay sample per minute. Samples
// are the peer's clock minus ours and wrap around at 2³² µs, so they are
// compared by their difference, never by value.
type delayHistory struct {
	mins  [historyBuckets]uint32
	n     int // buckets filled, up to historyBuckets
	cur   int
	start time.Duration // when the current bucket began
}

// add records sample at time now and returns the queueing delay it shows:
// sample minus the minimum over the history.
func (h *delayHistory) add(sample uint32, now time.Duration) time.Duration {
	switch {
	case h.n == 0:
		h.n, h.cur, h.start = 1, 0, now
		h.mins[0] = sample
	case now-h.start >= historyBucket:
		h.cur = (h.cur + 1) % historyBuckets
		h.n = min(h.n+1, historyBuckets)
		h.start = now
		h.mins[h.cur] = sample
	case int32(sample-h.mins[h.cur]) < 0:
		h.mins[h.cur] = sample
	}
	return time.Duration(sample-h.base()) * time.Microsecond
}

func (h *delayHistory) base() uint32 {
	b := h.mins[h.cur]
	for i := range h.n {
		if int32(h.mins[i]-b) < 0 {
			b = h.mins[i]
		}
	}
	return b
}

// rttEstimator is RFC 6298's: a smoothed RTT and its variance give the
// retransmission timeout, which doubles on each timeout (back-off) until a
// new sample resets it.
type rttEstimator struct {
	srtt, rttvar time.Duration
	rto          time.Duration
}

const (
	initialRTO = time.Second // RFC 6298 2.1
	minRTO     = 500 * time.Millisecond
	maxRTO     = 60 * time.Second
)

func (r *rttEstimator) sample(rtt time.Duration) {
	if r.srtt == 0 {
		r.srtt, r.rttvar = rtt, rtt/2
	} else {
		d := r.srtt - rtt
		if d < 0 {
			d = -d
		}
		r.rttvar = (3*r.rttvar + d) / 4
		r.srtt = (7*r.srtt + rtt) / 8
	}
	r.rto = min(max(r.srtt+4*r.rttvar, minRTO), maxRTO)
}

func (r *rttEstimator) timeout() time.Duration {
	if r.rto == 0 {
		return initialRTO
	}
	return r.rto
}

func (r *rttEstimator) backOff() { r.rto = min(2*r.timeout(), maxRTO) }

// roundTrip is the smoothed RTT, or the initial RTO before any sample.
func (r *rttEstimator) roundTrip() time.Duration {
	if r.srtt == 0 {
		return initialRTO
	}
	return r.srtt
}
