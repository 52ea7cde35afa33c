package main

import (
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestVerifyFlags(t *testing.T) {
	got, err := parseCmd(NewCmdVerify, "x.torrent", "dir")
	if err != nil {
		t.Fatal(err)
	}
	if got.Torrent != "x.torrent" || got.Dir != "dir" {
		t.Errorf("got %+v, want Torrent x.torrent, Dir dir", *got)
	}
	for _, args := range [][]string{{"verify"}, {"verify", "x.torrent"}, {"verify", "a", "b", "c"}, {"verify", "--bogus", "a", "b"}} {
		if r := runCLI(t, "", args...); r.code != exitUsage {
			t.Errorf("%q: exit %d, want %d (stderr %q)", args, r.code, exitUsage, r.errOut)
		}
	}
}

// copyTree copies the fixture tree src into dst (dst/<base of src>).
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	base := filepath.Dir(src)
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(base, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// multiDir returns a fresh copy of testdata/files/multi: the directory to
// verify multi.torrent against.
func multiDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	copyTree(t, filepath.Join(testdataDir, "files", "multi"), dir)
	return dir
}

// flipByte inverts one byte of a file.
func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[off] ^= 0xff
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// appendBytes adds n bytes to the end of a file.
func appendBytes(t *testing.T, path string, n int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestVerify runs verify end to end. multi.torrent has 16 KiB pieces over
// .hidden (10 bytes at 0), a.txt (1000 at 10), a/x.bin (20,000 at 1,010),
// b/c/d.bin (33,000 at 21,010) and an empty file: piece 0 spans the first
// three files, d.bin alone owns piece 3.
func TestVerify(t *testing.T) {
	tests := []struct {
		name     string
		torrent  string
		dir      func(t *testing.T) string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{
			name: "multi complete", torrent: "multi.torrent",
			dir:      func(*testing.T) string { return filepath.Join(testdataDir, "files") },
			wantCode: exitOK,
			wantOut: "" +
				"ok          100.0%  1/1  multi/.hidden\n" +
				"ok          100.0%  1/1  multi/a.txt\n" +
				"ok          100.0%  2/2  multi/a/x.bin\n" +
				"ok          100.0%  3/3  multi/b/c/d.bin\n" +
				"ok                  empty  multi/empty\n" +
				"4/4 pieces good\n",
		},
		{
			name: "single complete", torrent: "single.torrent",
			dir:      func(*testing.T) string { return filepath.Join(testdataDir, "files") },
			wantCode: exitOK,
			wantOut:  "ok          100.0%  3/3  single.dat\n3/3 pieces good\n",
		},
		{
			name: "one byte flipped in d.bin's own piece", torrent: "multi.torrent",
			dir: func(t *testing.T) string {
				dir := multiDir(t)
				flipByte(t, filepath.Join(dir, "multi", "b", "c", "d.bin"), 30000) // byte 51,010: piece 3
				return dir
			},
			wantCode: exitFailure,
			wantOut: "" +
				"ok          100.0%  1/1  multi/.hidden\n" +
				"ok          100.0%  1/1  multi/a.txt\n" +
				"ok          100.0%  2/2  multi/a/x.bin\n" +
				"INCOMPLETE   66.7%  2/3  multi/b/c/d.bin\n" +
				"ok                  empty  multi/empty\n" +
				"3/4 pieces good\n",
			wantErr: "incomplete: 1 of 4 pieces missing or bad",
		},
		{
			name: "a file missing", torrent: "multi.torrent",
			dir: func(t *testing.T) string {
				dir := multiDir(t)
				if err := os.Remove(filepath.Join(dir, "multi", "a", "x.bin")); err != nil {
					t.Fatal(err)
				}
				return dir
			},
			wantCode: exitFailure,
			wantOut: "" +
				"INCOMPLETE    0.0%  0/1  multi/.hidden\n" +
				"INCOMPLETE    0.0%  0/1  multi/a.txt\n" +
				"INCOMPLETE    0.0%  0/2  multi/a/x.bin\n" +
				"INCOMPLETE   66.7%  2/3  multi/b/c/d.bin\n" +
				"ok                  empty  multi/empty\n" +
				"2/4 pieces good\n",
			wantErr: "incomplete: 2 of 4 pieces missing or bad",
		},
		{
			name: "empty file missing", torrent: "multi.torrent",
			dir: func(t *testing.T) string {
				dir := multiDir(t)
				if err := os.Remove(filepath.Join(dir, "multi", "empty")); err != nil {
					t.Fatal(err)
				}
				return dir
			},
			wantCode: exitFailure,
			wantOut: "" +
				"ok          100.0%  1/1  multi/.hidden\n" +
				"ok          100.0%  1/1  multi/a.txt\n" +
				"ok          100.0%  2/2  multi/a/x.bin\n" +
				"ok          100.0%  3/3  multi/b/c/d.bin\n" +
				"MISSING             empty  multi/empty\n" +
				"4/4 pieces good\n",
			wantErr: "incomplete: an empty file is missing",
		},
		{
			// The padding files are never on disk; their pieces check
			// out from the zeros the storage reads for them.
			name: "padding complete", torrent: "padding.torrent",
			dir: func(t *testing.T) string {
				dir := multiDir(t)
				os.Remove(filepath.Join(dir, "multi", ".hidden"))
				os.Remove(filepath.Join(dir, "multi", "empty"))
				if err := os.Rename(filepath.Join(dir, "multi"), filepath.Join(dir, "padded")); err != nil {
					t.Fatal(err)
				}
				return dir
			},
			wantCode: exitOK,
			wantOut: "" +
				"ok          100.0%  1/1  padded/a.txt\n" +
				"ok          100.0%  2/2  padded/a/x.bin\n" +
				"ok          100.0%  3/3  padded/b/c/d.bin\n" +
				"6/6 pieces good\n",
		},
		{
			// The bytes after a file's end are in no piece, so every
			// piece checks out; verify used to call this good.
			name: "a file longer than the torrent says", torrent: "multi.torrent",
			dir: func(t *testing.T) string {
				dir := multiDir(t)
				appendBytes(t, filepath.Join(dir, "multi", "a.txt"), 10)
				return dir
			},
			wantCode: exitFailure,
			wantOut: "" +
				"ok          100.0%  1/1  multi/.hidden\n" +
				"TOO LONG    100.0%  1/1  multi/a.txt (1010 bytes, the torrent says 1000)\n" +
				"ok          100.0%  2/2  multi/a/x.bin\n" +
				"ok          100.0%  3/3  multi/b/c/d.bin\n" +
				"ok                  empty  multi/empty\n" +
				"4/4 pieces good\n",
			wantErr: "too long: multi/a.txt is 1010 bytes, the torrent says 1000",
		},
		{
			name: "two files longer, one of them empty in the torrent", torrent: "multi.torrent",
			dir: func(t *testing.T) string {
				dir := multiDir(t)
				appendBytes(t, filepath.Join(dir, "multi", "b", "c", "d.bin"), 1)
				appendBytes(t, filepath.Join(dir, "multi", "empty"), 3)
				return dir
			},
			wantCode: exitFailure,
			wantOut: "" +
				"ok          100.0%  1/1  multi/.hidden\n" +
				"ok          100.0%  1/1  multi/a.txt\n" +
				"ok          100.0%  2/2  multi/a/x.bin\n" +
				"TOO LONG    100.0%  3/3  multi/b/c/d.bin (33001 bytes, the torrent says 33000)\n" +
				"TOO LONG            empty  multi/empty (3 bytes, the torrent says 0)\n" +
				"4/4 pieces good\n",
			wantErr: "too long: 2 files are longer than the torrent says",
		},
		{
			name: "nothing downloaded", torrent: "single.torrent",
			dir:      func(t *testing.T) string { return t.TempDir() },
			wantCode: exitFailure,
			wantOut:  "INCOMPLETE    0.0%  0/3  single.dat\n0/3 pieces good\n",
			wantErr:  "incomplete: 3 of 3 pieces missing or bad",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, "", "verify", filepath.Join(testdataDir, tt.torrent), tt.dir(t))
			if r.code != tt.wantCode {
				t.Errorf("exit %d, want %d (stderr %q)", r.code, tt.wantCode, r.errOut)
			}
			if r.out != tt.wantOut {
				t.Errorf("stdout:\n%s\nwant:\n%s", r.out, tt.wantOut)
			}
			if !strings.Contains(r.errOut, tt.wantErr) || (tt.wantErr == "") != (r.errOut == "") {
				t.Errorf("stderr %q, want %q", r.errOut, tt.wantErr)
			}
		})
	}
}

