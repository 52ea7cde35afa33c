package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// seedProc seeds the complete data of tp (in dir) from a child process
// and returns it and its port.
func seedProc(t *testing.T, bin, tp, dir string, args ...string) (*proc, string) {
	t.Helper()
	s := startProc(t, bin, append([]string{"seed", tp, dir, "--port", "0", "--no-dht", "--no-lsd"}, args...)...)
	line := s.waitLine(t, func(l string) bool { return strings.HasPrefix(l, "listening for peers on ") })
	return s, line[strings.LastIndex(line, ":")+1:]
}

// TestDownloadSeedSaysWhenItSeeds: `download --seed` prints the
// download's summary and that it now seeds when it completes, then
// seeding lines (upload rate, uploaded, ratio, peers served); the seeder
// at the other end shows what it uploaded. Ctrl-C ends the seeding with
// its own summary, and exit code 0.
func TestDownloadSeedSaysWhenItSeeds(t *testing.T) {
	bin := buildCLI(t)
	root := t.TempDir()
	tp := makeShare(t, root, "share", shareSizes)
	seeder, port := seedProc(t, bin, tp, root)
	seeder.waitLine(t, func(l string) bool { return l == "share: seeding until Ctrl-C" })

	dst := t.TempDir()
	d := startProc(t, bin, "download", tp, "-o", dst, "--seed", "--port", "0", "--no-dht", "--no-lsd", "--peer", "127.0.0.1:"+port)
	want := regexp.MustCompile(`^share: 361\.3 KiB in \S+ \(\S+ \S*B/s\) from 1 peer; saved in ` + regexp.QuoteMeta(filepath.Join(dst, "share")) + `; 0 B uploaded, ratio 0\.00$`)
	d.waitLine(t, want.MatchString)
	d.waitLine(t, func(l string) bool { return l == "share: seeding until Ctrl-C" })
	d.waitLine(t, regexp.MustCompile(`^share: seeding: ↑ \S+ \S*B/s, 0 B uploaded, ratio 0\.00, \d+ peers? served$`).MatchString)
	// The seeder's line changes once it has uploaded everything; a
	// seeding line is printed at most every completeEvery on a pipe.
	seeder.waitLine(t, regexp.MustCompile(`^share: seeding: ↑ \S+ \S*B/s, 361\.3 KiB uploaded, ratio 1\.00, \d+ peers? served$`).MatchString)

	if err := d.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := d.wait(t); code != exitOK {
		t.Errorf("exit %d after Ctrl-C while seeding, want 0", code)
	}
	d.waitLine(t, regexp.MustCompile(`^share: seeded for \S+: 0 B uploaded, ratio 0\.00; \d+ peers? connected; data in `+regexp.QuoteMeta(filepath.Join(dst, "share"))+`$`).MatchString)
}

// TestResumedSummarySaysWhatThisRunFetched: with 5 of the 12 pieces on
// disk, the summary says the 201.3 KiB fetched, not the torrent's 361.3.
func TestResumedSummarySaysWhatThisRunFetched(t *testing.T) {
	bin := buildCLI(t)
	root := t.TempDir()
	tp := makeShare(t, root, "share", shareSizes)
	_, port := seedProc(t, bin, tp, root)

	dst := t.TempDir()
	makeShare(t, dst, "share", shareSizes)
	// Pieces 0-4 (163840 bytes) are good, the rest wrong.
	if err := os.WriteFile(filepath.Join(dst, "share", "sub", "c.bin"), make([]byte, 200_000), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "", "download", tp, "-o", dst, "--port", "0", "--no-dht", "--no-lsd", "--peer", "127.0.0.1:"+port)
	want := regexp.MustCompile(`(?m)^share: 201\.3 KiB in \S+ \(\S+ \S*B/s\) from 1 peer, 55\.7% of 361\.3 KiB \(the rest was on disk\); saved in ` +
		regexp.QuoteMeta(filepath.Join(dst, "share")) + `; 0 B uploaded, ratio 0\.00$`)
	if r.code != exitOK || !want.MatchString(r.out) {
		t.Errorf("exit %d, stdout %q; want 0 and a line matching %v", r.code, r.out, want)
	}
}

