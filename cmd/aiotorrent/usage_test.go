package main

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/metainfo"
)

// TestUsageErrorsNameTheRange: flags out of range, unknown flags and bad
// magnet links are usage errors (exit 2) that say what is wanted, checked
// before anything runs. --port 99999 used to panic.
func TestUsageErrorsNameTheRange(t *testing.T) {
	root := t.TempDir()
	tp := makeShare(t, root, "share", shareSizes)
	m, err := metainfo.Load(tp)
	if err != nil {
		t.Fatal(err)
	}
	badMagnet := "magnet:?xt=urn:btih:123"
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"download", tp, "--port", "99999"}, "--port 99999: want 1-65535 (or 0 for any free port)"},
		{[]string{"download", tp, "--port", "-1"}, "--port -1: want 1-65535"},
		{[]string{"seed", tp, root, "--port", "65536"}, "--port 65536: want 1-65535"},
		{[]string{"download", tp, "--max-peers", "0"}, "--max-peers 0: want at least 1"},
		{[]string{"seed", tp, root, "--max-conns", "-3"}, "--max-conns -3: want at least 1"},
		{[]string{"download", tp, "--max-open-files", "0"}, "--max-open-files 0: want at least 1"},
		{[]string{"download", tp, "--encryption", "always"}, `--encryption "always": want prefer, require or disable`},
		{[]string{"seed", tp, root, "--encryption", ""}, `--encryption "": want prefer, require or disable`},
		{[]string{"demo", "--size", "0"}, `--size "0": want a size of at least 1 byte`},
		{[]string{"download", tp, "--bogus"}, "unknown flag: --bogus\nRun 'aiotorrent download --help' for usage."},
		{[]string{"seed", tp}, "Run 'aiotorrent seed --help' for usage."},
		{[]string{"frobnicate"}, "Run 'aiotorrent --help' for usage."},
		{[]string{"download", badMagnet}, "magnet"},
		{[]string{"seed", badMagnet, root}, "magnet"},
		{[]string{"info", badMagnet}, "magnet"},
		{[]string{"verify", m.Magnet().String(), root}, "needs the .torrent file"},
	}
	for _, tc := range tests {
		r := runCLI(t, "", tc.args...)
		if r.code != exitUsage || !strings.Contains(r.errOut, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tc.args, r.code, r.errOut, exitUsage, tc.want)
		}
		if strings.Contains(r.errOut, "listening") || r.out != "" {
			t.Errorf("%q: stdout %q, stderr %q: it ran", tc.args, r.out, r.errOut)
		}
	}
}

// TestVersion: --version and --help say the version set at build time.
func TestVersion(t *testing.T) {
	defer func(v string) { version = v }(version)
	version = "v9.8.7"
	if r := runCLI(t, "", "--version"); r.code != exitOK || r.out != "aiotorrent v9.8.7\n" {
		t.Errorf("--version: exit %d, stdout %q; want 0 and %q", r.code, r.out, "aiotorrent v9.8.7\n")
	}
	r := runCLI(t, "", "--help")
	for _, want := range []string{"aiotorrent v9.8.7: a BitTorrent client", "  143  terminated by SIGTERM", "  2    usage"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("--help lacks %q:\n%s", want, r.out)
		}
	}
	// -v is --verbose on every command that has it, never the version.
	if r := runCLI(t, "", "-v"); r.code != exitUsage {
		t.Errorf("-v: exit %d, stdout %q; want %d", r.code, r.out, exitUsage)
	}
	version = ""
	if got := Version(); got == "" {
		t.Error("Version() is empty with no version set at build time")
	}
}

// peerTrap is a listener given as --peer: a command that should stop
// before contacting anyone must leave it untouched.
func peerTrap(t *testing.T) (addr string, contacted func() bool) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String(), func() bool {
		// A connection made before the command exited waits in the
		// backlog: accepting it needs no waiting.
		ln.(*net.TCPListener).SetDeadline(time.Now().Add(100 * time.Millisecond))
		c, err := ln.Accept()
		if err == nil {
			c.Close()
		}
		return err == nil
	}
}

