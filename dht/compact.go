package dht

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/bits"
	"net/netip"
)

// ID is a 160-bit node id or info-hash: the two share one space, and the
// distance between any two is their XOR read as an unsigned number.
type ID [20]byte

// RandomID returns an id from crypto/rand.
func RandomID() ID {
	var id ID
	rand.Read(id[:])
	return id
}

func (id ID) String() string { return hex.EncodeToString(id[:]) }

// Xor is the Kademlia distance between a and b.
func (a ID) Xor(b ID) ID {
	var d ID
	for i := range a {
		d[i] = a[i] ^ b[i]
	}
	return d
}

// Closer reports whether a is closer to target than b is.
func (target ID) Closer(a, b ID) bool {
	for i := range target {
		da, db := a[i]^target[i], b[i]^target[i]
		if da != db {
			return da < db
		}
	}
	return false
}

// commonPrefix is the number of leading bits a and b share (160 if equal).
func commonPrefix(a, b ID) int {
	for i := range a {
		if x := a[i] ^ b[i]; x != 0 {
			return i*8 + bits.LeadingZeros8(x)
		}
	}
	return 160
}

// NodeInfo is a node's id and UDP address: the "compact node info" of
// BEP 5 (26 bytes for IPv4) and BEP 32 (38 bytes for IPv6).
type NodeInfo struct {
	ID   ID
	Addr netip.AddrPort
}

const (
	compactNode4 = 20 + 4 + 2
	compactNode6 = 20 + 16 + 2
	compactPeer4 = 4 + 2
	compactPeer6 = 16 + 2
)

// parseNodes splits a "nodes" (size 26) or "nodes6" (size 38) string.
func parseNodes(b []byte, size int) ([]NodeInfo, error) {
	if len(b)%size != 0 {
		return nil, fmt.Errorf("%d bytes, not a multiple of %d", len(b), size)
	}
	nodes := make([]NodeInfo, 0, len(b)/size)
	for ; len(b) > 0; b = b[size:] {
		var n NodeInfo
		copy(n.ID[:], b)
		n.Addr = parseAddrPort(b[20:size])
		nodes = append(nodes, n)
	}
	return nodes, nil
}

// parseAddrPort reads a compact address: 4 or 16 bytes of IP, then the
// port big-endian.
func parseAddrPort(b []byte) netip.AddrPort {
	ip, _ := netip.AddrFromSlice(b[:len(b)-2])
	return netip.AddrPortFrom(ip.Unmap(), binary.BigEndian.Uint16(b[len(b)-2:]))
}

func appendAddrPort(b []byte, a netip.AddrPort) []byte {
	ip := a.Addr().Unmap()
	b = append(b, ip.AsSlice()...)
	return binary.BigEndian.AppendUint16(b, a.Port())
}

// appendNodes appends nodes in compact form: 26 bytes each for "nodes",
// which can hold only IPv4 addresses (others are left out), or 38 bytes
// each for "nodes6" (v6), where an IPv4 address is written mapped.
func appendNodes(b []byte, nodes []NodeInfo, v6 bool) []byte {
	for _, n := range nodes {
		ip := n.Addr.Addr().Unmap()
		if !v6 && !ip.Is4() {
			continue
		}
		b = append(b, n.ID[:]...)
		if v6 {
			a := ip.As16()
			b = append(b, a[:]...)
		} else {
			a := ip.As4()
			b = append(b, a[:]...)
		}
		b = binary.BigEndian.AppendUint16(b, n.Addr.Port())
	}
	return b
}

func is6(a netip.AddrPort) bool { return !a.Addr().Unmap().Is4() }

// usable reports whether a is an address a node or peer can be reached
// at: not port 0, not unspecified, multicast or broadcast.
func usable(a netip.AddrPort) bool {
	ip := a.Addr().Unmap()
	return a.Port() != 0 && ip.IsValid() && !ip.IsUnspecified() && !ip.IsMulticast() &&
		ip != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}
