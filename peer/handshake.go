package peer

import (
	"crypto/rand"
	"errors"
	"fmt"
)

// BEP 3: the handshake that opens every connection, before any framed
// message: <pstrlen=19><pstr="BitTorrent protocol"><reserved: 8><info_hash: 20><peer_id: 20>.
const (
	// Protocol is the pstr of a BitTorrent handshake.
	Protocol = "BitTorrent protocol"
	// HandshakeLen is the size of a handshake on the wire: 68 bytes.
	HandshakeLen = 1 + len(Protocol) + 8 + 20 + 20
)

// ErrBadHandshake: a handshake that is short or names another protocol.
var ErrBadHandshake = errors.New("bad handshake")

// Reserved holds the handshake's eight reserved bytes, in which each bit
// advertises an extension (registry in BEP 4).
type Reserved [8]byte

// ReservedBit names one bit of Reserved: the byte index in the high 8 bits,
// the mask within that byte in the low 8.
type ReservedBit uint16

// Reserved bits. Set one only once the extension it advertises is
// implemented: a peer that sees the bit will start speaking it.
const (
	// ExtensionProtocolBit advertises BEP 10 (reserved[5] & 0x10).
	ExtensionProtocolBit ReservedBit = 5<<8 | 0x10
	// FastExtensionBit advertises BEP 6 (reserved[7] & 0x04).
	FastExtensionBit ReservedBit = 7<<8 | 0x04
	// DHTBit advertises BEP 5, the port message (reserved[7] & 0x01).
	DHTBit ReservedBit = 7<<8 | 0x01
)

func (b ReservedBit) index() int { return int(b>>8) & 7 }
func (b ReservedBit) mask() byte { return byte(b) }

// Has reports whether bit is set.
func (r Reserved) Has(bit ReservedBit) bool { return r[bit.index()]&bit.mask() != 0 }

// Set sets bit.
func (r *Reserved) Set(bit ReservedBit) { r[bit.index()] |= bit.mask() }

// Handshake is the content of a BEP 3 handshake.
type Handshake struct {
	Reserved Reserved
	InfoHash [20]byte
	PeerID   [20]byte
}

// AppendHandshake appends the HandshakeLen bytes of h to dst.
func AppendHandshake(dst []byte, h Handshake) []byte {
	dst = append(dst, byte(len(Protocol)))
	dst = append(dst, Protocol...)
	dst = append(dst, h.Reserved[:]...)
	dst = append(dst, h.InfoHash[:]...)
	return append(dst, h.PeerID[:]...)
}

// ParseHandshake decodes the handshake in the first HandshakeLen bytes of b;
// any bytes after it (a peer may send its first messages at once) are left
// to the caller. Checking the info hash is the caller's: the listener looks
// it up among its torrents, the dialler compares it with the one it asked for.
func ParseHandshake(b []byte) (Handshake, error) {
	if len(b) < HandshakeLen {
		return Handshake{}, fmt.Errorf("peer: handshake of %d bytes, want %d: %w",
			len(b), HandshakeLen, ErrBadHandshake)
	}
	if b[0] != byte(len(Protocol)) || string(b[1:1+len(Protocol)]) != Protocol {
		return Handshake{}, fmt.Errorf("peer: handshake for protocol %q: %w",
			b[1:min(1+int(b[0]), len(b))], ErrBadHandshake)
	}
	var h Handshake
	rest := b[1+len(Protocol) : HandshakeLen]
	copy(h.Reserved[:], rest[:8])
	copy(h.InfoHash[:], rest[8:28])
	copy(h.PeerID[:], rest[28:48])
	return h, nil
}

// PeerIDPrefix starts every peer ID this client makes: Azureus style,
// client "AI" version 0001 (https://wiki.theory.org/BitTorrentSpecification#peer_id).
const PeerIDPrefix = "-AI0001-"

// NewPeerID returns PeerIDPrefix followed by 12 random bytes. A fresh ID per
// session keeps one run's connections from being linked to the next's.
func NewPeerID() [20]byte {
	var id [20]byte
	copy(id[:], PeerIDPrefix)
	// crypto/rand.Read never returns an error since Go 1.24; it crashes the
	// program if the kernel cannot supply randomness.
	_, _ = rand.Read(id[len(PeerIDPrefix):])
	return id
}
