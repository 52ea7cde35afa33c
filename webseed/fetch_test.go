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
	"syscall"
	"testing"

	"github.com/aiotorrent/aiotorrent/aio"
)

// TestFetchWholeFile fetches files of unknown length however the server
// delimits them (a length, chunks, the end of the stream), after a
// redirect, over http and https, and refuses a body over the bound
// whichever way it comes, and a status other than 200.
func TestFetchWholeFile(t *testing.T) {
	body := testFile[:5000]
	mux := http.NewServeMux()
	mux.HandleFunc("/length", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Range") != "" {
			http.Error(w, "a Range was sent", http.StatusBadRequest)
			return
		}
		w.Write(body) // one write: net/http sets Content-Length
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/length", http.StatusFound) })
	mux.HandleFunc("/chunked", hijack(func(c net.Conn, rw *bufio.ReadWriter) {
		fmt.Fprintf(rw, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7D0\r\n%s\r\nbb8\r\n%s\r\n0\r\n\r\n", body[:2000], body[2000:])
	}))
	mux.HandleFunc("/eof", hijack(func(c net.Conn, rw *bufio.ReadWriter) {
		rw.WriteString("HTTP/1.0 200 OK\r\n\r\n")
		rw.Write(body)
	}))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tls := httptest.NewTLSServer(mux)
	defer tls.Close()
	roots := tls.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs

	for _, tc := range []struct {
		url  string
		max  int
		want error // nil: body
	}{
		{srv.URL + "/length", 5000, nil},
		{srv.URL + "/moved", 5000, nil},
		{srv.URL + "/chunked", 5000, nil},
		{srv.URL + "/eof", 5000, nil},
		{tls.URL + "/moved", 5000, nil},
		{srv.URL + "/length", 4999, ErrTooLarge},
		{srv.URL + "/chunked", 4999, ErrTooLarge},
		{srv.URL + "/eof", 4999, ErrTooLarge},
		{tls.URL + "/length", 4999, ErrTooLarge},
		{srv.URL + "/nothing", 5000, ErrStatus},
		{tls.URL + "/nothing", 5000, ErrStatus},
	} {
		got, err := aio.Run(func(t *aio.Task) ([]byte, error) {
			c := New(Config{RootCAs: roots})
			defer c.Close()
			return c.Fetch(t, tc.url, tc.max)
		})
		switch {
		case tc.want == nil && (err != nil || !bytes.Equal(got, body)):
			t.Errorf("%s: %d bytes, %v; want the %d bytes", tc.url, len(got), err, len(body))
		case tc.want != nil && !errors.Is(err, tc.want):
			t.Errorf("%s (max %d): %d bytes, %v; want %v", tc.url, tc.max, len(got), err, tc.want)
		}
	}
}

// TestFetchRefusedKeepsTheErrno: the error of a refused connect names the
// address once and still unwraps to ECONNREFUSED.
func TestFetchRefusedKeepsTheErrno(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = aio.Run(func(t *aio.Task) ([]byte, error) {
		c := New(Config{})
		defer c.Close()
		return c.Fetch(t, "http://"+addr+"/x", 1<<10)
	})
	if !errors.Is(err, syscall.ECONNREFUSED) || strings.Count(fmt.Sprint(err), addr) != 2 {
		t.Errorf("Fetch from a closed port: %v; want ECONNREFUSED and %s twice (URL and dial)", err, addr)
	}
}
