package lsd

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
)

// The BEP 14 announce, an HTTP request with no body sent over UDP
// multicast (SSDP's M-SEARCH, renamed):
//
//	BT-SEARCH * HTTP/1.1\r\n
//	Host: 239.192.152.143:6771\r\n         the group it was sent to
//	Port: 6881\r\n                         the sender's peer listen port
//	Infohash: 0123…cdef\r\n                40 hex digits; may repeat
//	cookie: 5f2a…\r\n                      optional, opaque
//	\r\n
//	\r\n
//
// Header names are case-insensitive, as in HTTP; headers we do not know
// are ignored (BEP 14 asks for that, for forward compatibility).

// Limits on what is accepted and sent.
const (
	// MaxDatagramSize is the largest announce accepted: an Ethernet
	// frame's payload. Anything larger was not meant for us.
	MaxDatagramSize = 1500
	// maxSendSize is what we keep our own announces under (BEP 14: 1400
	// bytes, to stay clear of fragmentation).
	maxSendSize = 1400
	// MaxInfohashes caps the info-hashes in one announce, both ways, so
	// that one datagram costs a bounded number of look-ups. libtorrent and
	// Transmission send one per datagram; 20 of ours fit in maxSendSize.
	MaxInfohashes = 20
	// maxCookie bounds the cookie we keep from an announce.
	maxCookie = 64
)

// Reasons ParseAnnounce rejects a datagram; the error wraps one of them.
var (
	ErrTooLarge          = errors.New("lsd: datagram too large")
	ErrRequestLine       = errors.New("lsd: not a BT-SEARCH request")
	ErrHeader            = errors.New("lsd: malformed header")
	ErrPort              = errors.New("lsd: bad or missing Port")
	ErrInfohash          = errors.New("lsd: bad Infohash")
	ErrNoInfohash        = errors.New("lsd: no Infohash")
	ErrTooManyInfohashes = errors.New("lsd: too many Infohash headers")
)

// Announce is one parsed BT-SEARCH datagram.
type Announce struct {
	// Host is the Host header as sent (the group and port); informational.
	Host string
	// Port is the sender's peer listen port, never 0.
	Port uint16
	// Infohashes are the torrents announced, without duplicates, at least
	// one and at most MaxInfohashes.
	Infohashes [][20]byte
	// Cookie is the cookie header, "" if there was none.
	Cookie string
}

// AppendAnnounce appends the announce for infohashes to dst. host is the
// group and port it goes to ("239.192.152.143:6771"); port is our peer
// listen port; cookie may be "" (then no cookie header is sent).
func AppendAnnounce(dst []byte, host string, port uint16, infohashes [][20]byte, cookie string) []byte {
	dst = append(dst, "BT-SEARCH * HTTP/1.1\r\nHost: "...)
	dst = append(dst, host...)
	dst = append(dst, "\r\nPort: "...)
	dst = strconv.AppendUint(dst, uint64(port), 10)
	dst = append(dst, "\r\n"...)
	for _, ih := range infohashes {
		dst = append(dst, "Infohash: "...)
		dst = hex.AppendEncode(dst, ih[:])
		dst = append(dst, "\r\n"...)
	}
	if cookie != "" {
		dst = append(dst, "cookie: "...)
		dst = append(dst, cookie...)
		dst = append(dst, "\r\n"...)
	}
	return append(dst, "\r\n\r\n"...)
}

// ParseAnnounce parses one datagram. Everything in it is hostile: sizes
// and counts are checked before anything is kept, and a bad datagram is
// an error that wraps one of the Err values above, never a panic.
func ParseAnnounce(b []byte) (Announce, error) {
	var a Announce
	if len(b) > MaxDatagramSize {
		return a, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(b), MaxDatagramSize)
	}
	line, rest, ok := nextLine(b)
	if !ok || !requestLineOK(line) {
		return a, fmt.Errorf("%w: request line %.40q", ErrRequestLine, line)
	}
	var seenPort, seenCookie bool
	for {
		line, rest, ok = nextLine(rest)
		if !ok {
			return a, fmt.Errorf("%w: no blank line after the headers", ErrHeader)
		}
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(name) == 0 || bytes.ContainsAny(name, " \t") {
			return a, fmt.Errorf("%w: %.40q", ErrHeader, line)
		}
		value = bytes.Trim(value, " \t")
		switch {
		case bytes.EqualFold(name, []byte("Port")):
			if seenPort {
				return a, fmt.Errorf("%w: Port given twice", ErrPort)
			}
			port, err := parsePort(value)
			if err != nil {
				return a, err
			}
			a.Port, seenPort = port, true
		case bytes.EqualFold(name, []byte("Infohash")):
			if err := a.addInfohash(value); err != nil {
				return a, err
			}
		case bytes.EqualFold(name, []byte("cookie")):
			if seenCookie || len(value) > maxCookie {
				return a, fmt.Errorf("%w: cookie given twice or longer than %d", ErrHeader, maxCookie)
			}
			a.Cookie, seenCookie = string(value), true
		case bytes.EqualFold(name, []byte("Host")):
			a.Host = string(value)
		}
	}
	if !seenPort {
		return a, fmt.Errorf("%w: no Port header", ErrPort)
	}
	if len(a.Infohashes) == 0 {
		return a, ErrNoInfohash
	}
	return a, nil
}

// nextLine splits off one line ending in "\n" (a "\r" before it is
// dropped, so a sender that ends lines with a bare "\n" is understood).
func nextLine(b []byte) (line, rest []byte, ok bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return b, nil, false
	}
	return bytes.TrimSuffix(b[:i], []byte("\r")), b[i+1:], true
}

// requestLineOK accepts "BT-SEARCH * HTTP/1.x", the method in any case
// (libtorrent compares it lower-cased).
func requestLineOK(line []byte) bool {
	f := bytes.Fields(line)
	return len(f) == 3 && bytes.EqualFold(f[0], []byte("BT-SEARCH")) &&
		string(f[1]) == "*" && bytes.HasPrefix(f[2], []byte("HTTP/1."))
}

// parsePort accepts 1 to 65535 in decimal; 0 is no port to dial.
func parsePort(v []byte) (uint16, error) {
	if len(v) == 0 || len(v) > 5 {
		return 0, fmt.Errorf("%w: %.40q", ErrPort, v)
	}
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: %.40q", ErrPort, v)
		}
		n = n*10 + int(c-'0')
	}
	if n == 0 || n > 65535 {
		return 0, fmt.Errorf("%w: %d out of range", ErrPort, n)
	}
	return uint16(n), nil
}

// addInfohash decodes 40 hex digits (either case) and keeps the hash
// unless the announce already names it.
func (a *Announce) addInfohash(v []byte) error {
	var ih [20]byte
	if len(v) != 2*len(ih) {
		return fmt.Errorf("%w: %d characters, want 40", ErrInfohash, len(v))
	}
	if _, err := hex.Decode(ih[:], v); err != nil {
		return fmt.Errorf("%w: %.40q is not hex", ErrInfohash, v)
	}
	for _, have := range a.Infohashes {
		if have == ih {
			return nil
		}
	}
	if len(a.Infohashes) == MaxInfohashes {
		return fmt.Errorf("%w: more than %d", ErrTooManyInfohashes, MaxInfohashes)
	}
	a.Infohashes = append(a.Infohashes, ih)
	return nil
}
