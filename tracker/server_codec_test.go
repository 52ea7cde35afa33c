package tracker

import (
	"bytes"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func newTestServerState() *serverState {
	return newServerState(newTestSwarms(0, 0))
}

func getReq(target string) []byte {
	return []byte("GET " + target + " HTTP/1.1\r\nHost: t\r\n\r\n")
}

var (
	ihA   = strings.Repeat("%AA", 20)
	pidA  = strings.Repeat("a", 20)
	pidB  = strings.Repeat("b", 20)
	rawIH = strings.Repeat("\xaa", 20)
)

func TestServerHTTP(t *testing.T) {
	st := newTestServerState()
	now := time.Unix(1000, 0)
	a, b := ap("127.0.0.1:40000"), ap("[::1]:40001")
	steps := []struct {
		name   string
		target string
		from   netip.AddrPort
		want   string // bencoded body
	}{
		{"a starts", "/announce?info_hash=" + ihA + "&peer_id=" + pidA + "&port=6881&left=0&event=started", a,
			"d8:completei1e10:incompletei0e8:intervali10e12:min intervali5e5:peers0:e"},
		{"b (v6) gets a compact", "/announce?info_hash=" + ihA + "&peer_id=" + pidB + "&port=6882&left=5", b,
			"d8:completei1e10:incompletei1e8:intervali10e12:min intervali5e5:peers6:\x7f\x00\x00\x01\x1a\xe1e"},
		{"a gets b in peers6", "/announce?info_hash=" + ihA + "&peer_id=" + pidA + "&port=6881&left=0", a,
			"d8:completei1e10:incompletei1e8:intervali10e12:min intervali5e5:peers0:6:peers618:" +
				strings.Repeat("\x00", 15) + "\x01\x1a\xe2e"},
		{"dictionary form", "/announce?info_hash=" + ihA + "&peer_id=" + pidB + "&port=6882&left=5&compact=0", b,
			"d8:completei1e10:incompletei1e8:intervali10e12:min intervali5e5:peersld2:ip9:127.0.0.14:porti6881eeee"},
		{"scrape", "/scrape?info_hash=" + ihA + "&info_hash=" + strings.Repeat("b", 20), a,
			"d5:filesd20:" + strings.Repeat("b", 20) + "d8:completei0e10:downloadedi0e10:incompletei0ee20:" + rawIH +
				"d8:completei1e10:downloadedi0e10:incompletei1eeee"},
		{"b stops", "/announce?info_hash=" + ihA + "&peer_id=" + pidB + "&port=6882&left=5&event=stopped", b,
			"d8:completei1e10:incompletei0e8:intervali10e12:min intervali5e5:peers0:e"},
	}
	for _, s := range steps {
		got := st.handleHTTP(getReq(s.target), s.from, now)
		if want := httpReply(200, []byte(s.want)); !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", s.name, got, want)
		}
	}
}

func TestServerHTTPRejects(t *testing.T) {
	st := newTestServerState()
	from := ap("127.0.0.1:1")
	base := "/announce?peer_id=" + pidA
	failures := []struct{ target, reason string }{
		{base + "&port=1", "invalid info_hash"},
		{base + "&port=1&info_hash=abc", "invalid info_hash"},
		{base + "&port=1&info_hash=" + ihA + "%AA", "invalid info_hash"},
		{base + "&info_hash=" + ihA, "invalid port"},
		{base + "&info_hash=" + ihA + "&port=0", "invalid port"},
		{base + "&info_hash=" + ihA + "&port=65536", "invalid port"},
		{base + "&info_hash=" + ihA + "&port=x", "invalid port"},
		{base + "&info_hash=" + ihA + "&port=1&left=-1", "invalid left"},
		{base + "&info_hash=" + ihA + "&port=1&numwant=x", "invalid numwant"},
		{"/announce?info_hash=" + ihA + "&port=1&peer_id=short", "invalid peer_id"},
		{"/announce?info_hash=%GG", "invalid info_hash"},
		{"/announce?" + strings.Repeat("a=1&", maxQueryParams+1), "too many parameters"},
		{"/scrape", "invalid info_hash"},
		{"/scrape?info_hash=short", "invalid info_hash"},
	}
	for _, f := range failures {
		got := st.handleHTTP(getReq(f.target), from, time.Unix(0, 0))
		if want := failureReply(f.reason); !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", f.target, got, want)
		}
	}
	others := []struct {
		raw  string
		code int
	}{
		{"garbage\r\n\r\n", 400},
		{"POST /announce HTTP/1.1\r\nHost: t\r\n\r\n", 400},
		{"GET /other HTTP/1.1\r\nHost: t\r\n\r\n", 404},
	}
	for _, o := range others {
		got := string(st.handleHTTP([]byte(o.raw), from, time.Unix(0, 0)))
		if want := "HTTP/1.1 " + itoa(o.code); !strings.HasPrefix(got, want) {
			t.Errorf("%q: got %q, want status %d", o.raw, got, o.code)
		}
	}
}

