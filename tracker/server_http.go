package tracker

import (
	"bytes"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/anacrolix/torrent/bencode"
)

// The server's HTTP front end as a pure function: the bytes of a request
// in, the bytes of the response appended to a buffer the caller owns.
// server.go reads and writes them.

// Bounds on a request the server will look at.
const (
	maxQueryParams  = 128
	maxHTTPRequest  = 8 << 10
	maxScrapeHashes = maxUDPScrapeHashes
)

// handleHTTP answers one raw HTTP request from remote.
func (st *serverState) handleHTTP(raw []byte, remote netip.AddrPort, now time.Time) []byte {
	return st.appendHTTP(nil, raw, remote, now)
}

// appendHTTP appends the answer to one raw HTTP request from remote to dst.
// Only the request line is read: a tracker needs no header.
func (st *serverState) appendHTTP(dst, raw []byte, remote netip.AddrPort, now time.Time) []byte {
	path, rawQuery, ok := parseRequestLine(raw)
	if !ok {
		return appendReply(dst, http.StatusBadRequest, []byte("bad request\n"))
	}
	switch string(path) {
	case "/announce":
		return st.httpAnnounce(dst, rawQuery, remote, now)
	case "/scrape":
		q, err := parseQuery(string(rawQuery))
		if err != nil {
			return appendFailure(dst, err.Error())
		}
		return st.httpScrape(dst, q)
	}
	return appendReply(dst, http.StatusNotFound, []byte("not found\n"))
}

// parseRequestLine splits "GET /path?query HTTP/1.x" (the first line of
// raw); ok is false for anything else, including another method.
func parseRequestLine(raw []byte) (path, rawQuery []byte, ok bool) {
	line, _, found := bytes.Cut(raw, []byte("\n"))
	if !found {
		return nil, nil, false
	}
	line = bytes.TrimSuffix(line, []byte("\r"))
	rest, ok := bytes.CutPrefix(line, []byte("GET "))
	if !ok {
		return nil, nil, false
	}
	target, proto, ok := bytes.Cut(rest, []byte(" "))
	if !ok || len(proto) != len("HTTP/1.1") || !bytes.HasPrefix(proto, []byte("HTTP/1.")) || len(target) == 0 || target[0] != '/' {
		return nil, nil, false
	}
	path, rawQuery, _ = bytes.Cut(target, []byte("?"))
	return path, rawQuery, true
}

// httpAnnounce handles GET /announce.
func (st *serverState) httpAnnounce(dst, rawQuery []byte, remote netip.AddrPort, now time.Time) []byte {
	req, compact, err := parseAnnounceQuery(rawQuery)
	if err != nil {
		return appendFailure(dst, err.Error())
	}
	res := st.swarms.announceFamily(req, netip.AddrPortFrom(remote.Addr(), req.Port), now, 0)
	st.body = appendAnnounceBody(st.body[:0], res, st.swarms.interval, compact)
	return appendReply(dst, http.StatusOK, st.body)
}

// appendAnnounceBody writes compact peers (IPv4 in "peers", IPv6 in
// "peers6") or, when the client asked for compact=0, a dictionary list
// without peer ids (the tracker does not keep them; BEP 23 trackers send
// none either). Keys are in the sorted order bencode requires.
func appendAnnounceBody(dst []byte, res announceResult, interval time.Duration, compact bool) []byte {
	secs := int64(interval / time.Second)
	dst = append(dst, "d8:completei"...)
	dst = strconv.AppendInt(dst, int64(res.complete), 10)
	dst = append(dst, "e10:incompletei"...)
	dst = strconv.AppendInt(dst, int64(res.incomplete), 10)
	dst = append(dst, "e8:intervali"...)
	dst = strconv.AppendInt(dst, secs, 10)
	dst = append(dst, "e12:min intervali"...)
	dst = strconv.AppendInt(dst, secs/2, 10)
	dst = append(dst, "e5:peers"...)
	if !compact {
		dst = append(dst, 'l')
		for i := range res.peers {
			p := &res.peers[i]
			ip := p.addrPort().Addr().String()
			dst = append(dst, "d2:ip"...)
			dst = strconv.AppendInt(dst, int64(len(ip)), 10)
			dst = append(dst, ':')
			dst = append(dst, ip...)
			dst = append(dst, "4:porti"...)
			dst = strconv.AppendInt(dst, int64(p.port), 10)
			dst = append(dst, "ee"...)
		}
		return append(dst, "ee"...)
	}
	var n4, n6 int
	for i := range res.peers {
		if res.peers[i].is6() {
			n6++
		} else {
			n4++
		}
	}
	dst = appendCompactList(dst, res.peers, n4, false)
	if n6 > 0 {
		dst = append(dst, "6:peers6"...)
		dst = appendCompactList(dst, res.peers, n6, true)
	}
	return append(dst, 'e')
}

// appendCompactList writes the n peers of one family as a bencoded string.
func appendCompactList(dst []byte, peers []peerRec, n int, six bool) []byte {
	size := compactV4Len
	if six {
		size = compactV6Len
	}
	dst = strconv.AppendInt(dst, int64(n*size), 10)
	dst = append(dst, ':')
	for i := range peers {
		if peers[i].is6() == six {
			dst = appendCompactRec(dst, &peers[i])
		}
	}
	return dst
}

// httpScrape handles GET /scrape?info_hash=...; a full scrape (no
// info_hash) is refused, as it would hand out the whole tracker.
func (st *serverState) httpScrape(dst []byte, q query) []byte {
	hashes := q.all("info_hash")
	if len(hashes) == 0 || len(hashes) > maxScrapeHashes {
		return appendFailure(dst, "invalid info_hash")
	}
	files := make(map[string]scrapeFile, len(hashes))
	for _, h := range hashes {
		if len(h) != 20 {
			return appendFailure(dst, "invalid info_hash")
		}
		s := st.swarms.scrape([20]byte([]byte(h)))
		files[h] = scrapeFile{Complete: int64(s.Complete), Downloaded: int64(s.Downloaded), Incomplete: int64(s.Incomplete)}
	}
	return appendReply(dst, http.StatusOK, bencode.MustMarshal(map[string]any{"files": files}))
}

// failureReply is a BEP 3 failure: status 200 with a "failure reason", as
// clients expect it.
func failureReply(reason string) []byte { return appendFailure(nil, reason) }

func appendFailure(dst []byte, reason string) []byte {
	return appendReply(dst, http.StatusOK, bencode.MustMarshal(map[string]string{"failure reason": reason}))
}

// httpReply frames body as a complete HTTP/1.1 response.
func httpReply(code int, body []byte) []byte { return appendReply(nil, code, body) }

func appendReply(dst []byte, code int, body []byte) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(code), 10)
	dst = append(dst, ' ')
	dst = append(dst, http.StatusText(code)...)
	dst = append(dst, "\r\nContent-Type: text/plain\r\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(body)), 10)
	dst = append(dst, "\r\nConnection: close\r\n\r\n"...)
	return append(dst, body...)
}
