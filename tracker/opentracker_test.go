package tracker

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// Interop with opentracker (Debian package "opentracker"), started here on
// a free loopback port in whitelist mode, as INTEROP.md describes.

var otHash = [20]byte{0x0a, 0x17, 0x07, 0x0e, 0x11}

// startOpentracker runs opentracker on 127.0.0.1:port (TCP and UDP) with
// otHash whitelisted and returns the port. Missing binary: fail under CI,
// skip otherwise.
func startOpentracker(t *testing.T) uint16 {
	t.Helper()
	bin, err := exec.LookPath("opentracker")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("opentracker not installed (apt-get install -y opentracker); required when CI=true")
		}
		t.Skip("opentracker not installed: apt-get install -y opentracker to run the interop tests")
	}
	// opentracker drops to "nobody" before it reads the whitelist, so the
	// directory must be world-readable (t.TempDir's parent is 0700).
	dir, err := os.MkdirTemp("", "opentracker")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	wl := filepath.Join(dir, "whitelist.txt")
	conf := filepath.Join(dir, "ot.conf")
	if err := os.WriteFile(wl, []byte(hex.EncodeToString(otHash[:])+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte("access.whitelist "+wl+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	p := fmt.Sprint(port)
	cmd := exec.Command(bin, "-f", conf, "-i", "127.0.0.1", "-p", p, "-P", p)
	cmd.Dir = "/" // it chroots to its working directory; the paths above are absolute
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// Wait until it answers for our torrent: it listens first and loads the
	// whitelist afterwards, on its own thread. A bounded poll for another
	// process's readiness is the one place a test has to wait on the clock.
	// The probe is a real announce (a "stopped" one is answered before the
	// whitelist is checked), taken back with "stopped" once it succeeds.
	probe := fmt.Sprintf("http://127.0.0.1:%d/announce?info_hash=%s&peer_id=%s&port=1&event=",
		port, escapeBytes(otHash[:]), strings.Repeat("p", 20))
	client := &http.Client{Timeout: time.Second}
	for i := 0; ; i++ {
		body, err := httpGetBody(client, probe+"started")
		if err == nil && !strings.Contains(body, "failure reason") {
			if _, err := httpGetBody(client, probe+"stopped"); err != nil {
				t.Fatal(err)
			}
			return port
		}
		if i == 100 {
			t.Fatalf("opentracker on port %d not ready: %v %q", port, err, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func httpGetBody(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return string(b), err
}

// freePort finds a port free for both TCP and UDP on 127.0.0.1.
func freePort(t *testing.T) uint16 {
	t.Helper()
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		ln.Close()
		if err == nil {
			u.Close()
			return uint16(port)
		}
	}
	t.Fatal("no port free for both TCP and UDP")
	return 0
}

func otReq(id byte, port uint16, ev Event) AnnounceRequest {
	r := clientReq(id, port, ev)
	r.InfoHash = otHash
	return r
}

func TestOpentrackerInterop(t *testing.T) {
	port := startOpentracker(t)
	urls := []string{
		fmt.Sprintf("http://127.0.0.1:%d/announce", port),
		fmt.Sprintf("udp://127.0.0.1:%d", port),
	}
	runLoop(t, func(at *aio.Task) error {
		for i, url := range urls {
			otTwoClients(t, at, url, uint16(7300+100*i))
		}
		return nil
	})
}

// otTwoClients: a and b announce, b sees a, b stops, a no longer sees b.
// opentracker hands each requester back to itself, so the checks look for
// the other client, not for an exact list.
func otTwoClients(t *testing.T, at *aio.Task, url string, base uint16) {
	cfg := Config{Timeout: 5 * time.Second, UDPRetryUnit: 500 * time.Millisecond}
	a, err := New(url, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := New(url, cfg)
	pa, pb := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), base+1), netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), base+2)
	if _, err := a.Announce(at, otReq('a', pa.Port(), EventStarted)); err != nil {
		t.Fatalf("%s: a started: %v", url, err)
	}
	rb, err := b.Announce(at, otReq('b', pb.Port(), EventStarted))
	if err != nil {
		t.Fatalf("%s: b started: %v", url, err)
	}
	if !slices.Contains(rb.Peers, pa) || rb.Interval <= 0 || rb.Incomplete != 2 {
		t.Errorf("%s: b got %+v, want a (%v) among the peers, an interval, 2 leechers", url, rb, pa)
	}
	if _, err := b.Announce(at, otReq('b', pb.Port(), EventStopped)); err != nil {
		t.Fatalf("%s: b stopped: %v", url, err)
	}
	ra, err := a.Announce(at, otReq('a', pa.Port(), EventNone))
	if err != nil || slices.Contains(ra.Peers, pb) {
		t.Errorf("%s: after b stopped a got %+v, %v; want no b", url, ra, err)
	}
	stats, err := a.(Scraper).Scrape(at, [][20]byte{otHash})
	if err != nil || stats[otHash].Incomplete != 1 {
		t.Errorf("%s: scrape got %+v, %v; want 1 leecher", url, stats, err)
	}
	a.Announce(at, otReq('a', pa.Port(), EventStopped))

	// A torrent that is not whitelisted is refused: over HTTP with a
	// failure reason; over UDP, Debian's opentracker answers with a bare
	// 8-byte announce header (not an action-3 error), which must come out
	// as a clear error rather than an empty success.
	req := otReq('a', pa.Port(), EventStarted)
	req.InfoHash[19] = 0xff
	_, err = a.Announce(at, req)
	var fe *FailureError
	if !errors.As(err, &fe) && !(strings.HasPrefix(url, "udp") && errors.Is(err, ErrBadResponse)) {
		t.Errorf("%s: not whitelisted: got %v, want a refusal", url, err)
	}
}

// TestOpentrackerAnnouncer runs an Announcer against opentracker: the peer
// already there lands on the queue, our own address (which opentracker
// hands back) does not, and cancelling sends "stopped".
func TestOpentrackerAnnouncer(t *testing.T) {
	port := startOpentracker(t)
	for i, url := range []string{
		fmt.Sprintf("http://127.0.0.1:%d/announce", port),
		fmt.Sprintf("udp://127.0.0.1:%d", port),
	} {
		runLoop(t, func(at *aio.Task) error {
			return announcerAgainst(t, at, url, uint16(7500+100*i))
		})
	}
}

func announcerAgainst(t *testing.T, at *aio.Task, url string, base uint16) error {
	cfg := Config{Timeout: 5 * time.Second, UDPRetryUnit: 500 * time.Millisecond}
	other, _ := New(url, cfg)
	otherAddr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), base+1)
	self := netip.AddrPortFrom(netip.IPv4Unspecified(), base+2)
	if _, err := other.Announce(at, otReq('o', otherAddr.Port(), EventStarted)); err != nil {
		return fmt.Errorf("%s: %w", url, err)
	}
	tr, _ := New(url, cfg)
	q := aio.NewQueue[netip.AddrPort](16)
	an := NewAnnouncer(AnnouncerConfig{
		Tracker: tr,
		Request: func() AnnounceRequest { return otReq('s', self.Port(), EventNone) },
		Peers:   q,
		Self:    []netip.AddrPort{self},
	})
	h := aio.Spawn(at, "announcer", func(t *aio.Task) (struct{}, error) { return struct{}{}, an.Run(t) })
	got, err := aio.WaitFor(at, 5*time.Second, q.Get)
	if err != nil || got != otherAddr {
		t.Errorf("%s: queue got %v, %v; want %v", url, got, err, otherAddr)
	}
	// Another announce from opentracker's view must not add ourselves.
	if extra, ok := q.TryGet(); ok {
		t.Errorf("%s: queue also got %v; want only the other peer (self is %v)", url, extra, self)
	}
	h.Cancel()
	if _, err := aio.Await(at, h); !errors.Is(err, aio.ErrCanceled) {
		t.Errorf("%s: announcer ended with %v, want ErrCanceled", url, err)
	}
	r, err := other.Announce(at, otReq('o', otherAddr.Port(), EventNone))
	if err != nil {
		return err
	}
	if slices.Contains(r.Peers, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), self.Port())) {
		t.Errorf("%s: after the announcer stopped, the tracker still lists it: %v", url, r.Peers)
	}
	if st := an.Status(); st.Announces != 2 || st.PeersFound != 1 {
		t.Errorf("%s: status %+v, want 2 announces (started, stopped) and 1 peer", url, st)
	}
	_, err = other.Announce(at, otReq('o', otherAddr.Port(), EventStopped))
	return err
}