// TestServerHTTPClientCodec checks our client codec reads what our server
// writes, for both peer encodings.
func TestServerHTTPClientCodec(t *testing.T) {
	st := newTestServerState()
	now := time.Unix(0, 0)
	st.handleHTTP(getReq("/announce?info_hash="+ihA+"&port=1"), ap("[2001:db8::1]:9"), now)
	st.handleHTTP(getReq("/announce?info_hash="+ihA+"&port=2"), ap("10.0.0.1:9"), now)
	for _, compact := range []string{"1", "0"} {
		raw := st.handleHTTP(getReq("/announce?info_hash="+ihA+"&port=3&compact="+compact), ap("10.0.0.9:9"), now)
		got, err := parseHTTPAnnounce(raw)
		if err != nil {
			t.Fatal(err)
		}
		want := []netip.AddrPort{ap("10.0.0.1:2"), ap("[2001:db8::1]:1")}
		if peers := sortedAddrs(got.Peers); !reflect.DeepEqual(peers, want) || got.Interval != 10*time.Second {
			t.Errorf("compact=%s: got %v interval %v, want %v interval 10s", compact, peers, got.Interval, want)
		}
	}
}

func sortedAddrs(in []netip.AddrPort) []netip.AddrPort {
	out := slices.Clone(in)
	slices.SortFunc(out, func(a, b netip.AddrPort) int { return a.Compare(b) })
	return out
}

func TestParseQuery(t *testing.T) {
	got, err := parseQuery("a=1&&b=%41+%2b&a=2&c&=x")
	want := query{"a": {"1", "2"}, "b": {"A++"}, "c": {""}, "": {"x"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, %v; want %v", got, err, want)
	}
	for _, bad := range []string{"a=%", "a=%4", "a=%zz", "%=1"} {
		if _, err := parseQuery(bad); err == nil {
			t.Errorf("parseQuery(%q): got nil error, want one", bad)
		}
	}
}

func TestServerUDP(t *testing.T) {
	st := newServerState(newSwarms(time.Hour, 0, 0, nil))
	now := time.Unix(6000, 0)
	a, b := ap("127.0.0.1:5000"), ap("127.0.0.2:5000")
	connect := func(from netip.AddrPort) uint64 {
		r, err := parseUDPReply(st.handleUDP(appendConnectRequest(nil, 77), from, now), false)
		if err != nil || r.action != actionConnect || r.tid != 77 {
			t.Fatalf("connect: got %+v, %v", r, err)
		}
		return r.connID
	}
	ida, idb := connect(a), connect(b)
	if ida == idb {
		t.Errorf("two addresses got the same connection id %x", ida)
	}
	if id := connect(ap("127.0.0.1:5999")); id != ida {
		t.Errorf("another port of the same IP: got id %x, want %x (ids are per IP)", id, ida)
	}
	req := testRequest()
	st.handleUDP(appendAnnounceRequest(nil, ida, 1, req), a, now)
	req.PeerID[0] = 'B'
	got := st.handleUDP(appendAnnounceRequest(nil, idb, 2, req), b, now.Add(time.Minute))
	want := appendAnnounceReply(nil, 2, time.Hour, 2, 0, []netip.AddrPort{ap("127.0.0.1:6881")}, false)
	if !bytes.Equal(got, want) {
		t.Errorf("announce: got %x, want %x", got, want)
	}
	got = st.handleUDP(appendScrapeRequest(nil, ida, 3, [][20]byte{req.InfoHash, {}}), a, now)
	if want := appendScrapeReply(nil, 3, []ScrapeStats{{Incomplete: 2}, {}}); !bytes.Equal(got, want) {
		t.Errorf("scrape: got %x, want %x", got, want)
	}
	req.Port = 0
	got = st.handleUDP(appendAnnounceRequest(nil, ida, 4, req), a, now)
	if want := appendErrorReply(nil, 4, "invalid port"); !bytes.Equal(got, want) {
		t.Errorf("port 0: got %x, want %x", got, want)
	}

	dropped := []struct {
		name string
		pkt  []byte
		from netip.AddrPort
		at   time.Time
	}{
		{"garbage", []byte("hello"), a, now},
		{"unknown connection id", appendAnnounceRequest(nil, 12345, 5, req), a, now},
		{"another address's id", appendAnnounceRequest(nil, idb, 5, req), a, now},
		{"id too old", appendAnnounceRequest(nil, ida, 5, req), a, now.Add(2 * time.Minute)},
		{"scrape with unknown id", appendScrapeRequest(nil, 1, 5, [][20]byte{{}}), a, now},
	}
	for _, d := range dropped {
		if got := st.handleUDP(d.pkt, d.from, d.at); got != nil {
			t.Errorf("%s: got reply %x, want dropped", d.name, got)
		}
	}
}

func TestServerUDPv6(t *testing.T) {
	st := newTestServerState()
	now := time.Unix(0, 0)
	v4, v6 := ap("10.0.0.1:1"), ap("[2001:db8::2]:2")
	for _, from := range []netip.AddrPort{v4, v6, ap("[2001:db8::3]:3")} {
		r, _ := parseUDPReply(st.handleUDP(appendConnectRequest(nil, 1), from, now), false)
		req := testRequest()
		req.Port = from.Port()
		raw := st.handleUDP(appendAnnounceRequest(nil, r.connID, 2, req), from, now)
		got, err := parseUDPReply(raw, from.Addr().Is6())
		if err != nil {
			t.Fatalf("%v: %v", from, err)
		}
		if from == ap("[2001:db8::3]:3") && !reflect.DeepEqual(got.announce.Peers, []netip.AddrPort{v6}) {
			t.Errorf("v6 requester: got %v, want only the v6 peer %v", got.announce.Peers, v6)
		}
	}
}