// TestQuietSaysOnlyErrors: -q prints nothing on success and the error on
// failure.
func TestQuietSaysOnlyErrors(t *testing.T) {
	bin := buildCLI(t)
	root := t.TempDir()
	tp := makeShare(t, root, "share", shareSizes)
	_, port := seedProc(t, bin, tp, root)
	r := runCLI(t, "", "download", tp, "-q", "-o", t.TempDir(), "--port", "0", "--no-dht", "--no-lsd", "--peer", "127.0.0.1:"+port)
	if r.code != exitOK || r.out != "" || r.errOut != "" {
		t.Errorf("download -q: exit %d, stdout %q, stderr %q; want 0 and nothing", r.code, r.out, r.errOut)
	}
	missing := filepath.Join(root, "missing.torrent")
	r = runCLI(t, "", "download", missing, "-q", "--no-dht", "--no-lsd")
	if r.code != exitFailure || r.out != "" || !strings.HasPrefix(r.errOut, "aiotorrent: ") || !strings.Contains(r.errOut, missing) {
		t.Errorf("download -q of a missing torrent: exit %d, stdout %q, stderr %q; want 1 and the error", r.code, r.out, r.errOut)
	}
}

// stalledSwarm starts a seeder (`seed --partial`) that has 5 of the 12
// pieces of makeShare's torrent: a download from it stops at 44.2% and
// stays there. It returns the torrent and the seeder's port.
func stalledSwarm(t *testing.T, bin string) (torrentPath, port string) {
	t.Helper()
	root := t.TempDir()
	tp := makeShare(t, root, "share", shareSizes)
	// Bytes 170000 on (sub/c.bin) are wrong: pieces 0-4 (163840 bytes)
	// are good.
	if err := os.WriteFile(filepath.Join(root, "share", "sub", "c.bin"), make([]byte, 200_000), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startProc(t, bin, "seed", "--partial", tp, root, "--port", "0", "--no-dht", "--no-lsd")
	line := s.waitLine(t, func(l string) bool { return strings.HasPrefix(l, "listening for peers on ") })
	return tp, line[strings.LastIndex(line, ":")+1:]
}

// stalledTrackedSwarm is stalledSwarm with a tracker that answers every
// announce with no peers: a download shows its announces and its one
// peer, and never ends.
func stalledTrackedSwarm(t *testing.T, bin string) (tp, port, trackerURL string) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("d8:intervali60e5:peers0:e"))
	}))
	t.Cleanup(srv.Close)
	trackerURL = srv.URL + "/announce"
	tp = shareWithTrackers(t, trackerURL)
	root := filepath.Dir(tp)
	if err := os.WriteFile(filepath.Join(root, "share", "sub", "c.bin"), make([]byte, 200_000), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startProc(t, bin, "seed", "--partial", tp, root, "--port", "0", "--no-dht", "--no-lsd")
	line := s.waitLine(t, func(l string) bool { return strings.HasPrefix(l, "listening for peers on ") })
	return tp, line[strings.LastIndex(line, ":")+1:], trackerURL
}

// TestVerboseAndLogFile: -v shows the tracker's announces and the peer
// connecting and dropping, with why; --log-file writes the same lines,
// with times, with -v and with -q.
func TestVerboseAndLogFile(t *testing.T) {
	bin := buildCLI(t)
	tp, port, tracker := stalledTrackedSwarm(t, bin)
	peer := "127.0.0.1:" + port
	announced := "share: tracker " + tracker + ": announced, 0 peers"
	connected := regexp.MustCompile(`^share: peer ` + regexp.QuoteMeta(peer) + ` connected \(outgoing, (tcp|utp), (encrypted|plain)\)$`)
	dropped := "share: peer " + peer + " dropped: the session ends"

	logPath := filepath.Join(t.TempDir(), "aiotorrent.log")
	d := startProc(t, bin, "download", tp, "-o", t.TempDir(), "--port", "0", "--no-dht", "--no-lsd", "--peer", peer, "-v", "--log-file", logPath)
	d.waitLine(t, func(l string) bool { return l == announced })
	d.waitLine(t, connected.MatchString)
	d.waitLine(t, func(l string) bool { return l == "share: 160.0 KiB / 361.3 KiB (44.2%), 0 B/s, 1 peer, ETA –" })
	if err := d.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	d.wait(t)
	d.waitLine(t, func(l string) bool { return l == dropped })

	stamp := `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z `
	wantInLog := func(path string) {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, re := range []*regexp.Regexp{
			regexp.MustCompile(`(?m)^` + stamp + regexp.QuoteMeta(announced) + `$`),
			regexp.MustCompile(`(?m)^` + stamp + strings.TrimPrefix(connected.String(), "^")),
			regexp.MustCompile(`(?m)^` + stamp + regexp.QuoteMeta(dropped) + `$`),
		} {
			if !re.Match(b) {
				t.Errorf("%s lacks a line matching %v:\n%s", path, re, b)
			}
		}
	}
	wantInLog(logPath)

	// With -q, the output says nothing but the error that ends it (the
	// interruption); the file has it all.
	quietLog := filepath.Join(t.TempDir(), "quiet.log")
	d = startProc(t, bin, "download", tp, "-o", t.TempDir(), "--port", "0", "--no-dht", "--no-lsd", "--peer", peer, "--log-file", quietLog, "-q")
	waitUntil(t, "the tracker's answer in the log file", func() bool {
		b, _ := os.ReadFile(quietLog)
		return strings.Contains(string(b), announced) && strings.Contains(string(b), " connected (")
	})
	if err := d.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	d.wait(t)
	wantInLog(quietLog)
	if got := d.output(); got != "aiotorrent: interrupted\n" {
		t.Errorf("with -q, the output is %q; want only the interruption", got)
	}
}

