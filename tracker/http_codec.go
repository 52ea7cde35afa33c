package tracker

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/anacrolix/torrent/bencode"
)

// The HTTP tracker protocol (BEP 3, BEP 23 compact peers, BEP 7 peers6,
// BEP 48 scrape): building the GET request and reading the bencoded answer.
// No I/O here: http_client.go moves the bytes.

// announceURL appends the announce parameters to the tracker's URL. A query
// already in the URL (a passkey, say) is kept as it is.
func announceURL(base string, req AnnounceRequest) (string, error) {
	if err := checkHTTPURL(base); err != nil {
		return "", err
	}
	return string(appendAnnounceURL(nil, base, req)), nil
}

// appendAnnounceURL is announceURL for a base already checked (by New):
// one allocation per announce where fmt took a dozen.
func appendAnnounceURL(b []byte, base string, req AnnounceRequest) []byte {
	b = appendQuerySep(b, base)
	b = append(b, "info_hash="...)
	b = appendEscaped(b, req.InfoHash[:])
	b = append(b, "&peer_id="...)
	b = appendEscaped(b, req.PeerID[:])
	b = append(b, "&port="...)
	b = strconv.AppendUint(b, uint64(req.Port), 10)
	b = append(b, "&uploaded="...)
	b = strconv.AppendInt(b, max(req.Uploaded, 0), 10)
	b = append(b, "&downloaded="...)
	b = strconv.AppendInt(b, max(req.Downloaded, 0), 10)
	b = append(b, "&left="...)
	b = strconv.AppendInt(b, max(req.Left, 0), 10)
	b = append(b, "&compact=1"...)
	if req.Event != EventNone {
		b = append(b, "&event="...)
		b = append(b, req.Event.String()...)
	}
	if req.NumWant > 0 {
		b = append(b, "&numwant="...)
		b = strconv.AppendInt(b, int64(req.NumWant), 10)
	}
	if req.Key != 0 {
		b = append(b, "&key="...)
		b = appendHex8(b, uint32(req.Key))
	}
	if req.TrackerID != "" {
		b = append(b, "&trackerid="...)
		b = appendEscaped(b, []byte(req.TrackerID))
	}
	switch req.Crypto {
	case CryptoSupport:
		b = append(b, "&supportcrypto=1"...)
	case CryptoRequire:
		b = append(b, "&supportcrypto=1&requirecrypto=1"...)
	}
	return b
}

// appendHex8 writes v as %08x does.
func appendHex8(b []byte, v uint32) []byte {
	const hex = "0123456789abcdef"
	for shift := 28; shift >= 0; shift -= 4 {
		b = append(b, hex[v>>shift&15])
	}
	return b
}

// checkHTTPURL accepts absolute http and https URLs with a host.
func checkHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("tracker URL %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%w: %q", ErrUnsupportedScheme, raw)
	}
	if u.Host == "" {
		return fmt.Errorf("tracker URL %q: no host", raw)
	}
	return nil
}

// withQuerySep drops any fragment and ends the URL so that parameters can
// follow: with "?" when it has no query yet, "&" when it has one.
func withQuerySep(base string) string { return string(appendQuerySep(nil, base)) }

func appendQuerySep(b []byte, base string) []byte {
	if i := strings.IndexByte(base, '#'); i >= 0 {
		base = base[:i]
	}
	b = append(b, base...)
	switch {
	case !strings.Contains(base, "?"):
		return append(b, '?')
	case strings.HasSuffix(base, "?"), strings.HasSuffix(base, "&"):
		return b
	}
	return append(b, '&')
}

// escapeBytes percent-encodes every byte except RFC 3986's unreserved
// characters. info_hash and peer_id are raw bytes, not text, so
// url.QueryEscape (which writes "+" for a space) is not used.
func escapeBytes(b []byte) string { return string(appendEscaped(nil, b)) }

func appendEscaped(out, b []byte) []byte {
	const hex = "0123456789ABCDEF"
	for _, c := range b {
		if isUnreserved(c) {
			out = append(out, c)
			continue
		}
		out = append(out, '%', hex[c>>4], hex[c&15])
	}
	return out
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// appendHTTPRequest appends the GET request written on the socket for u.
// HTTP/1.1 with "Connection: close", so the response ends at EOF or
// Content-Length.
func appendHTTPRequest(b []byte, u *url.URL, userAgent string) []byte {
	b = append(b, "GET "...)
	if p := u.EscapedPath(); p != "" {
		b = append(b, p...)
	} else {
		b = append(b, '/')
	}
	if u.RawQuery != "" {
		b = append(b, '?')
		b = append(b, u.RawQuery...)
	}
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, u.Host...)
	b = append(b, "\r\n"...)
	if userAgent != "" {
		b = append(b, "User-Agent: "...)
		b = append(b, userAgent...)
		b = append(b, "\r\n"...)
	}
	return append(b, "Accept-Encoding: identity\r\nConnection: close\r\n\r\n"...)
}

