package peer

import (
	"bytes"
	"net/netip"
	"slices"
	"testing"
)

// TestAllowedFastSetBEP6 checks the example sets BEP 6 publishes: a torrent
// of 1313 pieces, info-hash 0xaa repeated, a peer at 80.4.4.200.
func TestAllowedFastSetBEP6(t *testing.T) {
	var ih [20]byte
	copy(ih[:], bytes.Repeat([]byte{0xaa}, 20))
	ip := netip.MustParseAddr("80.4.4.200")
	for _, tc := range []struct {
		k    int
		want []uint32
	}{
		{7, []uint32{1059, 431, 808, 1217, 287, 376, 1188}},
		{9, []uint32{1059, 431, 808, 1217, 287, 376, 1188, 353, 508}},
	} {
		if got := AllowedFastSet(ip, ih, 1313, tc.k); !slices.Equal(got, tc.want) {
			t.Errorf("k = %d: got %v, want %v", tc.k, got, tc.want)
		}
	}
	// The last octet is masked away, and the IPv4-mapped form is the same host.
	want := AllowedFastSet(ip, ih, 1313, 9)
	for _, other := range []string{"80.4.4.1", "::ffff:80.4.4.200"} {
		if got := AllowedFastSet(netip.MustParseAddr(other), ih, 1313, 9); !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v (the set of 80.4.4.200)", other, got, want)
		}
	}
	if got := AllowedFastSet(netip.MustParseAddr("80.4.5.200"), ih, 1313, 9); slices.Equal(got, want) {
		t.Errorf("80.4.5.200, another /24: got the set of 80.4.4.200, %v", got)
	}
}

func TestAllowedFastSetIPv6(t *testing.T) {
	var ih [20]byte
	copy(ih[:], "0123456789abcdefghij")
	const n = 5000
	want := AllowedFastSet(netip.MustParseAddr("2001:db8:1:ffff::1"), ih, n, AllowedFastK)
	if len(want) != AllowedFastK {
		t.Fatalf("got %d pieces, want %d: %v", len(want), AllowedFastK, want)
	}
	for _, i := range want {
		if i >= n {
			t.Fatalf("piece %d out of %d: %v", i, n, want)
		}
	}
	if got := AllowedFastSet(netip.MustParseAddr("2001:db8:1:2:3:4:5:6"), ih, n, AllowedFastK); !slices.Equal(got, want) {
		t.Errorf("same /48: got %v, want %v", got, want)
	}
	if got := AllowedFastSet(netip.MustParseAddr("2001:db8:1::1%eth0"), ih, n, AllowedFastK); !slices.Equal(got, want) {
		t.Errorf("same /48 with a zone: got %v, want %v", got, want)
	}
	if got := AllowedFastSet(netip.MustParseAddr("2001:db8:2::1"), ih, n, AllowedFastK); slices.Equal(got, want) {
		t.Errorf("another /48: got the same set %v", got)
	}
}

func TestAllowedFastSetEdges(t *testing.T) {
	var ih [20]byte
	ip := netip.MustParseAddr("10.0.0.1")
	for _, tc := range []struct {
		name         string
		ip           netip.Addr
		numPieces, k int
		want         []uint32
	}{
		{"zero address", netip.Addr{}, 100, 10, nil},
		{"no pieces", ip, 0, 10, nil},
		{"k = 0", ip, 100, 0, nil},
		{"negative k", ip, 100, -1, nil},
		{"k = piece count", ip, 3, 3, []uint32{0, 1, 2}},
		{"k over piece count", ip, 4, 10, []uint32{0, 1, 2, 3}},
	} {
		if got := AllowedFastSet(tc.ip, ih, tc.numPieces, tc.k); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	// One short of every piece must end: the draw has to find all but one.
	got := AllowedFastSet(ip, ih, 50, 49)
	slices.Sort(got)
	if len(slices.Compact(got)) != 49 || got[len(got)-1] >= 50 {
		t.Errorf("49 of 50: got %v", got)
	}
}

func BenchmarkAllowedFastSet(b *testing.B) {
	var ih [20]byte
	ip := netip.MustParseAddr("80.4.4.200")
	b.ReportAllocs()
	for b.Loop() {
		AllowedFastSet(ip, ih, 1313, AllowedFastK)
	}
}
