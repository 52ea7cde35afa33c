package peer

import (
	"bytes"
	"errors"
	"maps"
	"net/netip"
	"strings"
	"testing"
)

func TestExtHandshakeBytes(t *testing.T) {
	got := AppendExtHandshake(nil, ExtHandshake{M: map[string]int{UTMetadata: 3}, MetadataSize: 31235})
	want := "\x00\x00\x00\x31\x14\x00d1:md11:ut_metadatai3ee13:metadata_sizei31235ee"
	if string(got) != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	msg, n, err := ParseMessage(got, Limits{})
	if err != nil || n != len(got) || msg.ExtID != ExtHandshakeID {
		t.Fatalf("ParseMessage: %v, %d, %v", msg, n, err)
	}
	h, err := ParseExtHandshake(msg.Payload)
	if err != nil || h.M[UTMetadata] != 3 || h.MetadataSize != 31235 {
		t.Fatalf("ParseExtHandshake: %+v, %v", h, err)
	}
}

func TestExtHandshakeFieldsRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		h    ExtHandshake
		body string
	}{
		{ExtHandshake{M: map[string]int{UTMetadata: 3, UTPex: 1}, V: "aiotorrent", Reqq: 250, P: 6881,
			YourIP: []byte{203, 0, 113, 9}},
			"d1:md11:ut_metadatai3e6:ut_pexi1ee1:pi6881e4:reqqi250e1:v10:aiotorrent6:yourip4:\xcb\x00\x71\x09e"},
		{ExtHandshake{M: map[string]int{}, P: 65535, YourIP: netip.MustParseAddr("2001:db8::1").AsSlice()},
			"d1:mde1:pi65535e6:yourip16:\x20\x01\x0d\xb8" + strings.Repeat("\x00", 11) + "\x01e"},
	} {
		frame := AppendExtHandshake(nil, tc.h)
		if got := string(frame[6:]); got != tc.body {
			t.Errorf("got  %q\nwant %q", got, tc.body)
		}
		got, err := ParseExtHandshake(frame[6:])
		if err != nil || !equalExtHandshake(got, tc.h) {
			t.Errorf("got %+v, %v; want %+v", got, err, tc.h)
		}
	}
}

// equalExtHandshake compares field by field: an empty "m" may decode to a
// nil map.
func equalExtHandshake(a, b ExtHandshake) bool {
	return maps.Equal(a.M, b.M) && a.V == b.V && a.MetadataSize == b.MetadataSize && a.Reqq == b.Reqq &&
		a.P == b.P && bytes.Equal(a.YourIP, b.YourIP)
}

func TestExtHandshakeYourIP(t *testing.T) {
	for _, tc := range []struct {
		payload string
		want    netip.Addr
	}{
		{"d6:yourip4:\x0a\x00\x00\x01e", netip.MustParseAddr("10.0.0.1")},
		{"d6:yourip16:" + strings.Repeat("\x00", 10) + "\xff\xff\x0a\x00\x00\x01e", netip.MustParseAddr("10.0.0.1")},
		{"d6:yourip3:abce", netip.Addr{}}, // malformed: dropped, the handshake kept
		{"d6:yourip0:e", netip.Addr{}},
		{"de", netip.Addr{}},
	} {
		h, err := ParseExtHandshake([]byte(tc.payload))
		if err != nil {
			t.Errorf("%q: %v", tc.payload, err)
			continue
		}
		if got, ok := h.YourAddr(); got != tc.want || ok != tc.want.IsValid() {
			t.Errorf("%q: got %v, %v; want %v", tc.payload, got, ok, tc.want)
		}
	}
}

func TestExtHandshakeRequestQueue(t *testing.T) {
	for _, tc := range []struct{ reqq, def, max, want int }{
		{0, 100, 500, 100},   // not sent
		{250, 100, 500, 250}, // libtorrent's default
		{1 << 40, 100, 500, 500},
		{1, 100, 500, 1},
	} {
		if got := (ExtHandshake{Reqq: tc.reqq}).RequestQueue(tc.def, tc.max); got != tc.want {
			t.Errorf("reqq %d, def %d, max %d: got %d, want %d", tc.reqq, tc.def, tc.max, got, tc.want)
		}
	}
}

