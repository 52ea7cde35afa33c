package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/metainfo"
)

// makeShare writes files of the given sizes under root/name, with bytes
// that depend on the name, and a torrent of them at root/name.torrent.
func makeShare(t *testing.T, root, name string, sizes map[string]int) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(len(name)), uint64(name[0])))
	for _, file := range slices.Sorted(func(yield func(string) bool) {
		for f := range sizes {
			if !yield(f) {
				return
			}
		}
	}) {
		data := make([]byte, sizes[file])
		for i := range data {
			data[i] = byte(rng.UintN(256))
		}
		p := filepath.Join(root, name, filepath.FromSlash(file))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, raw, err := metainfo.CreateSync(metainfo.CreateOptions{Path: filepath.Join(root, name), PieceLength: 32 << 10})
	if err != nil {
		t.Fatal(err)
	}
	tp := filepath.Join(root, name+".torrent")
	if err := os.WriteFile(tp, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return tp
}

// sessionsOutput is a bytes.Buffer safe for a command sessionsCmd in another
// goroutine.
type sessionsOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *sessionsOutput) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *sessionsOutput) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// sessionsCmd is a download or seed command sessionsCmd in a goroutine.
type sessionsCmd struct {
	peer      string // where to reach it: 127.0.0.1:port
	interrupt func()
	done      <-chan error
	out       *sessionsOutput
}

// start runs a command through its run function with a ready hook and
// waits until it listens.
func startSessionsCmd(t *testing.T, run func(f *Factory, ready func(netip.AddrPort, func())) error) sessionsCmd {
	t.Helper()
	type listening struct {
		addr      netip.AddrPort
		interrupt func()
	}
	ready := make(chan listening, 1)
	done := make(chan error, 1)
	out := &sessionsOutput{}
	f := &Factory{In: strings.NewReader(""), Out: out, Err: out}
	go func() {
		done <- run(f, func(a netip.AddrPort, i func()) { ready <- listening{a, i} })
	}()
	select {
	case l := <-ready:
		return sessionsCmd{peer: fmt.Sprintf("127.0.0.1:%d", l.addr.Port()), interrupt: l.interrupt, done: done, out: out}
	case err := <-done:
		t.Fatalf("stopped before listening: %v (output %q)", err, out.String())
	case <-time.After(10 * time.Second):
		t.Fatal("not listening after 10s")
	}
	return sessionsCmd{}
}

// stop interrupts r, a seeder of complete data, as Ctrl-C would and
// checks that it stopped as having done its job (exit code 0).
func (r sessionsCmd) stop(t *testing.T) {
	t.Helper()
	r.interrupt()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("returned %v, want nil: Ctrl-C ends seeding complete data (output %q)", err, r.out.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still sessionsCmd 10s after the interrupt")
	}
}

func wantSameFile(t *testing.T, want, got string) {
	t.Helper()
	a, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(got)
	if err != nil {
		t.Errorf("%s: %v", got, err)
		return
	}
	if !bytes.Equal(a, b) {
		t.Errorf("%s: %d bytes differ from %s (%d bytes)", got, len(b), want, len(a))
	}
}

var shareSizes = map[string]int{"a.bin": 100_000, "b.txt": 70_000, "sub/c.bin": 200_000}

