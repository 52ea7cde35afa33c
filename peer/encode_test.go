package peer

import (
	"bytes"
	"errors"
	"testing"
)

// testLimits fits every message in wireCases: 1000 pieces, so a bitfield
// has 125 bytes.
var testLimits = Limits{NumPieces: 1000}

var bitfield125 = func() []byte {
	b := make([]byte, 125)
	for i := range b {
		b[i] = byte(i*37) | 0x80
	}
	return b
}()

// wireCases is every message type with its exact bytes on the wire, the
// encoder that makes them, and the Message that ParseMessage returns.
var wireCases = []struct {
	name   string
	encode func(dst []byte) []byte
	wire   []byte
	msg    Message
}{
	{"keep-alive", AppendKeepAlive, []byte{0, 0, 0, 0}, Message{ID: KeepAlive}},
	{"choke", AppendChoke, []byte{0, 0, 0, 1, 0}, Message{ID: Choke}},
	{"unchoke", AppendUnchoke, []byte{0, 0, 0, 1, 1}, Message{ID: Unchoke}},
	{"interested", AppendInterested, []byte{0, 0, 0, 1, 2}, Message{ID: Interested}},
	{"not interested", AppendNotInterested, []byte{0, 0, 0, 1, 3}, Message{ID: NotInterested}},
	{
		"have",
		func(d []byte) []byte { return AppendHave(d, 999) },
		[]byte{0, 0, 0, 5, 4, 0, 0, 0x03, 0xE7},
		Message{ID: Have, Index: 999},
	},
	{
		"bitfield",
		func(d []byte) []byte { return AppendBitfield(d, bitfield125) },
		append([]byte{0, 0, 0, 126, 5}, bitfield125...),
		Message{ID: Bitfield, Payload: bitfield125},
	},
	{
		"request",
		func(d []byte) []byte { return AppendRequest(d, 0x01, 0x4000, 0x4000) },
		[]byte{0, 0, 0, 13, 6, 0, 0, 0, 1, 0, 0, 0x40, 0, 0, 0, 0x40, 0},
		Message{ID: Request, Index: 1, Begin: 0x4000, Length: 0x4000},
	},
	{
		"piece",
		func(d []byte) []byte { return AppendPiece(d, 2, 0x8000, []byte("block")) },
		[]byte{0, 0, 0, 14, 7, 0, 0, 0, 2, 0, 0, 0x80, 0, 'b', 'l', 'o', 'c', 'k'},
		Message{ID: Piece, Index: 2, Begin: 0x8000, Length: 5, Payload: []byte("block")},
	},
	{
		"cancel",
		func(d []byte) []byte { return AppendCancel(d, 3, 0, 1) },
		[]byte{0, 0, 0, 13, 8, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1},
		Message{ID: Cancel, Index: 3, Begin: 0, Length: 1},
	},
	{
		"port",
		func(d []byte) []byte { return AppendPort(d, 6881) },
		[]byte{0, 0, 0, 3, 9, 0x1A, 0xE1},
		Message{ID: Port, Port: 6881},
	},
	{
		"suggest",
		func(d []byte) []byte { return AppendSuggest(d, 7) },
		[]byte{0, 0, 0, 5, 0x0D, 0, 0, 0, 7},
		Message{ID: Suggest, Index: 7},
	},
	{"have all", AppendHaveAll, []byte{0, 0, 0, 1, 0x0E}, Message{ID: HaveAll}},
	{"have none", AppendHaveNone, []byte{0, 0, 0, 1, 0x0F}, Message{ID: HaveNone}},
	{
		"reject",
		func(d []byte) []byte { return AppendReject(d, 4, 0x4000, 0x10) },
		[]byte{0, 0, 0, 13, 0x10, 0, 0, 0, 4, 0, 0, 0x40, 0, 0, 0, 0, 0x10},
		Message{ID: Reject, Index: 4, Begin: 0x4000, Length: 0x10},
	},
	{
		"allowed fast",
		func(d []byte) []byte { return AppendAllowedFast(d, 0x0102) },
		[]byte{0, 0, 0, 5, 0x11, 0, 0, 0x01, 0x02},
		Message{ID: AllowedFast, Index: 0x0102},
	},
	{
		"extended",
		func(d []byte) []byte { return AppendExtended(d, 0, []byte("de")) },
		[]byte{0, 0, 0, 4, 20, 0, 'd', 'e'},
		Message{ID: Extended, ExtID: 0, Payload: []byte("de")},
	},
	{
		"extended empty",
		func(d []byte) []byte { return AppendExtended(d, 3, nil) },
		[]byte{0, 0, 0, 2, 20, 3},
		Message{ID: Extended, ExtID: 3},
	},
}

