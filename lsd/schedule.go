package lsd

import (
	"bytes"
	"net/netip"
	"slices"
	"time"
)

// The announce schedule is a pure state machine: it is told the time and
// answers what to send now and how long until it has more, so its rate
// rules are tested without a clock (and the Service's task is a loop of
// "ask, send, sleep"). The rules, from BEP 14:
//
//   - each torrent is announced every interval (5 minutes) while it is
//     registered, the first time as soon as the gap rule allows;
//   - the Service sends at most one announce per minGap (1 minute), so a
//     network full of clients is not flooded, and neither is a torrent
//     announced more often than that;
//   - torrents that are due together share one datagram, up to
//     MaxInfohashes of them, the longest-waiting first; the rest wait for
//     the next gap (BEP 14's "round-robin or several per announce");
//   - private torrents (BEP 27) are never due: their swarms are the
//     tracker's alone.

// torrent is one registration.
type torrent struct {
	ih      [20]byte
	private bool
	found   func(netip.AddrPort)
	// next is when it is due again; the zero time is "now".
	next time.Time
}

type schedule struct {
	interval, minGap time.Duration
	torrents         map[[20]byte]*torrent
	// lastSent is when the last announce went out; zero: none yet.
	lastSent time.Time
	due      []*torrent // scratch for take
}

func newSchedule(interval, minGap time.Duration) *schedule {
	return &schedule{interval: interval, minGap: minGap, torrents: make(map[[20]byte]*torrent)}
}

// take returns the info-hashes to announce at now (appended to dst) and
// marks them sent; if it returns none, wait says how long until it may
// have some (-1: not before a registration changes).
func (s *schedule) take(now time.Time, dst [][20]byte) (hashes [][20]byte, wait time.Duration) {
	if !s.lastSent.IsZero() {
		if gapEnds := s.lastSent.Add(s.minGap); now.Before(gapEnds) {
			return dst, gapEnds.Sub(now)
		}
	}
	s.due = s.due[:0]
	var next time.Time // the earliest time a public torrent is due
	for _, tor := range s.torrents {
		if tor.private {
			continue
		}
		if !tor.next.After(now) {
			s.due = append(s.due, tor)
		} else if next.IsZero() || tor.next.Before(next) {
			next = tor.next
		}
	}
	if len(s.due) == 0 {
		if next.IsZero() {
			return dst, -1
		}
		return dst, next.Sub(now)
	}
	slices.SortFunc(s.due, func(a, b *torrent) int {
		if c := a.next.Compare(b.next); c != 0 {
			return c
		}
		return bytes.Compare(a.ih[:], b.ih[:]) // a fixed order, for tests
	})
	for _, tor := range s.due[:min(len(s.due), MaxInfohashes)] {
		dst = append(dst, tor.ih)
		tor.next = now.Add(s.interval)
	}
	clear(s.due)
	s.lastSent = now
	return dst, 0
}
