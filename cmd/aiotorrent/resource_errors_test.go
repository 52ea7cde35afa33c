package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aiotorrent/aiotorrent/metainfo"
)

// TestResourceErrorLines: a torrent's resource error is printed when it
// appears or changes, not at every progress report, and its clearing is
// said once.
func TestResourceErrorLines(t *testing.T) {
	var out bytes.Buffer
	show := resourceErrors(func(s string) { out.WriteString(s) }, "a")
	full := errors.New("write piece 3: no space left on device")
	for _, err := range []error{nil, full, full, nil, nil} {
		show(err)
	}
	want := "a: write piece 3: no space left on device (will retry)\n" +
		"a: resumed after: write piece 3: no space left on device\n"
	if out.String() != want {
		t.Errorf("printed %q, want %q", out.String(), want)
	}
}

// TestResourceErrorSaidOncePerCause: a file that cannot be created fails
// the write of every piece, each error naming its piece; the download
// printed a line per piece and per retry. It says it once.
func TestResourceErrorSaidOncePerCause(t *testing.T) {
	bin := buildCLI(t)
	root := t.TempDir()
	p := filepath.Join(root, "one.bin")
	if err := os.WriteFile(p, bytes.Repeat([]byte("aiotorrent"), 20_000), 0o644); err != nil {
		t.Fatal(err)
	}
	_, raw, err := metainfo.CreateSync(metainfo.CreateOptions{Path: p, PieceLength: 16 << 10, NoCreationDate: true})
	if err != nil {
		t.Fatal(err)
	}
	tp := filepath.Join(t.TempDir(), "one.torrent")
	if err := os.WriteFile(tp, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	seeder, port := seedProc(t, bin, tp, root)
	// A link to a directory that does not exist: the check finds no
	// data (ENOENT), and every write fails to create the file.
	dst := t.TempDir()
	if err := os.Symlink(filepath.Join("nowhere", "one.bin"), filepath.Join(dst, "one.bin")); err != nil {
		t.Fatal(err)
	}
	d := startProc(t, bin, "download", tp, "-o", dst, "--port", "0", "--no-dht", "--no-lsd", "--peer", "127.0.0.1:"+port)
	d.waitLine(t, func(l string) bool { return strings.HasSuffix(l, "(will retry)") })
	// Every piece has been sent, and has failed, once the seeder has
	// uploaded the whole file.
	seeder.waitLine(t, func(l string) bool { return strings.Contains(l, "uploaded, ratio 1.") })
	if err := d.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	d.wait(t)
	if n := strings.Count(d.output(), "(will retry)"); n != 1 {
		t.Errorf("the error was said %d times, want once:\n%s", n, d.output())
	}
}

// TestSeedingMoreTorrentsThanTheOpenFileLimit runs `download --seed` on
// 300 complete torrents in a shell whose open-file limit (soft and hard)
// is 128. Each torrent reports its data complete (it says it seeds), and Ctrl-C then ends
// seeding with exit 0, which it does only when every torrent is complete
// and none failed: one EMFILE at start-up used to end them all with 1.
func TestSeedingMoreTorrentsThanTheOpenFileLimit(t *testing.T) {
	const n = 300
	bin := buildCLI(t)
	dir, tdir := t.TempDir(), t.TempDir()
	args := []string{"-c", `ulimit -n 128 && exec "$0" "$@"`, bin, "download"}
	for i := range n {
		name := fmt.Sprintf("t%03d.bin", i)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, bytes.Repeat([]byte{byte(i)}, 1000+i), 0o644); err != nil {
			t.Fatal(err)
		}
		_, raw, err := metainfo.CreateSync(metainfo.CreateOptions{Path: p, PieceLength: 16 << 10, NoCreationDate: true})
		if err != nil {
			t.Fatal(err)
		}
		tp := filepath.Join(tdir, name+".torrent")
		if err := os.WriteFile(tp, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, tp)
	}
	args = append(args, "-o", dir, "--seed", "--port", "0", "--no-dht", "--no-lsd")
	p := startProc(t, "/bin/sh", args...)
	waitUntil(t, "every torrent complete", func() bool {
		out := p.output()
		for i := range n {
			if !strings.Contains(out, fmt.Sprintf("t%03d.bin: ", i)) {
				return false
			}
		}
		return strings.Count(out, ": seeding until Ctrl-C") >= n
	})
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t); code != exitOK || !strings.Contains(p.output(), "seeding stopped") {
		t.Fatalf("exit %d after Ctrl-C, want %d and \"seeding stopped\"\n%s", code, exitOK, p.output())
	}
}
