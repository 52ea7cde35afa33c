package utp

import (
	"testing"
	"time"
)

// ackRTT feeds the controller one round trip of full-window acks, a
// packet at a time, all with the same queueing delay.
func ackRTT(c *ledbat, delay time.Duration) {
	flight := c.cwnd
	for acked := 0; acked < flight; acked += packetSize {
		c.onAck(packetSize, c.cwnd, delay)
	}
}

func outOfSlowStart(cwnd int) ledbat {
	c := newLEDBAT()
	c.slowStart = false
	c.cwnd = cwnd
	return c
}

func TestLEDBATGrowsByGainPerRTTWhenTheQueueIsEmpty(t *testing.T) {
	c := outOfSlowStart(100 * packetSize)
	before := c.cwnd
	ackRTT(&c, 0)
	if got := c.cwnd - before; got < gainPerRTT*9/10 || got > gainPerRTT*11/10 {
		t.Errorf("growth over one RTT with no queue: got %d bytes, want about %d", got, gainPerRTT)
	}
}

func TestLEDBATHoldsAtTarget(t *testing.T) {
	c := outOfSlowStart(100 * packetSize)
	before := c.cwnd
	ackRTT(&c, targetDelay)
	if c.cwnd != before {
		t.Errorf("window at target delay: got %d, want %d unchanged", c.cwnd, before)
	}
}

func TestLEDBATShrinksAboveTargetDownToTheMinimum(t *testing.T) {
	c := outOfSlowStart(100 * packetSize)
	before := c.cwnd
	ackRTT(&c, 2*targetDelay)
	if got := before - c.cwnd; got < gainPerRTT*9/10 || got > gainPerRTT*11/10 {
		t.Errorf("shrink over one RTT at twice the target: got %d bytes, want about %d", got, gainPerRTT)
	}
	for range 1000 {
		ackRTT(&c, 10*time.Second)
	}
	if c.cwnd != minWindow {
		t.Errorf("window after a long delay spike: got %d, want the minimum %d", c.cwnd, minWindow)
	}
}

func TestLEDBATDoesNotGrowAnIdleWindow(t *testing.T) {
	c := outOfSlowStart(100 * packetSize)
	before := c.cwnd
	for range 200 {
		c.onAck(packetSize, 10*packetSize, 0) // the application sends little
	}
	if c.cwnd != before {
		t.Errorf("window not in use: got %d, want %d unchanged", c.cwnd, before)
	}
}

func TestLEDBATSlowStartDoublesUntilHalfTheTarget(t *testing.T) {
	c := newLEDBAT()
	for i := range 5 {
		before := c.cwnd
		ackRTT(&c, 0)
		if c.cwnd != 2*before {
			t.Fatalf("slow-start round %d: got %d, want %d", i, c.cwnd, 2*before)
		}
	}
	ackRTT(&c, targetDelay/2)
	if c.slowStart {
		t.Error("still in slow start with the queueing delay at half the target")
	}
}

func TestLEDBATLossHalvesOncePerRTT(t *testing.T) {
	c := outOfSlowStart(100 * packetSize)
	rtt := 50 * time.Millisecond
	c.onLoss(time.Second, rtt)
	c.onLoss(time.Second+rtt/2, rtt) // same burst
	if c.cwnd != 50*packetSize {
		t.Errorf("after losses in one RTT: got %d, want %d", c.cwnd, 50*packetSize)
	}
	c.onLoss(time.Second+2*rtt, rtt)
	if c.cwnd != 25*packetSize {
		t.Errorf("after a loss in the next RTT: got %d, want %d", c.cwnd, 25*packetSize)
	}
	c.onTimeout(2 * time.Second)
	if c.cwnd != minWindow || !c.slowStart {
		t.Errorf("after a timeout: got %d (slow start %v), want %d in slow start", c.cwnd, c.slowStart, minWindow)
	}
}

// TestLEDBATKeepsTheQueueNearTarget runs the controller against a model
// bottleneck: 1 MB/s, 50 ms base RTT, a FIFO queue that our window and a
// competing flow's fixed backlog fill. LEDBAT should settle with the
// total queueing delay near 100 ms, giving way to the other flow.
func TestLEDBATKeepsTheQueueNearTarget(t *testing.T) {
	const rate = 1e6 // bytes per second
	const baseRTT = 50 * time.Millisecond
	for _, competing := range []float64{0, 40e3, 80e3} {
		c := newLEDBAT()
		bdp := rate * baseRTT.Seconds()
		var delay time.Duration
		for range 3000 {
			queued := max(0, float64(c.cwnd)+competing-bdp)
			delay = time.Duration(queued / rate * float64(time.Second))
			ackRTT(&c, delay)
		}
		if delay < targetDelay*8/10 || delay > targetDelay*12/10 {
			t.Errorf("competing backlog %.0f bytes: queueing delay settled at %v, want about %v (cwnd %d)", competing, delay, targetDelay, c.cwnd)
		}
	}
}

func TestDelayHistoryBaseIsTheMinimumOfRecentMinutes(t *testing.T) {
	var h delayHistory
	at := time.Duration(0)
	if got := h.add(5000, at); got != 0 {
		t.Errorf("first sample's queueing delay: got %v, want 0", got)
	}
	if got := h.add(7000, at+time.Second); got != 2*time.Millisecond {
		t.Errorf("queueing delay: got %v, want 2ms", got)
	}
	// The 5000 µs minimum ages out after historyBuckets minutes: the
	// peer's clock drifted, and the new base is 9000.
	for m := 1; m <= historyBuckets; m++ {
		h.add(9000, at+time.Duration(m)*time.Minute)
	}
	if got := h.add(9500, at+historyBuckets*time.Minute+time.Second); got != 500*time.Microsecond {
		t.Errorf("queueing delay after the old base aged out: got %v, want 500µs", got)
	}
}

func TestDelayHistoryWrapsAround(t *testing.T) {
	var h delayHistory
	h.add(0xffffff00, 0)
	// 0x100 is 512 µs after 0xffffff00 on a 32-bit clock.
	if got := h.add(0x100, time.Second); got != 512*time.Microsecond {
		t.Errorf("queueing delay across the wrap: got %v, want 512µs", got)
	}
}

func TestRTTEstimatorRFC6298(t *testing.T) {
	var r rttEstimator
	if r.timeout() != initialRTO {
		t.Errorf("before a sample: got %v, want %v", r.timeout(), initialRTO)
	}
	r.sample(200 * time.Millisecond) // srtt 200, rttvar 100: 600
	if r.timeout() != 600*time.Millisecond {
		t.Errorf("after one sample: got %v, want 600ms", r.timeout())
	}
	r.sample(200 * time.Millisecond) // srtt 200, rttvar 75: 500
	if r.timeout() != 500*time.Millisecond {
		t.Errorf("after two: got %v, want 500ms", r.timeout())
	}
	r.sample(10 * time.Millisecond) // small, but never below minRTO
	if r.timeout() < minRTO {
		t.Errorf("got %v, below the minimum %v", r.timeout(), minRTO)
	}
	for range 20 {
		r.backOff()
	}
	if r.timeout() != maxRTO {
		t.Errorf("after back-off: got %v, want the cap %v", r.timeout(), maxRTO)
	}
}
