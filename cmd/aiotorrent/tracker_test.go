package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/tracker"
)

func TestTrackerFlags(t *testing.T) {
	def := netip.MustParseAddrPort(defaultTrackerAddr)
	tests := []struct {
		args         []string
		wantHTTP     netip.AddrPort
		wantUDP      netip.AddrPort
		wantInterval time.Duration
	}{
		{nil, def, def, 30 * time.Minute},
		{[]string{"--udp", ""}, def, netip.AddrPort{}, 30 * time.Minute},
		{[]string{"--http", "", "--udp", "127.0.0.1:0"}, netip.AddrPort{}, netip.MustParseAddrPort("127.0.0.1:0"), 30 * time.Minute},
		{[]string{"--http", ":7000"}, netip.MustParseAddrPort("0.0.0.0:7000"), def, 30 * time.Minute},
		{[]string{"--http", "[::1]:7000"}, netip.MustParseAddrPort("[::1]:7000"), def, 30 * time.Minute},
		{[]string{"--http", "localhost:1"}, netip.MustParseAddrPort("127.0.0.1:1"), def, 30 * time.Minute},
		{[]string{"--udp", "[::ffff:10.0.0.1]:9"}, def, netip.MustParseAddrPort("10.0.0.1:9"), 30 * time.Minute},
		{[]string{"--interval", "10s"}, def, def, 10 * time.Second},
	}
	for _, tt := range tests {
		got, err := parseCmd(NewCmdTracker, tt.args...)
		if err != nil {
			t.Errorf("parse %q: %v", tt.args, err)
			continue
		}
		if got.HTTPAddr != tt.wantHTTP || got.UDPAddr != tt.wantUDP || got.Interval != tt.wantInterval {
			t.Errorf("parse %q: got http %v, udp %v, interval %v; want %v, %v, %v",
				tt.args, got.HTTPAddr, got.UDPAddr, got.Interval, tt.wantHTTP, tt.wantUDP, tt.wantInterval)
		}
	}
}

func TestTrackerCapFlags(t *testing.T) {
	got, err := parseCmd(NewCmdTracker)
	if err != nil || got.MaxPeers != tracker.DefaultMaxPeers || got.MaxTorrents != tracker.DefaultMaxTorrents || got.MaxConns != 0 {
		t.Errorf("defaults: got %d peers, %d torrents, %d conns, %v; want %d, %d, 0",
			got.MaxPeers, got.MaxTorrents, got.MaxConns, err, tracker.DefaultMaxPeers, tracker.DefaultMaxTorrents)
	}
	got, err = parseCmd(NewCmdTracker, "--max-peers", "1000", "--max-torrents", "10", "--max-conns", "50")
	if err != nil || got.MaxPeers != 1000 || got.MaxTorrents != 10 || got.MaxConns != 50 {
		t.Errorf("set: got %d peers, %d torrents, %d conns, %v; want 1000, 10, 50", got.MaxPeers, got.MaxTorrents, got.MaxConns, err)
	}
	for _, tt := range []struct {
		limit uint64
		want  int
	}{{0, tracker.DefaultMaxConns}, {256, 256}, {1024, 960}, {20000, 16384}} {
		if got := connsForOpenFiles(tt.limit); got != tt.want {
			t.Errorf("connsForOpenFiles(%d) = %d, want %d", tt.limit, got, tt.want)
		}
	}
}

func TestTrackerUsageErrors(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"--http", "", "--udp", ""}, "nothing to serve"},
		{[]string{"--http", "tracker.example:80"}, "not an IP address"},
		{[]string{"--http", "[fe80::1%eth0]:80"}, "not an IP address"},
		{[]string{"--udp", "127.0.0.1"}, "want IP:PORT"},
		{[]string{"--udp", "127.0.0.1:65536"}, "bad port"},
		{[]string{"--udp", "127.0.0.1:http"}, "bad port"},
		{[]string{"--interval", "0s"}, "must be positive"},
		{[]string{"--interval", "-1m"}, "must be positive"},
		{[]string{"--interval", "soon"}, "invalid argument"},
		{[]string{"extra"}, `tracker takes no arguments; got "extra"`},
		{[]string{"--max-peers", "0"}, "--max-peers 0: must be positive"},
		{[]string{"--max-torrents", "-1"}, "--max-torrents -1: must be positive"},
		{[]string{"--max-conns", "-5"}, "--max-conns -5: must be positive"},
	}
	for _, tt := range tests {
		r := runCLI(t, "", append([]string{"tracker"}, tt.args...)...)
		if r.code != exitUsage || !strings.Contains(r.errOut, tt.wantErr) || r.out != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want %d, no output, %q",
				tt.args, r.code, r.out, r.errOut, exitUsage, tt.wantErr)
		}
	}
}

// listening is what the tracker command's ready hook reports.
type listening struct {
	srv       *tracker.Server
	interrupt func()
}

