package peer

import (
	"bytes"
	"errors"
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
	for _, payload := range []string{"", "d1:md3:fooi999eee", "d13:metadata_sizei999999999ee", "i3e"} {
		if _, err := ParseExtHandshake([]byte(payload)); !errors.Is(err, ErrBadExtension) {
			t.Errorf("ParseExtHandshake(%q): got %v, want ErrBadExtension", payload, err)
		}
	}
}

func FuzzExtension(f *testing.F) {
	f.Add([]byte("d8:msg_typei1e5:piecei0e10:total_sizei5eeabcde"))
	f.Add([]byte("d1:md11:ut_metadatai3ee13:metadata_sizei31235ee"))
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
		}
		ParseExtHandshake(b)
	})
}
