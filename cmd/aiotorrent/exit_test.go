package main

import (
	"os"
	"strings"
	"syscall"
	"testing"
)

// TestExitCodesOnSignals runs the binary: SIGTERM stops an incomplete
// download with 143 (it was 130, as for SIGINT), and Ctrl-C or SIGTERM
// ends seeding complete data with 0, after "listening for peers", which
// comes only once the data was checked. No tracker, DHT or LSD: nothing
// leaves the process.
func TestExitCodesOnSignals(t *testing.T) {
	bin := buildCLI(t)
	root := t.TempDir()
	tp := makeShare(t, root, "share", shareSizes) // no tracker

	d := startProc(t, bin, "download", tp, "-o", t.TempDir(), "--port", "0", "--no-dht", "--no-lsd")
	// The first progress line comes after the signal handlers are set.
	d.waitLine(t, func(l string) bool { return strings.HasPrefix(l, "share: 0 B / 361.3 KiB") })
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := d.wait(t); code != exitTerminate || !strings.Contains(d.output(), "aiotorrent: terminated\n") {
		t.Fatalf("download: exit %d after SIGTERM, want %d and \"terminated\"\n%s", code, exitTerminate, d.output())
	}

	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		s := startProc(t, bin, "seed", tp, root, "--port", "0", "--no-dht", "--no-lsd")
		s.waitLine(t, func(l string) bool { return strings.HasPrefix(l, "listening for peers on ") })
		if err := s.cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		if code := s.wait(t); code != exitOK || !strings.Contains(s.output(), "seeding stopped") {
			t.Errorf("seed: exit %d after %v, want %d and \"seeding stopped\"\n%s", code, sig, exitOK, s.output())
		}
	}
}

// TestVersionSetAtBuildTime: -ldflags -X main.version names the release.
func TestVersionSetAtBuildTime(t *testing.T) {
	bin := buildCLI(t, "-ldflags", "-X main.version=v1.2.3-test")
	p := startProc(t, bin, "--version")
	if code := p.wait(t); code != exitOK || p.output() != "aiotorrent v1.2.3-test\n" {
		t.Fatalf("exit %d, output %q; want 0 and %q", code, p.output(), "aiotorrent v1.2.3-test\n")
	}
}
