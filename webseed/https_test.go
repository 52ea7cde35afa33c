package webseed

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// newTLSServer is newServer's routes over TLS, with a pool trusting its
// certificate.
func newTLSServer(t *testing.T) (base string, roots *x509.CertPool, conns *atomic.Int32) {
	t.Helper()
	srv, conns := newUnstarted(t)
	srv.StartTLS()
	roots = x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	return srv.URL, roots, conns
}

func TestHTTPSRanges(t *testing.T) {
	base, roots, conns := newTLSServer(t)
	_, err := aio.Run(func(t *aio.Task) (struct{}, error) {
		c := New(Config{RootCAs: roots})
		defer c.Close()
		for _, r := range [][2]int{{0, 1}, {5, 16384}, {99_000, 1000}, {0, len(testFile)}, {12345, 54321}, {7, 3}} {
			dst := bytes.Repeat([]byte{0xEE}, r[1]+10)
			if err := c.ReadAt(t, base+"/file", dst[:r[1]], int64(r[0]), int64(len(testFile))); err != nil {
				return struct{}{}, fmt.Errorf("range %v: %w", r, err)
			}
			if !bytes.Equal(dst[:r[1]], testFile[r[0]:r[0]+r[1]]) || !bytes.Equal(dst[r[1]:], bytes.Repeat([]byte{0xEE}, 10)) {
				return struct{}{}, fmt.Errorf("range %v: wrong bytes", r)
			}
		}
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("6 requests used %d connections, want 1 (keep-alive)", n)
	}
}

// The https path makes the plain path's checks.
func TestHTTPSErrors(t *testing.T) {
	base, roots, _ := newTLSServer(t)
	size := len(testFile)
	tests := []struct {
		name     string
		path     string
		off, n   int
		size     int
		want     error
		wantData bool
	}{
		{"no Range support, whole file", "/norange", 0, size, size, nil, true},
		{"no Range support, part", "/norange", 10, 100, size, ErrNoRanges, false},
		{"200 shorter than the file", "/shortwhole", 0, size, size, ErrBadRange, false},
		{"206 for other bytes", "/otherrange", 100, 100, size, ErrBadRange, false},
		{"file larger than the torrent says", "/file", 0, size - 1, size - 1, ErrBadRange, false},
		{"404", "/missing", 0, 10, size, ErrStatus, false},
		{"redirect loop", "/loop", 0, 10, size, ErrTooManyRedirects, false},
		{"relative redirect, unencoded", "/relative", 3, 500, size, nil, true},
		{"stalling body", "/stall", 0, size, size, ErrTimeout, false},
		{"chunked", "/chunked", 100, 5000, size, nil, true},
		{"chunk larger than asked", "/chunkedlong", 0, 10, size, ErrBodyLength, false},
		{"body longer than announced", "/long", 10, 10, size, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := New(Config{IdleTimeout: 200 * time.Millisecond, RootCAs: roots})
			defer c.Close()
			dst := make([]byte, tc.n)
			_, err := aio.Run(func(t *aio.Task) (struct{}, error) {
				return struct{}{}, c.ReadAt(t, base+tc.path, dst, int64(tc.off), int64(tc.size))
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

func TestHTTPSStatusCode(t *testing.T) {
	base, roots, _ := newTLSServer(t)
	err := readAt(New(Config{RootCAs: roots}), base+"/missing", make([]byte, 10), 0)
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 404 {
		t.Fatalf("got %v, want a StatusError with code 404", err)
	}
}

// A server whose certificate is not trusted is refused.
func TestHTTPSUntrustedCertificate(t *testing.T) {
	base, _, _ := newTLSServer(t)
	var ue x509.UnknownAuthorityError
	err := readAt(New(Config{}), base+"/file", make([]byte, 10), 0)
	if !errors.As(err, &ue) {
		t.Fatalf("got %v, want an unknown authority error", err)
	}
}

// An http:// URL redirected to https:// (and back) is followed.
func TestRedirectAcrossSchemes(t *testing.T) {
	tlsBase, roots, _ := newTLSServer(t)
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, tlsBase+"/file", http.StatusFound)
	}))
	defer plain.Close()
	dst := make([]byte, 4000)
	if err := readAt(New(Config{RootCAs: roots}), plain.URL+"/x", dst, 500); err != nil || !bytes.Equal(dst, testFile[500:4500]) {
		t.Fatalf("got %v", err)
	}
}