func TestMetadataMsgRoundTrip(t *testing.T) {
	data := bytes.Repeat([]byte{7}, 100)
	for _, m := range []MetadataMsg{
		{Type: MetadataRequest, Piece: 2},
		{Type: MetadataData, Piece: 1, TotalSize: MetadataPieceSize + 100, Data: data},
		{Type: MetadataReject, Piece: 0},
	} {
		frame := AppendMetadataMsg(nil, 5, m)
		msg, _, err := ParseMessage(frame, Limits{})
		if err != nil || msg.ExtID != 5 {
			t.Fatalf("%+v: ParseMessage: %v %v", m, msg, err)
		}
		got, err := ParseMetadataMsg(msg.Payload)
		if err != nil || got.Type != m.Type || got.Piece != m.Piece || got.TotalSize != m.TotalSize || !bytes.Equal(got.Data, m.Data) {
			t.Fatalf("got %+v, %v; want %+v", got, err, m)
		}
	}
	if got := string(AppendMetadataMsg(nil, 5, MetadataMsg{Type: MetadataRequest, Piece: 0})[6:]); got != "d8:msg_typei0e5:piecei0ee" {
		t.Fatalf("request body %q", got)
	}
}

func TestBadExtensionMessages(t *testing.T) {
	for _, payload := range []string{
		"",
		"d8:msg_typei9e5:piecei0ee",
		"d8:msg_typei0e5:piecei-1ee",
		"d8:msg_typei0e5:piecei99999ee",
		"d8:msg_typei1e5:piecei0e10:total_sizei0eexx",
		"d8:msg_typei1e5:piecei0e10:total_sizei999999999eexx",
		"d8:msg_typei0e5:piecei0eetrailing",
		"l",
	} {
		if _, err := ParseMetadataMsg([]byte(payload)); !errors.Is(err, ErrBadExtension) {
			t.Errorf("ParseMetadataMsg(%q): got %v, want ErrBadExtension", payload, err)
		}
	}
	for _, payload := range []string{"", "d1:md3:fooi999eee", "d13:metadata_sizei999999999ee", "i3e",
		"d1:pi65536ee", "d1:pi-1ee", "d4:reqqi-1ee", "d1:pi99999999999999999999ee", "le"} {
		if _, err := ParseExtHandshake([]byte(payload)); !errors.Is(err, ErrBadExtension) {
			t.Errorf("ParseExtHandshake(%q): got %v, want ErrBadExtension", payload, err)
		}
	}
}

// FuzzExtension parses arbitrary bytes as a ut_metadata message and as an
// extension handshake: failures wrap ErrBadExtension, and whatever parses
// re-encodes to something that parses back to the same value.
func FuzzExtension(f *testing.F) {
	f.Add([]byte("d8:msg_typei1e5:piecei0e10:total_sizei5eeabcde"))
	f.Add([]byte("d1:md11:ut_metadatai3ee13:metadata_sizei31235ee"))
	f.Add([]byte("d1:md6:ut_pexi1ee1:pi6881e4:reqqi250e1:v3:abc6:yourip4:abcde"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := ParseMetadataMsg(b); err == nil {
			round := AppendMetadataMsg(nil, 1, m)
			msg, _, err := ParseMessage(round, Limits{})
			if err != nil {
				t.Fatalf("re-encoded message does not parse: %v", err)
			}
			if _, err := ParseMetadataMsg(msg.Payload); err != nil {
				t.Fatalf("re-encoded message does not decode: %v", err)
			}
		} else if !errors.Is(err, ErrBadExtension) {
			t.Fatalf("ParseMetadataMsg: got %v, want ErrBadExtension", err)
		}
		h, err := ParseExtHandshake(b)
		if err != nil {
			if !errors.Is(err, ErrBadExtension) {
				t.Fatalf("ParseExtHandshake: got %v, want ErrBadExtension", err)
			}
			return
		}
		if h.P < 0 || h.P > 65535 || h.Reqq < 0 || (h.YourIP != nil && len(h.YourIP) != 4 && len(h.YourIP) != 16) {
			t.Fatalf("accepted %+v", h)
		}
		frame := AppendExtHandshake(nil, h)
		got, err := ParseExtHandshake(frame[6:])
		if err != nil || !equalExtHandshake(got, h) {
			t.Fatalf("parse(encode(%+v)) = %+v, %v", h, got, err)
		}
	})
}
