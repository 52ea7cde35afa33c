package tracker

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"testing"
	"time"
)

// The fuzz targets feed hostile bytes to every decoder. Beyond "never
// panic", each checks the caps hold and that what decodes re-encodes.

func FuzzHTTPResponse(f *testing.F) {
	f.Add([]byte(okHTTP("d8:intervali1800e5:peers6:\x7f\x00\x00\x01\x1a\xe1e")))
	f.Add([]byte(okHTTP("d14:failure reason3:bad8:retry in5:nevere")))
	f.Add([]byte(okHTTP("d5:peersld2:ip3:::14:porti1eee6:peers618:" + string(make([]byte, 18)) + "e")))
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nd8:in\r\nb\r\ntervali42ee\r\n0\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 301 Moved\r\nLocation: /x\r\n\r\n"))
	f.Add([]byte(okHTTP("d5:filesd20:aaaaaaaaaaaaaaaaaaaad8:completei1eeee")))
	f.Fuzz(func(t *testing.T, raw []byte) {
		resp, err := parseHTTPAnnounce(raw)
		if err == nil {
			checkPeers(t, resp.Peers)
			if resp.Interval < 0 || resp.Complete < 0 || resp.Incomplete < 0 {
				t.Fatalf("negative values in %+v", resp)
			}
		}
		if files, err := parseHTTPScrape(raw); err == nil && len(files) > maxScrapeFiles {
			t.Fatalf("got %d scrape entries, cap %d", len(files), maxScrapeFiles)
		}
	})
}

func checkPeers(t *testing.T, peers []netip.AddrPort) {
	t.Helper()
	if len(peers) > MaxPeers {
		t.Fatalf("got %d peers, cap %d", len(peers), MaxPeers)
	}
	for _, p := range peers {
		if !usablePeer(p) || p.Addr().Is4In6() {
			t.Fatalf("unusable peer %v passed the filter", p)
		}
	}
}

func FuzzUDPClientPacket(f *testing.F) {
	f.Add(appendConnectReply(nil, 1, 2), false)
	f.Add(appendAnnounceReply(nil, 1, time.Minute, 1, 2, []netip.AddrPort{ap("1.2.3.4:5")}, false), false)
	f.Add(appendAnnounceReply(nil, 1, time.Minute, 1, 2, []netip.AddrPort{ap("[::1]:5")}, true), true)
	f.Add(appendScrapeReply(nil, 1, []ScrapeStats{{1, 2, 3}}), false)
	f.Add(appendErrorReply(nil, 1, "denied"), false)
	f.Fuzz(func(t *testing.T, pkt []byte, v6 bool) {
		r, err := parseUDPReply(pkt, v6)
		if err != nil {
			return
		}
		switch r.action {
		case actionAnnounce:
			checkPeers(t, r.announce.Peers)
		case actionScrape:
			if len(r.scrape) > maxUDPScrapeHashes {
				t.Fatalf("got %d scrape entries", len(r.scrape))
			}
		case actionConnect:
			if got := appendConnectReply(nil, r.tid, r.connID); !bytes.Equal(got, pkt[:connectReplyLen]) {
				t.Fatalf("connect reply re-encodes as %x, want %x", got, pkt[:connectReplyLen])
			}
		}
		// The state machine must survive the same bytes in any state.
		var conn udpConnID
		x := newTestExchange(&conn)
		x.start(time.Unix(0, 0))
		x.receive(pkt, time.Unix(0, 0))
		x.receive(pkt, time.Unix(0, 0))
	})
}

func FuzzUDPServerPacket(f *testing.F) {
	st := newTestServerState()
	now := time.Unix(600, 0)
	from := ap("127.0.0.1:1")
	id := st.connID(from, now.Unix()/60)
	f.Add(appendConnectRequest(nil, 1))
	f.Add(appendAnnounceRequest(nil, id, 1, testRequest()))
	f.Add(appendScrapeRequest(nil, id, 1, [][20]byte{{1}}))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, pkt []byte) {
		r, err := parseUDPRequest(pkt)
		if err == nil && r.action == actionAnnounce {
			if got := appendAnnounceRequest(nil, r.connID, r.tid, r.announce); len(got) != announceReqLen {
				t.Fatalf("re-encoded announce is %d bytes", len(got))
			}
		}
		reply := st.handleUDP(pkt, from, now)
		if len(reply) > udpHeaderLen+MaxNumWant*compactV6Len+12 {
			t.Fatalf("reply of %d bytes", len(reply))
		}
		if err != nil && reply != nil {
			t.Fatalf("garbage %x got a reply %x", pkt, reply)
		}
	})
}

