package peer

import (
	"crypto/sha1"
	"encoding/binary"
	"net/netip"
	"slices"
)

// BEP 6: the fast extension. Both ends set FastExtensionBit (reserved[7] &
// 0x04, declared with the other reserved bits in handshake.go); the
// messages (HAVE_ALL, HAVE_NONE, REJECT, ALLOWED_FAST, SUGGEST) are in
// message.go. What is left here is the allowed fast set: the pieces a
// sender offers to serve a peer even while choking it,
//
//	<len=0005><id=17><index>   one ALLOWED_FAST per piece of the set
//
// BEP 6 gives a canonical algorithm for the set so that every peer offering
// k pieces to the same address offers the same k. Not every client follows
// it (libtorrent hashes the unmasked address, and all 16 bytes of an IPv6
// one), so a receiver must go by the ALLOWED_FAST messages it gets and
// never predict them; the algorithm matters only to the sender.
const (
	// AllowedFastK is BEP 6's size of the allowed fast set ("We currently
	// set k to 10").
	AllowedFastK = 10
)

// AllowedFastSet returns the first k pieces of the allowed fast set that
// BEP 6's canonical algorithm gives for a peer at ip in a torrent of
// numPieces pieces, in the order the algorithm finds them: the set for k+1
// is the set for k and one more piece.
//
// For IPv4 (and an IPv4-mapped IPv6 address, which is the same host) the
// address is masked to its /24, as BEP 6 says, so that one user holding
// several addresses in a network gets one set. BEP 6 has no provision for
// IPv6; we keep its intent by masking to the /48, the largest prefix an ISP
// commonly delegates to one site, and hashing those 16 bytes with the
// info-hash in place of the 4.
//
// With k >= numPieces every piece is in the set, as libtorrent does too:
// the algorithm would otherwise draw until it happened upon every index.
// k is meant to be small (AllowedFastK): finding k pieces costs about k
// SHA-1 blocks and k*k comparisons. An invalid ip, k <= 0 or
// numPieces <= 0 gives nil.
func AllowedFastSet(ip netip.Addr, infoHash [20]byte, numPieces, k int) []uint32 {
	if !ip.IsValid() || k <= 0 || numPieces <= 0 {
		return nil
	}
	if k >= numPieces {
		set := make([]uint32, numPieces)
		for i := range set {
			set[i] = uint32(i)
		}
		return set
	}
	// (1) x = 0xFFFFFF00 & ip; (2) x.append(infohash)
	ip = ip.Unmap()
	var x []byte
	if ip.Is4() {
		masked, _ := ip.Prefix(24) // cannot fail: 24 bits of an IPv4 address
		a := masked.Addr().As4()
		x = append(make([]byte, 0, 4+20), a[:]...)
	} else {
		masked, _ := ip.Prefix(48)
		a := masked.Addr().As16()
		x = append(make([]byte, 0, 16+20), a[:]...)
	}
	x = append(x, infoHash[:]...)
	set := make([]uint32, 0, k)
	var sum [sha1.Size]byte
	for len(set) < k {
		// (3) x = SHA1(x); (4)-(9) each 4-byte word of it, taken modulo the
		// piece count, is a piece of the set unless already in it.
		sum = sha1.Sum(x)
		x = sum[:]
		for i := 0; i < 5 && len(set) < k; i++ {
			index := uint32(uint64(binary.BigEndian.Uint32(x[4*i:])) % uint64(numPieces))
			if !slices.Contains(set, index) {
				set = append(set, index)
			}
		}
	}
	return set
}
