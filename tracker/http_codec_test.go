package tracker

import (
	"errors"
	"net/netip"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

func testRequest() AnnounceRequest {
	var req AnnounceRequest
	for i := range req.InfoHash {
		req.InfoHash[i] = byte(i * 13) // 0x00, 0x0d, ... covers reserved and unreserved bytes
	}
	copy(req.PeerID[:], "-AI0001-abc~._ +/%&=")
	req.Port = 6881
	req.Uploaded, req.Downloaded, req.Left = 1, 2, 3
	return req
}

func TestAnnounceURL(t *testing.T) {
	const ih = "%00%0D%1A%274AN%5Bhu%82%8F%9C%A9%B6%C3%D0%DD%EA%F7"
	const pid = "-AI0001-abc~._%20%2B%2F%25%26%3D"
	base := "info_hash=" + ih + "&peer_id=" + pid + "&port=6881&uploaded=1&downloaded=2&left=3&compact=1"
	tests := []struct {
		name string
		url  string
		mod  func(*AnnounceRequest)
		want string
	}{
		{"plain", "http://t.example/announce", nil, "http://t.example/announce?" + base},
		{"passkey kept", "http://t.example/a/announce?pk=x%2By", nil, "http://t.example/a/announce?pk=x%2By&" + base},
		{"trailing ?", "http://t.example/announce?", nil, "http://t.example/announce?" + base},
		{"trailing &", "http://t.example/announce?a=1&", nil, "http://t.example/announce?a=1&" + base},
		{"fragment dropped", "https://t.example:8443/announce#frag", nil, "https://t.example:8443/announce?" + base},
		{"event and extras", "http://t.example/announce", func(r *AnnounceRequest) {
			r.Event, r.NumWant, r.Key, r.TrackerID = EventStarted, 80, 0xdeadbeef, "id 1"
		}, "http://t.example/announce?" + base + "&event=started&numwant=80&key=deadbeef&trackerid=id%201"},
		{"encryption supported", "http://t.example/announce", func(r *AnnounceRequest) { r.Crypto = CryptoSupport },
			"http://t.example/announce?" + base + "&supportcrypto=1"},
		{"encryption required", "http://t.example/announce", func(r *AnnounceRequest) { r.Crypto = CryptoRequire },
			"http://t.example/announce?" + base + "&supportcrypto=1&requirecrypto=1"},
		{"negative counters are zero", "http://t.example/announce", func(r *AnnounceRequest) {
			r.Uploaded, r.Event = -5, EventStopped
		}, "http://t.example/announce?" + strings.Replace(base, "uploaded=1", "uploaded=0", 1) + "&event=stopped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := testRequest()
			if tt.mod != nil {
				tt.mod(&req)
			}
			got, err := announceURL(tt.url, req)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestAnnounceURLRejects(t *testing.T) {
	for _, u := range []string{"udp://t.example:80", "ftp://x/announce", "http:///announce", "://bad", "/announce"} {
		if _, err := announceURL(u, testRequest()); err == nil {
			t.Errorf("announceURL(%q): got nil error, want one", u)
		}
	}
}

func TestEscapeRoundTrip(t *testing.T) {
	var all []byte
	for i := range 256 {
		all = append(all, byte(i))
	}
	got, ok := unescapeAppend(nil, escapeBytes(all))
	if !ok || string(got) != string(all) {
		t.Errorf("unescape(escape(all bytes)) = %q, %v; want the bytes back", got, ok)
	}
}

func TestHTTPRequest(t *testing.T) {
	u := mustURL(t, "http://t.example:6969/a%20b/announce?x=%41&y")
	got := string(appendHTTPRequest(nil, u, "aiotorrent/0"))
	want := "GET /a%20b/announce?x=%41&y HTTP/1.1\r\nHost: t.example:6969\r\nUser-Agent: aiotorrent/0\r\n" +
		"Accept-Encoding: identity\r\nConnection: close\r\n\r\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func okHTTP(body string) string {
	return "HTTP/1.1 200 OK\r\nContent-Length: " + itoa(len(body)) + "\r\n\r\n" + body
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func TestParseHTTPAnnounce(t *testing.T) {
	v6 := "\x20\x01\x0d\xb8" + strings.Repeat("\x00", 11) + "\x01\x1a\xe1" // [2001:db8::1]:6881
	tests := []struct {
		name string
		raw  string
		want *AnnounceResponse
		err  error
	}{
		{"compact", okHTTP("d8:completei5e10:incompletei7e8:intervali1800e12:min intervali60e10:tracker id2:xy" +
			"15:warning message4:slow5:peers12:\x7f\x00\x00\x01\x1a\xe1\x0a\x00\x00\x02\x00\x50e"),
			&AnnounceResponse{Interval: 30 * time.Minute, MinInterval: time.Minute, Complete: 5, Incomplete: 7,
				TrackerID: "xy", Warning: "slow", Peers: []netip.AddrPort{ap("127.0.0.1:6881"), ap("10.0.0.2:80")}}, nil},
		{"peers6 and drops", okHTTP("d8:intervali10e5:peers18:\x7f\x00\x00\x01\x00\x00\x7f\x00\x00\x01\x1a\xe1\x7f\x00\x00\x01\x1a\xe16:peers618:" + v6 + "e"),
			&AnnounceResponse{Interval: 10 * time.Second, Peers: []netip.AddrPort{ap("127.0.0.1:6881"), ap("[2001:db8::1]:6881")}}, nil},
		{"dictionary peers", okHTTP("d8:intervali10e5:peersld2:ip9:127.0.0.17:peer id20:aaaaaaaaaaaaaaaaaaaa4:porti6881eed2:ip7:example4:porti1eed2:ip3:::14:porti70000eed2:ip5:::1%14:porti5eed2:ip3:::14:porti9eeee"),
			&AnnounceResponse{Interval: 10 * time.Second, Peers: []netip.AddrPort{ap("127.0.0.1:6881"), ap("[::1]:9")}}, nil},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nd8:in\r\nb\r\ntervali42ee\r\n0\r\n\r\n",
			&AnnounceResponse{Interval: 42 * time.Second}, nil},
		{"until EOF, trailing newline", "HTTP/1.0 200 OK\r\n\r\nd8:intervali7ee\n", &AnnounceResponse{Interval: 7 * time.Second}, nil},
		{"clamped", okHTTP("d8:completei-4e8:intervali99999999999e12:min intervali-1ee"),
			&AnnounceResponse{Interval: maxIntervalSeconds * time.Second}, nil},
		{"failure", okHTTP("d14:failure reason12:unregisterede"), nil, &FailureError{Reason: "unregistered"}},
		{"failure retry in", okHTTP("d14:failure reason1:x8:retry ini5ee"), nil, &FailureError{Reason: "x", RetryIn: 5 * time.Minute}},
		{"failure never", okHTTP("d14:failure reason1:x8:retry in5:nevere"), nil, &FailureError{Reason: "x", RetryIn: -1}},
		{"failure on 400", "HTTP/1.1 400 Bad Request\r\nContent-Length: 21\r\n\r\nd14:failure reason0:e", nil, &FailureError{}},
		{"redirect", "HTTP/1.1 302 Found\r\nLocation: http://b/announce?x\r\nContent-Length: 0\r\n\r\n", nil,
			&RedirectError{Code: 302, Location: "http://b/announce?x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseHTTPAnnounce([]byte(tt.raw))
			if !reflect.DeepEqual(err, tt.err) {
				t.Fatalf("got error %v, want %v", err, tt.err)
			}
			if tt.want != nil && len(tt.want.Peers) == 0 {
				tt.want.Peers = nil
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseHTTPAnnounceErrors(t *testing.T) {
	big := "HTTP/1.1 200 OK\r\n\r\n" + strings.Repeat("x", MaxBodySize+1)
	tests := []struct {
		name, raw string
		want      error
	}{
		{"not http", "garbage", ErrBadResponse},
		{"status 500", "HTTP/1.1 500 Oops\r\nContent-Length: 2\r\n\r\nhi", ErrBadResponse},
		{"not bencode", okHTTP("<html>"), ErrBadResponse},
		{"not a dict", okHTTP("i5e"), ErrBadResponse},
		{"wrong type", okHTTP("d8:interval3:abce"), ErrBadResponse},
		{"compact length", okHTTP("d5:peers5:abcdee"), ErrBadResponse},
		{"peers6 length", okHTTP("d6:peers66:abcdefe"), ErrBadResponse},
		{"peer list of ints", okHTTP("d5:peersli1eee"), ErrBadResponse},
		{"truncated chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n50\r\nd8:", ErrBadResponse},
		{"too large", big, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseHTTPAnnounce([]byte(tt.raw))
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestPeerCap(t *testing.T) {
	var compact []byte
	for i := range MaxPeers + 10 {
		compact = appendCompact(compact, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 1}), 1))
	}
	got, err := parseHTTPAnnounce([]byte(okHTTP("d5:peers" + itoa(len(compact)) + ":" + string(compact) + "e")))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Peers) != MaxPeers {
		t.Errorf("got %d peers, want %d", len(got.Peers), MaxPeers)
	}
}

func TestScrapeURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://t.example/announce", "http://t.example/scrape"},
		{"http://t.example/x/announce?pk=1", "http://t.example/x/scrape?pk=1"},
		{"http://t.example/announce.php", "http://t.example/scrape.php"},
		{"http://t.example/a?q=/announce", ""},
		{"http://t.example/x/announce/y", ""},
		{"http://t.example/annonce", ""},
		{"http://t.example", ""},
	}
	for _, tt := range tests {
		got, err := scrapeURL(tt.in)
		if tt.want == "" {
			if !errors.Is(err, ErrScrapeUnsupported) {
				t.Errorf("scrapeURL(%q) = %q, %v; want ErrScrapeUnsupported", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("scrapeURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	h1, h2 := [20]byte{1}, [20]byte{'a'}
	got := scrapeRequestURL("http://t/scrape?pk=1", [][20]byte{h1, h2})
	want := "http://t/scrape?pk=1&info_hash=%01" + strings.Repeat("%00", 19) + "&info_hash=a" + strings.Repeat("%00", 19)
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestParseHTTPScrape(t *testing.T) {
	h := strings.Repeat("h", 20)
	raw := okHTTP("d5:filesd" + "20:" + h + "d8:completei3e10:downloadedi9e10:incompletei4ee" +
		"3:bad" + "d8:completei1eee" + "e")
	got, err := parseHTTPScrape([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	want := map[[20]byte]ScrapeStats{[20]byte([]byte(h)): {Complete: 3, Downloaded: 9, Incomplete: 4}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	_, err = parseHTTPScrape([]byte(okHTTP("d14:failure reason2:noe")))
	if !reflect.DeepEqual(err, &FailureError{Reason: "no"}) {
		t.Errorf("got %v, want failure \"no\"", err)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestDechunk(t *testing.T) {
	tests := []struct{ in, want string }{
		{"5\r\nd8:in\r\nb\r\ntervali42ee\r\n0\r\n\r\n", "d8:intervali42ee"},
		{"3;name=v\nabc\n0\n", "abc"},
		{"0\r\n", ""},
	}
	for _, tt := range tests {
		got, err := dechunk([]byte(tt.in))
		if err != nil || string(got) != tt.want {
			t.Errorf("dechunk(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "5\r\nabc", "3\r\nabcX0\r\n", "zz\r\n", "3\r\nabc\r\n"} {
		if _, err := dechunk([]byte(in)); !errors.Is(err, ErrBadResponse) {
			t.Errorf("dechunk(%q): err %v, want ErrBadResponse", in, err)
		}
	}
}
