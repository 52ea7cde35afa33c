package main

import (
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startSeeder seeds the torrent at tp from root in a goroutine until the
// test ends, and returns its address as --peer takes it.
func startSeeder(t *testing.T, tp, root string) string {
	t.Helper()
	seeder := startSessionsCmd(t, func(f *Factory, ready func(netip.AddrPort, func())) error {
		return seedRun(f, &SeedOptions{Torrents: []string{tp}, Dir: root, Quiet: true, NoLSD: true, DHT: dhtFlags{Off: true}, ready: ready})
	})
	t.Cleanup(func() { seeder.stop(t) })
	return seeder.peer
}

// TestFlagsBeforeTorrentDownload: `aiotorrent -d DIR --no-dht FILE.torrent`,
// flags first and no command, downloads (it was "unknown command").
func TestFlagsBeforeTorrentDownload(t *testing.T) {
	root := t.TempDir()
	tp := makeShare(t, root, "share", shareSizes)
	peer := startSeeder(t, tp, root)
	for _, short := range []bool{true, false} {
		dst := t.TempDir()
		args := []string{"-d", dst, "--no-dht", "--no-lsd", "--port=0", "--peer", peer, tp}
		if !short {
			args = []string{"--no-dht", "--no-lsd", "--output", dst, "--port", "0", "-q", "--peer", peer, tp}
		}
		r := runCLI(t, "", args...)
		if r.code != exitOK {
			t.Fatalf("aiotorrent %q: exit %d, stdout %q, stderr %q; want 0", args, r.code, r.out, r.errOut)
		}
		for f := range shareSizes {
			wantSameFile(t, filepath.Join(root, "share", f), filepath.Join(dst, "share", f))
		}
	}
}

func TestFirstOperand(t *testing.T) {
	download := NewCmdDownload(&Factory{}, nil)
	for _, tc := range []struct {
		args string
		want int
	}{
		{"a.torrent", 0},
		{"-d x a.torrent", 2},
		{"-dx a.torrent", 1},
		{"-qd x a.torrent", 2},
		{"--no-dht -o dir a.torrent", 3},
		{"--output=dir a.torrent", 1},
		{"--seed a.torrent", 1},
		{"--port 0 --peer 1.2.3.4:5 seed", 4},
		{"-- -odd.torrent", 1},
		{"-q -d x", -1},
		{"", -1},
	} {
		if got := firstOperand(download, strings.Fields(tc.args)); got != tc.want {
			t.Errorf("%q: first operand at %d, want %d", tc.args, got, tc.want)
		}
	}
}

// seedCmd runs `aiotorrent seed ARGS...` through its flags in a goroutine
// and waits until it listens.
func seedCmd(t *testing.T, args ...string) sessionsCmd {
	t.Helper()
	return startSessionsCmd(t, func(f *Factory, ready func(netip.AddrPort, func())) error {
		cmd := NewCmdSeed(f, func(o *SeedOptions) error {
			o.ready = ready
			return seedRun(f, o)
		})
		cmd.SetArgs(args)
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		return cmd.Execute()
	})
}

// waitDone waits for a command to end by itself and checks it succeeded.
func (r sessionsCmd) waitDone(t *testing.T, what string) {
	t.Helper()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("%s returned %v, want nil (output %q)", what, err, r.out.String())
		}
	case <-time.After(waitTimeout):
		r.interrupt()
		t.Fatalf("%s still running after %v (output %q)", what, waitTimeout, r.out.String())
	}
}

// TestSeedSeveralTorrentsUntilRatio: `seed A B DIR --seed-ratio 1` serves
// both torrents from one port; once a downloader has fetched each whole,
// each was uploaded once and seed ends by itself, successfully.
func TestSeedSeveralTorrentsUntilRatio(t *testing.T) {
	root := t.TempDir()
	ta := makeShare(t, root, "alpha", map[string]int{"x.bin": 300_000})
	tb := makeShare(t, root, "beta", map[string]int{"y.bin": 150_000, "z/w.bin": 90_000})
	seeder := seedCmd(t, ta, tb, root, "--seed-ratio", "1", "--port", "0", "--no-dht", "--no-lsd", "-q")

	dst := t.TempDir()
	r := runCLI(t, "", "download", ta, tb, "-o", dst, "--port", "0", "--no-dht", "--no-lsd", "-q", "--peer", seeder.peer)
	if r.code != exitOK {
		t.Fatalf("download: exit %d, stderr %q", r.code, r.errOut)
	}
	wantSameFile(t, filepath.Join(root, "alpha", "x.bin"), filepath.Join(dst, "alpha", "x.bin"))
	wantSameFile(t, filepath.Join(root, "beta", "z", "w.bin"), filepath.Join(dst, "beta", "z", "w.bin"))
	seeder.waitDone(t, "seed --seed-ratio 1")
}

