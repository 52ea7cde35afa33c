package lsd

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

var (
	ihA = [20]byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10, 0x00, 0x11, 0x22, 0x33}
	ihB = [20]byte{19: 0xff}
)

const hexA = "0123456789abcdeffedcba987654321000112233"

func TestAppendAnnounceBytes(t *testing.T) {
	got := AppendAnnounce([]byte("x"), "239.192.152.143:6771", 6881, [][20]byte{ihA, ihB}, "c00k1e")
	want := "x" +
		"BT-SEARCH * HTTP/1.1\r\n" +
		"Host: 239.192.152.143:6771\r\n" +
		"Port: 6881\r\n" +
		"Infohash: " + hexA + "\r\n" +
		"Infohash: 00000000000000000000000000000000000000ff\r\n" +
		"cookie: c00k1e\r\n" +
		"\r\n\r\n"
	if string(got) != want {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
	noCookie := AppendAnnounce(nil, "[ff15::efc0:988f]:6771", 1, [][20]byte{ihB}, "")
	if bytes.Contains(noCookie, []byte("cookie")) {
		t.Fatalf("an empty cookie was sent: %q", noCookie)
	}
}

func TestAnnounceRoundTrip(t *testing.T) {
	many := make([][20]byte, MaxInfohashes)
	for i := range many {
		many[i][0], many[i][19] = byte(i), 0xee
	}
	for _, want := range []Announce{
		{Host: "239.192.152.143:6771", Port: 6881, Infohashes: [][20]byte{ihA}, Cookie: "1a2b3c4d"},
		{Host: "[ff15::efc0:988f]:6771", Port: 65535, Infohashes: [][20]byte{ihA, ihB}},
		{Host: "239.192.152.143:6771", Port: 1, Infohashes: many, Cookie: strings.Repeat("f", 16)},
	} {
		b := AppendAnnounce(nil, want.Host, want.Port, want.Infohashes, want.Cookie)
		if len(b) > maxSendSize {
			t.Errorf("announce of %d info-hashes is %d bytes, over BEP 14's %d", len(want.Infohashes), len(b), maxSendSize)
		}
		got, err := ParseAnnounce(b)
		if err != nil {
			t.Fatalf("ParseAnnounce(%q): %v", b, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip: got %+v, want %+v", got, want)
		}
	}
}

// TestParseAnnounceOtherClients reads announces as other clients write
// them: libtorrent (a hex cookie, lower-case hex), Transmission (no
// cookie), and a sender with odd but legal case, spacing and line ends.
func TestParseAnnounceOtherClients(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     Announce
	}{
		{"libtorrent",
			"BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\nInfohash: " + hexA + "\r\ncookie: 2f3e4d\r\n\r\n\r\n",
			Announce{Host: "239.192.152.143:6771", Port: 6881, Infohashes: [][20]byte{ihA}, Cookie: "2f3e4d"}},
		{"no cookie, upper-case hex",
			"BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 51413\r\nInfohash: " + strings.ToUpper(hexA) + "\r\n\r\n\r\n",
			Announce{Host: "239.192.152.143:6771", Port: 51413, Infohashes: [][20]byte{ihA}}},
		{"header case, spacing, bare LF, unknown header, repeated hash",
			"bt-search * HTTP/1.0\nHOST:x\nport:\t42 \nX-Other: whatever\ninfoHASH:" + hexA + "\nINFOHASH: " + hexA + "\nCOOKIE: k\n\n",
			Announce{Host: "x", Port: 42, Infohashes: [][20]byte{ihA}, Cookie: "k"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAnnounce([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseAnnounceRejects(t *testing.T) {
	head := "BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\n"
	ih := "Infohash: " + hexA + "\r\n"
	var tooMany strings.Builder
	for i := range MaxInfohashes + 1 {
		fmt.Fprintf(&tooMany, "Infohash: %040x\r\n", i+1)
	}
	for _, tc := range []struct {
		name, in string
		want     error
	}{
		{"empty", "", ErrRequestLine},
		{"M-SEARCH", "M-SEARCH * HTTP/1.1\r\nPort: 1\r\n" + ih + "\r\n", ErrRequestLine},
		{"no target", "BT-SEARCH HTTP/1.1\r\nPort: 1\r\n" + ih + "\r\n", ErrRequestLine},
		{"HTTP/2", "BT-SEARCH * HTTP/2\r\nPort: 1\r\n" + ih + "\r\n", ErrRequestLine},
		{"no blank line", head + "Port: 1\r\n" + ih, ErrHeader},
		{"header without colon", head + "Port 1\r\n" + ih + "\r\n", ErrHeader},
		{"space in header name", head + "Port : 1\r\n" + ih + "\r\n", ErrHeader},
		{"cookie twice", head + "Port: 1\r\n" + ih + "cookie: a\r\ncookie: b\r\n\r\n", ErrHeader},
		{"long cookie", head + "Port: 1\r\n" + ih + "cookie: " + strings.Repeat("c", maxCookie+1) + "\r\n\r\n", ErrHeader},
		{"missing port", head + ih + "\r\n", ErrPort},
		{"port 0", head + "Port: 0\r\n" + ih + "\r\n", ErrPort},
		{"port 65536", head + "Port: 65536\r\n" + ih + "\r\n", ErrPort},
		{"port 99999999999", head + "Port: 99999999999\r\n" + ih + "\r\n", ErrPort},
		{"port -1", head + "Port: -1\r\n" + ih + "\r\n", ErrPort},
		{"port 0x10", head + "Port: 0x10\r\n" + ih + "\r\n", ErrPort},
		{"empty port", head + "Port:\r\n" + ih + "\r\n", ErrPort},
		{"port twice", head + "Port: 1\r\nPort: 2\r\n" + ih + "\r\n", ErrPort},
		{"short hash", head + "Port: 1\r\nInfohash: " + hexA[:39] + "\r\n\r\n", ErrInfohash},
		{"long hash", head + "Port: 1\r\nInfohash: " + hexA + "0\r\n\r\n", ErrInfohash},
		{"not hex", head + "Port: 1\r\nInfohash: " + hexA[:39] + "g\r\n\r\n", ErrInfohash},
		{"no hash", head + "Port: 1\r\n\r\n", ErrNoInfohash},
		{"too many hashes", head + "Port: 1\r\n" + tooMany.String() + "\r\n", ErrTooManyInfohashes},
		{"oversize", head + "Port: 1\r\n" + ih + "X: " + strings.Repeat("a", MaxDatagramSize) + "\r\n\r\n", ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ParseAnnounce([]byte(tc.in))
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %+v, %v; want error %v", a, err, tc.want)
			}
		})
	}
}
