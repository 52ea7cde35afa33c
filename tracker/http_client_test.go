package tracker

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// rawServer answers each HTTP request with canned bytes chosen by path,
// then closes; "/hang" never answers. It runs on its own goroutines: it
// stands for a tracker out there, not for our code.
func rawServer(t *testing.T, answers map[string]string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				if req.URL.Path == "/hang" {
					c.SetReadDeadline(time.Now().Add(5 * time.Second))
					c.Read(make([]byte, 1))
					return
				}
				fmt.Fprint(c, answers[req.URL.Path])
			}()
		}
	}()
	return ln.Addr().String()
}

func TestHTTPClient(t *testing.T) {
	body := "d8:intervali60e5:peers6:\x0a\x00\x00\x01\x00\x50e"
	chunked := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
		fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(body), body)
	var addr string
	addr = rawServer(t, map[string]string{
		"/announce":   okHTTP(body),
		"/chunked":    chunked,
		"/eof":        "HTTP/1.0 200 OK\r\n\r\n" + body,
		"/r1":         "HTTP/1.1 302 Found\r\nLocation: /r2?x=1\r\nContent-Length: 0\r\n\r\n",
		"/r2":         "HTTP/1.1 301 Moved\r\nLocation: /announce\r\nContent-Length: 0\r\n\r\n",
		"/loop":       "HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n",
		"/ftp":        "HTTP/1.1 302 Found\r\nLocation: ftp://x/\r\nContent-Length: 0\r\n\r\n",
		"/big":        "HTTP/1.1 200 OK\r\n\r\n" + strings.Repeat("x", MaxBodySize+10),
		"/scrape":     okHTTP("d5:filesd20:" + rawIH + "d8:completei2e10:downloadedi3e10:incompletei4eeee"),
		"/x/announce": okHTTP("d10:tracker id3:tid8:intervali60ee"),
		"/failure":    okHTTP("d14:failure reason7:go awaye"),
	})
	want := &AnnounceResponse{Interval: time.Minute, Peers: []netip.AddrPort{ap("10.0.0.1:80")}}
	tests := []struct {
		path string
		err  error
	}{
		{"/announce", nil}, {"/chunked", nil}, {"/eof", nil}, {"/r1", nil},
		{"/loop", ErrTooManyRedirects}, {"/ftp", ErrBadResponse}, {"/big", ErrTooLarge},
		{"/hang", ErrTimeout}, {"/nothing", ErrBadResponse}, {"/failure", &FailureError{}},
	}
	cfg := Config{Timeout: 300 * time.Millisecond}
	runLoop(t, func(at *aio.Task) error {
		for _, tt := range tests {
			tr, _ := New("http://"+addr+tt.path, cfg)
			got, err := tr.Announce(at, testRequest())
			var fe *FailureError
			switch {
			case tt.err == nil && (err != nil || fmt.Sprint(got) != fmt.Sprint(want)):
				t.Errorf("%s: got %+v, %v; want %+v", tt.path, got, err, want)
			case tt.err == nil:
			case errors.As(tt.err, &fe):
				if !errors.As(err, &fe) || fe.Reason != "go away" {
					t.Errorf("%s: got %v, want the failure reason", tt.path, err)
				}
			case !errors.Is(err, tt.err):
				t.Errorf("%s: got %v, want %v", tt.path, err, tt.err)
			}
		}
		// The tracker id is remembered and echoed back.
		tr, _ := New("http://"+addr+"/x/announce", cfg)
		tr.Announce(at, testRequest())
		if h := tr.(*httpTracker); h.trackerID != "tid" {
			t.Errorf("tracker id: got %q, want \"tid\"", h.trackerID)
		}
		stats, err := tr.(Scraper).Scrape(at, [][20]byte{[20]byte([]byte(rawIH))})
		if err == nil {
			t.Errorf("scrape of /x/announce: got %v, want an error (its scrape path is /x/scrape)", stats)
		}
		stats, err = Scrape(at, "http://"+addr+"/announce", [][20]byte{[20]byte([]byte(rawIH))})
		if err != nil || stats[[20]byte([]byte(rawIH))] != (ScrapeStats{2, 3, 4}) {
			t.Errorf("scrape: got %v, %v", stats, err)
		}
		return nil
	})
}

func TestHTTPSClient(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old" {
			http.Redirect(w, r, "/announce?"+r.URL.RawQuery, http.StatusFound)
			return
		}
		if len(r.URL.Query().Get("info_hash")) != 20 {
			fmt.Fprint(w, "d14:failure reason12:bad infohashe")
			return
		}
		fmt.Fprint(w, "d8:intervali60e5:peers6:\x0a\x00\x00\x01\x00\x50e")
	}))
	defer srv.Close()
	cfg := Config{Timeout: 5 * time.Second, HTTPSClient: srv.Client()}
	runLoop(t, func(at *aio.Task) error {
		tr, err := New(srv.URL+"/old", cfg)
		if err != nil {
			return err
		}
		got, err := tr.Announce(at, testRequest())
		if err != nil || !slices.Equal(got.Peers, []netip.AddrPort{ap("10.0.0.1:80")}) {
			t.Errorf("https: got %+v, %v", got, err)
		}
		return nil
	})
}

func TestNew(t *testing.T) {
	for _, tt := range []struct {
		url string
		ok  bool
	}{
		{"http://t/announce", true}, {"https://t:443/a", true}, {"udp://t:6969", true},
		{"udp://t:6969/announce", true}, {"udp://t", false}, {"wss://t", false}, {"http://", false}, {":", false},
	} {
		tr, err := New(tt.url, Config{})
		if (err == nil) != tt.ok {
			t.Errorf("New(%q): got %v, want ok=%v", tt.url, err, tt.ok)
		}
		if err == nil && tr.URL() != tt.url {
			t.Errorf("New(%q).URL() = %q", tt.url, tr.URL())
		}
	}
}
