package tracker

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// TestServerHTTPBounds: an oversized request gets 431, a silent client is
// dropped after RequestTimeout, and a well-formed one is answered.
func TestServerHTTPBounds(t *testing.T) {
	runLoop(t, func(at *aio.Task) error {
		srv, err := Serve(at, ServerConfig{HTTPAddr: loopback, RequestTimeout: 100 * time.Millisecond})
		if err != nil {
			return err
		}
		defer srv.Close()
		exchange := func(send string) (string, error) {
			c, err := aio.DialTCP(at, srv.HTTPAddr(), time.Second)
			if err != nil {
				return "", err
			}
			defer c.Close()
			if err := c.WriteAll(at, []byte(send)); err != nil {
				return "", err
			}
			var out []byte
			buf := make([]byte, 4096)
			for range 100 {
				n, err := c.Read(at, buf)
				out = append(out, buf[:n]...)
				if errors.Is(err, io.EOF) {
					return string(out), nil
				}
				if err != nil {
					return string(out), err
				}
			}
			return string(out), errors.New("response never ended")
		}
		tests := []struct{ name, send, wantPrefix string }{
			{"oversized", "GET /announce?" + strings.Repeat("a", maxHTTPRequest) + " HTTP/1.1\r\n", "HTTP/1.1 431 "},
			{"silent", "", ""},
			{"half a request", "GET /announce HTTP/1.1\r\n", ""},
			{"not found", "GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 404 "},
			{"ok", "GET /announce?info_hash=" + ihA + "&port=1 HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 "},
		}
		for _, tt := range tests {
			got, err := exchange(tt.send)
			if tt.name == "oversized" {
				err = nil // the server closes with our excess unread: a reset after its reply is expected
			}
			if err != nil || !strings.HasPrefix(got, tt.wantPrefix) || (tt.wantPrefix == "" && got != "") {
				t.Errorf("%s: got %q, %v; want a reply starting %q", tt.name, got, err, tt.wantPrefix)
			}
		}
		if srv.UDPAddr().IsValid() || srv.UDPAnnounceURL() != "" {
			t.Errorf("UDP off: got address %v", srv.UDPAddr())
		}
		return nil
	})
}

func TestServeConfig(t *testing.T) {
	runLoop(t, func(at *aio.Task) error {
		if _, err := Serve(at, ServerConfig{}); err == nil {
			t.Errorf("Serve with no address: got nil error")
		}
		srv, err := Serve(at, ServerConfig{UDPAddr: loopback})
		if err != nil {
			return err
		}
		if srv.HTTPAddr().IsValid() || !strings.HasPrefix(srv.AnnounceURL(), "udp://127.0.0.1:") {
			t.Errorf("UDP only: got HTTP %v, announce URL %q", srv.HTTPAddr(), srv.AnnounceURL())
		}
		srv.Close()
		srv.Close()
		// ListenAndServe returns when its task is cancelled.
		var addr string
		h := aio.Spawn(at, "tracker", func(t *aio.Task) (struct{}, error) {
			return struct{}{}, ListenAndServe(t, ServerConfig{HTTPAddr: loopback}, func(s *Server) { addr = s.AnnounceURL() })
		})
		if _, err := Announce(at, waitAddr(at, &addr), AnnounceRequest{Port: 1}); err != nil {
			t.Errorf("announce to ListenAndServe: %v", err)
		}
		h.Cancel()
		if _, err := aio.Await(at, h); err != nil {
			t.Errorf("ListenAndServe after cancel: got %v, want nil", err)
		}
		return nil
	})
}

// waitAddr yields until the spawned server has published its URL; the
// spawned task runs on the next loop steps, so a few yields suffice.
func waitAddr(at *aio.Task, addr *string) string {
	for i := 0; i < 100 && *addr == ""; i++ {
		aio.Yield(at)
	}
	return *addr
}
