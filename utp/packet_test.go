package utp

import (
	"bytes"
	"errors"
	"testing"
)

func TestPacketRoundTrip(t *testing.T) {
	cases := []header{
		{typ: stData, connID: 0xbeef, timestamp: 1, tsDiff: 2, wnd: 1 << 20, seq: 65535, ack: 0},
		{typ: stState, connID: 1, seq: 7, ack: 6, sack: []byte{0x01, 0, 0, 0x80}},
		{typ: stSyn, connID: 0xffff, wnd: 0xffffffff},
		{typ: stFin}, {typ: stReset},
	}
	for _, want := range cases {
		var buf [hdrRoom + 8]byte
		n := encodeHeader(buf[:], &want)
		copy(buf[n:], "payload!")
		var got header
		payload, err := decodePacket(buf[:n+8], &got)
		if err != nil {
			t.Fatalf("%v: decode: %v", want.typ, err)
		}
		if string(payload) != "payload!" {
			t.Errorf("%v: payload %q, want %q", want.typ, payload, "payload!")
		}
		if !sameHeader(got, want) {
			t.Errorf("got %+v, want %+v", got, want)
		}
	}
}

// TestDecodeHostile: every malformed shape gets its own error and no panic.
func TestDecodeHostile(t *testing.T) {
	valid := func(ext byte, tail ...byte) []byte {
		b := make([]byte, headerLen, headerLen+len(tail))
		b[0], b[1] = byte(stData)<<4|version, ext
		return append(b, tail...)
	}
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, errShort},
		{"truncated header", valid(0)[:19], errShort},
		{"version 0", append([]byte{0x00}, valid(0)[1:]...), errVersion},
		{"version 2", append([]byte{0x12}, valid(0)[1:]...), errVersion},
		{"type 5", append([]byte{0x51}, valid(0)[1:]...), errType},
		{"type 15", append([]byte{0xf1}, valid(0)[1:]...), errType},
		{"KRPC", append([]byte("d1:ad2:id20:"), make([]byte, 20)...), errVersion},
		{"extension header cut", valid(extSACK, 0), errExtension},
		{"extension past the end", valid(extSACK, 0, 8, 1, 2, 3), errExtension},
		{"unknown extension past the end", valid(7, 0, 200), errExtension},
		{"sack of 0 bytes", valid(extSACK, 0, 0), errSACKLength},
		{"two sacks", valid(extSACK, extSACK, 4, 1, 0, 0, 0, 0, 4, 1, 0, 0, 0), errSACKTwice},
	}
	for _, tc := range cases {
		var h header
		if _, err := decodePacket(tc.b, &h); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
	// An unknown extension is skipped by its length.
	var h header
	payload, err := decodePacket(valid(9, extSACK, 2, 0xaa, 0xbb, 0, 4, 1, 0, 0, 0, 'x'), &h)
	if err != nil || string(payload) != "x" || !bytes.Equal(h.sack, []byte{1, 0, 0, 0}) {
		t.Errorf("unknown extension then SACK: got %q, sack %x, %v", payload, h.sack, err)
	}
}

// TestDecodeSACKOfOddLengthFromLibtorrent: libtorrent sends selective
// acks of 1 to 32 bytes, not a multiple of 4 as BEP 29 says; we dropped
// those packets whole as malformed, acks and data with them, and a
// libtorrent peer's uploads to us (and our uploads to it) timed out.
func TestDecodeSACKOfOddLengthFromLibtorrent(t *testing.T) {
	for _, n := range []int{1, 3, 5, 31} {
		b := make([]byte, headerLen, headerLen+2+n+1)
		b[0], b[1] = byte(stState)<<4|version, extSACK
		b = append(b, extNone, byte(n))
		for i := range n {
			b = append(b, byte(i+1))
		}
		b = append(b, 'x')
		var h header
		payload, err := decodePacket(b, &h)
		if err != nil || string(payload) != "x" || len(h.sack) != n || h.sack[n-1] != byte(n) {
			t.Errorf("sack of %d bytes: payload %q, sack %x, %v", n, payload, h.sack, err)
		}
	}
}

func TestIsUTP(t *testing.T) {
	for typ := range packetType(numTypes) {
		b := make([]byte, headerLen)
		b[0] = byte(typ)<<4 | version
		if !IsUTP(b) {
			t.Errorf("%v: IsUTP false", typ)
		}
	}
	if IsUTP([]byte("d1:ad2:id20:aaaaaaaaaaaaaaaaaaaae1:q4:ping1:t2:aa1:y1:qe")) {
		t.Error("a KRPC ping is taken for uTP")
	}
}

func TestDecodeAllocatesNothing(t *testing.T) {
	b := make([]byte, hdrRoom+100)
	n := encodeHeader(b, &header{typ: stState, sack: []byte{1, 2, 3, 4}})
	var h header
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := decodePacket(b[:n+100], &h); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("decodePacket: %v allocations, want 0", allocs)
	}
}

func FuzzDecodePacket(f *testing.F) {
	var buf [hdrRoom]byte
	for _, h := range []header{{typ: stData, seq: 1}, {typ: stState, sack: []byte{0xff, 0, 0, 1}}} {
		n := encodeHeader(buf[:], &h)
		f.Add(append([]byte(nil), buf[:n]...))
	}
	f.Add([]byte("d1:ad2:id20:aaaaaaaaaaaaaaaaaaaae1:q4:ping1:t2:aa1:y1:qe"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var h header
		payload, err := decodePacket(b, &h)
		if err != nil {
			return
		}
		if len(h.sack) > maxSACKLen {
			return // valid on the wire, but more than we ever send
		}
		// Re-encoding the decoded header and payload decodes to the same.
		out := make([]byte, hdrRoom+len(payload))
		n := encodeHeader(out, &h)
		out = append(out[:n], payload...)
		var h2 header
		payload2, err := decodePacket(out, &h2)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !bytes.Equal(payload, payload2) {
			t.Fatalf("payload changed: %x, then %x", payload, payload2)
		}
		if !sameHeader(h, h2) {
			t.Fatalf("header changed: %+v, then %+v", h, h2)
		}
	})
}

func sameHeader(a, b header) bool {
	return a.typ == b.typ && a.connID == b.connID && a.timestamp == b.timestamp &&
		a.tsDiff == b.tsDiff && a.wnd == b.wnd && a.seq == b.seq && a.ack == b.ack &&
		bytes.Equal(a.sack, b.sack)
}
