package webseed

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// testFile is what the test servers serve: bytes that differ at every
// offset, so a shifted range cannot pass for the right one.
var testFile = func() []byte {
	b := make([]byte, 100_000)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}()

// hijack answers a request with raw bytes written by fn (which may also
// stall or close).
func hijack(fn func(c net.Conn, rw *bufio.ReadWriter)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, rw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		fn(c, rw)
		rw.Flush()
	}
}

// newServer starts the bad and good servers' routes; conns counts the
// TCP connections accepted.
func newServer(t *testing.T) (base string, conns *atomic.Int32) {
	t.Helper()
	srv, conns := newUnstarted(t)
	srv.Start()
	return srv.URL, conns
}

// newUnstarted is newServer's server before it starts (plain or TLS).
func newUnstarted(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	mux := http.NewServeMux()
	serve := func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "f", time.Time{}, bytes.NewReader(testFile))
	}
	mux.HandleFunc("/file", serve)
	mux.HandleFunc("/dir/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/dir/a b/ü.bin" {
			http.NotFound(w, r)
			return
		}
		serve(w, r)
	})
	mux.HandleFunc("/norange", func(w http.ResponseWriter, r *http.Request) {
		w.Write(testFile) // ignores Range: 200, whole file
	})
	mux.HandleFunc("/shortwhole", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(testFile)-1))
		w.Write(testFile[:len(testFile)-1])
	})
	mux.HandleFunc("/otherrange", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Range", fmt.Sprintf("bytes 0-99/%d", len(testFile)))
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(http.StatusPartialContent)
		w.Write(testFile[:100])
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	mux.HandleFunc("/relative", hijack(func(c net.Conn, rw *bufio.ReadWriter) {
		// Unencoded space and UTF-8 in a relative Location.
		rw.WriteString("HTTP/1.1 302 Found\r\nLocation: dir/a b/ü.bin\r\nContent-Length: 0\r\n\r\n")
	}))
	mux.HandleFunc("/stall", hijack(func(c net.Conn, rw *bufio.ReadWriter) {
		fmt.Fprintf(rw, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", len(testFile))
		rw.Write(testFile[:1000])
		rw.Flush()
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		c.Read(make([]byte, 1)) // until the client gives up and closes
	}))
	mux.HandleFunc("/long", hijack(func(c net.Conn, rw *bufio.ReadWriter) {
		fmt.Fprintf(rw, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 10-19/%d\r\nContent-Length: 10\r\n\r\n", len(testFile))
		rw.Write(testFile[10:20])
		rw.WriteString("HTTP/1.1 200 OK\r\nthese bytes were not announced")
	}))
	mux.HandleFunc("/chunked", hijack(func(c net.Conn, rw *bufio.ReadWriter) {
		fmt.Fprintf(rw, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 100-5099/%d\r\nTransfer-Encoding: chunked\r\n\r\n", len(testFile))
		fmt.Fprintf(rw, "7D0;ext=1\r\n%s\r\n", testFile[100:2100])
		fmt.Fprintf(rw, "bb8\r\n%s\r\n0\r\nX-Trailer: yes\r\n\r\n", testFile[2100:5100])
	}))
	mux.HandleFunc("/chunkedlong", hijack(func(c net.Conn, rw *bufio.ReadWriter) {
		fmt.Fprintf(rw, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/%d\r\nTransfer-Encoding: chunked\r\n\r\n", len(testFile))
		fmt.Fprintf(rw, "ffffffff\r\n%s", testFile[:10])
	}))
	mux.HandleFunc("/bigheader", hijack(func(c net.Conn, rw *bufio.ReadWriter) {
		rw.WriteString("HTTP/1.1 200 OK\r\n")
		for i := 0; i < 2000; i++ {
			fmt.Fprintf(rw, "X-Filler-%d: %s\r\n", i, strings.Repeat("x", 40))
		}
		rw.WriteString("\r\n")
	}))
	srv := httptest.NewUnstartedServer(mux)
	conns := new(atomic.Int32)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	t.Cleanup(srv.Close)
	return srv, conns
}

// readAt runs one ReadAt per call on a fresh loop, sharing the Client.
func readAt(c *Client, url string, dst []byte, off int64) error {
	_, err := aio.Run(func(t *aio.Task) (struct{}, error) {
		return struct{}{}, c.ReadAt(t, url, dst, off, int64(len(testFile)))
	})
	return err
}

func TestReadAtRanges(t *testing.T) {
	base, conns := newServer(t)
	_, err := aio.Run(func(t *aio.Task) (struct{}, error) {
		c := New(Config{})
		defer c.Close()
		for _, r := range [][2]int{{0, 1}, {5, 16384}, {99_000, 1000}, {0, len(testFile)}, {12345, 54321}} {
			dst := make([]byte, r[1])
			if err := c.ReadAt(t, base+"/file", dst, int64(r[0]), int64(len(testFile))); err != nil {
				return struct{}{}, fmt.Errorf("range %v: %w", r, err)
			}
			if !bytes.Equal(dst, testFile[r[0]:r[0]+r[1]]) {
				return struct{}{}, fmt.Errorf("range %v: wrong bytes", r)
			}
		}
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("5 requests used %d connections, want 1 (keep-alive)", n)
	}
}

func TestReadAtErrors(t *testing.T) {
	base, _ := newServer(t)
	size := len(testFile)
	tests := []struct {
		name     string
		path     string
		off, n   int
		want     error
		wantData bool
	}{
		{"no Range support, whole file", "/norange", 0, size, nil, true},
		{"no Range support, part", "/norange", 10, 100, ErrNoRanges, false},
		{"200 shorter than the file", "/shortwhole", 0, size, ErrBadRange, false},
		{"206 for other bytes", "/otherrange", 100, 100, ErrBadRange, false},
		{"file larger than the torrent says", "/file", 0, size - 1, ErrBadRange, false},
		{"404", "/missing", 0, 10, ErrStatus, false},
		{"redirect loop", "/loop", 0, 10, ErrTooManyRedirects, false},
		{"relative redirect, unencoded", "/relative", 3, 500, nil, true},
		{"stalling body", "/stall", 0, size, ErrTimeout, false},
		{"chunked", "/chunked", 100, 5000, nil, true},
		{"chunk larger than asked", "/chunkedlong", 0, 10, ErrBodyLength, false},
		{"header too large", "/bigheader", 0, size, ErrHeaderTooLarge, false},
		{"ftp", "ftp://127.0.0.1:1/x", 0, 10, ErrScheme, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := New(Config{IdleTimeout: 200 * time.Millisecond})
			defer c.Close()
			dst := make([]byte, tc.n)
			url := base + tc.path
			if strings.HasPrefix(tc.path, "ftp") {
				url = tc.path
			}
			fileSize := size
			if tc.name == "file larger than the torrent says" {
				fileSize = size - 1
			}
			_, err := aio.Run(func(t *aio.Task) (struct{}, error) {
				return struct{}{}, c.ReadAt(t, url, dst, int64(tc.off), int64(fileSize))
			})
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if tc.wantData && !bytes.Equal(dst, testFile[tc.off:tc.off+tc.n]) {
				t.Fatal("wrong bytes")
			}
		})
	}
}

func TestStatusErrorCarriesCode(t *testing.T) {
	base, _ := newServer(t)
	err := readAt(New(Config{}), base+"/missing", make([]byte, 10), 0)
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 404 {
		t.Fatalf("got %v, want a StatusError with code 404", err)
	}
}

// A body longer than announced must not spill past the range into the
// caller's memory, nor be read as the next response.
func TestBodyLongerThanAnnounced(t *testing.T) {
	base, _ := newServer(t)
	c := New(Config{})
	defer c.Close()
	buf := bytes.Repeat([]byte{0xEE}, 30)
	if err := readAt(c, base+"/long", buf[:10], 10); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf[:10], testFile[10:20]) || !bytes.Equal(buf[10:], bytes.Repeat([]byte{0xEE}, 20)) {
		t.Fatalf("got %x", buf)
	}
	// The extra bytes were either seen (the connection dropped) or arrive
	// on the kept connection, where they fail one request; never more.
	dst := make([]byte, 100)
	if err := readAt(c, base+"/file", dst, 0); err != nil && !errors.Is(err, ErrBadResponse) {
		t.Fatalf("second request: %v", err)
	}
	if err := readAt(c, base+"/file", dst, 0); err != nil || !bytes.Equal(dst, testFile[:100]) {
		t.Fatalf("third request: %v", err)
	}
}

// A server may close a kept-alive connection while it is idle; the next
// request goes out again on a new one.
func TestIdleConnectionClosedByServer(t *testing.T) {
	var served atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/f", hijack(func(c net.Conn, rw *bufio.ReadWriter) {
		served.Add(1)
		fmt.Fprintf(rw, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/%d\r\nContent-Length: 10\r\n\r\n", len(testFile))
		rw.Write(testFile[:10]) // then closes, without saying so
	}))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := New(Config{})
	defer c.Close()
	for i := 0; i < 3; i++ {
		dst := make([]byte, 10)
		if err := readAt(c, srv.URL+"/f", dst, 0); err != nil || !bytes.Equal(dst, testFile[:10]) {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if n := served.Load(); n != 3 {
		t.Errorf("served %d requests, want 3", n)
	}
}
