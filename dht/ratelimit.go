package dht

import (
	"net/netip"
	"time"
)

// limiter is a token bucket per source IP for the queries we answer: each
// address may send burst queries at once and rate a second after that.
// The map of addresses is bounded: when it is full, addresses whose bucket
// has refilled (they have been quiet) are forgotten, at most once a
// second; if none has, a new address is refused until one is. A flood from
// one address costs one entry; a flood from many costs at most max.
type limiter struct {
	rate, burst float64
	max         int
	ips         map[netip.Addr]*ipBucket
	swept       time.Time
}

type ipBucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(rate float64, burst, max int) *limiter {
	return &limiter{rate: rate, burst: float64(burst), max: max, ips: map[netip.Addr]*ipBucket{}}
}

func (l *limiter) allow(ip netip.Addr, now time.Time) bool {
	b := l.ips[ip]
	if b == nil {
		if len(l.ips) >= l.max {
			l.sweep(now)
			if len(l.ips) >= l.max {
				return false
			}
		}
		b = &ipBucket{tokens: l.burst, last: now}
		l.ips[ip] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// sweep forgets the addresses whose bucket is full again.
func (l *limiter) sweep(now time.Time) {
	if now.Sub(l.swept) < time.Second {
		return
	}
	l.swept = now
	for ip, b := range l.ips {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.ips, ip)
		}
	}
}
