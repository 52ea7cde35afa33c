package webseed

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Header is what a web seed needs of an HTTP/1.x response header.
type Header struct {
	// Minor is the x of HTTP/1.x.
	Minor int
	// Status is the three-digit code; Reason the text after it.
	Status int
	Reason string
	// ContentLength is -1 when absent (or ignored: chunked bodies).
	ContentLength int64
	// Range is the Content-Range, if any.
	Range ContentRange
	// Chunked: Transfer-Encoding ends in chunked; the body is framed by
	// chunk sizes and Content-Length is ignored.
	Chunked bool
	// Close: the server closes the connection after this response
	// (Connection: close, or HTTP/1.0 without keep-alive), so the body
	// may also run to the end of the stream.
	Close bool
	// Location is the redirect target as sent, if any.
	Location string
}

// ContentRange is a "Content-Range: bytes First-Last/Size" header. Size is
// -1 for "*". Set is false when the header is absent.
type ContentRange struct {
	First, Last, Size int64
	Set               bool
}

// headerEnd returns the length of the header block at the start of buf,
// blank line included, or -1 while it is incomplete. Lines end in LF, with
// or without CR.
func headerEnd(buf []byte) int {
	seen := false // a non-blank line: blank ones before the status line are skipped (RFC 9112 §2.2)
	for i := 0; ; {
		j := bytes.IndexByte(buf[i:], '\n')
		if j < 0 {
			return -1
		}
		line := buf[i : i+j]
		i += j + 1
		if len(line) == 0 || (len(line) == 1 && line[0] == '\r') {
			if seen {
				return i
			}
			continue
		}
		seen = true
	}
}

// ParseHeader parses a response header block: the status line and the
// header fields, up to and including the blank line (which may be
// missing). Its input is hostile: anything it does not understand in a
// field that matters (framing, range, status) is an error wrapping
// ErrBadResponse, other fields are ignored.
func ParseHeader(b []byte) (Header, error) {
	h := Header{ContentLength: -1}
	// One string for the whole block, cut into lines without a slice of
	// them and names compared without lowering: the tracker client parses
	// a header per announce.
	rest := strings.TrimLeft(string(b), "\r\n")
	line, rest, _ := strings.Cut(rest, "\n")
	if err := h.parseStatusLine(strings.TrimSuffix(line, "\r")); err != nil {
		return h, err
	}
	h.Close = h.Minor == 0
	var lengths []string
	for rest != "" {
		line, rest, _ = strings.Cut(rest, "\n")
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			return h, fmt.Errorf("%w: folded header line", ErrBadResponse)
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || name == "" || strings.TrimSpace(name) != name {
			return h, fmt.Errorf("%w: header line %q", ErrBadResponse, clip(line))
		}
		value = strings.Trim(value, " \t")
		switch {
		case strings.EqualFold(name, "content-length"):
			lengths = append(lengths, value)
		case strings.EqualFold(name, "content-range"):
			r, err := parseContentRange(value)
			if err != nil {
				return h, err
			}
			h.Range = r
		case strings.EqualFold(name, "transfer-encoding"):
			if err := h.parseTransferEncoding(value); err != nil {
				return h, err
			}
		case strings.EqualFold(name, "connection"):
			h.parseConnection(value)
		case strings.EqualFold(name, "location"):
			h.Location = value
		}
	}
	return h, h.setLength(lengths)
}

func (h *Header) parseStatusLine(line string) error {
	rest, ok := strings.CutPrefix(line, "HTTP/1.")
	if !ok || len(rest) < 5 || rest[1] != ' ' || rest[0] < '0' || rest[0] > '9' {
		return fmt.Errorf("%w: status line %q", ErrBadResponse, clip(line))
	}
	h.Minor = int(rest[0] - '0')
	code, reason, _ := strings.Cut(rest[2:], " ")
	n, err := strconv.Atoi(code)
	if err != nil || len(code) != 3 || n < 100 {
		return fmt.Errorf("%w: status line %q", ErrBadResponse, clip(line))
	}
	h.Status, h.Reason = n, clip(reason)
	return nil
}

func (h *Header) parseTransferEncoding(value string) error {
	codings := strings.Split(value, ",")
	last := strings.ToLower(strings.TrimSpace(codings[len(codings)-1]))
	for _, c := range codings {
		c = strings.ToLower(strings.TrimSpace(c))
		if c != "chunked" && c != "identity" {
			return fmt.Errorf("%w: transfer coding %q", ErrBadResponse, clip(c))
		}
	}
	h.Chunked = h.Chunked || last == "chunked"
	return nil
}

func (h *Header) parseConnection(value string) {
	for _, tok := range strings.Split(value, ",") {
		switch strings.ToLower(strings.TrimSpace(tok)) {
		case "close":
			h.Close = true
		case "keep-alive":
			if h.Minor == 0 {
				h.Close = false
			}
		}
	}
}

// setLength takes the Content-Length values: repeats must agree (RFC 9112
// §6.3), and a chunked body ignores them but must not be reused, since a
// sender of both may frame the message either way.
func (h *Header) setLength(values []string) error {
	for _, v := range values {
		n, err := parseDecimal(v)
		if err != nil {
			return fmt.Errorf("%w: Content-Length %q", ErrBadResponse, clip(v))
		}
		if h.ContentLength >= 0 && h.ContentLength != n {
			return fmt.Errorf("%w: Content-Length %d and %d", ErrBadResponse, h.ContentLength, n)
		}
		h.ContentLength = n
	}
	if h.Chunked && h.ContentLength >= 0 {
		h.ContentLength = -1
		h.Close = true
	}
	return nil
}

// parseContentRange reads "bytes First-Last/Size" (Size may be "*") or
// "bytes */Size".
func parseContentRange(v string) (ContentRange, error) {
	bad := fmt.Errorf("%w: Content-Range %q", ErrBadResponse, clip(v))
	unit, spec, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(unit, "bytes") {
		return ContentRange{}, bad
	}
	rng, size, ok := strings.Cut(strings.TrimSpace(spec), "/")
	if !ok {
		return ContentRange{}, bad
	}
	r := ContentRange{First: -1, Last: -1, Size: -1, Set: true}
	if size != "*" {
		n, err := parseDecimal(size)
		if err != nil {
			return ContentRange{}, bad
		}
		r.Size = n
	}
	if rng == "*" {
		return r, nil
	}
	first, last, ok := strings.Cut(rng, "-")
	a, err1 := parseDecimal(first)
	b, err2 := parseDecimal(last)
	if !ok || err1 != nil || err2 != nil || b < a || (r.Size >= 0 && b >= r.Size) {
		return ContentRange{}, bad
	}
	r.First, r.Last = a, b
	return r, nil
}

// parseDecimal accepts digits only (no sign, no space), up to 18 of them
// so the value fits an int64 with room to add.
func parseDecimal(s string) (int64, error) {
	if s == "" || len(s) > 18 {
		return 0, strconv.ErrRange
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, strconv.ErrSyntax
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n, nil
}

// clip shortens hostile text quoted in an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// HeaderEnd is headerEnd for other HTTP/1.x clients (the tracker's): the
// length of the header block at the start of buf, blank line included, or
// -1 while it is incomplete.
func HeaderEnd(buf []byte) int { return headerEnd(buf) }

// ParseChunkSize reads the size on a chunk-size line (RFC 9112 §7.1), CRLF
// removed; chunk extensions are ignored.
func ParseChunkSize(line []byte) (int64, error) { return parseChunkSize(line) }
