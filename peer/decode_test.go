package peer

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

func TestParseMessage(t *testing.T) {
	for _, tc := range wireCases {
		t.Run(tc.name, func(t *testing.T) {
			// A following frame must be left alone.
			buf := append(bytes.Clone(tc.wire), 0, 0, 0, 1, 2)
			msg, n, err := ParseMessage(buf, testLimits)
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if n != len(tc.wire) {
				t.Errorf("got n = %d, want %d", n, len(tc.wire))
			}
			if !equalMessage(msg, tc.msg) {
				t.Errorf("got %+v, want %+v", msg, tc.msg)
			}
		})
	}
}

// Every proper prefix of a valid frame asks for more; the whole frame decodes.
func TestParseMessagePartial(t *testing.T) {
	for _, tc := range wireCases {
		t.Run(tc.name, func(t *testing.T) {
			for i := range len(tc.wire) {
				msg, n, err := ParseMessage(tc.wire[:i], testLimits)
				if n != 0 || err != nil {
					t.Fatalf("prefix of %d bytes: got %v, n = %d, %v; want need-more", i, msg, n, err)
				}
			}
			if _, n, err := ParseMessage(tc.wire, testLimits); n != len(tc.wire) || err != nil {
				t.Errorf("whole frame: got n = %d, %v; want %d, nil", n, err, len(tc.wire))
			}
		})
	}
}

func frame(id ID, body ...byte) []byte {
	n := uint32(1 + len(body))
	return append([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n), byte(id)}, body...)
}

func TestParseMessageErrors(t *testing.T) {
	be32 := func(v uint32) []byte { return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }
	blockRef := func(index, begin, length uint32) []byte {
		return append(append(be32(index), be32(begin)...), be32(length)...)
	}
	ten := Limits{NumPieces: 10} // a 2-byte bitfield with 6 spare bits
	tests := []struct {
		name string
		lim  Limits
		buf  []byte
		want error
	}{
		// The length prefix alone is enough to refuse these.
		{"huge prefix", testLimits, []byte{0xFF, 0xFF, 0xFF, 0xFF}, ErrMessageTooLong},
		{"piece over block+header", Limits{}, be32(9 + BlockSize + 1 + 1024), ErrMessageTooLong},
		{"bitfield over limit", Limits{NumPieces: 1 << 20}, be32(1 + 1<<17 + 1), ErrMessageTooLong},
		// Prefix and ID, before the body arrives.
		{"unknown id", testLimits, []byte{0, 0, 0, 1, 10}, ErrUnknownID},
		{"keep-alive id", testLimits, []byte{0, 0, 0, 1, 0xFF}, ErrUnknownID},
		{"choke with body", testLimits, []byte{0, 0, 0, 2, 0}, ErrBadLength},
		{"have short", testLimits, []byte{0, 0, 0, 4, 4}, ErrBadLength},
		{"have long", testLimits, []byte{0, 0, 0, 6, 4}, ErrBadLength},
		{"request short", testLimits, []byte{0, 0, 0, 12, 6}, ErrBadLength},
		{"cancel long", testLimits, []byte{0, 0, 0, 14, 8}, ErrBadLength},
		{"reject short", testLimits, []byte{0, 0, 0, 1, 0x10}, ErrBadLength},
		{"port long", testLimits, []byte{0, 0, 0, 4, 9}, ErrBadLength},
		{"have all with body", testLimits, []byte{0, 0, 0, 2, 0x0E}, ErrBadLength},
		{"empty piece", testLimits, []byte{0, 0, 0, 9, 7}, ErrBadLength},
		{"piece over block", testLimits, append(be32(9+BlockSize+1), 7), ErrBadLength},
		{"piece over small block", Limits{MaxBlock: 8}, append(be32(9+9), 7), ErrBadLength},
		{"extended without ext id", testLimits, []byte{0, 0, 0, 1, 20}, ErrBadLength},
		{"extended over limit", Limits{MaxExtended: 100}, append(be32(102), 20), ErrBadLength},
		{"bitfield short", testLimits, []byte{0, 0, 0, 125, 5}, ErrBadBitfield},
		{"bitfield long", testLimits, []byte{0, 0, 0, 127, 5}, ErrBadBitfield},
		{"bitfield empty, count unknown", Limits{}, []byte{0, 0, 0, 1, 5}, ErrBadBitfield},
		// Whole frames whose values are wrong.
		{"bitfield spare bit", ten, frame(Bitfield, 0xFF, 0x20), ErrBadBitfield},
		{"bitfield last spare bit", ten, frame(Bitfield, 0, 0x01), ErrBadBitfield},
		{"have out of range", ten, frame(Have, be32(10)...), ErrIndexOutOfRange},
		{"suggest out of range", ten, frame(Suggest, be32(1<<31)...), ErrIndexOutOfRange},
		{"allowed fast out of range", ten, frame(AllowedFast, be32(11)...), ErrIndexOutOfRange},
		{"request out of range", ten, frame(Request, blockRef(10, 0, 1)...), ErrIndexOutOfRange},
		{"cancel out of range", ten, frame(Cancel, blockRef(10, 0, 1)...), ErrIndexOutOfRange},
		{"reject out of range", ten, frame(Reject, blockRef(10, 0, 1)...), ErrIndexOutOfRange},
		{"piece out of range", ten, frame(Piece, 0, 0, 0, 10, 0, 0, 0, 0, 'x'), ErrIndexOutOfRange},
		{"request length 0", ten, frame(Request, blockRef(1, 0, 0)...), ErrBadRequest},
		{"request over block", ten, frame(Request, blockRef(1, 0, BlockSize+1)...), ErrBadRequest},
		{"request over small block", Limits{MaxBlock: 100}, frame(Request, blockRef(1, 0, 101)...), ErrBadRequest},
		{"cancel length 0", ten, frame(Cancel, blockRef(1, 0, 0)...), ErrBadRequest},
		{"reject over block", ten, frame(Reject, blockRef(1, 0, 1<<20)...), ErrBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg, n, err := ParseMessage(tc.buf, tc.lim)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, n = %d, err %v; want %v", msg, n, err, tc.want)
			}
			if n != 0 {
				t.Errorf("got n = %d with an error, want 0", n)
			}
			t.Log(err) // the text a session would log
		})
	}
}

