package metainfo

import (
	"bytes"
	"crypto/sha1"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anacrolix/torrent/bencode"
)

// go test ./torrent/ -run TestFixtures -update-fixtures rewrites the
// fixtures in ../testdata from the generators below. The flag has its own
// name so it cannot clash with other -update flags in this package.
var updateFixtures = flag.Bool("update-fixtures", false, "rewrite testdata fixtures")

const (
	testdataDir     = "../testdata"
	fixturePieceLen = 16 << 10
)

// fixtureData returns n deterministic bytes that differ per seed and do
// not repeat with any piece-sized period.
func fixtureData(seed byte, n int) []byte {
	b := make([]byte, n)
	x := uint32(seed)*2654435761 + 1
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = byte(x >> 24)
	}
	return b
}

// fixtureFile is one file of the fixture content tree.
type fixtureFile struct {
	path string // slash-separated, below the torrent's directory
	data []byte
}

// multiFiles is testdata/files/multi, listed in mktorrent's order
// ("a.txt" sorts before "a/x.bin" because '.' < '/').
func multiFiles() []fixtureFile {
	return []fixtureFile{
		{".hidden", fixtureData(1, 10)},
		{"a.txt", fixtureData(2, 1000)},
		{"a/x.bin", fixtureData(3, 20000)},
		{"b/c/d.bin", fixtureData(4, 33000)},
		{"empty", nil},
	}
}

func singleData() []byte { return fixtureData(9, 40000) }

// piecesOf hashes data in pieceLen pieces.
func piecesOf(data []byte, pieceLen int) []byte {
	var out []byte
	for off := 0; off < len(data); off += pieceLen {
		h := sha1.Sum(data[off:min(off+pieceLen, len(data))])
		out = append(out, h[:]...)
	}
	return out
}

func concatFiles(files []fixtureFile) []byte {
	var all []byte
	for _, f := range files {
		all = append(all, f.data...)
	}
	return all
}

func fileList(files []fixtureFile) []any {
	var out []any
	for _, f := range files {
		out = append(out, map[string]any{"length": len(f.data), "path": strings.Split(f.path, "/")})
	}
	return out
}

func singleInfo() map[string]any {
	return map[string]any{
		"name": "single.dat", "length": 40000, "piece length": fixturePieceLen,
		"pieces": piecesOf(singleData(), fixturePieceLen),
	}
}

func multiInfo() map[string]any {
	files := multiFiles()
	return map[string]any{
		"name": "multi", "files": fileList(files), "piece length": fixturePieceLen,
		"pieces": piecesOf(concatFiles(files), fixturePieceLen),
	}
}

// paddingInfo aligns each file after the first to a piece boundary with
// BEP 47 padding files.
func paddingInfo() map[string]any {
	var files []any
	var all []byte
	for i, f := range multiFiles()[1:4] {
		if rem := len(all) % fixturePieceLen; i > 0 && rem != 0 {
			pad := fixturePieceLen - rem
			files = append(files, map[string]any{"length": pad, "path": []string{".pad", "16384"}, "attr": "p"})
			all = append(all, make([]byte, pad)...)
		}
		files = append(files, map[string]any{"length": len(f.data), "path": strings.Split(f.path, "/")})
		all = append(all, f.data...)
	}
	return map[string]any{
		"name": "padded", "files": files, "piece length": fixturePieceLen,
		"pieces": piecesOf(all, fixturePieceLen),
	}
}

// with returns a copy of m with key set (or deleted when v is nil).
func with(m map[string]any, key string, v any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, x := range m {
		out[k] = x
	}
	if v == nil {
		delete(out, key)
	} else {
		out[key] = v
	}
	return out
}

func torrentBytes(t testing.TB, top map[string]any) []byte {
	t.Helper()
	b, err := bencode.Marshal(top)
	if err != nil {
		t.Fatalf("marshal fixture: %v", err)
	}
	return b
}