// TestDownloadRefusesUnwritableDir: a download directory that is a file,
// has no parent or may not be written is refused, naming the path as
// given, before any peer is contacted.
func TestDownloadRefusesUnwritableDir(t *testing.T) {
	root := t.TempDir()
	tp := makeShare(t, root, "share", shareSizes)
	file := filepath.Join(root, "a-file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	readOnly := filepath.Join(root, "read-only")
	if err := os.Mkdir(readOnly, 0o555); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dir, want string
	}{
		{file, file + ": is a file, not a directory"},
		{filepath.Join(root, "no", "such"), filepath.Join(root, "no", "such") + ": its parent " + filepath.Join(root, "no") + " does not exist"},
		{readOnly, readOnly + ": cannot write there"},
		{filepath.Join(readOnly, "new"), filepath.Join(readOnly, "new") + ": cannot be created in " + readOnly},
	}
	for _, tc := range tests {
		if strings.HasPrefix(tc.dir, readOnly) && os.Geteuid() == 0 {
			t.Logf("%s: skipped, root may write anywhere", tc.dir)
			continue
		}
		peer, contacted := peerTrap(t)
		r := runCLI(t, "", "download", tp, "-o", tc.dir, "--port", "0", "--no-dht", "--no-lsd", "--peer", peer)
		if r.code != exitFailure || !strings.Contains(r.errOut, "download directory "+tc.want) {
			t.Errorf("-o %s: exit %d, stderr %q; want %d and %q", tc.dir, r.code, r.errOut, exitFailure, tc.want)
		}
		if contacted() {
			t.Errorf("-o %s: the peer was contacted", tc.dir)
		}
	}
}

// TestBadTracePathFailsAtStart: a --trace file that cannot be created
// fails the command before it contacts anyone (it used to fail after a
// whole download).
func TestBadTracePathFailsAtStart(t *testing.T) {
	root := t.TempDir()
	tp := makeShare(t, root, "share", shareSizes)
	dst := t.TempDir()
	peer, contacted := peerTrap(t)
	trace := filepath.Join(root, "no-such-dir", "t.json")
	r := runCLI(t, "", "download", tp, "-o", dst, "--port", "0", "--no-dht", "--no-lsd", "--peer", peer, "--trace", trace)
	if r.code != exitFailure || !strings.Contains(r.errOut, "--trace: open "+trace) {
		t.Fatalf("exit %d, stderr %q; want %d and the trace path", r.code, r.errOut, exitFailure)
	}
	if contacted() {
		t.Error("the peer was contacted")
	}
	if entries, _ := os.ReadDir(dst); len(entries) != 0 {
		t.Errorf("%d entries in the download directory, want none", len(entries))
	}
}

// TestSeedWrongFolder: seed given a folder one level off, an empty or a
// missing one says which, and none of them prints "listening for peers".
func TestSeedWrongFolder(t *testing.T) {
	root := t.TempDir()
	data := filepath.Join(root, "data")
	tp := makeShare(t, data, "share", shareSizes) // data/share/a.bin, ...
	empty := t.TempDir()
	tests := []struct {
		dir, want string
	}{
		{filepath.Join(root, "missing"), filepath.Join(root, "missing") + " does not exist: no data to seed (use --partial"},
		{empty, empty + " is empty: no data to seed (use --partial"},
		{filepath.Join(data, "share"), fmt.Sprintf("%s looks like the torrent's folder \"share\" itself (its files are directly inside): give its parent, %s (--partial",
			filepath.Join(data, "share"), data)},
		{root, fmt.Sprintf("%s holds no \"share\", but %s does: give that directory (--partial", root, data)},
		{filepath.Join(data, "share", "a.bin"), "a.bin is a file, not a directory"},
	}
	for _, tc := range tests {
		r := runCLI(t, "", "seed", tp, tc.dir, "--port", "0", "--no-dht", "--no-lsd")
		if r.code != exitFailure || !strings.Contains(r.errOut, tc.want) {
			t.Errorf("seed %s: exit %d, stderr %q; want %d and %q", tc.dir, r.code, r.errOut, exitFailure, tc.want)
		}
		if strings.Contains(r.errOut, "listening for peers") {
			t.Errorf("seed %s: %q before the data was accepted", tc.dir, r.errOut)
		}
	}
}

// TestShortFlagsOfOtherClients: -d/--dir, -u and -D as aria2c and
// transmission-cli users type them.
func TestShortFlagsOfOtherClients(t *testing.T) {
	got, err := parseCmd(NewCmdDownload, "a.torrent", "-d", "/tmp/x", "-u", "1MiB", "-D", "2MiB")
	if err != nil {
		t.Fatal(err)
	}
	if got.OutDir != "/tmp/x" || got.MaxUploadRate != "1MiB" || got.MaxDownloadRate != "2MiB" {
		t.Errorf("download -d -u -D: dir %q, up %q, down %q; want /tmp/x, 1MiB, 2MiB", got.OutDir, got.MaxUploadRate, got.MaxDownloadRate)
	}
	if got, err := parseCmd(NewCmdDownload, "a.torrent", "--dir", "/tmp/y"); err != nil || got.OutDir != "/tmp/y" {
		t.Errorf("download --dir /tmp/y: %+v, %v", got, err)
	}
	s, err := parseCmd(NewCmdSeed, "a.torrent", "dir", "-u", "3MiB", "-D", "4MiB")
	if err != nil || s.MaxUploadRate != "3MiB" || s.MaxDownloadRate != "4MiB" {
		t.Errorf("seed -u -D: %+v, %v", s, err)
	}
}

