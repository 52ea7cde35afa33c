package tracker

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// Query strings as the server reads them. An announce is parsed in one
// pass that allocates nothing (parseAnnounceQuery): it is the hot path, a
// few hundred thousand a second. Scrapes use the general parseQuery. Both
// read values as raw bytes (an info_hash is 20 percent-encoded bytes) and
// keep "+" literally; FuzzAnnounceQuery checks that they agree.

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
// "+" into a space and reject the whole query over one bad escape; here a
// bad escape is an error that names the parameter.
func parseQuery(raw string) (query, error) {
	q := make(query)
	for n := 0; raw != ""; n++ {
		if n >= maxQueryParams {
			return nil, errTooManyParams
		}
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		key, ok := unescapeAppend(nil, k)
		if !ok {
			return nil, errBadParamName
		}
		val, ok := unescapeAppend(nil, v)
		if !ok {
			return nil, fmt.Errorf("invalid %s", key)
		}
		q[string(key)] = append(q[string(key)], string(val))
	}
	return q, nil
}

var (
	errTooManyParams = errors.New("too many parameters")
	errBadParamName  = errors.New("invalid parameter name")
)

// unescapeAppend decodes %XX escapes of s onto dst; ok is false on a bad
// or truncated escape.
func unescapeAppend[S string | []byte](dst []byte, s S) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			dst = append(dst, s[i])
			continue
		}
		if i+2 >= len(s) {
			return dst, false
		}
		hi, ok1 := unhex(s[i+1])
		lo, ok2 := unhex(s[i+2])
		if !ok1 || !ok2 {
			return dst, false
		}
		dst = append(dst, hi<<4|lo)
		i += 2
	}
	return dst, true
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

// The parameters an announce reads, in the order announceFromQuery checks
// them (so that both parsers report the same first error).
const (
	qInfoHash = iota
	qPeerID
	qPort
	qUploaded
	qDownloaded
	qLeft
	qNumWant
	qEvent
	qCompact
	qCount
)

var announceParams = [qCount]string{"info_hash", "peer_id", "port", "uploaded", "downloaded", "left", "numwant", "event", "compact"}

// parseAnnounceQuery is parseQuery followed by announceFromQuery, in one
// pass and without allocating: it notes where the first value of each
// known parameter is, checks every escape on the way, then decodes those
// values into stack buffers.
func parseAnnounceQuery(raw []byte) (req AnnounceRequest, compact bool, err error) {
	var vals [qCount][]byte
	var seen [qCount]bool
	var kbuf [16]byte
	for n := 0; len(raw) > 0; n++ {
		if n >= maxQueryParams {
			return req, false, errTooManyParams
		}
		kv := raw
		if i := bytes.IndexByte(raw, '&'); i >= 0 {
			kv, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		if len(kv) == 0 {
			continue
		}
		k, v := kv, []byte(nil)
		if i := bytes.IndexByte(kv, '='); i >= 0 {
			k, v = kv[:i], kv[i+1:]
		}
		key, ok := unescapeAppend(kbuf[:0], k)
		if !ok {
			return req, false, errBadParamName
		}
		if !validEscapes(v) {
			return req, false, fmt.Errorf("invalid %s", string(key)) // a copy: key must not escape
		}
		for p := range announceParams {
			if !seen[p] && string(key) == announceParams[p] {
				seen[p], vals[p] = true, v
			}
		}
	}
	return announceFromValues(&vals, &seen)
}

// validEscapes reports whether every % in s starts a valid escape.
func validEscapes(s []byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			if i+2 >= len(s) {
				return false
			}
			if _, ok := unhex(s[i+1]); !ok {
				return false
			}
			if _, ok := unhex(s[i+2]); !ok {
				return false
			}
			i += 2
		}
	}
	return true
}

// errInvalid[p] is the error for a bad value of announceParams[p].
var errInvalid = func() (e [qCount]error) {
	for p, name := range announceParams {
		e[p] = errors.New("invalid " + name)
	}
	return e
}()

// announceFromValues validates the announce parameters. The "ip" parameter
// is ignored on purpose: a peer is announced at the address it came from.
func announceFromValues(vals *[qCount][]byte, seen *[qCount]bool) (req AnnounceRequest, compact bool, err error) {
	var buf [64]byte
	v, _ := unescapeAppend(buf[:0], vals[qInfoHash])
	if !seen[qInfoHash] || len(v) != 20 {
		return req, false, errInvalid[qInfoHash]
	}
	req.InfoHash = [20]byte(v)
	if seen[qPeerID] {
		if v, _ = unescapeAppend(buf[:0], vals[qPeerID]); len(v) != 20 {
			return req, false, errInvalid[qPeerID]
		}
		req.PeerID = [20]byte(v)
	}
	v, _ = unescapeAppend(buf[:0], vals[qPort])
	port, ok := parseDecimal(v, 1<<16-1)
	if !ok || port == 0 {
		return req, false, errInvalid[qPort]
	}
	req.Port = uint16(port)
	req.Left = 1 // a client that does not say is not a seeder
	for _, p := range [...]int{qUploaded, qDownloaded, qLeft} {
		if !seen[p] {
			continue
		}
		v, _ = unescapeAppend(buf[:0], vals[p])
		n, ok := parseSigned(v, 64)
		if !ok || n < 0 {
			return req, false, errInvalid[p]
		}
		switch p {
		case qUploaded:
			req.Uploaded = n
		case qDownloaded:
			req.Downloaded = n
		default:
			req.Left = n
		}
	}
	if seen[qNumWant] {
		v, _ = unescapeAppend(buf[:0], vals[qNumWant])
		n, ok := parseSigned(v, 32)
		if !ok {
			return req, false, errInvalid[qNumWant]
		}
		req.NumWant = int32(n)
	}
	v, _ = unescapeAppend(buf[:0], vals[qEvent])
	switch string(v) {
	case "completed":
		req.Event = EventCompleted
	case "started":
		req.Event = EventStarted
	case "stopped":
		req.Event = EventStopped
	}
	v, _ = unescapeAppend(buf[:0], vals[qCompact])
	return req, string(v) != "0", nil
}

// parseDecimal is strconv.ParseUint(s, 10, ·) with a maximum, on bytes.
func parseDecimal(s []byte, max uint64) (uint64, bool) {
	if len(s) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (max-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// parseSigned is strconv.ParseInt(s, 10, bits) on bytes.
func parseSigned(s []byte, bits uint) (int64, bool) {
	neg := false
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		neg, s = s[0] == '-', s[1:]
	}
	limit := uint64(1)<<(bits-1) - 1
	if neg {
		limit++
	}
	n, ok := parseDecimal(s, limit)
	if neg {
		return -int64(n), ok
	}
	return int64(n), ok
}
