package lsd

import (
	"net/netip"
	"time"
)

// handle dispatches one received datagram. Anyone on the network can send
// one, so it is parsed with limits (MaxDatagramSize, MaxInfohashes: one
// datagram costs at most that many look-ups and found calls) and dropped
// with a logged reason if it is malformed or names no address to dial.
func (s *Service) handle(pkt []byte, from netip.AddrPort, now time.Time) {
	s.stats.Received++
	a, err := ParseAnnounce(pkt)
	if err != nil {
		s.stats.Dropped++
		s.log.drop(s.cfg.Logf, now, "lsd: dropped datagram from %s: %v", from, err)
		return
	}
	if a.Cookie == s.cookie {
		s.stats.Own++ // multicast loopback hands us our own announces
		return
	}
	ip := from.Addr().Unmap()
	if reason := undialable(ip); reason != "" {
		s.stats.Dropped++
		s.log.drop(s.cfg.Logf, now, "lsd: dropped announce from %s: %s", from, reason)
		return
	}
	// BEP 14: the peer is at the datagram's source address and the port
	// it announces (its source port is the LSD port, not its listener).
	peer := netip.AddrPortFrom(ip, a.Port)
	for _, ih := range a.Infohashes {
		tor := s.sched.torrents[ih]
		if tor == nil || tor.private {
			s.stats.Unknown++
			continue
		}
		s.stats.Found++
		tor.found(peer)
	}
}

// undialable says why a source address cannot be a peer's, or "".
func undialable(ip netip.Addr) string {
	switch {
	case !ip.IsValid() || ip.IsUnspecified():
		return "no source address"
	case ip.IsMulticast():
		return "multicast source address"
	case ip.Is6() && ip.IsLinkLocalUnicast():
		// A link-local address is dialable only with its interface (a
		// zone), which the socket layer does not carry; the peer's
		// IPv4 announce, or its global IPv6 one, finds it instead.
		return "IPv6 link-local source, no zone to dial it by"
	}
	return ""
}

// Dropped datagrams are logged at most logBurst times per logWindow, so
// a host spraying garbage at the group cannot flood the log; the first
// line after a quiet window says how many went unlogged.
const (
	logBurst  = 5
	logWindow = time.Minute
)

type dropLog struct {
	windowStart time.Time
	inWindow    int // lines logged in this window
	suppressed  int // drops not logged since the last line
}

func (l *dropLog) drop(logf func(string, ...any), now time.Time, format string, args ...any) {
	if now.Sub(l.windowStart) >= logWindow {
		l.windowStart, l.inWindow = now, 0
	}
	if l.inWindow >= logBurst {
		l.suppressed++
		return
	}
	l.inWindow++
	if l.suppressed > 0 {
		logf("lsd: %d more dropped, not logged", l.suppressed)
		l.suppressed = 0
	}
	logf(format, args...)
}
