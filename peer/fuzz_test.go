package peer

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
)

var decodeErrors = []error{
	ErrMessageTooLong, ErrBadLength, ErrUnknownID, ErrIndexOutOfRange, ErrBadBitfield, ErrBadRequest,
}

func isDecodeError(err error) bool {
	for _, e := range decodeErrors {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// validMessage builds, from fuzzer input, a message of type id that the
// zero Limits accept, keeping only the fields id carries. ok is false for an
// id no encoder knows.
func validMessage(id uint8, index, begin, length uint32, port uint16, extID uint8, payload []byte) (Message, bool) {
	m := Message{ID: ID(id)}
	switch m.ID {
	case KeepAlive, Choke, Unchoke, Interested, NotInterested, HaveAll, HaveNone:
	case Have, Suggest, AllowedFast:
		m.Index = index
	case Request, Cancel, Reject:
		m.Index, m.Begin, m.Length = index, begin, 1+length%BlockSize
	case Piece:
		m.Index, m.Begin = index, begin
		m.Payload = append([]byte{0}, payload[:min(len(payload), BlockSize-1)]...)
		m.Length = uint32(len(m.Payload))
	case Bitfield:
		m.Payload = append([]byte{0}, payload[:min(len(payload), BlockSize)]...)
	case Port:
		m.Port = port
	case Extended:
		m.ExtID, m.Payload = extID, payload[:min(len(payload), DefaultMaxExtended-1)]
	default:
		return m, false
	}
	return m, true
}

func carriesIndex(id ID) bool {
	switch id {
	case Have, Suggest, AllowedFast, Request, Cancel, Reject, Piece:
		return true
	}
	return false
}

// FuzzMessage encodes a valid message, decodes it, and wants it back
// unchanged; with a piece count, it wants exactly the out-of-range indexes
// refused.
func FuzzMessage(f *testing.F) {
	for _, tc := range wireCases {
		m := tc.msg
		f.Add(uint8(m.ID), m.Index, m.Begin, m.Length, m.Port, m.ExtID, m.Payload, uint16(1000))
	}
	f.Fuzz(func(t *testing.T, id uint8, index, begin, length uint32, port uint16, extID uint8,
		payload []byte, numPieces uint16) {
		m, ok := validMessage(id, index, begin, length, port, extID, payload)
		wire, err := AppendMessage(nil, m)
		if !ok {
			if !errors.Is(err, ErrUnknownID) || len(wire) != 0 {
				t.Fatalf("id %d: got % x, %v; want ErrUnknownID", id, wire, err)
			}
			return
		}
		got, n, err := ParseMessage(wire, Limits{})
		if err != nil || n != len(wire) || !equalMessage(got, m) {
			t.Fatalf("decode(encode(%+v)) = %+v, n = %d, %v; want it back, n = %d", m, got, n, err, len(wire))
		}
		for i := range min(len(wire), 14) {
			if _, n, err := ParseMessage(wire[:i], Limits{}); n != 0 || err != nil {
				t.Fatalf("prefix of %d bytes: got n = %d, %v; want need-more", i, n, err)
			}
		}
		if m.ID == Bitfield || numPieces == 0 {
			return // a bitfield's length depends on the piece count; FuzzParseMessage covers it
		}
		lim := Limits{NumPieces: int(numPieces)}
		_, n, err = ParseMessage(wire, lim)
		wantErr := index >= uint32(numPieces) && carriesIndex(m.ID)
		if wantErr != errors.Is(err, ErrIndexOutOfRange) || (err == nil) != (n == len(wire)) {
			t.Fatalf("%v with %d pieces: got n = %d, %v; want out of range = %v", m, numPieces, n, err, wantErr)
		}
	})
}

// FuzzParseMessage decodes arbitrary bytes as a stream: nothing panics,
// errors are the package's sentinels, need-more means the frame really is
// incomplete, and every accepted frame re-encodes to exactly its bytes.
func FuzzParseMessage(f *testing.F) {
	for _, tc := range wireCases {
		f.Add(tc.wire, uint16(1000), uint16(0))
	}
	f.Add(append(AppendBitfield(nil, []byte{0xFF, 0xC0}), AppendHave(nil, 9)...), uint16(10), uint16(0))
	f.Add([]byte{0xFF, 0xFF, 0xFF, 0xFF}, uint16(0), uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, numPieces, maxBlock uint16) {
		lim := Limits{NumPieces: int(numPieces), MaxBlock: uint32(maxBlock)}
		for buf := data; ; {
			msg, n, err := ParseMessage(buf, lim)
			if err != nil {
				if n != 0 || !isDecodeError(err) {
					t.Fatalf("got n = %d, %v; want 0 and a sentinel error", n, err)
				}
				return
			}
			if n == 0 {
				length, _, ok := FrameHeader(buf)
				if ok && uint64(len(buf)) >= 4+uint64(length) {
					t.Fatalf("need-more for a complete frame: % x", buf)
				}
				return
			}
			wire, err := AppendMessage(nil, msg)
			if err != nil || !bytes.Equal(wire, buf[:n]) {
				t.Fatalf("encode(decode(% x)) = % x, %v", buf[:n], wire, err)
			}
			checkPieceHeader(t, buf, lim, msg)
			buf = buf[n:]
		}
	})
}

// checkPieceHeader wants ParsePieceHeader to agree with ParseMessage on a
// piece frame that ParseMessage accepted.
func checkPieceHeader(t *testing.T, buf []byte, lim Limits, msg Message) {
	if msg.ID != Piece {
		return
	}
	hdr, n, err := ParsePieceHeader(buf, lim)
	msg.Payload = nil
	if err != nil || n != 13 || !equalMessage(hdr, msg) {
		t.Fatalf("ParsePieceHeader(% x) = %+v, %d, %v; want %+v", buf[:13], hdr, n, err, msg)
	}
}

// FuzzHandshake parses arbitrary bytes (an accepted handshake re-encodes to
// the same 68 bytes) and round-trips a handshake built from them.
func FuzzHandshake(f *testing.F) {
	_, wire := testHandshake()
	f.Add(wire)
	f.Add(wire[:20])
	f.Fuzz(func(t *testing.T, data []byte) {
		if h, err := ParseHandshake(data); err == nil {
			if got := AppendHandshake(nil, h); !bytes.Equal(got, data[:HandshakeLen]) {
				t.Fatalf("encode(parse(% x)) = % x", data[:HandshakeLen], got)
			}
		} else if !errors.Is(err, ErrBadHandshake) {
			t.Fatalf("got %v, want ErrBadHandshake", err)
		}
		var h Handshake
		fields := append(bytes.Clone(data), make([]byte, 48)...)
		copy(h.Reserved[:], fields)
		copy(h.InfoHash[:], fields[8:])
		copy(h.PeerID[:], fields[28:])
		if got, err := ParseHandshake(AppendHandshake(nil, h)); err != nil || got != h {
			t.Fatalf("parse(encode(%+v)) = %+v, %v", h, got, err)
		}
	})
}

// FuzzParsePex parses arbitrary bytes as a ut_pex payload: failures wrap
// ErrBadExtension, what parses keeps ParsePexMsg's promises (a flag per
// added peer, no undialable or IPv4-mapped address, the per-family caps),
// and re-encodes to a frame that parses back to the same message.
func FuzzParsePex(f *testing.F) {
	f.Add([]byte("d5:added6:\x01\x02\x03\x04\x1a\xe17:added.f1:\x127:dropped0:e"))
	f.Add([]byte("d6:added618:" + ip6 + "\xc8\xd58:added6.f0:8:dropped618:" + ip6 + "\x00\x01e"))
	f.Add([]byte("d6:added618:\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x0b\x0c\x0d\x0e\x00\x07e"))
	f.Add([]byte("d5:added6:\x00\x00\x00\x00\x00\x011:xli1eee"))
	f.Add([]byte("le"))
	f.Fuzz(func(t *testing.T, payload []byte) {
		m, err := ParsePexMsg(payload)
		if err != nil {
			if !errors.Is(err, ErrBadExtension) {
				t.Fatalf("got %v, want ErrBadExtension", err)
			}
			return
		}
		checkPexInvariants(t, m)
		frame := AppendPexMsg(nil, 9, m)
		msg, n, err := ParseMessage(frame, Limits{MaxExtended: MaxPexMessage + 1})
		if err != nil || n != len(frame) || msg.ExtID != 9 {
			t.Fatalf("re-encoded frame: %v, n = %d of %d, %v", msg, n, len(frame), err)
		}
		got, err := ParsePexMsg(msg.Payload)
		if err != nil || !equalPex(got, m) {
			t.Fatalf("parse(encode(%+v)) = %+v, %v", m, got, err)
		}
	})
}

func checkPexInvariants(t *testing.T, m PexMsg) {
	if len(m.Flags) != len(m.Added) {
		t.Fatalf("%d flags for %d added peers", len(m.Flags), len(m.Added))
	}
	for _, list := range [][]netip.AddrPort{m.Added, m.Dropped} {
		var n4, n6 int
		for _, ap := range list {
			a := ap.Addr()
			if ap.Port() == 0 || a.IsUnspecified() || a.Is4In6() || a.Zone() != "" {
				t.Fatalf("kept %v", ap)
			}
			if a.Is4() {
				n4++
			} else {
				n6++
			}
		}
		if n4 > MaxPexPeers || n6 > MaxPexPeers {
			t.Fatalf("%d IPv4 and %d IPv6 peers in one list, limit %d each", n4, n6, MaxPexPeers)
		}
	}
}