// TestNoSubcommandDownloads: `aiotorrent FILE.torrent` downloads, as
// aria2c does; a magnet link or a word that is no command and no file is
// left to the usual errors.
func TestNoSubcommandDownloads(t *testing.T) {
	root := t.TempDir()
	tp := makeShare(t, root, "share", shareSizes)
	seeder := startSessionsCmd(t, func(f *Factory, ready func(netip.AddrPort, func())) error {
		return seedRun(f, &SeedOptions{Torrents: []string{tp}, Dir: root, Quiet: true, NoLSD: true, DHT: dhtFlags{Off: true}, ready: ready})
	})
	defer seeder.stop(t)
	dst := t.TempDir()
	r := runCLI(t, "", tp, "-d", dst, "--port", "0", "--no-dht", "--no-lsd", "--peer", seeder.peer)
	if r.code != exitOK || !strings.Contains(r.out, "share: 361.3 KiB in ") {
		t.Fatalf("aiotorrent %s: exit %d, stdout %q, stderr %q; want 0 and a summary", tp, r.code, r.out, r.errOut)
	}
	for f := range shareSizes {
		wantSameFile(t, filepath.Join(root, "share", f), filepath.Join(dst, "share", f))
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"magnet:?xt=urn:btih:123"}, "bad magnet link"}, // download's errors
		{[]string{"no-such.torrent"}, "open no-such.torrent: no such file"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
	} {
		r := runCLI(t, "", tc.args...)
		if r.code == exitOK || !strings.Contains(r.errOut, tc.want) {
			t.Errorf("aiotorrent %q: exit %d, stderr %q; want an error with %q", tc.args, r.code, r.errOut, tc.want)
		}
	}
}

// TestHelpProseFitsEightyColumns: the text of each command's --help (not
// its examples and flags) keeps to 80 columns; download's and seed's
// paragraph on the config file had a line of 92.
func TestHelpProseFitsEightyColumns(t *testing.T) {
	for _, cmd := range []string{"download", "seed", "create", "info", "verify", "tracker", "demo", "dht", "config"} {
		r := runCLI(t, "", cmd, "--help")
		prose, _, _ := strings.Cut(r.out, "\nUsage:")
		for _, l := range strings.Split(prose, "\n") {
			if n := len([]rune(l)); n > 80 {
				t.Errorf("%s --help: a line of %d columns: %q", cmd, n, l)
			}
		}
	}
}

// TestWrongOperandCountSaysWhatIsMissing: `seed x.torrent` said cobra's
// "requires at least 2 arg(s), only received 1"; each command now names
// what it wants, on stderr, with exit code 2.
func TestWrongOperandCountSaysWhatIsMissing(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"seed", "x.torrent"}, `seed needs FILE.torrent... and the DIR that holds the data; got only "x.torrent"`},
		{[]string{"seed"}, "seed needs FILE.torrent... and the DIR that holds the data"},
		{[]string{"download"}, "download needs a FILE.torrent, URL or MAGNET link (or several)"},
		{[]string{"create"}, "create needs one PATH: the file or directory to make a torrent of"},
		{[]string{"create", "a", "b"}, `create takes one PATH: the file or directory to make a torrent of; got 2: "a" "b"`},
		{[]string{"info"}, "info needs one FILE.torrent or MAGNET link"},
		{[]string{"info", "a", "b"}, `info takes one FILE.torrent or MAGNET link; got 2: "a" "b"`},
		{[]string{"verify", "a"}, `verify needs FILE.torrent and the DIR that holds the data; got only "a"`},
		{[]string{"verify", "a", "b", "c"}, `verify takes FILE.torrent and the DIR that holds the data; got 3: "a" "b" "c"`},
		{[]string{"demo", "x"}, `demo takes no arguments; got "x"`},
	} {
		r := runCLI(t, "", tc.args...)
		want := "aiotorrent: " + tc.want + "\nRun 'aiotorrent " + tc.args[0] + " --help' for usage.\n"
		if r.code != exitUsage || r.out != "" || r.errOut != want {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want %d, nothing, %q", tc.args, r.code, r.out, r.errOut, exitUsage, want)
		}
	}
}
