package torrent

import (
	"net/netip"
	"time"
)

// The peer list is the session's one owner of peer addresses, as
// libtorrent's peer_list is: every address from a tracker, PEX, LSD, the
// user or an incoming connection lands here with where it came from, and
// the dialer asks it which one to try next. It remembers failures, so a
// dead address is tried less and less often and finally forgotten, and it
// brings addresses back after a connection ends, so a peer that restarts
// (or that dropped us once) is not lost for the rest of the session.
//
// It is a plain data structure: no I/O and no clock of its own (the
// caller passes now), so its tests are step-by-step scenarios.

// peerSource says where an address came from; an entry may have several.
type peerSource uint8

const (
	fromUser     peerSource = 1 << iota // SessionOptions.Peers, a magnet's x.pe
	fromTracker                         // an announce reply
	fromPEX                             // another peer's ut_pex (BEP 11)
	fromLSD                             // local service discovery (BEP 14)
	fromIncoming                        // it connected to us and gave its listen port
	fromDHT                             // a DHT lookup (BEP 5)
)

// Peer list limits and back-off.
const (
	defaultMaxPeerList = 2000            // entries kept; the least useful are evicted first
	peerRetryFirst     = 2 * time.Second // after the first failure or disconnect
	peerRetryMax       = 10 * time.Minute
	maxPeerFailures    = 8 // failures in a row after which an address is forgotten (unless the user named it)
)

// peerEntry is what the list knows of one address.
type peerEntry struct {
	addr    netip.AddrPort
	sources peerSource
	// failures counts dials that failed, and connections that ended
	// without a block, in a row; a connection that gave us data resets
	// it. It sets the back-off and, past maxPeerFailures, eviction.
	failures int
	lastTry  time.Time // the last dial, or when the last connection ended
	retryAt  time.Time // not dialled before this
	// Invariant: busy while a dial to addr is under way or a connection
	// with it (ours or theirs) is up; a busy entry is never dialled or
	// evicted.
	busy   bool
	banned bool
	seed   bool // it has every piece (its bitfield, or a PEX flag)
	// plainOnly: our last connection found it speaks no MSE, so the next
	// dial goes plain first (EncryptionPrefer).
	plainOnly bool
	// utp: it speaks uTP (a PEX flag, or our last connection with it was
	// over uTP), so the next dial tries uTP first.
	utp bool
}

// peerList holds the entries; see the top of the file.
type peerList struct {
	entries map[netip.AddrPort]*peerEntry
	max     int
}

func newPeerList(max int) *peerList {
	if max <= 0 {
		max = defaultMaxPeerList
	}
	return &peerList{entries: make(map[netip.AddrPort]*peerEntry), max: max}
}

// dialable reports whether addr can be an address to dial at all: a
// unicast IP and a port.
func dialable(addr netip.AddrPort) bool {
	a := addr.Addr()
	return addr.Port() != 0 && a.IsValid() && !a.IsUnspecified() && !a.IsMulticast()
}

// add records addr as learnt from src and reports whether it is new. An
// address that cannot be dialled is ignored; when the list is full, the
// least useful entry makes room, or the new address is dropped if every
// entry is more useful than a stranger.
func (l *peerList) add(addr netip.AddrPort, src peerSource) bool {
	addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	if !dialable(addr) {
		return false
	}
	if e := l.entries[addr]; e != nil {
		e.sources |= src
		return false
	}
	if len(l.entries) >= l.max && !l.evict() {
		return false
	}
	l.entries[addr] = &peerEntry{addr: addr, sources: src}
	return true
}

// evict removes the least useful entry that may go: not busy, not named
// by the user, not banned (a banned address must stay known). Among those,
// the one with the most failures, then the longest untried, goes.
func (l *peerList) evict() bool {
	var worst *peerEntry
	for _, e := range l.entries {
		if e.busy || e.banned || e.sources&fromUser != 0 {
			continue
		}
		if worst == nil || e.failures > worst.failures ||
			e.failures == worst.failures && e.lastTry.Before(worst.lastTry) {
			worst = e
		}
	}
	if worst == nil {
		return false
	}
	delete(l.entries, worst.addr)
	return true
}

