package tracker

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/webseed"
)

// A plain http:// answer is read into one buffer and parsed in place: the
// header with webseed's parser (the same hostile-input rules as for web
// seeds), the body by Content-Length, chunks or EOF. net/http's reader
// cost about a dozen allocations per announce, which a thousand torrents
// pay every interval.

// respBufs holds read buffers between announces. A pool rather than a
// buffer per tracker: most trackers are idle most of the time, and a
// buffer each would cost RSS per torrent.
var respBufs = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// maxPooledBuf: a buffer grown by a large answer is dropped rather than
// kept for the next small one.
const maxPooledBuf = 64 << 10

func getRespBuf() *[]byte { return respBufs.Get().(*[]byte) }

func putRespBuf(b *[]byte) {
	if cap(*b) <= maxPooledBuf {
		*b = (*b)[:0]
		respBufs.Put(b)
	}
}

// readResponse reads a whole HTTP response into buf, at most maxHTTPHeader
// + MaxBodySize bytes, and returns its body (a slice of buf) and status.
// Each read either grows the buffer or ends the loop, so the loop is
// bounded by the cap.
func readResponse(t *aio.Task, conn *aio.TCPConn, buf []byte) ([]byte, int, error) {
	buf = buf[:0]
	want := -1 // total length, once the headers give a Content-Length
	for want < 0 || len(buf) < want {
		if len(buf) >= maxHTTPHeader+MaxBodySize {
			return nil, 0, ErrTooLarge
		}
		if cap(buf)-len(buf) < 4096 {
			buf = append(buf, make([]byte, 16<<10)...)[:len(buf)]
		}
		n, err := conn.Read(t, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, fmt.Errorf("read response: %w", err)
		}
		if want < 0 {
			want = responseLength(buf)
		}
	}
	return readHTTPBody(buf)
}

// responseLength is the full length of the response in buf once its
// headers are complete and carry a Content-Length; -1 until then, and for
// chunked or unframed responses (those end at EOF: we sent
// "Connection: close").
func responseLength(buf []byte) int {
	end := webseed.HeaderEnd(buf)
	if end < 0 {
		return -1
	}
	h, err := webseed.ParseHeader(buf[:end])
	if err != nil || h.Chunked || h.ContentLength < 0 || h.ContentLength > MaxBodySize {
		return -1 // read to EOF and let readHTTPBody or the size cap report it
	}
	return end + int(h.ContentLength)
}

// readHTTPBody parses a raw HTTP response (as read from the socket) and
// returns its body, which shares raw's memory. A 3xx with a Location comes
// back as *RedirectError. Other non-200 answers still return their body,
// because trackers often explain a 4xx in a bencoded "failure reason"; the
// parsers decide.
func readHTTPBody(raw []byte) (body []byte, status int, err error) {
	end := webseed.HeaderEnd(raw)
	if end < 0 {
		return nil, 0, fmt.Errorf("%w: HTTP: header incomplete", ErrBadResponse)
	}
	h, err := webseed.ParseHeader(raw[:end])
	if err != nil {
		return nil, 0, fmt.Errorf("%w: HTTP: %w", ErrBadResponse, err)
	}
	if h.Status/100 == 3 && h.Location != "" {
		return nil, h.Status, &RedirectError{Code: h.Status, Location: h.Location}
	}
	body = raw[end:]
	switch {
	case h.Chunked:
		if body, err = dechunk(body); err != nil {
			return nil, h.Status, err
		}
	case h.ContentLength >= 0:
		if h.ContentLength > int64(len(body)) {
			return nil, h.Status, fmt.Errorf("%w: HTTP body: %d of %d bytes", ErrBadResponse, len(body), h.ContentLength)
		}
		body = body[:h.ContentLength]
	}
	if len(body) > MaxBodySize {
		return nil, h.Status, ErrTooLarge
	}
	return body, h.Status, nil
}

// dechunk decodes a chunked body (RFC 9112 §7.1) in place: the data is
// never longer than its framing, so it is moved down over the size lines.
// Trailers after the last chunk are ignored; a body cut short is an error.
func dechunk(b []byte) ([]byte, error) {
	w := 0
	for r := 0; ; {
		nl := bytes.IndexByte(b[r:], '\n')
		if nl < 0 {
			return nil, fmt.Errorf("%w: HTTP: chunked body cut short", ErrBadResponse)
		}
		n, err := webseed.ParseChunkSize(bytes.TrimSuffix(b[r:r+nl], []byte{'\r'}))
		if err != nil {
			return nil, fmt.Errorf("%w: HTTP: %w", ErrBadResponse, err)
		}
		r += nl + 1
		if n == 0 {
			return b[:w], nil
		}
		if n > int64(len(b)-r) {
			return nil, fmt.Errorf("%w: HTTP: chunked body cut short", ErrBadResponse)
		}
		w += copy(b[w:], b[r:r+int(n)])
		r += int(n)
		switch {
		case bytes.HasPrefix(b[r:], []byte("\r\n")):
			r += 2
		case bytes.HasPrefix(b[r:], []byte("\n")):
			r++
		default:
			return nil, fmt.Errorf("%w: HTTP: no CRLF after chunk data", ErrBadResponse)
		}
	}
}