// TestSummaryInterval: on a pipe, --summary-interval N prints a line on
// all torrents every N seconds, as aria2c's does.
func TestSummaryInterval(t *testing.T) {
	bin := buildCLI(t)
	tp, port := stalledSwarm(t, bin)
	d := startProc(t, bin, "download", tp, "-o", t.TempDir(), "--port", "0", "--no-dht", "--no-lsd", "--peer", "127.0.0.1:"+port, "--summary-interval", "1")
	re := regexp.MustCompile(`^summary: share, 160\.0 KiB / 361\.3 KiB \(44\.2%\), ↓ \S+ \S*B/s, ↑ 0 B/s, 1 peer, ETA \S+$`)
	d.waitLine(t, re.MatchString)
	d.kill(t)
	if r := runCLI(t, "", "download", tp, "--summary-interval", "-1"); r.code != exitUsage {
		t.Errorf("--summary-interval -1: exit %d, want %d (stderr %q)", r.code, exitUsage, r.errOut)
	}
}

// TestVerbosePeerNotReached: -v said of a peer that refused us "dial
// ADDR: peer: dial ADDR: connection refused", without the torrent.
func TestVerbosePeerNotReached(t *testing.T) {
	bin := buildCLI(t)
	tp := makeShare(t, t.TempDir(), "share", shareSizes)
	addr := closedPort(t)
	d := startProc(t, bin, "download", tp, "-o", t.TempDir(), "--port", "0", "--no-dht", "--no-lsd", "--no-utp", "--peer", addr, "-v")
	d.waitLine(t, func(l string) bool { return l == "share: peer "+addr+" not reached: connection refused" })
	if err := d.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	d.wait(t)
}

// TestSummaryDurationsAgree: a download that seeds for a while says how
// long each took with the same rule, a decimal under a minute: "in
// 4.952s" sat above "seeded for 3.9s", and a second of seeding was
// "seeded for 1s".
func TestSummaryDurationsAgree(t *testing.T) {
	root := t.TempDir()
	tp := makeShare(t, root, "share", shareSizes)
	peer := startSeeder(t, tp, root)
	r := runCLI(t, "", "download", tp, "-o", t.TempDir(), "--seed", "--seed-time", "1s", "--port", "0", "--no-dht", "--no-lsd", "--peer", peer)
	took := `(\d{1,3}ms|\d{1,2}\.\ds)`
	fetched := regexp.MustCompile(`(?m)^share: 361\.3 KiB in ` + took + ` \(`)
	seeded := regexp.MustCompile(`(?m)^share: seeded for 1\.\ds: `)
	if r.code != exitOK || !fetched.MatchString(r.out) || !seeded.MatchString(r.out) {
		t.Errorf("exit %d, stdout %q; want 0, lines matching %v and %v", r.code, r.out, fetched, seeded)
	}
}

// TestSeedingSaysServedAndConnected: the seeding line's "0 peers" counted
// the peers served (unchoked) while the summary's "1 peer connected"
// counted connections; each now says which.
func TestSeedingSaysServedAndConnected(t *testing.T) {
	root := t.TempDir()
	tp := makeShare(t, root, "share", shareSizes)
	peer := startSeeder(t, tp, root)
	dst := t.TempDir()
	r := runCLI(t, "", "download", tp, "-o", dst, "--seed", "--seed-time", "1s", "--port", "0", "--no-dht", "--no-lsd", "--peer", peer)
	line := regexp.MustCompile(`(?m)^share: seeding: ↑ \S+ \S*B/s, 0 B uploaded, ratio 0\.00, 0 peers served$`)
	summary := regexp.MustCompile(`(?m)^share: seeded for \S+: 0 B uploaded, ratio 0\.00; \d+ peers? connected; data in ` + regexp.QuoteMeta(filepath.Join(dst, "share")) + `$`)
	if r.code != exitOK || !line.MatchString(r.out) || !summary.MatchString(r.out) {
		t.Errorf("exit %d, stdout %q; want 0, lines matching %v and %v", r.code, r.out, line, summary)
	}
}