// TestSeedTimeEndsSeed: `seed A B DIR --seed-time 0.001` (minutes, as
// aria2c reads a plain number) ends by itself with exit 0.
func TestSeedTimeEndsSeed(t *testing.T) {
	root := t.TempDir()
	ta := makeShare(t, root, "alpha", map[string]int{"x.bin": 100_000})
	tb := makeShare(t, root, "beta", map[string]int{"y.bin": 50_000})
	r := runCLI(t, "", "seed", ta, tb, root, "--seed-time", "0.001", "--port", "0", "--no-dht", "--no-lsd")
	if r.code != exitOK || !strings.Contains(r.errOut, "listening for peers") {
		t.Fatalf("exit %d, stderr %q; want 0 after listening", r.code, r.errOut)
	}
}

// TestSeedSeveralChecksEachFolder: the single-torrent checks hold for
// each torrent of several, and the error names the torrent.
func TestSeedSeveralChecksEachFolder(t *testing.T) {
	root := t.TempDir()
	ta := makeShare(t, root, "alpha", map[string]int{"x.bin": 100_000})
	other := t.TempDir()
	tb := makeShare(t, other, "beta", map[string]int{"y.bin": 50_000})
	r := runCLI(t, "", "seed", ta, tb, root, "--port", "0", "--no-dht", "--no-lsd")
	if want := `beta: ` + root + ` holds no "beta"`; r.code != exitFailure || !strings.Contains(r.errOut, want) || !strings.Contains(r.errOut, "--partial") {
		t.Fatalf("exit %d, stderr %q; want %d and %q with --partial", r.code, r.errOut, exitFailure, want)
	}
	if r := runCLI(t, "", "seed", ta, "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567", root); r.code != exitUsage {
		t.Errorf("seed with a magnet: exit %d, want %d (stderr %q)", r.code, exitUsage, r.errOut)
	}
}

func TestParseSeedTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"10", 10 * time.Minute},
		{"0.5", 30 * time.Second},
		{"0", 0},
		{"90s", 90 * time.Second},
		{"1h30m", 90 * time.Minute},
	} {
		if got, err := parseSeedTime(tc.in); err != nil || got != tc.want {
			t.Errorf("parseSeedTime(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "-1", "-5m", "soon", "10 minutes"} {
		if got, err := parseSeedTime(bad); err == nil {
			t.Errorf("parseSeedTime(%q) = %v, want an error", bad, got)
		}
	}
	for _, cmd := range [][]string{{"download", "a.torrent"}, {"seed", "a.torrent", "dir"}} {
		r := runCLI(t, "", append(cmd, "--seed-time", "soon")...)
		if r.code != exitUsage || !strings.Contains(r.errOut, "want minutes (10) or a duration") {
			t.Errorf("%s --seed-time soon: exit %d, stderr %q; want %d", cmd[0], r.code, r.errOut, exitUsage)
		}
	}
}

// TestSeedTimeSaysForHowLong: "--seed-time 0.05" (3 s) was announced as
// "seeding until after 3s (or Ctrl-C)".
func TestSeedTimeSaysForHowLong(t *testing.T) {
	root := t.TempDir()
	tp := makeShare(t, root, "share", shareSizes)
	r := runCLI(t, "", "seed", tp, root, "--port", "0", "--no-dht", "--no-lsd", "--seed-time", "0.05", "--seed-ratio", "2")
	if want := "\nshare: seeding for 3s or until ratio 2.00 (or Ctrl-C)\n"; r.code != exitOK || !strings.Contains("\n"+r.out, want) {
		t.Errorf("exit %d, stdout:\n%s\nwant 0 and the line %q", r.code, r.out, want)
	}
}