// responseBody reads resp's body, at most MaxBodySize bytes; the plain
// http:// path and net/http's https:// path both end here. A 3xx with a
// Location comes back as *RedirectError. Other non-200 answers still return
// their body, because trackers often explain a 4xx in a bencoded
// "failure reason"; the parsers decide.
func responseBody(resp *http.Response) (body []byte, status int, err error) {
	defer resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 && loc != "" {
		return nil, resp.StatusCode, &RedirectError{Code: resp.StatusCode, Location: loc}
	}
	body, err = io.ReadAll(io.LimitReader(resp.Body, MaxBodySize+1))
	if err != nil {
		return nil, resp.StatusCode, fmt.Errorf("%w: HTTP body: %w", ErrBadResponse, err)
	}
	if len(body) > MaxBodySize {
		return nil, resp.StatusCode, ErrTooLarge
	}
	return body, resp.StatusCode, nil
}

// httpAnnounceBody is the bencoded announce response. Peers fields stay raw
// because they are either a compact string or a list of dictionaries.
type httpAnnounceBody struct {
	FailureReason *string       `bencode:"failure reason"`
	RetryIn       bencode.Bytes `bencode:"retry in"`
	Warning       string        `bencode:"warning message"`
	Interval      int64         `bencode:"interval"`
	MinInterval   int64         `bencode:"min interval"`
	Complete      int64         `bencode:"complete"`
	Incomplete    int64         `bencode:"incomplete"`
	TrackerID     string        `bencode:"tracker id"`
	Peers         bencode.Bytes `bencode:"peers"`
	Peers6        bencode.Bytes `bencode:"peers6"`
}

// parseHTTPAnnounce reads a raw HTTP announce response: status, framing,
// then the bencoded body.
func parseHTTPAnnounce(raw []byte) (*AnnounceResponse, error) {
	return announceFromBody(readHTTPBody(raw))
}

// announceFromBody decodes the body of an announce answer with the given
// HTTP status; err is passed through from responseBody.
func announceFromBody(body []byte, status int, err error) (*AnnounceResponse, error) {
	if err != nil {
		return nil, err
	}
	resp, berr := parseAnnounceBody(body)
	if status != http.StatusOK {
		var fe *FailureError
		if errors.As(berr, &fe) {
			return nil, berr
		}
		return nil, fmt.Errorf("%w: HTTP status %d", ErrBadResponse, status)
	}
	return resp, berr
}

// parseAnnounceBody decodes the bencoded announce dictionary.
func parseAnnounceBody(body []byte) (*AnnounceResponse, error) {
	var d httpAnnounceBody
	if !scanAnnounce(body, &d) {
		d = httpAnnounceBody{}
		if err := decodeBencode(body, &d); err != nil {
			return nil, fmt.Errorf("%w: announce: %w", ErrBadResponse, err)
		}
	}
	return announceFromFields(&d)
}

// announceFromFields checks and converts a decoded announce dictionary.
func announceFromFields(d *httpAnnounceBody) (*AnnounceResponse, error) {
	if d.FailureReason != nil {
		return nil, &FailureError{Reason: *d.FailureReason, RetryIn: parseRetryIn(d.RetryIn)}
	}
	resp := &AnnounceResponse{
		Interval:    seconds(d.Interval),
		MinInterval: seconds(d.MinInterval),
		Complete:    clampCount(d.Complete),
		Incomplete:  clampCount(d.Incomplete),
		TrackerID:   d.TrackerID,
		Warning:     d.Warning,
	}
	var peers peerSet
	if err := addPeersField(&peers, d.Peers, compactV4Len); err != nil {
		return nil, err
	}
	if err := addPeersField(&peers, d.Peers6, compactV6Len); err != nil {
		return nil, err
	}
	resp.Peers = peers.list
	return resp, nil
}

// decodeBencode decodes one value from the front of body. Trailing bytes
// (some trackers end the body with a newline) are ignored.
func decodeBencode(body []byte, v any) error {
	return bencode.NewDecoder(bytes.NewReader(body)).Decode(v)
}

