package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestOnCompleteRunsWithPath: --on-complete runs the command once per
// completed torrent with the torrent's path as one argument (spaces and
// all); a command that fails is reported and the download still exits 0.
func TestOnCompleteRunsWithPath(t *testing.T) {
	root := t.TempDir()
	ta := makeShare(t, root, "two words", map[string]int{"x.bin": 100_000})
	tb := makeShare(t, root, "beta", map[string]int{"y.bin": 50_000, "z/w.bin": 20_000})
	seeder := seedCmd(t, ta, tb, root, "--port", "0", "--no-dht", "--no-lsd", "-q")
	defer seeder.stop(t)

	dir := t.TempDir()
	log := filepath.Join(dir, "completed.log")
	script := filepath.Join(dir, "hook.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nprintf '%s\\n' \"$1\" >> \""+log+"\"\necho hook says hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	r := runCLI(t, "", "download", ta, tb, "-o", dst, "--port", "0", "--no-dht", "--no-lsd", "-q", "--peer", seeder.peer, "--on-complete", script)
	if r.code != exitOK {
		t.Fatalf("exit %d, stderr %q", r.code, r.errOut)
	}
	got := strings.Split(strings.TrimSpace(string(readOrFail(t, log))), "\n")
	slices.Sort(got)
	want := []string{filepath.Join(dst, "beta"), filepath.Join(dst, "two words")}
	if !slices.Equal(got, want) {
		t.Errorf("the hook was run with %q, want %q", got, want)
	}
	if strings.Count(r.errOut, "hook says hi\n") != 2 {
		t.Errorf("stderr %q: want the hook's output twice", r.errOut)
	}

	// Complete on disk already: the hook runs too, a command with
	// arguments before the path. One that fails is reported with its exit
	// status, and changes no exit code.
	r = runCLI(t, "", "download", ta, "-o", dst, "--port", "0", "--no-dht", "--no-lsd", "-q", "--on-complete", "ls -d")
	if want := filepath.Join(dst, "two words") + "\n"; r.code != exitOK || r.errOut != want {
		t.Errorf("ls -d as the hook: exit %d, stderr %q; want 0 and %q", r.code, r.errOut, want)
	}
	r = runCLI(t, "", "download", ta, "-o", dst, "--port", "0", "--no-dht", "--no-lsd", "-q", "--on-complete", "test ! -e")
	if want := `--on-complete "test ! -e" ` + filepath.Join(dst, "two words") + ": exit status 1\n"; r.code != exitOK || r.errOut != want {
		t.Errorf("failing hook: exit %d, stderr %q; want 0 and %q", r.code, r.errOut, want)
	}
}