func equalMessage(a, b Message) bool {
	return a.ID == b.ID && a.Index == b.Index && a.Begin == b.Begin && a.Length == b.Length &&
		a.Port == b.Port && a.ExtID == b.ExtID && bytes.Equal(a.Payload, b.Payload)
}

func TestEncode(t *testing.T) {
	for _, tc := range wireCases {
		t.Run(tc.name, func(t *testing.T) {
			prefix := []byte("xy")
			got := tc.encode(bytes.Clone(prefix))
			if !bytes.HasPrefix(got, prefix) {
				t.Fatalf("encoder overwrote dst: got % x", got)
			}
			if got := got[len(prefix):]; !bytes.Equal(got, tc.wire) {
				t.Errorf("encoder: got % x, want % x", got, tc.wire)
			}
			got, err := AppendMessage(nil, tc.msg)
			if err != nil || !bytes.Equal(got, tc.wire) {
				t.Errorf("AppendMessage: got % x, %v; want % x", got, err, tc.wire)
			}
		})
	}
}

func TestAppendPieceHeader(t *testing.T) {
	got := AppendPieceHeader(nil, 5, 0x4000, BlockSize)
	want := []byte{0, 0, 0x40, 0x09, 7, 0, 0, 0, 5, 0, 0, 0x40, 0}
	if !bytes.Equal(got, want) {
		t.Errorf("got % x, want % x", got, want)
	}
}

func TestAppendMessageUnknownID(t *testing.T) {
	got, err := AppendMessage([]byte{1}, Message{ID: 42})
	if !errors.Is(err, ErrUnknownID) || !bytes.Equal(got, []byte{1}) {
		t.Errorf("got % x, %v; want dst unchanged and ErrUnknownID", got, err)
	}
}

func TestEncodeAllocs(t *testing.T) {
	buf := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(100, func() {
		b := AppendRequest(buf[:0], 1, 2, 3)
		b = AppendHave(b, 4)
		b = AppendPieceHeader(b, 5, 6, 7)
		b = AppendInterested(b)
		_, _ = AppendMessage(b, Message{ID: Cancel, Index: 1, Begin: 2, Length: 3})
	})
	if allocs != 0 {
		t.Errorf("got %v allocs per run, want 0", allocs)
	}
}

func TestIDString(t *testing.T) {
	tests := []struct {
		id   ID
		want string
	}{
		{Choke, "choke"},
		{NotInterested, "not interested"},
		{Port, "port"},
		{AllowedFast, "allowed fast"},
		{Extended, "extended"},
		{KeepAlive, "keep-alive"},
		{10, "ID(10)"},
		{200, "ID(200)"},
	}
	for _, tc := range tests {
		if got := tc.id.String(); got != tc.want {
			t.Errorf("ID(%d).String() = %q, want %q", uint8(tc.id), got, tc.want)
		}
	}
}

func TestMessageString(t *testing.T) {
	tests := []struct {
		msg  Message
		want string
	}{
		{Message{ID: Request, Index: 1, Begin: 16384, Length: 16384}, "request 1:16384+16384"},
		{Message{ID: Have, Index: 9}, "have 9"},
		{Message{ID: Bitfield, Payload: make([]byte, 3)}, "bitfield of 3 bytes"},
		{Message{ID: Port, Port: 6881}, "port 6881"},
		{Message{ID: Extended, ExtID: 2, Payload: make([]byte, 4)}, "extended 2 of 4 bytes"},
		{Message{ID: Unchoke}, "unchoke"},
	}
	for _, tc := range tests {
		if got := tc.msg.String(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}
