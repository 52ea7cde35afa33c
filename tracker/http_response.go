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
	end := -1  // header length, once it is complete
	want := -1 // total length, once the header gives a Content-Length
	var h webseed.Header
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
		if end < 0 {
			if end = webseed.HeaderEnd(buf); end < 0 {
				continue
			}
			if h, err = parseHeader(buf[:end]); err != nil {
				return nil, 0, err
			}
			if !h.Chunked && h.ContentLength >= 0 && h.ContentLength <= MaxBodySize {
				want = end + int(h.ContentLength)
			} // otherwise read to EOF (we sent "Connection: close") or the cap
		}
	}
	if end < 0 {
		return readHTTPBody(buf)
	}
	return httpBody(buf[end:], h)
}

// readHTTPBody parses a raw HTTP response (as read from the socket) and
// returns its body, which shares raw's memory; see httpBody.
func readHTTPBody(raw []byte) (body []byte, status int, err error) {
	end := webseed.HeaderEnd(raw)
	if end < 0 {
		return nil, 0, fmt.Errorf("%w: HTTP: header incomplete", ErrBadResponse)
	}
	h, err := parseHeader(raw[:end])
	if err != nil {
		return nil, 0, err
	}
	return httpBody(raw[end:], h)
}

func parseHeader(b []byte) (webseed.Header, error) {
	h, err := webseed.ParseHeader(b)
	if err != nil {
		return h, fmt.Errorf("%w: HTTP: %w", ErrBadResponse, err)
	}
	return h, nil
}

// httpBody frames the body that follows header h. A 3xx with a Location
// comes back as *RedirectError. Other non-200 answers still return their
// body, because trackers often explain a 4xx in a bencoded "failure
// reason"; the parsers decide.
func httpBody(body []byte, h webseed.Header) ([]byte, int, error) {
	if h.Status/100 == 3 && h.Location != "" {
		return nil, h.Status, &RedirectError{Code: h.Status, Location: h.Location}
	}
	switch {
	case h.Chunked:
		var err error
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
