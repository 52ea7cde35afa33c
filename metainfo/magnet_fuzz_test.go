package metainfo

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzMagnet: parsing never panics, and a parsed link survives a round
// trip through String.
func FuzzMagnet(f *testing.F) {
	for _, s := range []string{
		"magnet:?xt=urn:btih:" + testHashHex,
		"magnet:?xt=urn:btih:" + testHashB32 + "&dn=name&tr=http%3A%2F%2Ft%2Fa&x.pe=127.0.0.1:1",
		"magnet:?xt=urn:btmh:1220" + strings.Repeat("ab", 32) + "&xt=urn:btih:" + testHashHex,
		"magnet:?xt=urn:btih:" + testHashHex + "&x.pe=[::1]:2&tr=udp://x:1&tr=http://y/",
		"magnet:?dn=x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMagnet(s)
		if err != nil {
			return
		}
		again, err := ParseMagnet(m.String())
		if err != nil {
			t.Fatalf("ParseMagnet(%q) of its own String: %v", m.String(), err)
		}
		if !reflect.DeepEqual(again, m) {
			t.Fatalf("round trip: got %+v, want %+v", again, m)
		}
	})
}
