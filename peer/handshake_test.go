package peer

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func testHandshake() (Handshake, []byte) {
	var h Handshake
	h.Reserved = Reserved{0, 0, 0, 0, 0, 0x10, 0, 0x05}
	copy(h.InfoHash[:], "0123456789abcdefghij")
	copy(h.PeerID[:], "-AI0001-ABCDEFGHIJKL")
	wire := append([]byte{19}, "BitTorrent protocol"...)
	wire = append(wire, 0, 0, 0, 0, 0, 0x10, 0, 0x05)
	wire = append(wire, "0123456789abcdefghij"...)
	wire = append(wire, "-AI0001-ABCDEFGHIJKL"...)
	return h, wire
}

func TestAppendHandshake(t *testing.T) {
	h, want := testHandshake()
	got := AppendHandshake([]byte("x"), h)
	if !bytes.Equal(got, append([]byte("x"), want...)) {
		t.Errorf("got % x, want x + % x", got, want)
	}
	if len(want) != HandshakeLen {
		t.Errorf("wire length %d, HandshakeLen %d", len(want), HandshakeLen)
	}
}

func TestParseHandshake(t *testing.T) {
	want, wire := testHandshake()
	// A peer may send its bitfield right behind the handshake.
	got, err := ParseHandshake(append(bytes.Clone(wire), 0, 0, 0, 1, 2))
	if err != nil || got != want {
		t.Errorf("got %+v, %v; want %+v", got, err, want)
	}
}

func TestParseHandshakeErrors(t *testing.T) {
	_, wire := testHandshake()
	with := func(i int, b byte) []byte {
		w := bytes.Clone(wire)
		w[i] = b
		return w
	}
	tests := []struct {
		name string
		buf  []byte
	}{
		{"empty", nil},
		{"short", wire[:HandshakeLen-1]},
		{"pstrlen 18", with(0, 18)},
		{"pstrlen 255", with(0, 255)},
		{"pstr case", with(1, 'b')},
		{"pstr last byte", with(19, 'X')},
		{"http", []byte("GET /announce HTTP/1.1\r\n" + strings.Repeat("x", 60))},
	}
	for _, tc := range tests {
		if _, err := ParseHandshake(tc.buf); !errors.Is(err, ErrBadHandshake) {
			t.Errorf("%s: got %v, want ErrBadHandshake", tc.name, err)
		} else {
			t.Log(err)
		}
	}
}

func TestReservedBits(t *testing.T) {
	tests := []struct {
		bit  ReservedBit
		want Reserved
	}{
		{ExtensionProtocolBit, Reserved{5: 0x10}},
		{FastExtensionBit, Reserved{7: 0x04}},
		{DHTBit, Reserved{7: 0x01}},
	}
	for _, tc := range tests {
		var r Reserved
		if r.Has(tc.bit) {
			t.Errorf("%#x: set in the zero Reserved", uint16(tc.bit))
		}
		r.Set(tc.bit)
		if r != tc.want || !r.Has(tc.bit) {
			t.Errorf("%#x: got % x, want % x", uint16(tc.bit), r, tc.want)
		}
	}
	all := Reserved{5: 0x10, 7: 0x05}
	for _, bit := range []ReservedBit{ExtensionProtocolBit, FastExtensionBit, DHTBit} {
		if !all.Has(bit) {
			t.Errorf("%#x: got unset in % x", uint16(bit), all)
		}
	}
	if (Reserved{7: 0xFA}).Has(FastExtensionBit) {
		t.Errorf("fast extension reported with only other bits of byte 7 set")
	}
}

func TestNewPeerID(t *testing.T) {
	a, b := NewPeerID(), NewPeerID()
	if !bytes.HasPrefix(a[:], []byte("-AI0001-")) {
		t.Errorf("got %q, want the -AI0001- prefix", a)
	}
	if a == b {
		t.Errorf("two peer IDs are equal: %q", a)
	}
}