// parseRetryIn reads BEP 31's "retry in": minutes, or "never" (-1).
func parseRetryIn(raw bencode.Bytes) time.Duration {
	if len(raw) == 0 {
		return 0
	}
	var s string
	if bencode.Unmarshal(raw, &s) == nil && s == "never" {
		return -1
	}
	var n int64
	if bencode.Unmarshal(raw, &n) != nil || n <= 0 {
		return 0
	}
	return seconds(min(n, maxIntervalSeconds/60) * 60)
}

// addPeersField reads a "peers" or "peers6" value: a compact string of
// compactLen-byte entries, or a list of {"ip", "port"} dictionaries.
func addPeersField(s *peerSet, raw bencode.Bytes, compactLen int) error {
	if len(raw) == 0 {
		return nil
	}
	if raw[0] == 'l' {
		var list []map[string]any
		if err := bencode.Unmarshal(raw, &list); err != nil {
			return fmt.Errorf("%w: peer list: %w", ErrBadResponse, err)
		}
		for _, d := range list {
			ap, ok := dictPeer(d)
			if ok && !s.add(ap) {
				break
			}
		}
		return nil
	}
	if raw[0] == 'i' || raw[0] == 'd' {
		return fmt.Errorf("%w: compact peers: not a string", ErrBadResponse)
	}
	// raw is one well-formed value (from the decoder or scanAnnounce), so
	// a string's data follows its first colon.
	return s.addCompact(stringValue(raw), compactLen)
}

// dictPeer reads one BEP 3 peer dictionary. A DNS name in "ip" is dropped:
// resolving names a tracker hands out would let it aim us at anything.
func dictPeer(d map[string]any) (netip.AddrPort, bool) {
	ipStr, _ := d["ip"].(string)
	port, ok := d["port"].(int64)
	if !ok || port <= 0 || port > 65535 {
		return netip.AddrPort{}, false
	}
	addr, err := netip.ParseAddr(ipStr)
	if err != nil || addr.Zone() != "" {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(addr, uint16(port)), true
}

// scrapeURL derives the scrape URL from an announce URL (BEP 48): the last
// path component must start with "announce", which becomes "scrape".
func scrapeURL(announce string) (string, error) {
	if err := checkHTTPURL(announce); err != nil {
		return "", err
	}
	end := len(announce)
	if i := strings.IndexAny(announce, "?#"); i >= 0 {
		end = i
	}
	slash := strings.LastIndexByte(announce[:end], '/')
	if slash < 0 || !strings.HasPrefix(announce[slash+1:end], "announce") {
		return "", fmt.Errorf("%w: %q", ErrScrapeUnsupported, announce)
	}
	return announce[:slash+1] + "scrape" + announce[slash+1+len("announce"):], nil
}

// scrapeRequestURL appends one info_hash parameter per torrent.
func scrapeRequestURL(scrape string, hashes [][20]byte) string {
	var b strings.Builder
	b.WriteString(withQuerySep(scrape))
	for i, h := range hashes {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString("info_hash=" + escapeBytes(h[:]))
	}
	return b.String()
}

type scrapeFile struct {
	Complete   int64 `bencode:"complete"`
	Downloaded int64 `bencode:"downloaded"`
	Incomplete int64 `bencode:"incomplete"`
}

type scrapeBody struct {
	FailureReason *string               `bencode:"failure reason"`
	Files         map[string]scrapeFile `bencode:"files"`
}

// parseHTTPScrape reads a raw HTTP scrape response. Keys that are not 20
// bytes are skipped, and at most maxScrapeFiles torrents are kept.
func parseHTTPScrape(raw []byte) (map[[20]byte]ScrapeStats, error) {
	return scrapeFromBody(readHTTPBody(raw))
}

// scrapeFromBody is announceFromBody for scrape answers.
func scrapeFromBody(body []byte, status int, err error) (map[[20]byte]ScrapeStats, error) {
	if err != nil {
		return nil, err
	}
	var d scrapeBody
	if err := decodeBencode(body, &d); err != nil {
		return nil, fmt.Errorf("%w: scrape: %w", ErrBadResponse, err)
	}
	if d.FailureReason != nil {
		return nil, &FailureError{Reason: *d.FailureReason}
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("%w: HTTP status %d", ErrBadResponse, status)
	}
	out := make(map[[20]byte]ScrapeStats, min(len(d.Files), maxScrapeFiles))
	for k, f := range d.Files {
		if len(out) >= maxScrapeFiles {
			break
		}
		if len(k) != 20 {
			continue
		}
		out[[20]byte([]byte(k))] = ScrapeStats{
			Complete:   clampCount(f.Complete),
			Downloaded: clampCount(f.Downloaded),
			Incomplete: clampCount(f.Incomplete),
		}
	}
	return out, nil
}
