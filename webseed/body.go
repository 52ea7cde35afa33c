package webseed

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/aiotorrent/aiotorrent/aio"
)

// response checks a final response against the range asked for and reads
// its body into dst. For a redirect it returns the Location and reads
// nothing (the caller drops the connection).
func (c *Client) response(t *aio.Task, h Header, dst []byte, off, size int64) (string, error) {
	if loc, err := check(h, int64(len(dst)), off, size); err != nil || loc != "" {
		return loc, err
	}
	switch {
	case h.Chunked:
		return "", c.readChunked(t, dst)
	case h.ContentLength >= 0:
		return "", c.readFull(t, dst)
	default:
		return "", c.readToEOF(t, dst)
	}
}

// check holds a final response header against the n bytes at off of a
// size-byte file: it returns a redirect's Location, or nil when the body
// is the bytes asked for. Both the plain and the https paths use it.
func check(h Header, n, off, size int64) (string, error) {
	switch h.Status {
	case 301, 302, 303, 307, 308:
		return redirectTo(h)
	case 200:
		if off != 0 || n != size {
			return "", fmt.Errorf("%w: 200 for bytes %d-%d of %d", ErrNoRanges, off, off+n-1, size)
		}
		if h.ContentLength >= 0 && h.ContentLength != size {
			return "", fmt.Errorf("%w: 200 with Content-Length %d for a %d-byte file", ErrBadRange, h.ContentLength, size)
		}
	case 206:
		r := h.Range
		if !r.Set || r.First != off || r.Last != off+n-1 || (r.Size >= 0 && r.Size != size) {
			return "", fmt.Errorf("%w: asked bytes %d-%d/%d, got %s", ErrBadRange, off, off+n-1, size, rangeString(r))
		}
		if h.ContentLength >= 0 && h.ContentLength != n {
			return "", fmt.Errorf("%w: 206 with Content-Length %d for %d bytes", ErrBadRange, h.ContentLength, n)
		}
	default:
		return "", &StatusError{Code: h.Status, Reason: h.Reason}
	}
	return "", nil
}

// redirectTo is a redirect's Location, which it must have.
func redirectTo(h Header) (string, error) {
	if h.Location == "" {
		return "", fmt.Errorf("%w: redirect %d without Location", ErrBadResponse, h.Status)
	}
	return h.Location, nil
}

func rangeString(r ContentRange) string {
	if !r.Set {
		return "no Content-Range"
	}
	return fmt.Sprintf("bytes %d-%d/%d", r.First, r.Last, r.Size)
}

// readFull fills dst from the buffered bytes, then straight from the
// socket. Each read waits at most IdleTimeout.
func (c *Client) readFull(t *aio.Task, dst []byte) error {
	cn := c.conn
	got := copy(dst, cn.buf[cn.r:cn.w])
	cn.r += got
	if err := c.throttle(t, got); err != nil {
		return err
	}
	for got < len(dst) {
		cn.tcp.SetReadDeadline(t.Loop().Now().Add(c.cfg.IdleTimeout))
		k, err := cn.tcp.Read(t, dst[got:])
		got += k
		if err == io.EOF {
			return fmt.Errorf("%w: body ended after %d of %d bytes", ErrBodyLength, got, len(dst))
		}
		if err != nil {
			return timeoutErr("read body", err)
		}
		if err := c.throttle(t, k); err != nil {
			return err
		}
	}
	return nil
}

// readToEOF reads a body delimited by the end of the stream: exactly
// len(dst) bytes, then the end.
func (c *Client) readToEOF(t *aio.Task, dst []byte) error {
	if err := c.readFull(t, dst); err != nil {
		return err
	}
	cn := c.conn
	if cn.r < cn.w {
		return fmt.Errorf("%w: more than the %d bytes asked for", ErrBodyLength, len(dst))
	}
	cn.tcp.SetReadDeadline(t.Loop().Now().Add(c.cfg.IdleTimeout))
	var one [1]byte
	k, err := cn.tcp.Read(t, one[:])
	switch {
	case k > 0:
		return fmt.Errorf("%w: more than the %d bytes asked for", ErrBodyLength, len(dst))
	case err == io.EOF:
		return nil
	default:
		return timeoutErr("read to the end of the body", err)
	}
}