// TestSeedServesDownloadsUntilInterrupted seeds a torrent with `seed` and
// downloads it three ways: all of it (seeding 100 ms more, then exiting by
// itself), only files 0 and 2, and everything but *.txt.
func TestSeedServesDownloadsUntilInterrupted(t *testing.T) {
	root := t.TempDir()
	tp := makeShare(t, root, "share", shareSizes)
	seeder := startSessionsCmd(t, func(f *Factory, ready func(netip.AddrPort, func())) error {
		return seedRun(f, &SeedOptions{Torrents: []string{tp}, Dir: root, Quiet: true, ready: ready})
	})
	defer seeder.stop(t)

	full := t.TempDir()
	r := runCLI(t, "", "download", tp, "-o", full, "--port", "0", "--no-dht", "--peer", seeder.peer, "--seed-time", "100ms")
	if r.code != exitOK || !strings.Contains(r.out, "share: 361.3 KiB in ") {
		t.Fatalf("full download: exit %d, stdout %q, stderr %q; want 0 and a summary", r.code, r.out, r.errOut)
	}
	for f := range shareSizes {
		wantSameFile(t, filepath.Join(root, "share", f), filepath.Join(full, "share", f))
	}

	// Files 0 and 2 are a.bin and sub/c.bin (sorted paths); b.txt lies
	// between them and shares pieces with both, so it is created too, but
	// only the pieces it shares are there.
	for _, args := range [][]string{{"--files", "0,2"}, {"--exclude", "*.txt"}} {
		dst := t.TempDir()
		r := runCLI(t, "", append([]string{"download", tp, "-o", dst, "--port", "0", "--no-dht", "--peer", seeder.peer, "-q"}, args...)...)
		if r.code != exitOK {
			t.Fatalf("%q: exit %d, stderr %q", args, r.code, r.errOut)
		}
		wantSameFile(t, filepath.Join(root, "share", "a.bin"), filepath.Join(dst, "share", "a.bin"))
		wantSameFile(t, filepath.Join(root, "share", "sub", "c.bin"), filepath.Join(dst, "share", "sub", "c.bin"))
		if fi, err := os.Stat(filepath.Join(dst, "share", "b.txt")); err == nil && fi.Size() == int64(shareSizes["b.txt"]) {
			if got, _ := os.ReadFile(filepath.Join(dst, "share", "b.txt")); bytes.Equal(got, readOrFail(t, filepath.Join(root, "share", "b.txt"))) {
				t.Errorf("%q: the skipped b.txt was downloaded whole", args)
			}
		}
	}
}

func readOrFail(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDownloadSeveralTorrentsOneProcess: one process seeds two torrents
// (`download a b --seed` over complete data), another downloads both at
// once; each gets its own progress lines and summary.
func TestDownloadSeveralTorrentsOneProcess(t *testing.T) {
	root := t.TempDir()
	ta := makeShare(t, root, "alpha", map[string]int{"x.bin": 300_000})
	tb := makeShare(t, root, "beta", map[string]int{"y.bin": 150_000, "z/w.bin": 90_000})
	seeder := startSessionsCmd(t, func(f *Factory, ready func(netip.AddrPort, func())) error {
		return downloadRun(f, &DownloadOptions{Torrents: []string{ta, tb}, OutDir: root, Seed: true, Quiet: true, ready: ready})
	})
	defer seeder.stop(t)

	dst := t.TempDir()
	r := runCLI(t, "", "download", ta, tb, "-o", dst, "--port", "0", "--no-dht", "--peer", seeder.peer)
	if r.code != exitOK {
		t.Fatalf("exit %d, stderr %q", r.code, r.errOut)
	}
	// Piped, each torrent's change is printed once.
	for _, want := range []string{
		"alpha: 293.0 KiB / 293.0 KiB (100.0%), complete\n", "alpha: 293.0 KiB in ",
		"beta: 234.4 KiB / 234.4 KiB (100.0%), complete\n", "beta: 234.4 KiB in ",
	} {
		if n := strings.Count(r.out, want); n != 1 {
			t.Errorf("stdout %q has %q %d times, want once", r.out, want, n)
		}
	}
	wantSameFile(t, filepath.Join(root, "alpha", "x.bin"), filepath.Join(dst, "alpha", "x.bin"))
	wantSameFile(t, filepath.Join(root, "beta", "z", "w.bin"), filepath.Join(dst, "beta", "z", "w.bin"))
}

func TestSeedRefusesIncompleteData(t *testing.T) {
	root := t.TempDir()
	tp := makeShare(t, root, "share", shareSizes)
	if err := os.Remove(filepath.Join(root, "share", "b.txt")); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "", "seed", tp, root, "--port", "0", "--no-dht", "--no-lsd")
	if r.code != exitFailure || !strings.Contains(r.errOut, "data is incomplete (use --partial") {
		t.Fatalf("exit %d, stderr %q; want %d and \"data is incomplete (use --partial\"", r.code, r.errOut, exitFailure)
	}
	// The data was refused: it was never offered.
	if strings.Contains(r.errOut, "listening for peers") {
		t.Errorf("stderr %q: listening for peers with refused data", r.errOut)
	}
}

