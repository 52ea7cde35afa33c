package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aiotorrent/aiotorrent/metainfo"
)

// shareWithTrackers writes the files of makeShare and a torrent of them
// that names the given trackers, one tier each.
func shareWithTrackers(t *testing.T, trackers ...string) string {
	t.Helper()
	root := t.TempDir()
	makeShare(t, root, "share", shareSizes)
	var tiers [][]string
	for _, u := range trackers {
		tiers = append(tiers, []string{u})
	}
	_, raw, err := metainfo.CreateSync(metainfo.CreateOptions{Path: filepath.Join(root, "share"), PieceLength: 32 << 10, Announce: tiers})
	if err != nil {
		t.Fatal(err)
	}
	tp := filepath.Join(root, "trackers.torrent")
	if err := os.WriteFile(tp, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return tp
}

// closedPort is a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestTrackerFailuresShown runs the CLI piped against three trackers: one
// refuses connections, one has a scheme we do not speak, one refuses the
// first announce and answers the retry. Each failure is printed once with
// the URL and the reason, the progress line says there are no peers and
// why (it said "0 peers 0 B/s" forever), and the recovery is printed.
func TestTrackerFailuresShown(t *testing.T) {
	var announces atomic.Int32
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if announces.Add(1) == 1 {
			w.Write([]byte("d14:failure reason9:not todaye"))
			return
		}
		w.Write([]byte("d8:intervali60e5:peers0:e"))
	}))
	defer flaky.Close()
	refusing := "http://" + closedPort(t) + "/announce"
	wss := "wss://tracker.example/announce"
	tp := shareWithTrackers(t, refusing, wss, flaky.URL+"/announce")

	d := startProc(t, buildCLI(t), "download", tp, "-o", t.TempDir(), "--port", "0", "--no-dht", "--no-lsd")
	for _, want := range []string{
		"share: tracker " + refusing + ": connection refused",
		"share: tracker " + wss + ": unsupported scheme (http, https and udp work)",
		"share: tracker " + flaky.URL + `/announce: refused: "not today"`,
	} {
		d.waitLine(t, func(l string) bool { return l == want })
	}
	d.waitLine(t, func(l string) bool {
		return strings.HasPrefix(l, "share: 0 B / 361.3 KiB (0.0%), 0 B/s, no peers: tracker "+refusing+": connection refused (and 2 more failing), ETA –")
	})
	// The announcer retries after tracker.DefaultRetryMin (15 s).
	d.waitLine(t, func(l string) bool { return l == "share: tracker "+flaky.URL+"/announce ok, 0 peers" })
	d.waitLine(t, func(l string) bool { return l == "share: 0 B / 361.3 KiB (0.0%), 0 B/s, 0 peers, ETA –" })
	d.kill(t)
	if n := strings.Count(d.output(), "connection refused\n"); n != 1 {
		t.Errorf("the refusing tracker was reported %d times, want once", n)
	}
}

// TestSilentUDPTrackerShown: a UDP tracker that never answers is
// retransmitted to for a minute; the user hears of it after
// noAnswerAfter, not when the announce finally times out.
func TestSilentUDPTrackerShown(t *testing.T) {
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	u := "udp://" + silent.LocalAddr().String() + "/announce"
	tp := shareWithTrackers(t, u)
	d := startProc(t, buildCLI(t), "download", tp, "-o", t.TempDir(), "--port", "0", "--no-dht", "--no-lsd")
	d.waitLine(t, func(l string) bool { return l == "share: tracker "+u+": no answer after 5s" })
	d.kill(t)
}

// TestFirstLineDoesNotSayNoTracker: the first progress report comes
// before the trackers are asked; its line said "no peers: no tracker,
// and DHT and LSD are off" of a torrent that has one.
func TestFirstLineDoesNotSayNoTracker(t *testing.T) {
	bin := buildCLI(t)
	tp, port, _ := stalledTrackedSwarm(t, bin)
	d := startProc(t, bin, "download", tp, "-o", t.TempDir(), "--port", "0", "--no-dht", "--no-lsd", "--peer", "127.0.0.1:"+port)
	d.waitLine(t, func(l string) bool { return strings.Contains(l, "1 peer") })
	if err := d.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	d.wait(t)
	if out := d.output(); strings.Contains(out, "no tracker") {
		t.Errorf("a torrent with a tracker said it has none:\n%s", out)
	}
}

// TestGivenPeerIsASourceOfPeers: a torrent with no tracker, downloaded
// under --no-dht --no-lsd from a --peer, said "no peers: no tracker, and
// DHT and LSD are off" until the peer connected.
func TestGivenPeerIsASourceOfPeers(t *testing.T) {
	root := t.TempDir()
	tp := makeShare(t, root, "share", shareSizes)
	peer := startSeeder(t, tp, root)
	r := runCLI(t, "", "download", tp, "-o", t.TempDir(), "--port", "0", "--no-dht", "--no-lsd", "--peer", peer)
	if r.code != exitOK || strings.Contains(r.out, "no peers") || strings.Contains(r.out, "no source") {
		t.Errorf("exit %d, stdout %q; want 0 and no word of having no peers", r.code, r.out)
	}
}
