package tracker

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// ensureOpenFiles raises the soft open-file limit to need if the hard
// limit allows (Go already raises it to the hard limit at start on most
// systems), and skips the test if it cannot.
func ensureOpenFiles(t *testing.T, need uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("getrlimit: %v", err)
	}
	if uint64(lim.Cur) >= need {
		return
	}
	if uint64(lim.Max) < need {
		t.Skipf("the hard open-file limit %d is below the %d this test needs", lim.Max, need)
	}
	old := lim
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("setrlimit: %v", err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
}

// concurrentAnnounces opens n connections to srv, waits until the server
// holds all of them, then sends an announce on each and returns every
// reply's status line (or the error in its place).
func concurrentAnnounces(at *aio.Task, srv *Server, n int) ([]string, error) {
	conns := make([]*aio.TCPConn, n)
	for i := range conns {
		c, err := aio.DialTCP(at, srv.HTTPAddr(), 10*time.Second)
		if err != nil {
			return nil, fmt.Errorf("dial %d: %w", i, err)
		}
		defer c.Close()
		conns[i] = c
	}
	for i := 0; len(srv.conns) < n; i++ {
		if i > 100000 {
			return nil, fmt.Errorf("the server holds %d of %d connections", len(srv.conns), n)
		}
		aio.Yield(at)
	}
	status := make([]string, n)
	g := aio.NewGroup(at)
	for i, c := range conns {
		g.Go("client", func(t *aio.Task) error {
			peer := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 1)
			req := fmt.Sprintf("GET /announce?info_hash=%s&peer_id=%s&port=%d&numwant=5 HTTP/1.1\r\nHost: t\r\n\r\n",
				ihA, pidA, peer.Port()+uint16(i))
			if err := c.WriteAll(t, []byte(req)); err != nil {
				status[i] = err.Error()
				return nil
			}
			var out []byte
			buf := make([]byte, 4096)
			for {
				m, err := c.Read(t, buf)
				out = append(out, buf[:m]...)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					status[i] = err.Error()
					return nil
				}
			}
			line, body, _ := bytes.Cut(out, []byte("\r\n\r\n"))
			first, _, _ := bytes.Cut(line, []byte("\r\n"))
			status[i] = string(first) // empty if closed unanswered
			if bytes.HasPrefix(line, []byte("HTTP/1.1 200 ")) {
				if _, err := parseHTTPAnnounce(out); err != nil {
					status[i] = fmt.Sprintf("bad body %q: %v", body, err)
				}
			}
			return nil
		})
	}
	return status, g.Wait(at)
}

// TestServerAnswersThousandConcurrentAnnounces: the server used to close
// every connection beyond 256 without a word (66% of announces lost at
// 1,000 concurrent). All 1,000 are answered now.
func TestServerAnswersThousandConcurrentAnnounces(t *testing.T) {
	const n = 1000
	ensureOpenFiles(t, 2*n+64) // both ends of each connection are in this process
	runLoop(t, func(at *aio.Task) error {
		srv, err := Serve(at, ServerConfig{HTTPAddr: loopback})
		if err != nil {
			return err
		}
		defer srv.Close()
		status, err := concurrentAnnounces(at, srv, n)
		if err != nil {
			return err
		}
		for i, s := range status {
			if s != "HTTP/1.1 200 OK" {
				t.Errorf("client %d: got %q, want an announce answer", i, s)
			}
		}
		return nil
	})
}

// TestServerOverConnCapAnswers503: connections over MaxConns are read and
// answered "503 Service Unavailable", never closed unanswered.
func TestServerOverConnCapAnswers503(t *testing.T) {
	const n, limit = 40, 10
	ensureOpenFiles(t, 2*n+64)
	runLoop(t, func(at *aio.Task) error {
		srv, err := Serve(at, ServerConfig{HTTPAddr: loopback, MaxConns: limit})
		if err != nil {
			return err
		}
		defer srv.Close()
		status, err := concurrentAnnounces(at, srv, n)
		if err != nil {
			return err
		}
		counts := map[string]int{}
		for _, s := range status {
			counts[s]++
		}
		if counts["HTTP/1.1 200 OK"] != limit || counts["HTTP/1.1 503 Service Unavailable"] != n-limit {
			t.Errorf("got %v, want %d answered 200 and %d answered 503", counts, limit, n-limit)
		}
		return nil
	})
}