// startTracker runs trackerRun on free loopback ports in a goroutine and
// waits until it listens. The returned channel yields trackerRun's result.
// Each edit changes the options first.
func startTracker(t *testing.T, out *bytes.Buffer, edits ...func(*TrackerOptions)) (listening, <-chan error) {
	t.Helper()
	ready := make(chan listening, 1)
	done := make(chan error, 1)
	loopback := netip.MustParseAddrPort("127.0.0.1:0")
	opts := &TrackerOptions{
		IO:       &Factory{In: strings.NewReader(""), Out: out, Err: out},
		HTTPAddr: loopback, UDPAddr: loopback, Interval: time.Minute,
		ready: func(s *tracker.Server, interrupt func()) { ready <- listening{s, interrupt} },
	}
	for _, edit := range edits {
		edit(opts)
	}
	go func() { done <- trackerRun(opts) }()
	select {
	case l := <-ready:
		return l, done
	case err := <-done:
		t.Fatalf("tracker stopped before listening: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("tracker not listening after 10s")
	}
	return listening{}, nil // not reached: Fatal ends the test
}

// waitStopped waits for trackerRun to return and checks it stopped with
// want (errInterrupted, or errTerminated after SIGTERM).
func waitStopped(t *testing.T, done <-chan error, want error) {
	t.Helper()
	select {
	case err := <-done:
		if !errors.Is(err, want) {
			t.Errorf("tracker returned %v, want %v", err, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("tracker still running 10s after the interrupt")
	}
}

// TestTrackerServesUntilInterrupted announces twice over each transport
// (from a loop of the test's own) and checks that the second peer is
// handed the first, then stops the tracker as Ctrl-C would.
func TestTrackerServesUntilInterrupted(t *testing.T) {
	var out bytes.Buffer
	l, done := startTracker(t, &out)
	// Server's methods belong to its loop; these two only read addresses
	// fixed before ready was called.
	httpURL := "http://" + l.srv.HTTPAddr().String() + "/announce"
	udpURL := "udp://" + l.srv.UDPAddr().String()

	for i, url := range []string{httpURL, udpURL} {
		got, err := aio.Run(func(t *aio.Task) ([]netip.AddrPort, error) {
			req := tracker.AnnounceRequest{
				InfoHash: [20]byte{byte(i + 1)}, PeerID: [20]byte{'A'}, Port: 6881, Left: 1, Event: tracker.EventStarted,
			}
			if _, err := tracker.Announce(t, url, req); err != nil {
				return nil, err
			}
			req.PeerID, req.Port = [20]byte{'B'}, 6882
			resp, err := tracker.Announce(t, url, req)
			if err != nil {
				return nil, err
			}
			return resp.Peers, nil
		})
		want := []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:6881")}
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: second peer was handed %v (err %v), want %v", url, got, err, want)
		}
	}

	l.interrupt()
	waitStopped(t, done, errInterrupted)
	wantOut := "tracker listening; announce URLs:\n  " + httpURL + "\n  " + udpURL + "\npress Ctrl-C to stop\n"
	if out.String() != wantOut {
		t.Errorf("stdout %q, want %q", out.String(), wantOut)
	}
}

// TestTrackerVerbosePrintsEveryAnnounce: with -v each announce is one
// line on stderr, whichever transport it came by (aiotorrent-bench many
// times clients' announces by them).
func TestTrackerVerbosePrintsEveryAnnounce(t *testing.T) {
	var out, errOut bytes.Buffer
	l, done := startTracker(t, &out, func(o *TrackerOptions) {
		o.IO.Err = &errOut
		o.Verbose = true
	})
	urls := []string{"http://" + l.srv.HTTPAddr().String() + "/announce", "udp://" + l.srv.UDPAddr().String()}
	for i, url := range urls {
		_, err := aio.Run(func(t *aio.Task) (struct{}, error) {
			req := tracker.AnnounceRequest{InfoHash: [20]byte{0xab, byte(i)}, PeerID: [20]byte{'A'}, Port: 6881, Left: 1}
			_, err := tracker.Announce(t, url, req)
			return struct{}{}, err
		})
		if err != nil {
			t.Fatalf("%s: %v", url, err)
		}
	}
	l.interrupt()
	waitStopped(t, done, errInterrupted)
	lines := strings.Split(strings.TrimSuffix(errOut.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("stderr %q, want two lines", errOut.String())
	}
	for i, line := range lines {
		f := strings.Fields(line)
		want := []string{"announce", "", fmt.Sprintf("ab%02x%s", i, strings.Repeat("00", 18)), "none", "127.0.0.1:6881"}
		if len(f) != len(want) {
			t.Errorf("line %q, want %q with a time second", line, want)
			continue
		}
		if _, err := time.Parse("2006-01-02T15:04:05.000Z", f[1]); err != nil {
			t.Errorf("line %q: time %v", line, err)
		}
		f[1] = ""
		if !slices.Equal(f, want) {
			t.Errorf("line %q, want %q with a time second", line, want)
		}
	}
}

// TestTrackerStopsOnSignal sends the process a real SIGINT and SIGTERM.
// The handler is in place before ready is called, so the signal cannot
// reach Go's default action and kill the test binary; no other test runs
// meanwhile (none here is parallel).
func TestTrackerStopsOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			var out bytes.Buffer
			_, done := startTracker(t, &out)
			if err := syscall.Kill(os.Getpid(), sig); err != nil {
				t.Fatal(err)
			}
			waitStopped(t, done, interruptionBy(sig)) // exit 130, or 143 for SIGTERM
		})
	}
}

// TestTrackerPortBusy checks that a port in use is a plain failure (exit
// 1), not a usage error or a hang.
func TestTrackerPortBusy(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r := runCLI(t, "", "tracker", "--http", ln.Addr().String(), "--udp", "")
	if r.code != exitFailure || !strings.Contains(r.errOut, "address already in use") {
		t.Errorf("exit %d, stderr %q; want %d and \"address already in use\"", r.code, r.errOut, exitFailure)
	}
}

// TestInterruptibleResult checks that without an interrupt the function's
// own result comes back, error or not.
func TestInterruptibleResult(t *testing.T) {
	boom := errors.New("boom")
	for _, want := range []error{nil, boom} {
		_, got := aio.Run(func(t *aio.Task) (struct{}, error) {
			return struct{}{}, interruptible(t, func(t *aio.Task) error { return want }, nil)
		})
		if got != want {
			t.Errorf("got %v, want %v", got, want)
		}
	}
}
