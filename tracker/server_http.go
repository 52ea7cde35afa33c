package tracker

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/anacrolix/torrent/bencode"
)

// The server's HTTP front end as a pure function: the bytes of a request
// in, the bytes of the response out. server.go reads and writes them.

// Bounds on a request the server will look at.
const (
	maxQueryParams  = 128
	maxHTTPRequest  = 8 << 10
	maxScrapeHashes = maxUDPScrapeHashes
)

// handleHTTP answers one raw HTTP request from remote.
func (st *serverState) handleHTTP(raw []byte, remote netip.AddrPort, now time.Time) []byte {
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil || req.Method != http.MethodGet {
		return httpReply(http.StatusBadRequest, []byte("bad request\n"))
	}
	q, err := parseQuery(req.URL.RawQuery)
	if err != nil {
		return failureReply(err.Error())
	}
	switch req.URL.Path {
	case "/announce":
		return st.httpAnnounce(q, remote, now)
	case "/scrape":
		return st.httpScrape(q)
	}
	return httpReply(http.StatusNotFound, []byte("not found\n"))
}

// httpAnnounce handles GET /announce.
func (st *serverState) httpAnnounce(q query, remote netip.AddrPort, now time.Time) []byte {
	req, compact, err := announceFromQuery(q)
	if err != nil {
		return failureReply(err.Error())
	}
	res, err := st.swarms.announce(req, netip.AddrPortFrom(remote.Addr(), req.Port), now)
	if err != nil {
		return failureReply(err.Error())
	}
	return httpReply(http.StatusOK, encodeAnnounceBody(res, st.swarms.interval, compact))
}

// announceFromQuery validates the announce parameters. The "ip" parameter
// is ignored on purpose: a peer is announced at the address it came from.
func announceFromQuery(q query) (req AnnounceRequest, compact bool, err error) {
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
	req.Left = 1 // a client that does not say is not a seeder
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

// httpAnnounceReply is the bencoded announce answer; field names sort as
// bencode requires.
type httpAnnounceReply struct {
	Complete    int           `bencode:"complete"`
	Incomplete  int           `bencode:"incomplete"`
	Interval    int64         `bencode:"interval"`
	MinInterval int64         `bencode:"min interval"`
	Peers       any           `bencode:"peers"`
	Peers6      bencode.Bytes `bencode:"peers6,omitempty"`
}

type httpDictPeer struct {
	IP     string `bencode:"ip"`
	PeerID string `bencode:"peer id"`
	Port   uint16 `bencode:"port"`
}

// encodeAnnounceBody writes compact peers (IPv4 in "peers", IPv6 in
// "peers6") or, when the client asked for compact=0, a dictionary list.
func encodeAnnounceBody(res announceResult, interval time.Duration, compact bool) []byte {
	r := httpAnnounceReply{
		Complete:    res.complete,
		Incomplete:  res.incomplete,
		Interval:    int64(interval / time.Second),
		MinInterval: int64(interval / 2 / time.Second),
	}
	if compact {
		var v4, v6 []byte
		for _, p := range res.peers {
			if p.addr.Addr().Is4() {
				v4 = appendCompact(v4, p.addr)
			} else {
				v6 = appendCompact(v6, p.addr)
			}
		}
		r.Peers = v4
		if len(v6) > 0 {
			r.Peers6 = bencode.MustMarshal(v6)
		}
	} else {
		list := make([]httpDictPeer, 0, len(res.peers))
		for _, p := range res.peers {
			list = append(list, httpDictPeer{IP: p.addr.Addr().String(), PeerID: string(p.id[:]), Port: p.addr.Port()})
		}
		r.Peers = list
	}
	return bencode.MustMarshal(r)
}

// httpScrape handles GET /scrape?info_hash=...; a full scrape (no
// info_hash) is refused, as it would hand out the whole tracker.
func (st *serverState) httpScrape(q query) []byte {
	hashes := q.all("info_hash")
	if len(hashes) == 0 || len(hashes) > maxScrapeHashes {
		return failureReply("invalid info_hash")
	}
	files := make(map[string]scrapeFile, len(hashes))
	for _, h := range hashes {
		if len(h) != 20 {
			return failureReply("invalid info_hash")
		}
		s := st.swarms.scrape([20]byte([]byte(h)))
		files[h] = scrapeFile{Complete: int64(s.Complete), Downloaded: int64(s.Downloaded), Incomplete: int64(s.Incomplete)}
	}
	return httpReply(http.StatusOK, bencode.MustMarshal(map[string]any{"files": files}))
}

// failureReply is a BEP 3 failure: status 200 with a "failure reason", as
// clients expect it.
func failureReply(reason string) []byte {
	return httpReply(http.StatusOK, bencode.MustMarshal(map[string]string{"failure reason": reason}))
}

// httpReply frames body as a complete HTTP/1.1 response.
func httpReply(code int, body []byte) []byte {
	head := fmt.Sprintf("HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
		code, http.StatusText(code), len(body))
	return append([]byte(head), body...)
}

// query is a parsed query string whose values are raw bytes.
type query map[string][]string

func (q query) get(k string) string { s, _ := q.one(k); return s }

func (q query) one(k string) (string, bool) {
	if v := q[k]; len(v) > 0 {
		return v[0], true
	}
	return "", false
}

func (q query) all(k string) []string { return q[k] }

// parseQuery splits a raw query string by hand. url.ParseQuery would turn
// "+" into a space and reject the whole query over one bad escape; here
// values are bytes (an info_hash is 20 raw bytes, percent-encoded), "+" is
// kept literally, and a bad escape is an error that names the parameter.
func parseQuery(raw string) (query, error) {
	q := make(query)
	for n := 0; raw != ""; n++ {
		if n >= maxQueryParams {
			return nil, fmt.Errorf("too many parameters")
		}
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		key, err := unescapeBytes(k)
		if err != nil {
			return nil, fmt.Errorf("invalid parameter name")
		}
		val, err := unescapeBytes(v)
		if err != nil {
			return nil, fmt.Errorf("invalid %s", key)
		}
		q[key] = append(q[key], val)
	}
	return q, nil
}

// unescapeBytes decodes %XX escapes into raw bytes.
func unescapeBytes(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			out = append(out, s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", fmt.Errorf("truncated escape")
		}
		hi, ok1 := unhex(s[i+1])
		lo, ok2 := unhex(s[i+2])
		if !ok1 || !ok2 {
			return "", fmt.Errorf("bad escape %q", s[i:i+3])
		}
		out = append(out, hi<<4|lo)
		i += 2
	}
	return string(out), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