// maxChunkLine bounds a chunk-size line (with extensions) and each
// trailer line.
const maxChunkLine = 4 << 10

// readChunked reads a chunked body (RFC 9112 §7.1) of exactly len(dst)
// bytes: chunk data goes straight into dst, and a chunk that would
// overflow it is an error before any of it is read.
func (c *Client) readChunked(t *aio.Task, dst []byte) error {
	got := 0
	for {
		line, err := c.readLine(t)
		if err != nil {
			return err
		}
		n, err := parseChunkSize(line)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		if n > int64(len(dst)-got) {
			return fmt.Errorf("%w: a %d-byte chunk after %d of %d bytes", ErrBodyLength, n, got, len(dst))
		}
		if err := c.readFull(t, dst[got:got+int(n)]); err != nil {
			return err
		}
		got += int(n)
		if line, err := c.readLine(t); err != nil || len(line) != 0 {
			return fmt.Errorf("%w: no CRLF after chunk data", ErrBadResponse)
		}
	}
	if got != len(dst) {
		return fmt.Errorf("%w: chunked body of %d bytes, asked for %d", ErrBodyLength, got, len(dst))
	}
	for trailers := 0; ; trailers++ { // trailers, until the blank line
		line, err := c.readLine(t)
		if err != nil {
			return err
		}
		if len(line) == 0 {
			return nil
		}
		if trailers*maxChunkLine > c.cfg.MaxHeaderBytes {
			return fmt.Errorf("%w: too many trailers", ErrHeaderTooLarge)
		}
	}
}

func parseChunkSize(line []byte) (int64, error) {
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	line = bytes.TrimRight(line, " \t")
	if len(line) == 0 || len(line) > 15 {
		return 0, fmt.Errorf("%w: chunk size %q", ErrBadResponse, clip(string(line)))
	}
	var n int64
	for _, b := range line {
		var d byte
		switch {
		case b >= '0' && b <= '9':
			d = b - '0'
		case b >= 'a' && b <= 'f':
			d = b - 'a' + 10
		case b >= 'A' && b <= 'F':
			d = b - 'A' + 10
		default:
			return 0, fmt.Errorf("%w: chunk size %q", ErrBadResponse, clip(string(line)))
		}
		n = n<<4 | int64(d)
	}
	return n, nil
}

// readLine returns the next line without its CRLF (or LF); it is valid
// until the next read. Lines are at most maxChunkLine bytes.
func (c *Client) readLine(t *aio.Task) ([]byte, error) {
	cn := c.conn
	for {
		if i := bytes.IndexByte(cn.buf[cn.r:cn.w], '\n'); i >= 0 {
			line := cn.buf[cn.r : cn.r+i]
			cn.r += i + 1
			return bytes.TrimSuffix(line, []byte{'\r'}), nil
		}
		if cn.w-cn.r > maxChunkLine {
			return nil, fmt.Errorf("%w: chunk line over %d bytes", ErrBadResponse, maxChunkLine)
		}
		cn.compact()
		cn.tcp.SetReadDeadline(t.Loop().Now().Add(c.cfg.IdleTimeout))
		k, err := cn.tcp.Read(t, cn.buf[cn.w:])
		cn.w += k
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: connection closed in a chunked body", ErrBodyLength)
		}
		if err != nil {
			return nil, timeoutErr("read chunked body", err)
		}
	}
}

func (c *Client) throttle(t *aio.Task, n int) error {
	if c.cfg.Throttle == nil || n == 0 {
		return nil
	}
	return c.cfg.Throttle(t, n)
}
