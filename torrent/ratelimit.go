package torrent

import (
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// tokenBucket limits a byte rate. It is pure (the caller passes the time)
// and lets a taker go into debt: reserve takes the bytes at once and says
// how long to wait until the debt is paid off. Over any long stretch the
// bytes let through are then rate × time plus at most one burst, whatever
// the sizes of the takes; a bucket that made takers wait for the whole
// amount first would starve a take larger than the burst.
type tokenBucket struct {
	rate   float64 // bytes per second; 0 means no limit
	burst  float64 // most tokens saved up while idle
	tokens float64 // may be negative: debt
	last   time.Time
}

// minBurst lets at least a few blocks through at once, so that a low
// limit still sends whole 16 KiB blocks without waiting between them.
const minBurst = 64 << 10

// newTokenBucket returns a full bucket for rate bytes per second (0: no
// limit). The burst is a tenth of a second's worth, at least minBurst: a
// small share of any 10 s window, large enough to keep a writev full.
func newTokenBucket(rate int64, now time.Time) *tokenBucket {
	b := &tokenBucket{rate: float64(rate), last: now}
	b.burst = max(b.rate/10, minBurst)
	b.tokens = b.burst
	return b
}

// reserve takes n bytes at now and returns how long the caller must wait
// before using them: zero while the bucket holds enough.
func (b *tokenBucket) reserve(now time.Time, n int) time.Duration {
	if b == nil || b.rate <= 0 {
		return 0
	}
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(b.burst, b.tokens+elapsed.Seconds()*b.rate)
		b.last = now
	}
	b.tokens -= float64(n)
	if b.tokens >= 0 {
		return 0
	}
	// Round up: waking a nanosecond early would find a sliver of debt.
	return time.Duration(-b.tokens/b.rate*float64(time.Second)) + 1
}

// throttle takes n bytes from b (nil: no limit) and suspends t until they
// are paid for.
func throttle(t *aio.Task, b *tokenBucket, n int) error {
	if b == nil {
		return nil
	}
	if wait := b.reserve(t.Loop().Now(), n); wait > 0 {
		return aio.Sleep(t, wait)
	}
	return nil
}