// TestListenFallsBackToNextPort takes a port, asks for it, and checks the
// client moved to a later one and said so.
func TestListenFallsBackToNextPort(t *testing.T) {
	ln, err := net.Listen("tcp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := ln.Addr().(*net.TCPAddr).Port
	var errOut bytes.Buffer
	f := &Factory{In: strings.NewReader(""), Out: &errOut, Err: &errOut}
	got, err := aio.Run(func(t *aio.Task) (int, error) {
		c, err := listen(t, f, sessionsPlan{port: busy}, newDisplay(f, displayFlags{}, false, false))
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return int(c.Addr().Port()), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("port %d is busy; listening on %d\n", busy, got)
	if got <= busy || got > busy+10 || errOut.String() != want {
		t.Fatalf("listening on %d, stderr %q; want a port in (%d, %d] and %q", got, errOut.String(), busy, busy+10, want)
	}
}

func TestDownloadFlags(t *testing.T) {
	got, err := parseCmd(NewCmdDownload, "a.torrent", "--seed-ratio", "1.5", "--seed-time", "1h",
		"--max-upload-rate", "1MiB", "--max-download-rate", "500k", "--files", "0,2", "--exclude", "*.txt",
		"--sequential", "--max-conns", "80", "--summary-interval", "5", "--log-file", "x.log")
	if err != nil {
		t.Fatal(err)
	}
	want := DownloadOptions{
		Torrents: []string{"a.torrent"}, OutDir: ".", Port: 6881, MaxPeers: 50, MaxConns: 80,
		SeedRatio: 1.5, SeedTime: time.Hour, MaxUploadRate: "1MiB", MaxDownloadRate: "500k",
		Files: "0,2", Exclude: []string{"*.txt"}, Sequential: true, Encryption: "prefer",
		DHT:     dhtFlags{Routers: defaultRouters, StateDir: defaultStateDir()},
		Display: displayFlags{LogFile: "x.log", SummaryInterval: 5},
	}
	if fmt.Sprint(*got) != fmt.Sprint(want) {
		t.Errorf("got %+v\nwant %+v", *got, want)
	}
}

func TestDownloadUsageErrors(t *testing.T) {
	root := t.TempDir()
	tp := makeShare(t, root, "share", shareSizes)
	for _, args := range [][]string{
		{"download", tp, "--max-upload-rate", "fast"},
		{"download", tp, "--max-download-rate", "-1"},
		{"download", tp, "--seed-ratio", "-2"},
		{"download", tp, tp, "--files", "0"},
		{"download", tp, "--files", "3"},
		{"download", tp, "--files", "2-1"},
		{"download", tp, "--files", "x"},
		{"download", tp, "--exclude", "["},
		{"download", tp, "--exclude", "*"},
		{"seed", tp, root, "--max-upload-rate", "lots"},
	} {
		if r := runCLI(t, "", args...); r.code != exitUsage {
			t.Errorf("%q: exit %d, want %d (stderr %q)", args[1:], r.code, exitUsage, r.errOut)
		}
	}
}

func TestSelectFiles(t *testing.T) {
	root := t.TempDir()
	m, err := metainfo.Load(makeShare(t, root, "share", shareSizes))
	if err != nil {
		t.Fatal(err)
	}
	// Files: 0 share/a.bin, 1 share/b.txt, 2 share/sub/c.bin.
	tests := []struct {
		files   string
		exclude []string
		want    []bool
	}{
		{"", nil, nil},
		{"0,2", nil, []bool{false, true, false}},
		{"1-2", nil, []bool{true, false, false}},
		{"", []string{"*.txt"}, []bool{false, true, false}},
		{"", []string{"sub/*"}, []bool{false, false, true}},
		{"", []string{"share/a.bin"}, []bool{true, false, false}},
		{"0,1", []string{"a.*"}, []bool{true, false, true}},
	}
	for _, tc := range tests {
		got, err := selectFiles([]*metainfo.Torrent{m}, tc.files, tc.exclude)
		if err != nil {
			t.Errorf("files %q exclude %q: %v", tc.files, tc.exclude, err)
			continue
		}
		if !slices.Equal(got[0], tc.want) {
			t.Errorf("files %q exclude %q: skip %v, want %v", tc.files, tc.exclude, got[0], tc.want)
		}
	}
}