// FuzzAnnounceQuery checks the server's one-pass announce parser against
// the reference below (the general parseQuery, then strconv) on any
// query: same request or same error.
func FuzzAnnounceQuery(f *testing.F) {
	st := newTestServerState()
	f.Add("info_hash=" + ihA + "&peer_id=" + pidA + "&port=6881&left=0&event=started")
	f.Add("info_hash=" + ihA + "&port=1&compact=0&numwant=-5")
	f.Add("info_hash=%zz&&=&port=99999")
	f.Add("info_hash=" + ihA + "&port=%2B1&left=-0&numwant=2147483648&uploaded=+9223372036854775807")
	f.Add("%69nfo_hash=" + ihA + "&port=00065535&event=%73topped&compact=%30&port=2")
	f.Add("info_hash=" + ihA + "&port=1&peer_id=" + pidA + "&info_hash=x&downloaded=-9223372036854775808")
	f.Fuzz(func(t *testing.T, rawQuery string) {
		want, wantCompact, wantErr := referenceAnnounceQuery(rawQuery)
		got, gotCompact, gotErr := parseAnnounceQuery([]byte(rawQuery))
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Fatalf("%q: got error %v, want %v", rawQuery, gotErr, wantErr)
		}
		if wantErr == nil && (got != want || gotCompact != wantCompact) {
			t.Fatalf("%q: got %+v compact %v, want %+v compact %v", rawQuery, got, gotCompact, want, wantCompact)
		}
		if gotErr == nil && got.Port == 0 {
			t.Fatalf("accepted port 0 from %q", rawQuery)
		}
		reply := st.handleHTTP([]byte("GET /announce?"+rawQuery+" HTTP/1.1\r\n\r\n"), ap("127.0.0.1:1"), time.Unix(0, 0))
		if !bytes.HasPrefix(reply, []byte("HTTP/1.1 ")) {
			t.Fatalf("reply %q is not HTTP", reply)
		}
	})
}

// referenceAnnounceQuery is the straightforward announce parser that
// parseAnnounceQuery replaced on the hot path.
func referenceAnnounceQuery(raw string) (req AnnounceRequest, compact bool, err error) {
	q, err := parseQuery(raw)
	if err != nil {
		return req, false, err
	}
	ih, ok := q.one("info_hash")
	if !ok || len(ih) != 20 {
		return req, false, fmt.Errorf("invalid info_hash")
	}
	req.InfoHash = [20]byte([]byte(ih))
	if id, ok := q.one("peer_id"); ok {
		if len(id) != 20 {
			return req, false, fmt.Errorf("invalid peer_id")
		}
		req.PeerID = [20]byte([]byte(id))
	}
	port, err := strconv.ParseUint(q.get("port"), 10, 16)
	if err != nil || port == 0 {
		return req, false, fmt.Errorf("invalid port")
	}
	req.Port = uint16(port)
	req.Left = 1
	for _, f := range []struct {
		name string
		dst  *int64
	}{{"uploaded", &req.Uploaded}, {"downloaded", &req.Downloaded}, {"left", &req.Left}} {
		if s, ok := q.one(f.name); ok {
			if *f.dst, err = strconv.ParseInt(s, 10, 64); err != nil || *f.dst < 0 {
				return req, false, fmt.Errorf("invalid %s", f.name)
			}
		}
	}
	if s, ok := q.one("numwant"); ok {
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return req, false, fmt.Errorf("invalid numwant")
		}
		req.NumWant = int32(n)
	}
	req.Event = parseEvent(q.get("event"))
	return req, q.get("compact") != "0", nil
}

