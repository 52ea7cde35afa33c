package lsd

import (
	"reflect"
	"testing"
)

// FuzzParseAnnounce feeds ParseAnnounce hostile datagrams: it must never
// panic, what it accepts must obey the limits, and an accepted announce
// must come back the same after AppendAnnounce and ParseAnnounce again.
func FuzzParseAnnounce(f *testing.F) {
	f.Add(AppendAnnounce(nil, "239.192.152.143:6771", 6881, [][20]byte{ihA, ihB}, "abc"))
	f.Add([]byte("bt-search * HTTP/1.0\nport:1\ninfohash:" + hexA + "\n\n"))
	f.Add([]byte("BT-SEARCH * HTTP/1.1\r\nPort: 65536\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseAnnounce(b)
		if err != nil {
			return
		}
		if a.Port == 0 || len(a.Infohashes) == 0 || len(a.Infohashes) > MaxInfohashes || len(a.Cookie) > maxCookie {
			t.Fatalf("accepted out of limits: %+v", a)
		}
		if !validToken(a.Host) || !validToken(a.Cookie) {
			return // AppendAnnounce writes what it is given; a CR/LF would split it
		}
		again, err := ParseAnnounce(AppendAnnounce(nil, a.Host, a.Port, a.Infohashes, a.Cookie))
		if err != nil {
			t.Fatalf("re-encoded %+v does not parse: %v", a, err)
		}
		if !reflect.DeepEqual(again, a) {
			t.Fatalf("round trip: got %+v, want %+v", again, a)
		}
	})
}

// validToken reports whether s survives a header line unchanged: no line
// breaks, and no leading or trailing blanks (the parser trims them).
func validToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '\r' || s[i] == '\n' {
			return false
		}
	}
	return s == "" || (s[0] != ' ' && s[0] != '\t' && s[len(s)-1] != ' ' && s[len(s)-1] != '\t')
}