func TestVerifyFailures(t *testing.T) {
	notDir := filepath.Join(testdataDir, "files", "single.dat")
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"missing directory", []string{filepath.Join(testdataDir, "single.torrent"), filepath.Join(t.TempDir(), "nope")}, "no such file"},
		{"not a directory", []string{filepath.Join(testdataDir, "single.torrent"), notDir}, "not a directory"},
		{"bad torrent", []string{filepath.Join(testdataDir, "bad-dotdot.torrent"), t.TempDir()}, "bad-dotdot.torrent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, "", append([]string{"verify"}, tt.args...)...)
			if r.code != exitFailure || !strings.Contains(r.errOut, tt.wantErr) || r.out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d, no output, an error with %q",
					r.code, r.out, r.errOut, exitFailure, tt.wantErr)
			}
		})
	}
}

// TestDownloadCutsWhatVerifyCallsTooLong: verify reports files longer than
// the torrent says, a download into their directory cuts them to the
// torrent's bytes, and verify is then content.
func TestDownloadCutsWhatVerifyCallsTooLong(t *testing.T) {
	root := t.TempDir()
	tp := makeShare(t, root, "share", shareSizes)
	dst := t.TempDir()
	copyTree(t, filepath.Join(root, "share"), dst)
	appendBytes(t, filepath.Join(dst, "share", "a.bin"), 4321)                                              // right, with a tail
	if err := os.WriteFile(filepath.Join(dst, "share", "b.txt"), make([]byte, 90_000), 0o644); err != nil { // wrong and longer
		t.Fatal(err)
	}
	r := runCLI(t, "", "verify", tp, dst)
	if r.code != exitFailure || !strings.Contains(r.out, "INCOMPLETE   75.0%   3/4   share/a.bin (104321 bytes, the torrent says 100000)\n") ||
		!strings.Contains(r.errOut, "too long: 2 files are longer than the torrent says") {
		t.Errorf("verify before: exit %d, stdout %q, stderr %q; want %d and a.bin TOO LONG", r.code, r.out, r.errOut, exitFailure)
	}

	seeder := startSessionsCmd(t, func(f *Factory, ready func(netip.AddrPort, func())) error {
		return seedRun(f, &SeedOptions{Torrents: []string{tp}, Dir: root, Quiet: true, NoLSD: true, DHT: dhtFlags{Off: true}, ready: ready})
	})
	defer seeder.stop(t)
	r = runCLI(t, "", "download", tp, "-o", dst, "--port", "0", "--no-dht", "--no-lsd", "--peer", seeder.peer, "-q")
	if r.code != exitOK {
		t.Fatalf("download: exit %d, stderr %q", r.code, r.errOut)
	}
	for f := range shareSizes {
		wantSameFile(t, filepath.Join(root, "share", f), filepath.Join(dst, "share", f))
	}
	if r := runCLI(t, "", "verify", tp, dst); r.code != exitOK {
		t.Errorf("verify after: exit %d, stdout %q, stderr %q", r.code, r.out, r.errOut)
	}
}

// TestVerifyWrongLevelSaysWhere: given the torrent's folder itself, or
// the directory above the one that holds it, verify reported every file
// INCOMPLETE at 0%; it says where the data is, as seed does.
func TestVerifyWrongLevelSaysWhere(t *testing.T) {
	top := t.TempDir()
	root := filepath.Join(top, "downloads")
	tp := makeShare(t, root, "share", shareSizes)
	for _, c := range []struct{ dir, want string }{
		{filepath.Join(root, "share"), `looks like the torrent's folder "share" itself (its files are directly inside): give its parent, ` + root},
		{top, `holds no "share", but ` + root + ` does: give that directory`},
	} {
		r := runCLI(t, "", "verify", tp, c.dir)
		if r.code != exitFailure || !strings.HasPrefix(r.errOut, "aiotorrent: verify: "+c.dir+" "+c.want+"\n") || r.out != "" {
			t.Errorf("verify %s: exit %d, stdout %q, stderr %q; want 1 and %q", c.dir, r.code, r.out, r.errOut, c.want)
		}
	}
}
