package metainfo

import (
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
)

const (
	testHashHex = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a"
	// The same 20 bytes in base32.
	testHashB32 = "YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK"
)

func testHash(t *testing.T) [20]byte {
	t.Helper()
	var h [20]byte
	b, err := hex.DecodeString(testHashHex)
	if err != nil {
		t.Fatal(err)
	}
	copy(h[:], b)
	return h
}

func TestParseMagnet(t *testing.T) {
	h := testHash(t)
	tests := []struct {
		name, in string
		want     Magnet
	}{
		{"hex only", "magnet:?xt=urn:btih:" + testHashHex, Magnet{InfoHash: h}},
		{"upper-case hex", "magnet:?xt=urn:btih:" + strings.ToUpper(testHashHex), Magnet{InfoHash: h}},
		{"base32", "magnet:?xt=urn:btih:" + testHashB32, Magnet{InfoHash: h}},
		{"lower-case base32", "magnet:?xt=urn:btih:" + strings.ToLower(testHashB32), Magnet{InfoHash: h}},
		{"everything",
			"magnet:?xt=urn:btih:" + testHashHex + "&dn=My+File%2F1&tr=http%3A%2F%2Ft1%2Fannounce&tr=udp://t2:80" +
				"&x.pe=127.0.0.1:6881&x.pe=%5B::1%5D:6882&x.pe=peer.example:1&ws=http://seed.example/files/",
			Magnet{InfoHash: h, Name: "My File/1", Trackers: []string{"http://t1/announce", "udp://t2:80"},
				Peers: []string{"127.0.0.1:6881", "[::1]:6882", "peer.example:1"}, WebSeeds: []string{"http://seed.example/files/"}}},
		{"hybrid v1+v2", "magnet:?xt=urn:btmh:1220" + strings.Repeat("ab", 32) + "&xt=urn:btih:" + testHashHex,
			Magnet{InfoHash: h}},
		{"same hash twice", "magnet:?xt=urn:btih:" + testHashHex + "&xt=urn:btih:" + testHashB32, Magnet{InfoHash: h}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMagnet(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got %+v, want %+v", *got, tt.want)
			}
			again, err := ParseMagnet(got.String())
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("round trip through %q: got %+v, %v", got.String(), again, err)
			}
		})
	}
}

func TestParseMagnetErrors(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"http scheme", "http://example.com/?xt=urn:btih:" + testHashHex},
		{"no query", "magnet:"},
		{"missing xt", "magnet:?dn=x&tr=http://t/"},
		{"short hex", "magnet:?xt=urn:btih:" + testHashHex[:39]},
		{"long hex", "magnet:?xt=urn:btih:" + testHashHex + "0"},
		{"bad hex digit", "magnet:?xt=urn:btih:" + testHashHex[:39] + "g"},
		{"bad base32 digit", "magnet:?xt=urn:btih:" + testHashB32[:31] + "1"},
		{"empty hash", "magnet:?xt=urn:btih:"},
		{"two hashes", "magnet:?xt=urn:btih:" + testHashHex + "&xt=urn:btih:" + strings.Repeat("0", 40)},
		{"v2 only", "magnet:?xt=urn:btmh:1220" + strings.Repeat("ab", 32)},
		{"empty tr", "magnet:?xt=urn:btih:" + testHashHex + "&tr="},
		{"peer without port", "magnet:?xt=urn:btih:" + testHashHex + "&x.pe=127.0.0.1"},
		{"peer port 0", "magnet:?xt=urn:btih:" + testHashHex + "&x.pe=127.0.0.1:0"},
		{"peer port too big", "magnet:?xt=urn:btih:" + testHashHex + "&x.pe=127.0.0.1:65536"},
		{"peer empty host", "magnet:?xt=urn:btih:" + testHashHex + "&x.pe=:80"},
		{"web seed not http", "magnet:?xt=urn:btih:" + testHashHex + "&ws=ftp://seed.example/f"},
		{"web seed relative", "magnet:?xt=urn:btih:" + testHashHex + "&ws=/files/f"},
		{"bad escape", "magnet:?xt=urn:btih:" + testHashHex + "&dn=%zz"},
		{"too long", "magnet:?xt=urn:btih:" + testHashHex + "&dn=" + strings.Repeat("a", MaxMagnetLength)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMagnet(tt.in)
			if !errors.Is(err, ErrBadMagnet) {
				t.Fatalf("got %+v, %v; want ErrBadMagnet", m, err)
			}
		})
	}
	if _, err := ParseMagnet("magnet:?xt=urn:btmh:1220" + strings.Repeat("ab", 32)); !errors.Is(err, ErrV2NotSupported) {
		t.Errorf("v2-only magnet: got %v, want ErrV2NotSupported too", err)
	}
}

func TestMagnetString(t *testing.T) {
	m := Magnet{InfoHash: testHash(t), Name: "a b&c", Trackers: []string{"http://t/a?x=1"}, Peers: []string{"[::1]:1"}}
	want := "magnet:?xt=urn:btih:" + testHashHex + "&dn=a+b%26c&tr=http%3A%2F%2Ft%2Fa%3Fx%3D1&x.pe=%5B%3A%3A1%5D%3A1"
	if got := m.String(); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestMetainfoMagnet(t *testing.T) {
	mi := loadFixture(t, "multi.torrent")
	m := mi.Magnet()
	if m.InfoHash != mi.InfoHash || m.Name != "multi" || len(m.Trackers) != 3 {
		t.Errorf("got %+v, want the fixture's hash, name and 3 trackers", m)
	}
}
