package utp

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// BEP 29: every uTP datagram starts with this 20-byte header, big-endian:
//
//	0       4       8               16              24              32
//	+-------+-------+---------------+---------------+---------------+
//	| type  | ver   | extension     | connection_id                 |
//	+-------+-------+---------------+---------------+---------------+
//	| timestamp_microseconds                                        |
//	+---------------+---------------+---------------+---------------+
//	| timestamp_difference_microseconds                             |
//	+---------------+---------------+---------------+---------------+
//	| wnd_size                                                      |
//	+---------------+---------------+---------------+---------------+
//	| seq_nr                        | ack_nr                        |
//	+---------------+---------------+---------------+---------------+
//
// followed by a chain of extensions, each <next_extension><len><len bytes>,
// then the payload.
const (
	headerLen = 20
	version   = 1
)

// packetType is the header's high nibble (BEP 29).
type packetType uint8

const (
	stData   packetType = 0 // payload, consumes a seq_nr
	stFin    packetType = 1 // end of stream, consumes a seq_nr
	stState  packetType = 2 // an ack, no payload, no seq_nr of its own
	stReset  packetType = 3 // the connection is gone
	stSyn    packetType = 4 // opens a connection, consumes a seq_nr
	numTypes            = 5
)

var typeNames = [numTypes]string{"DATA", "FIN", "STATE", "RESET", "SYN"}

func (p packetType) String() string {
	if p < numTypes {
		return typeNames[p]
	}
	return fmt.Sprintf("type(%d)", uint8(p))
}

// Extension types (BEP 29). Only selective ACK is understood; other
// extensions are skipped over by their length.
const (
	extNone = 0
	extSACK = 1
)

// maxSACKLen bounds the selective-ACK bitmask we accept and send: 32 bytes
// cover 256 packets past ack_nr+1, more than our reorder buffer holds.
const maxSACKLen = 32

// header is a decoded uTP header. sack aliases the datagram it was decoded
// from (nil when absent), and so does the payload Decode returns: nothing
// is copied, nothing is allocated.
type header struct {
	typ       packetType
	connID    uint16
	timestamp uint32 // sender's clock, µs
	tsDiff    uint32 // sender's clock minus the timestamp of what it last received, µs
	wnd       uint32 // bytes the sender can still take in
	seq       uint16
	ack       uint16
	sack      []byte // bit i of byte j (LSB first) acks ack+2+8j+i
}

// Errors of decodePacket. They are values, so a flood of bad datagrams
// costs no allocation.
var (
	errShort      = errors.New("utp: datagram shorter than the 20-byte header")
	errVersion    = errors.New("utp: unknown version")
	errType       = errors.New("utp: unknown packet type")
	errExtension  = errors.New("utp: extension runs past the end of the datagram")
	errSACKLength = errors.New("utp: selective ACK of no bytes")
	errSACKTwice  = errors.New("utp: two selective ACK extensions")
)

// decodePacket parses b's header and extensions and returns the payload
// (a sub-slice of b). Every length comes from the network, so each one is
// checked against what is left before it is used.
func decodePacket(b []byte, h *header) (payload []byte, err error) {
	if len(b) < headerLen {
		return nil, errShort
	}
	if b[0]&0x0f != version {
		return nil, errVersion
	}
	h.typ = packetType(b[0] >> 4)
	if h.typ >= numTypes {
		return nil, errType
	}
	next := b[1]
	h.connID = binary.BigEndian.Uint16(b[2:])
	h.timestamp = binary.BigEndian.Uint32(b[4:])
	h.tsDiff = binary.BigEndian.Uint32(b[8:])
	h.wnd = binary.BigEndian.Uint32(b[12:])
	h.seq = binary.BigEndian.Uint16(b[16:])
	h.ack = binary.BigEndian.Uint16(b[18:])
	h.sack = nil
	rest := b[headerLen:]
	for next != extNone {
		if len(rest) < 2 || len(rest)-2 < int(rest[1]) {
			return nil, errExtension
		}
		kind, n := next, int(rest[1])
		next = rest[0]
		body := rest[2 : 2+n]
		rest = rest[2+n:]
		if kind != extSACK {
			continue // unknown extensions are skipped by their length (BEP 29)
		}
		// BEP 29 says a multiple of 4, but libtorrent sends as many
		// bytes as its bits need (1 to 32); the bits mean the same.
		if n == 0 {
			return nil, errSACKLength
		}
		if h.sack != nil {
			return nil, errSACKTwice
		}
		h.sack = body
	}
	return rest, nil
}

// encodeHeader writes h (and its SACK extension, if any) to the front of
// b and returns how many bytes it took. b must have room for
// headerLen+2+len(h.sack) bytes; len(h.sack) must be a multiple of 4 no
// larger than maxSACKLen.
func encodeHeader(b []byte, h *header) int {
	b[0] = byte(h.typ)<<4 | version
	b[1] = extNone
	if len(h.sack) > 0 {
		b[1] = extSACK
	}
	binary.BigEndian.PutUint16(b[2:], h.connID)
	binary.BigEndian.PutUint32(b[4:], h.timestamp)
	binary.BigEndian.PutUint32(b[8:], h.tsDiff)
	binary.BigEndian.PutUint32(b[12:], h.wnd)
	binary.BigEndian.PutUint16(b[16:], h.seq)
	binary.BigEndian.PutUint16(b[18:], h.ack)
	if len(h.sack) == 0 {
		return headerLen
	}
	b[20] = extNone
	b[21] = byte(len(h.sack))
	copy(b[22:], h.sack)
	return headerLen + 2 + len(h.sack)
}

// IsUTP reports whether a datagram looks like uTP rather than KRPC, for a
// demultiplexer that shares one UDP port between the DHT and uTP: a KRPC
// message is a bencoded dictionary and starts with 'd' (0x64), while a
// uTP datagram starts with type<<4|1, type 0 to 4 (0x01, 0x11, ... 0x41).
// It looks at the first byte only; Socket.Receive checks the rest.
func IsUTP(b []byte) bool {
	return len(b) >= headerLen && b[0]&0x0f == version && b[0]>>4 < numTypes
}

// seqLess reports whether seq a comes before b in 16-bit wrapping order.
func seqLess(a, b uint16) bool { return int16(a-b) < 0 }
