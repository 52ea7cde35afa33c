package peer

import (
	"encoding/binary"
	"fmt"
)

// Every encoder appends one whole frame to dst and returns the extended
// slice, like strconv.AppendInt: a connection reuses one output buffer, so
// sending a message allocates nothing once that buffer has grown.

// appendHeader appends a frame's length prefix and ID; bodyLen counts the
// bytes that follow the ID.
func appendHeader(dst []byte, id ID, bodyLen uint32) []byte {
	dst = binary.BigEndian.AppendUint32(dst, 1+bodyLen)
	return append(dst, byte(id))
}

func appendIndexed(dst []byte, id ID, index uint32) []byte {
	dst = appendHeader(dst, id, 4)
	return binary.BigEndian.AppendUint32(dst, index)
}

func appendBlockRef(dst []byte, id ID, index, begin, length uint32) []byte {
	dst = appendHeader(dst, id, 12)
	dst = binary.BigEndian.AppendUint32(dst, index)
	dst = binary.BigEndian.AppendUint32(dst, begin)
	return binary.BigEndian.AppendUint32(dst, length)
}

// AppendKeepAlive appends <len=0000>.
func AppendKeepAlive(dst []byte) []byte { return append(dst, 0, 0, 0, 0) }

// AppendChoke appends <len=0001><id=0>.
func AppendChoke(dst []byte) []byte { return appendHeader(dst, Choke, 0) }

// AppendUnchoke appends <len=0001><id=1>.
func AppendUnchoke(dst []byte) []byte { return appendHeader(dst, Unchoke, 0) }

// AppendInterested appends <len=0001><id=2>.
func AppendInterested(dst []byte) []byte { return appendHeader(dst, Interested, 0) }

// AppendNotInterested appends <len=0001><id=3>.
func AppendNotInterested(dst []byte) []byte { return appendHeader(dst, NotInterested, 0) }

// AppendHave appends <len=0005><id=4><index>.
func AppendHave(dst []byte, index uint32) []byte { return appendIndexed(dst, Have, index) }

// AppendBitfield appends <len=0001+X><id=5><bitfield>, copying bitfield.
func AppendBitfield(dst, bitfield []byte) []byte {
	dst = appendHeader(dst, Bitfield, uint32(len(bitfield)))
	return append(dst, bitfield...)
}

// AppendRequest appends <len=0013><id=6><index><begin><length>.
func AppendRequest(dst []byte, index, begin, length uint32) []byte {
	return appendBlockRef(dst, Request, index, begin, length)
}

// AppendPieceHeader appends the 13 bytes <len=0009+n><id=7><index><begin>
// that open a piece message carrying an n-byte block. The block itself is
// not appended: the caller sends it straight from the piece buffer (one
// writev of header and block), so serving a block copies nothing.
func AppendPieceHeader(dst []byte, index, begin, n uint32) []byte {
	dst = appendHeader(dst, Piece, 8+n)
	dst = binary.BigEndian.AppendUint32(dst, index)
	return binary.BigEndian.AppendUint32(dst, begin)
}

// AppendPiece appends a whole piece message, copying block after the
// header. Prefer AppendPieceHeader and a vectored write on the upload path.
func AppendPiece(dst []byte, index, begin uint32, block []byte) []byte {
	dst = AppendPieceHeader(dst, index, begin, uint32(len(block)))
	return append(dst, block...)
}

// AppendCancel appends <len=0013><id=8><index><begin><length>.
func AppendCancel(dst []byte, index, begin, length uint32) []byte {
	return appendBlockRef(dst, Cancel, index, begin, length)
}

// AppendPort appends <len=0003><id=9><listen-port> (BEP 5).
func AppendPort(dst []byte, port uint16) []byte {
	dst = appendHeader(dst, Port, 2)
	return binary.BigEndian.AppendUint16(dst, port)
}

// AppendSuggest appends <len=0005><id=13><index> (BEP 6).
func AppendSuggest(dst []byte, index uint32) []byte { return appendIndexed(dst, Suggest, index) }

// AppendHaveAll appends <len=0001><id=14> (BEP 6).
func AppendHaveAll(dst []byte) []byte { return appendHeader(dst, HaveAll, 0) }

// AppendHaveNone appends <len=0001><id=15> (BEP 6).
func AppendHaveNone(dst []byte) []byte { return appendHeader(dst, HaveNone, 0) }

// AppendReject appends <len=0013><id=16><index><begin><length> (BEP 6).
func AppendReject(dst []byte, index, begin, length uint32) []byte {
	return appendBlockRef(dst, Reject, index, begin, length)
}

// AppendAllowedFast appends <len=0005><id=17><index> (BEP 6).
func AppendAllowedFast(dst []byte, index uint32) []byte {
	return appendIndexed(dst, AllowedFast, index)
}

// AppendExtended appends <len=0002+X><id=20><ext id><payload> (BEP 10),
// copying payload. Extension ID 0 is the extension handshake.
func AppendExtended(dst []byte, extID uint8, payload []byte) []byte {
	dst = appendHeader(dst, Extended, 1+uint32(len(payload)))
	dst = append(dst, extID)
	return append(dst, payload...)
}

// AppendMessage appends m using the encoder for m.ID, reading only the
// fields that ID carries (see Message). For a piece it sends all of
// m.Payload and ignores m.Length. It fails only for an ID it has no
// encoder for, which is a bug in the caller.
func AppendMessage(dst []byte, m Message) ([]byte, error) {
	switch m.ID {
	case KeepAlive:
		return AppendKeepAlive(dst), nil
	case Choke, Unchoke, Interested, NotInterested, HaveAll, HaveNone:
		return appendHeader(dst, m.ID, 0), nil
	case Have, Suggest, AllowedFast:
		return appendIndexed(dst, m.ID, m.Index), nil
	case Request, Cancel, Reject:
		return appendBlockRef(dst, m.ID, m.Index, m.Begin, m.Length), nil
	case Bitfield:
		return AppendBitfield(dst, m.Payload), nil
	case Piece:
		return AppendPiece(dst, m.Index, m.Begin, m.Payload), nil
	case Port:
		return AppendPort(dst, m.Port), nil
	case Extended:
		return AppendExtended(dst, m.ExtID, m.Payload), nil
	}
	return dst, fmt.Errorf("peer: encode %v: %w", m.ID, ErrUnknownID)
}