// The same requests pass when the values are in range: the boundaries above
// are exact.
func TestParseMessageBoundaries(t *testing.T) {
	ten := Limits{NumPieces: 10}
	good := [][]byte{
		frame(Have, 0, 0, 0, 9),
		frame(Bitfield, 0xFF, 0xC0),
		frame(Request, 0, 0, 0, 9, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0x40, 0),
		frame(Piece, append([]byte{0, 0, 0, 9, 0, 0, 0, 0}, make([]byte, BlockSize)...)...),
		frame(Extended, append([]byte{1}, make([]byte, DefaultMaxExtended-1)...)...),
	}
	for _, buf := range good {
		if _, n, err := ParseMessage(buf, ten); n != len(buf) || err != nil {
			t.Errorf("% x...: got n = %d, %v; want %d, nil", buf[:min(len(buf), 9)], n, err, len(buf))
		}
	}
}

// A stream of many messages, cut at random points as a socket would deliver
// it, decodes to the same sequence.
func TestParseMessageStream(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var stream []byte
	var want []Message
	for range 2000 {
		tc := wireCases[rng.IntN(len(wireCases))]
		stream = append(stream, tc.wire...)
		want = append(want, tc.msg)
	}
	for trial := range 20 {
		var got []Message
		var buf []byte // the connection's read buffer
		for rest := stream; len(rest) > 0 || len(buf) > 0; {
			chunk := min(len(rest), 1+rng.IntN(300))
			if trial == 0 {
				chunk = min(len(rest), 1) // byte by byte
			}
			buf, rest = append(buf, rest[:chunk]...), rest[chunk:]
			for {
				msg, n, err := ParseMessage(buf, testLimits)
				if err != nil {
					t.Fatalf("trial %d, message %d: %v", trial, len(got), err)
				}
				if n == 0 {
					break
				}
				msg.Payload = bytes.Clone(msg.Payload) // buf is about to move
				got = append(got, msg)
				buf = buf[n:]
			}
			if chunk == 0 && len(buf) > 0 {
				t.Fatalf("trial %d: %d bytes left that never decoded", trial, len(buf))
			}
		}
		if len(got) != len(want) {
			t.Fatalf("trial %d: got %d messages, want %d", trial, len(got), len(want))
		}
		for i := range want {
			if !equalMessage(got[i], want[i]) {
				t.Fatalf("trial %d, message %d: got %+v, want %+v", trial, i, got[i], want[i])
			}
		}
	}
}

func TestPayloadCannotOverwriteNextFrame(t *testing.T) {
	buf := append(frame(Bitfield, 0xFF), AppendChoke(nil)...)
	msg, n, err := ParseMessage(buf, Limits{NumPieces: 8})
	if err != nil {
		t.Fatal(err)
	}
	_ = append(msg.Payload, 0xEE)
	if next := buf[n:]; !bytes.Equal(next, []byte{0, 0, 0, 1, 0}) {
		t.Errorf("next frame got % x, want 00 00 00 01 00", next)
	}
}

func TestFrameHeader(t *testing.T) {
	tests := []struct {
		buf    []byte
		length uint32
		id     ID
		ok     bool
	}{
		{nil, 0, 0, false},
		{[]byte{0, 0, 0}, 0, 0, false},
		{[]byte{0, 0, 0, 0}, 0, KeepAlive, true},
		{[]byte{0, 0, 0x40, 9}, 0, 0, false},
		{[]byte{0, 0, 0x40, 9, 7}, 0x4009, Piece, true},
		{[]byte{0xFF, 0xFF, 0xFF, 0xFF, 99, 1}, 0xFFFFFFFF, 99, true},
	}
	for _, tc := range tests {
		length, id, ok := FrameHeader(tc.buf)
		if length != tc.length || id != tc.id || ok != tc.ok {
			t.Errorf("FrameHeader(% x) = %d, %v, %v; want %d, %v, %v",
				tc.buf, length, id, ok, tc.length, tc.id, tc.ok)
		}
	}
}