// fixtures returns every generated .torrent fixture by file name.
func fixtures(t testing.TB) map[string][]byte {
	ann := "http://127.0.0.1:1/announce"
	single := singleInfo()
	multi := multiInfo()
	file := func(path []string) map[string]any {
		return with(multi, "files", []any{map[string]any{"length": 54010, "path": path}})
	}
	nested := "d4:info" + strings.Repeat("l", 100000) + strings.Repeat("e", 100000) + "e"
	good := torrentBytes(t, map[string]any{"announce": ann, "info": single})
	return map[string][]byte{
		"single.torrent": good,
		"multi.torrent": torrentBytes(t, map[string]any{
			"announce": ann, "announce-list": [][]string{{ann}, {"udp://127.0.0.1:2", "http://127.0.0.1:3/announce"}},
			"url-list": []string{"http://127.0.0.1:4/files/"}, "comment": "multi-file fixture",
			"created by": "aiotorrent fixtures", "creation date": 1700000000, "info": multi,
		}),
		"announce-list.torrent": torrentBytes(t, map[string]any{
			"announce-list": [][]string{{"http://127.0.0.1:5/a", "http://127.0.0.1:6/a"}, {}, {""}, {"udp://127.0.0.1:7"}},
			"info":          single,
		}),
		"padding.torrent": torrentBytes(t, map[string]any{"announce": ann, "info": paddingInfo()}),
		"private.torrent": torrentBytes(t, map[string]any{
			"announce": ann, "info": with(with(single, "private", 1), "source", "FIXTURE"),
		}),
		"hybrid.torrent": torrentBytes(t, map[string]any{"announce": ann, "info": with(with(single,
			"meta version", 2), "file tree", map[string]any{"single.dat": map[string]any{"": map[string]any{"length": 40000}}})}),
		"bad-v2-only.torrent": torrentBytes(t, map[string]any{"info": with(with(with(single, "pieces", nil),
			"meta version", 2), "file tree", map[string]any{"single.dat": map[string]any{"": map[string]any{"length": 40000}}})}),
		"bad-pieces-length.torrent":   torrentBytes(t, map[string]any{"info": with(single, "pieces", append(piecesOf(singleData(), fixturePieceLen), 1, 2, 3))}),
		"bad-pieces-count.torrent":    torrentBytes(t, map[string]any{"info": with(single, "pieces", piecesOf(singleData()[:20000], fixturePieceLen))}),
		"bad-piece-length.torrent":    torrentBytes(t, map[string]any{"info": with(single, "piece length", 0)}),
		"bad-dotdot.torrent":          torrentBytes(t, map[string]any{"info": file([]string{"..", "etc", "passwd"})}),
		"bad-absolute.torrent":        torrentBytes(t, map[string]any{"info": file([]string{"/etc", "passwd"})}),
		"bad-backslash.torrent":       torrentBytes(t, map[string]any{"info": file([]string{`..\evil`})}),
		"bad-empty-component.torrent": torrentBytes(t, map[string]any{"info": file([]string{"a", "", "b"})}),
		"bad-nul.torrent":             torrentBytes(t, map[string]any{"info": file([]string{"a\x00b"})}),
		"bad-name.torrent":            torrentBytes(t, map[string]any{"info": with(single, "name", "..")}),
		"bad-empty-files.torrent":     torrentBytes(t, map[string]any{"info": with(multi, "files", []any{})}),
		"bad-negative-length.torrent": torrentBytes(t, map[string]any{"info": with(single, "length", -1)}),
		"bad-duplicate-path.torrent": torrentBytes(t, map[string]any{"info": with(multi, "files", []any{
			map[string]any{"length": 27005, "path": []string{"x"}}, map[string]any{"length": 27005, "path": []string{"x"}}})}),
		"bad-wrong-type.torrent":    torrentBytes(t, map[string]any{"info": with(single, "piece length", "16384")}),
		"bad-info-not-dict.torrent": torrentBytes(t, map[string]any{"announce": ann, "info": "nope"}),
		"bad-missing-info.torrent":  torrentBytes(t, map[string]any{"announce": ann}),
		"bad-truncated.torrent":     good[:len(good)/2],
		"bad-trailing.torrent":      append(append([]byte(nil), good...), "junk"...),
		"bad-nested.torrent":        []byte(nested),
	}
}

// writeFixtureTree writes the content the good fixtures describe, so other
// packages (piece, the CLI) can verify against real files.
func writeFixtureTree(t *testing.T) {
	t.Helper()
	write := func(rel string, data []byte) {
		p := filepath.Join(testdataDir, "files", filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("single.dat", singleData())
	for _, f := range multiFiles() {
		write("multi/"+f.path, f.data)
	}
}

// TestFixtures checks that testdata holds exactly what the generators make
// (and rewrites it with -update-fixtures).
func TestFixtures(t *testing.T) {
	if *updateFixtures {
		writeFixtureTree(t)
		writeMktorrentFixture(t)
	}
	for name, want := range fixtures(t) {
		path := filepath.Join(testdataDir, name)
		if *updateFixtures {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./torrent/ -run TestFixtures -update-fixtures)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from its generator; rerun with -update-fixtures", name)
		}
	}
	for _, f := range multiFiles() {
		got, err := os.ReadFile(filepath.Join(testdataDir, "files", "multi", filepath.FromSlash(f.path)))
		if err != nil || !bytes.Equal(got, f.data) {
			t.Errorf("files/multi/%s: content differs from its generator (err %v)", f.path, err)
		}
	}
}

// writeMktorrentFixture records mktorrent's own output for files/multi, so
// the byte-for-byte comparison with Create runs even where mktorrent is
// not installed.
func writeMktorrentFixture(t *testing.T) {
	t.Helper()
	out := filepath.Join(testdataDir, "mktorrent-multi.torrent")
	os.Remove(out)
	cmd := exec.Command("mktorrent", "-d", "-l", "15", "-a", "http://127.0.0.1:1/announce",
		"-o", out, filepath.Join(testdataDir, "files", "multi"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mktorrent: %v\n%s", err, b)
	}
}
