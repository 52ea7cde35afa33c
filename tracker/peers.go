package tracker

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// Compact peer sizes: BEP 23 (IPv4) and BEP 7 (IPv6), 4 or 16 address
// bytes followed by a big-endian port.
const (
	compactV4Len = 6
	compactV6Len = 18
)

// peerSet collects peer addresses from a response: it drops entries nobody
// can connect to, removes duplicates, and stops at MaxPeers.
type peerSet struct {
	list []netip.AddrPort
	seen map[netip.AddrPort]struct{}
}

// add keeps ap if it is usable and new. It reports false once the set is
// full, so callers can stop reading.
func (s *peerSet) add(ap netip.AddrPort) bool {
	if len(s.list) >= MaxPeers {
		return false
	}
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	if !usablePeer(ap) {
		return true
	}
	if s.seen == nil {
		s.seen = make(map[netip.AddrPort]struct{})
	}
	if _, dup := s.seen[ap]; dup {
		return true
	}
	s.seen[ap] = struct{}{}
	s.list = append(s.list, ap)
	return true
}

// usablePeer rejects addresses a tracker may send but that cannot be a
// peer: port 0, the unspecified address, multicast and IPv4 broadcast.
// Loopback and private addresses are kept: local swarms use them.
func usablePeer(ap netip.AddrPort) bool {
	a := ap.Addr()
	switch {
	case !a.IsValid(), ap.Port() == 0, a.IsUnspecified(), a.IsMulticast():
		return false
	case a.Is4() && a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return false
	}
	return true
}

// addCompact parses a compact peer string of entry size n (6 or 18) into s.
func (s *peerSet) addCompact(b []byte, n int) error {
	if len(b)%n != 0 {
		return fmt.Errorf("%w: compact peers length %d is not a multiple of %d", ErrBadResponse, len(b), n)
	}
	for ; len(b) >= n; b = b[n:] {
		if !s.add(decodeCompact(b[:n])) {
			break
		}
	}
	return nil
}

// decodeCompact reads one 6- or 18-byte compact peer.
func decodeCompact(b []byte) netip.AddrPort {
	addr, _ := netip.AddrFromSlice(b[:len(b)-2])
	return netip.AddrPortFrom(addr, binary.BigEndian.Uint16(b[len(b)-2:]))
}

// appendCompact writes ap in compact form: 6 bytes for IPv4, 18 for IPv6.
func appendCompact(dst []byte, ap netip.AddrPort) []byte {
	if a := ap.Addr().Unmap(); a.Is4() {
		b := a.As4()
		dst = append(dst, b[:]...)
	} else {
		b := a.As16()
		dst = append(dst, b[:]...)
	}
	return binary.BigEndian.AppendUint16(dst, ap.Port())
}
