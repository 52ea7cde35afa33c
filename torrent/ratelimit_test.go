package torrent

import (
	"testing"
	"time"
)

func TestTokenBucketReserve(t *testing.T) {
	const rate = 1_024_000 // a tenth of it is above minBurst, and whole
	b := newTokenBucket(rate, epoch)
	burst := int(b.burst)
	if want := rate / 10; burst != want {
		t.Fatalf("burst %d, want %d (a tenth of a second)", burst, want)
	}
	steps := []struct {
		at   time.Duration
		n    int
		want time.Duration
	}{
		{0, burst, 0},                         // the full bucket
		{0, rate / 2, 500 * time.Millisecond}, // debt of half a second
		{250 * time.Millisecond, 0, 250 * time.Millisecond},
		{time.Second, 0, 0},                                   // paid off at 500 ms, then refilled
		{10 * time.Second, 2 * burst, 100 * time.Millisecond}, // idle time saves only one burst
	}
	for i, s := range steps {
		got := b.reserve(epoch.Add(s.at), s.n)
		if d := got - s.want; d < 0 || d > time.Microsecond {
			t.Errorf("step %d: reserve(%v, %d) = %v, want %v", i, s.at, s.n, got, s.want)
		}
	}
}

// TestTokenBucketLongRunRate takes blocks as fast as the bucket allows on
// a fake clock for 10 s and checks the total against rate × time + burst.
func TestTokenBucketLongRunRate(t *testing.T) {
	tests := []struct {
		rate  int64
		block int
	}{
		{100 << 10, 16 << 10}, // blocks bigger than a tenth of a second
		{1 << 20, 16 << 10},
		{50 << 20, 16 << 10},
		{1 << 20, 1 << 20}, // takes far larger than the burst
		{10 << 10, 3},
	}
	for _, tc := range tests {
		b := newTokenBucket(tc.rate, epoch)
		now := epoch
		end := epoch.Add(10 * time.Second)
		sent := 0
		for i := 0; now.Before(end); i++ {
			if i > 10_000_000 {
				t.Fatal("bucket never made the taker wait")
			}
			now = now.Add(b.reserve(now, tc.block))
			if now.After(end) {
				break
			}
			sent += tc.block
		}
		want := float64(tc.rate)*10 + b.burst
		if got := float64(sent); got > want+float64(tc.block) || got < want-float64(tc.block)-b.burst {
			t.Errorf("rate %d, blocks of %d: sent %d bytes in 10 s, want %.0f (± a block, minus at most a burst)",
				tc.rate, tc.block, sent, want)
		}
	}
}

func TestTokenBucketUnlimited(t *testing.T) {
	var nilBucket *tokenBucket
	if d := nilBucket.reserve(epoch, 1<<30); d != 0 {
		t.Fatalf("nil bucket: wait %v, want 0", d)
	}
	if d := newTokenBucket(0, epoch).reserve(epoch, 1<<30); d != 0 {
		t.Fatalf("rate 0: wait %v, want 0", d)
	}
}
