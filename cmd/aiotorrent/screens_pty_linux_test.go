package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestScreenCaptures writes docs/screens/*.txt: what a user sees of a
// download, a seed and failing trackers at 120 and 60 columns, rendered
// from a pty by the test terminal (vt), so that the files hold the
// screen, not the bytes that drew it. Run it with
//
//	AIOTORRENT_SCREENS=1 go test -run TestScreenCaptures ./cmd/aiotorrent/
//
// Temporary paths and ports are replaced by fixed ones.
func TestScreenCaptures(t *testing.T) {
	if os.Getenv("AIOTORRENT_SCREENS") == "" {
		t.Skip("set AIOTORRENT_SCREENS=1 to write docs/screens")
	}
	bin := buildCLI(t)
	outDir, err := filepath.Abs("../../docs/screens")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, width := range []int{120, 60} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			captureDownload(t, bin, width, outDir)
			captureSeed(t, bin, width, outDir)
			captureTrackerFailure(t, bin, width, outDir)
		})
	}
}

// capture is one screen: the command as typed, then the terminal.
type capture struct {
	t       *testing.T
	width   int
	command string
	replace []string // old, new, ...
}

func (c capture) write(path, raw string) {
	c.t.Helper()
	raw = strings.NewReplacer(c.replace...).Replace(raw)
	term := newVT(c.width)
	term.write(raw)
	for _, l := range term.overflows {
		if !regexp.MustCompile(`^\S+: `).MatchString(l) {
			c.t.Errorf("%s: a row past the edge: %q", path, l)
		}
	}
	text := "$ " + c.command + "\n" + term.screen() + "\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		c.t.Fatal(err)
	}
	c.t.Logf("%s:\n%s", path, text)
}

// captureDownload: a download at 40-something percent, and its end.
func captureDownload(t *testing.T, bin string, width int, outDir string) {
	root := t.TempDir()
	tp := makeShare(t, root, "ubuntu-mini", map[string]int{"disk.img": 3 << 20, "README": 4000})
	_, port := seedProc(t, bin, tp, root)
	dst := t.TempDir()
	d := startPty(t, width, bin, "download", tp, "-o", dst, "--port", "0", "--no-dht", "--no-lsd", "--peer", "127.0.0.1:"+port, "--max-download-rate", "512KiB")
	c := capture{t: t, width: width,
		command: "aiotorrent download ubuntu-mini.torrent -o ~/Downloads --max-download-rate 512KiB",
		replace: []string{dst, "/home/me/Downloads", root + "/", "", "127.0.0.1:" + port, "192.168.1.20:6881"}}
	waitUntil(t, "40-something percent", func() bool { return regexp.MustCompile(`\(4\d\.\d%\)`).MatchString(d.output()) })
	c.write(filepath.Join(outDir, fmt.Sprintf("download-%d.txt", width)), d.output())
	select {
	case <-d.done:
	case <-time.After(waitTimeout):
		t.Fatal("the download did not end")
	}
	c.write(filepath.Join(outDir, fmt.Sprintf("download-done-%d.txt", width)), d.output())
}

// captureSeed: `seed` after a peer downloaded everything, then Ctrl-C.
func captureSeed(t *testing.T, bin string, width int, outDir string) {
	root := t.TempDir()
	tp := makeShare(t, root, "ubuntu-mini", map[string]int{"disk.img": 3 << 20, "README": 4000})
	s := startPty(t, width, bin, "seed", tp, root, "--port", "0", "--no-dht", "--no-lsd")
	s.waitFor(t, "listening for peers on ")
	port := regexp.MustCompile(`listening for peers on \S+:(\d+)`).FindStringSubmatch(s.output())[1]
	d := startProc(t, bin, "download", tp, "-o", t.TempDir(), "--port", "0", "--no-dht", "--no-lsd", "--peer", "127.0.0.1:"+port, "--seed")
	d.waitLine(t, func(l string) bool { return l == "ubuntu-mini: seeding until Ctrl-C" })
	s.waitFor(t, "ratio 1.00")
	s.interrupt0(t)
	c := capture{t: t, width: width,
		command: "aiotorrent seed ubuntu-mini.torrent ~/Downloads",
		replace: []string{root, "/home/me/Downloads", "]:" + port, "]:6881"}}
	c.write(filepath.Join(outDir, fmt.Sprintf("seed-%d.txt", width)), s.output())
}

// captureTrackerFailure: three trackers failing three ways, no DHT.
func captureTrackerFailure(t *testing.T, bin string, width int, outDir string) {
	refusing := "http://" + closedPort(t) + "/announce"
	picky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("d14:failure reason20:unregistered torrente"))
	}))
	defer picky.Close()
	tp := shareWithTrackers(t, refusing, "wss://tracker.example.org/announce", picky.URL+"/announce")
	dst := t.TempDir()
	d := startPty(t, width, bin, "download", tp, "-o", dst, "--port", "0", "--no-dht", "--no-lsd")
	d.waitFor(t, "unregistered torrent")
	d.waitFor(t, "connection refused")
	d.waitFor(t, "unsupported scheme")
	d.waitFor(t, "no peers")
	c := capture{t: t, width: width,
		command: "aiotorrent download share.torrent -o ~/Downloads --no-dht",
		replace: []string{refusing, "http://tracker.example.com:8080/announce", picky.URL, "http://bt.example.net"}}
	c.write(filepath.Join(outDir, fmt.Sprintf("tracker-failure-%d.txt", width)), d.output())
}

// interrupt0 is Ctrl-C to a process that then exits with 0 (seeding).
func (p *ptyProc) interrupt0(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(waitTimeout):
		t.Fatal("still running after Ctrl-C")
	}
	p.cmd.Wait()
	if code := p.cmd.ProcessState.ExitCode(); code != exitOK {
		t.Errorf("exit %d, want 0", code)
	}
}
