package webseed

import (
	"errors"
	"testing"
)

func TestParseHeader(t *testing.T) {
	tests := []struct {
		in   string
		want Header
		err  error
	}{
		{"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/100\r\nContent-Length: 10\r\n\r\n",
			Header{Minor: 1, Status: 206, Reason: "Partial Content", ContentLength: 10, Range: ContentRange{0, 9, 100, true}}, nil},
		{"HTTP/1.0 200 OK\nContent-Length: 5\n\n", Header{Status: 200, Reason: "OK", ContentLength: 5, Close: true}, nil},
		{"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n\r\n", Header{Status: 200, Reason: "OK", ContentLength: -1}, nil},
		{"HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n",
			Header{Minor: 1, Status: 200, Reason: "OK", ContentLength: -1, Chunked: true, Close: true}, nil},
		{"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
			Header{Minor: 1, Status: 200, Reason: "OK", ContentLength: -1, Chunked: true, Close: true}, nil},
		{"HTTP/1.1 302\r\nLocation: /a b\r\n\r\n", Header{Minor: 1, Status: 302, ContentLength: -1, Location: "/a b"}, nil},
		{"HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */100\r\n\r\n",
			Header{Minor: 1, Status: 416, Reason: "Range Not Satisfiable", ContentLength: -1, Range: ContentRange{-1, -1, 100, true}}, nil},
		{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", Header{}, ErrBadResponse},
		{"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n", Header{}, ErrBadResponse},
		{"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", Header{}, ErrBadResponse},
		{"HTTP/1.1 206 OK\r\nContent-Range: bytes 9-0/100\r\n\r\n", Header{}, ErrBadResponse},
		{"HTTP/1.1 206 OK\r\nContent-Range: bytes 0-100/100\r\n\r\n", Header{}, ErrBadResponse},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", Header{}, ErrBadResponse},
		{"HTTP/1.1 200 OK\r\n folded\r\n\r\n", Header{}, ErrBadResponse},
		{"HTTP/2 200\r\n\r\n", Header{}, ErrBadResponse},
		{"HTTP/1.1 20 OK\r\n\r\n", Header{}, ErrBadResponse},
		{"ICY 200 OK\r\n\r\n", Header{}, ErrBadResponse},
	}
	for _, tc := range tests {
		got, err := ParseHeader([]byte(tc.in))
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("ParseHeader(%q): got error %v, want %v", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseHeader(%q):\ngot  %+v, %v\nwant %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestHeaderEnd(t *testing.T) {
	for in, want := range map[string]int{
		"HTTP/1.1 200 OK\r\n\r\nbody": 19,
		"HTTP/1.1 200 OK\n\nbody":     17,
		"\r\nHTTP/1.1 200 OK\r\n\r\n": 21,
		"HTTP/1.1 200 OK\r\nA: b\r\n": -1,
		"":                            -1,
	} {
		if got := headerEnd([]byte(in)); got != want {
			t.Errorf("headerEnd(%q) = %d, want %d", in, got, want)
		}
	}
}

// FuzzParseHeader: hostile headers give an error or a header whose
// framing fields are sane, never a panic.
func FuzzParseHeader(f *testing.F) {
	f.Add([]byte("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/100\r\nContent-Length: 10\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: identity, chunked\r\nConnection: close\r\n\r\n"))
	f.Add([]byte("HTTP/1.0 302 Found\nLocation: http://x/ü\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		end := headerEnd(b)
		if end > len(b) {
			t.Fatalf("headerEnd %d beyond %d bytes", end, len(b))
		}
		h, err := ParseHeader(b)
		if err != nil {
			return
		}
		if h.Status < 100 || h.Status > 999 || h.ContentLength < -1 || h.Chunked && h.ContentLength != -1 {
			t.Fatalf("%+v", h)
		}
		if r := h.Range; r.Set && r.First >= 0 && (r.Last < r.First || r.Size >= 0 && r.Last >= r.Size) {
			t.Fatalf("range %+v", r)
		}
	})
}