// next picks the address to dial now: not busy, not banned, its back-off
// over, and (when we only seed) not a seed. The fewest failures win, then
// the longest untried, so new addresses go first. If none is ready, wake
// is when the earliest one will be (zero if none will be).
func (l *peerList) next(now time.Time, seeding bool) (addr netip.AddrPort, wake time.Time, ok bool) {
	var best *peerEntry
	for _, e := range l.entries {
		if e.busy || e.banned || seeding && e.seed {
			continue
		}
		if e.retryAt.After(now) {
			if wake.IsZero() || e.retryAt.Before(wake) {
				wake = e.retryAt
			}
			continue
		}
		if best == nil || e.failures < best.failures ||
			e.failures == best.failures && e.lastTry.Before(best.lastTry) {
			best = e
		}
	}
	if best == nil {
		return netip.AddrPort{}, wake, false
	}
	return best.addr, time.Time{}, true
}

// dialing marks addr busy: a dial to it starts now.
func (l *peerList) dialing(addr netip.AddrPort, now time.Time) {
	if e := l.entries[addr]; e != nil {
		e.busy, e.lastTry = true, now
	}
}

// connected marks addr busy because a connection with it is up (an
// incoming one whose listen port we learnt), adding it if it is new. It
// reports false if the address is banned.
func (l *peerList) connected(addr netip.AddrPort, src peerSource) bool {
	l.add(addr, src)
	e := l.entries[addr]
	if e == nil {
		return true // full of better entries: connected all the same
	}
	e.busy = true
	return !e.banned
}

// ended records that the dial to addr failed or its connection ended, at
// now. gotData says the connection gave us at least one block: then the
// back-off starts over; otherwise it grows, and an address that keeps
// failing is forgotten.
func (l *peerList) ended(addr netip.AddrPort, now time.Time, gotData bool) {
	e := l.entries[addr]
	if e == nil {
		return
	}
	e.busy, e.lastTry = false, now
	if gotData {
		e.failures = 0
	} else {
		e.failures++
	}
	if e.failures > maxPeerFailures && e.sources&fromUser == 0 && !e.banned {
		delete(l.entries, addr)
		return
	}
	e.retryAt = now.Add(retryAfter(e.failures))
}

// retryAfter is the back-off after n failures in a row: doubling from
// peerRetryFirst, capped at peerRetryMax (a clean end, n = 0, waits
// peerRetryFirst too, so that a peer that hangs up at once is not
// hammered).
func retryAfter(n int) time.Duration {
	d := peerRetryFirst
	for i := 1; i < n && d < peerRetryMax; i++ {
		d *= 2
	}
	return min(d, peerRetryMax)
}

// ban marks addr never to be dialled again (adding it, so that PEX or a
// tracker cannot bring it back).
func (l *peerList) ban(addr netip.AddrPort) {
	l.add(addr, 0)
	if e := l.entries[addr]; e != nil {
		e.banned = true
	}
}

// setSeed records whether addr has every piece.
func (l *peerList) setSeed(addr netip.AddrPort, seed bool) {
	if e := l.entries[addr]; e != nil {
		e.seed = seed
	}
}

// plainFirst reports whether addr is known to speak no MSE.
func (l *peerList) plainFirst(addr netip.AddrPort) bool {
	e := l.entries[addr]
	return e != nil && e.plainOnly
}

// setPlainOnly records whether addr's last connection had to go plain.
func (l *peerList) setPlainOnly(addr netip.AddrPort, plain bool) {
	if e := l.entries[addr]; e != nil {
		e.plainOnly = plain
	}
}

// utpFirst reports whether addr is known to speak uTP.
func (l *peerList) utpFirst(addr netip.AddrPort) bool {
	e := l.entries[addr]
	return e != nil && e.utp
}

// setUTP records whether addr speaks uTP, as far as we know.
func (l *peerList) setUTP(addr netip.AddrPort, ok bool) {
	if e := l.entries[addr]; e != nil {
		e.utp = ok
	}
}

// busyOrTried reports whether we have connected with addr, or are now:
// then what that connection found outweighs what PEX says of it.
func (l *peerList) busyOrTried(addr netip.AddrPort) bool {
	e := l.entries[addr]
	return e != nil && (e.busy || !e.lastTry.IsZero())
}

// len is the number of addresses known.
func (l *peerList) len() int { return len(l.entries) }