func TestParsePieceHeader(t *testing.T) {
	block := bytes.Repeat([]byte{0xAB}, BlockSize)
	wire := AppendPiece(nil, 3, 0x4000, block)
	for i := range 13 {
		if msg, n, err := ParsePieceHeader(wire[:i], testLimits); n != 0 || err != nil {
			t.Fatalf("prefix of %d bytes: got %v, n = %d, %v; want need-more", i, msg, n, err)
		}
	}
	msg, n, err := ParsePieceHeader(wire[:20], testLimits)
	want := Message{ID: Piece, Index: 3, Begin: 0x4000, Length: BlockSize}
	if err != nil || n != 13 || !equalMessage(msg, want) {
		t.Errorf("got %+v, n = %d, %v; want %+v, 13, nil", msg, n, err, want)
	}

	errTests := []struct {
		name string
		buf  []byte
		lim  Limits
		want error
	}{
		{"keep-alive", AppendKeepAlive(nil), testLimits, ErrNotPiece},
		{"have", AppendHave(nil, 1), testLimits, ErrNotPiece},
		{"too long", []byte{0, 1, 0, 0}, testLimits, ErrMessageTooLong},
		{"empty block", []byte{0, 0, 0, 9, 7}, testLimits, ErrBadLength},
		{"index", AppendPieceHeader(nil, 10, 0, 1), Limits{NumPieces: 10}, ErrIndexOutOfRange},
	}
	for _, tc := range errTests {
		if _, n, err := ParsePieceHeader(tc.buf, tc.lim); !errors.Is(err, tc.want) || n != 0 {
			t.Errorf("%s: got n = %d, %v; want 0, %v", tc.name, n, err, tc.want)
		}
	}
}

func TestValidateBitfield(t *testing.T) {
	tests := []struct {
		bf        []byte
		numPieces int
		ok        bool
	}{
		{[]byte{0xFF}, 8, true},
		{[]byte{0xFF, 0x80}, 9, true},
		{[]byte{0xFF, 0x40}, 9, false},
		{[]byte{0xFF, 0xFE}, 15, true},
		{[]byte{0xFF, 0xFF}, 15, false},
		{[]byte{0xFF}, 9, false},
		{[]byte{0xFF, 0}, 8, false},
		{[]byte{}, 0, true},
	}
	for _, tc := range tests {
		err := ValidateBitfield(tc.bf, tc.numPieces)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrBadBitfield)) {
			t.Errorf("ValidateBitfield(% x, %d) = %v, want ok = %v", tc.bf, tc.numPieces, err, tc.ok)
		}
	}
}

func TestValidateRequest(t *testing.T) {
	// Three pieces of 32 KiB and a last one of 100 bytes.
	pieceSize := func(i int) int64 {
		switch {
		case i < 0 || i > 3:
			return 0
		case i == 3:
			return 100
		}
		return 2 * BlockSize
	}
	tests := []struct {
		name                 string
		index, begin, length uint32
		want                 error
	}{
		{"first block", 0, 0, BlockSize, nil},
		{"second block", 2, BlockSize, BlockSize, nil},
		{"short last piece", 3, 0, 100, nil},
		{"last byte", 3, 99, 1, nil},
		{"length 0", 0, 0, 0, ErrBadRequest},
		{"over block", 0, 0, BlockSize + 1, ErrBadRequest},
		{"past piece end", 0, BlockSize + 1, BlockSize, ErrBadRequest},
		{"past last piece end", 3, 0, 101, ErrBadRequest},
		{"begin overflow", 0, 0xFFFFFFFF, 2, ErrBadRequest},
		{"index out of range", 4, 0, 1, ErrIndexOutOfRange},
		{"huge index", 0xFFFFFFFF, 0, 1, ErrIndexOutOfRange},
	}
	for _, tc := range tests {
		if err := ValidateRequest(tc.index, tc.begin, tc.length, pieceSize); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestDecodeAllocs(t *testing.T) {
	piece := AppendPiece(nil, 1, 0, make([]byte, BlockSize))
	request := AppendRequest(nil, 1, 0, BlockSize)
	allocs := testing.AllocsPerRun(100, func() {
		_, _, _ = ParseMessage(piece, testLimits)
		_, _, _ = ParseMessage(request, testLimits)
		_, _, _ = ParsePieceHeader(piece, testLimits)
		_, _, _ = FrameHeader(piece)
	})
	if allocs != 0 {
		t.Errorf("got %v allocs per run, want 0", allocs)
	}
}
