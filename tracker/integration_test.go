package tracker

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// runLoop runs fn as the main task of a fresh loop and fails the test on
// error.
func runLoop(t *testing.T, fn func(at *aio.Task) error) {
	t.Helper()
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) { return struct{}{}, fn(at) })
	if err != nil {
		t.Fatal(err)
	}
}

var loopback = netip.MustParseAddrPort("127.0.0.1:0")

// clientReq is client id's announce; the info-hash depends on the port's
// hundreds so that the HTTP and UDP rounds use different swarms.
func clientReq(id byte, port uint16, ev Event) AnnounceRequest {
	r := AnnounceRequest{InfoHash: testHash(port), Port: port, Left: 100, Event: ev}
	copy(r.PeerID[:], "-AI0001-client-")
	r.PeerID[19] = id
	return r
}

// TestOwnServerTwoClients announces two clients to our own server over
// HTTP and over UDP: each gets the other back, and stopped removes one.
func TestOwnServerTwoClients(t *testing.T) {
	runLoop(t, func(at *aio.Task) error {
		srv, err := Serve(at, ServerConfig{HTTPAddr: loopback, UDPAddr: loopback, Interval: time.Minute})
		if err != nil {
			return err
		}
		defer srv.Close()
		// No t.Run here: a subtest runs on another goroutine, and only
		// this task may await on the loop.
		for _, url := range []string{srv.AnnounceURL(), srv.UDPAnnounceURL()} {
			twoClients(t, at, url)
		}
		return nil
	})
}

func twoClients(t *testing.T, at *aio.Task, url string) {
	cfg := Config{Timeout: 5 * time.Second, UDPRetryUnit: 200 * time.Millisecond}
	a, err := New(url, cfg)
	if err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	t.Logf("clients announce to %s", url)
	b, _ := New(url, cfg)
	pa, pb := ap("127.0.0.1:7001"), ap("127.0.0.1:7002")
	if strings.HasPrefix(url, "udp") {
		pa, pb = ap("127.0.0.1:7101"), ap("127.0.0.1:7102")
	}
	ra, err := a.Announce(at, clientReq('a', pa.Port(), EventStarted))
	if err != nil {
		t.Fatal(err)
	}
	if len(ra.Peers) != 0 || ra.Incomplete != 1 {
		t.Errorf("first client: got %v, %d leechers; want no peers, 1 leecher", ra.Peers, ra.Incomplete)
	}
	rb, err := b.Announce(at, clientReq('b', pb.Port(), EventStarted))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rb.Peers, []netip.AddrPort{pa}) || rb.Interval != time.Minute {
		t.Errorf("second client: got %v interval %v, want [%v] interval 1m", rb.Peers, rb.Interval, pa)
	}
	ra, err = a.Announce(at, clientReq('a', pa.Port(), EventNone))
	if err != nil || !slices.Equal(ra.Peers, []netip.AddrPort{pb}) {
		t.Errorf("first client again: got %v, %v; want [%v]", ra, err, pb)
	}
	if _, err := b.Announce(at, clientReq('b', pb.Port(), EventStopped)); err != nil {
		t.Fatal(err)
	}
	ra, err = a.Announce(at, clientReq('a', pa.Port(), EventNone))
	if err != nil || len(ra.Peers) != 0 || ra.Incomplete != 1 {
		t.Errorf("after stopped: got %+v, %v; want no peers", ra, err)
	}
	ih := testHash(pa.Port())
	stats, err := a.(Scraper).Scrape(at, [][20]byte{ih})
	if err != nil || stats[ih] != (ScrapeStats{Incomplete: 1}) {
		t.Errorf("scrape: got %v, %v; want 1 leecher", stats, err)
	}
}

func testHash(port uint16) [20]byte { return [20]byte{0xab, byte(port / 100)} }
