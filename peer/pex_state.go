package peer

import (
	"net/netip"
	"slices"
)

// PexState remembers what one peer has been told over ut_pex, so that each
// message to it carries only what changed (BEP 11). It is pure: no clock,
// no I/O. Use one per connection whose handshake named UTPex, and call
// Update when a message may go out, at most once a minute as BEP 11
// requires; the session owns the timer.
//
// What goes into current is the session's call, and BEP 11 narrows it:
// only peers whose connection is established and past the handshake, each
// under an address others can dial (for a peer that connected to us, its
// handshake's "p" in place of its ephemeral port, or leave it out if it
// sent none, as libtorrent does).
//
// The zero value is ready to use.
type PexState struct {
	// Peer is the peer the messages go to. It is left out of them: telling
	// a peer about itself only costs it a dial to itself.
	Peer netip.AddrPort

	// sent holds the peers reported added and not since reported dropped.
	// Invariant: its keys are unmapped (IPv4 as IPv4) and dialable.
	sent map[netip.AddrPort]struct{}
	// started is set once a message has gone out: from then on BEP 11's
	// bound of MaxPexAdded per message holds.
	started bool
}

type pexEntry struct {
	addr  netip.AddrPort
	flags PexFlags
}

// Update compares current (the peers connected now, with their flags) with
// what the peer has been told, and returns the message to send it, or
// false if nothing changed. The first message lists up to MaxPexPeers
// peers, every later one at most MaxPexAdded added and MaxPexAdded
// dropped; what does not fit is carried to the next call. Peers are taken
// in address order, so the output is deterministic.
//
// A peer that comes and goes between two calls is never mentioned, and
// one whose flags change is not announced again (BEP 11 has no message
// for it, and libtorrent sends none). Addresses are compared unmapped, so
// an IPv4 peer keyed both ways in current is one peer; a key with port 0,
// an unspecified address or a zone is ignored.
func (s *PexState) Update(current map[netip.AddrPort]PexFlags) (PexMsg, bool) {
	if s.sent == nil {
		s.sent = make(map[netip.AddrPort]struct{})
	}
	self := unmapAddrPort(s.Peer)
	var added []pexEntry
	for ap, f := range current {
		ap = unmapAddrPort(ap)
		if _, told := s.sent[ap]; told || ap == self || !dialable(ap) {
			continue
		}
		added = append(added, pexEntry{ap, f})
	}
	var dropped []netip.AddrPort
	for ap := range s.sent {
		if !inCurrent(current, ap) {
			dropped = append(dropped, ap)
		}
	}
	if len(added) == 0 && len(dropped) == 0 {
		return PexMsg{}, false
	}

	slices.SortFunc(added, func(a, b pexEntry) int { return a.addr.Compare(b.addr) })
	// The same peer keyed mapped and unmapped sorts next to itself.
	added = slices.CompactFunc(added, func(a, b pexEntry) bool { return a.addr == b.addr })
	limit := MaxPexAdded
	if !s.started {
		limit = MaxPexPeers
	}
	added = added[:min(len(added), limit)]
	slices.SortFunc(dropped, netip.AddrPort.Compare)
	dropped = dropped[:min(len(dropped), MaxPexAdded)]

	var m PexMsg
	for _, e := range added {
		m.Added = append(m.Added, e.addr)
		m.Flags = append(m.Flags, e.flags)
		s.sent[e.addr] = struct{}{}
	}
	for _, ap := range dropped {
		m.Dropped = append(m.Dropped, ap)
		delete(s.sent, ap)
	}
	s.started = true
	return m, true
}

func unmapAddrPort(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// dialable is what ParsePexMsg keeps: an address and a port to dial. An
// address with a zone (link-local) means nothing to another host.
func dialable(ap netip.AddrPort) bool {
	a := ap.Addr()
	return a.IsValid() && !a.IsUnspecified() && a.Zone() == "" && ap.Port() != 0
}

// inCurrent reports whether the unmapped ap is in current under either
// form of its address.
func inCurrent(current map[netip.AddrPort]PexFlags, ap netip.AddrPort) bool {
	if _, ok := current[ap]; ok {
		return true
	}
	if !ap.Addr().Is4() {
		return false
	}
	_, ok := current[netip.AddrPortFrom(netip.AddrFrom16(ap.Addr().As16()), ap.Port())]
	return ok
}