// FuzzHTTPRequest feeds whole requests to the server's HTTP front end:
// every input gets an HTTP answer, and an announce answer parses with our
// client codec and never exceeds MaxNumWant peers.
func FuzzHTTPRequest(f *testing.F) {
	st := newTestServerState()
	for _, p := range benchPeers(20) {
		st.swarms.announce(AnnounceRequest{InfoHash: [20]byte([]byte(rawIH)), Port: p.Port()}, p, time.Unix(0, 0))
	}
	f.Add([]byte("GET /announce?info_hash=" + ihA + "&port=1&numwant=5 HTTP/1.1\r\nHost: t\r\n\r\n"))
	f.Add([]byte("GET /announce?info_hash=" + ihA + "&port=1&compact=0 HTTP/1.0\n\n"))
	f.Add([]byte("GET /scrape?info_hash=" + ihA + " HTTP/1.1\r\n\r\n"))
	f.Add([]byte("GET  HTTP/1.1\r\n\r\n"))
	f.Add([]byte("POST /announce HTTP/1.1\r\n\r\n"))
	var out []byte
	f.Fuzz(func(t *testing.T, raw []byte) {
		out = st.appendHTTP(out[:0], raw, ap("10.9.9.9:1"), time.Unix(0, 0))
		if !bytes.HasPrefix(out, []byte("HTTP/1.1 ")) {
			t.Fatalf("reply %q is not HTTP", out)
		}
		if _, q, ok := parseRequestLine(raw); ok && bytes.HasPrefix(raw, []byte("GET /announce?")) && bytes.HasPrefix(out, []byte("HTTP/1.1 200 ")) {
			resp, err := parseHTTPAnnounce(out)
			if err == nil && len(resp.Peers) > MaxNumWant {
				t.Fatalf("%d peers for %q", len(resp.Peers), q)
			}
		}
	})
}

// FuzzDechunk holds the in-place chunked decoder to its framing: what it
// returns is never longer than its input and matches a plain re-read of
// the chunks.
func FuzzDechunk(f *testing.F) {
	f.Add([]byte("5\r\nd8:in\r\nb\r\ntervali42ee\r\n0\r\n\r\n"))
	f.Add([]byte("3;ext=1\nabc\n0\n"))
	f.Add([]byte("ffffffffffffffff\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		orig := bytes.Clone(in)
		got, err := dechunk(in)
		if err != nil {
			return
		}
		if len(got) > len(orig) {
			t.Fatalf("decoded %d bytes from %d", len(got), len(orig))
		}
		if want := refDechunk(orig); !bytes.Equal(got, want) {
			t.Fatalf("dechunk(%q) = %q, want %q", orig, got, want)
		}
	})
}

// refDechunk decodes a chunked body already known to be well framed,
// copying rather than moving.
func refDechunk(b []byte) []byte {
	var out []byte
	for {
		line, rest, _ := bytes.Cut(b, []byte("\n"))
		line, _, _ = bytes.Cut(bytes.TrimSuffix(line, []byte("\r")), []byte(";"))
		n, _ := strconv.ParseInt(string(bytes.TrimRight(line, " \t")), 16, 64)
		if n == 0 {
			return out
		}
		out = append(out, rest[:n]...)
		b = bytes.TrimPrefix(bytes.TrimPrefix(rest[n:], []byte("\r")), []byte("\n"))
	}
}

// FuzzAnnounceScan holds the in-place announce scanner to the reflection
// decoder: whatever the scanner accepts, the decoder reads the same way.
func FuzzAnnounceScan(f *testing.F) {
	f.Add([]byte("d8:intervali1800e5:peers6:\x7f\x00\x00\x01\x1a\xe1e"))
	f.Add([]byte("d14:failure reason3:bad8:retry in5:nevere"))
	f.Add([]byte("d8:completei-3e10:tracker id2:ab15:warning message1:w12:min intervali05ee\n"))
	f.Add([]byte("d5:peers0:6:peers618:" + string(make([]byte, 18)) + "e"))
	f.Fuzz(func(t *testing.T, body []byte) {
		var fast httpAnnounceBody
		if !scanAnnounce(body, &fast) {
			return
		}
		var slow httpAnnounceBody
		if err := decodeBencode(body, &slow); err != nil {
			t.Fatalf("scanner took %q, the decoder did not: %v", body, err)
		}
		if !sameAnnounceBody(fast, slow) {
			t.Fatalf("%q: scanner %+v, decoder %+v", body, fast, slow)
		}
	})
}

func sameAnnounceBody(a, b httpAnnounceBody) bool {
	if (a.FailureReason == nil) != (b.FailureReason == nil) ||
		(a.FailureReason != nil && *a.FailureReason != *b.FailureReason) {
		return false
	}
	return bytes.Equal(a.RetryIn, b.RetryIn) && bytes.Equal(a.Peers, b.Peers) &&
		bytes.Equal(a.Peers6, b.Peers6) && a.Warning == b.Warning &&
		a.Interval == b.Interval && a.MinInterval == b.MinInterval &&
		a.Complete == b.Complete && a.Incomplete == b.Incomplete && a.TrackerID == b.TrackerID
}
