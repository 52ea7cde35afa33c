package metainfo

import (
	"bytes"
	"crypto/sha1"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/anacrolix/torrent/bencode"
)

// FuzzMetainfo: parsing never panics, and whatever parses keeps the
// invariants the piece layer and storage rely on.
func FuzzMetainfo(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join(testdataDir, "*.torrent"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) < 4096 { // keep bad-nested out: it slows every mutation
			f.Add(data)
		}
	}
	f.Add([]byte("d4:infod5:filesld6:lengthi1e4:pathl1:aeee4:name1:a12:piece lengthi1e6:pieces20:" +
		strings.Repeat("x", 20) + "ee"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			if m != nil {
				t.Fatal("a Torrent returned with an error")
			}
			return
		}
		checkMetainfoInvariants(t, m)
		if !bytes.Contains(data, m.InfoBytes) || sha1.Sum(m.InfoBytes) != m.InfoHash {
			t.Fatal("info-hash is not over bytes of the input")
		}
		again, err := ParseInfo(m.InfoBytes)
		if err != nil {
			t.Fatalf("ParseInfo of parsed InfoBytes: %v", err)
		}
		if again.InfoHash != m.InfoHash || !reflect.DeepEqual(again.Files, m.Files) {
			t.Fatal("ParseInfo disagrees with Parse")
		}
	})
}

func checkMetainfoInvariants(t *testing.T, m *Torrent) {
	t.Helper()
	if m.PieceLength <= 0 || m.Length <= 0 || len(m.Files) == 0 {
		t.Fatalf("piece length %d, length %d, %d files", m.PieceLength, m.Length, len(m.Files))
	}
	if want := (m.Length + m.PieceLength - 1) / m.PieceLength; int64(m.NumPieces()) != want {
		t.Fatalf("%d pieces, want %d", m.NumPieces(), want)
	}
	var sum int64
	for i := range m.NumPieces() {
		if s := m.PieceSize(i); s <= 0 || s > m.PieceLength {
			t.Fatalf("piece %d size %d", i, s)
		}
		sum += m.PieceSize(i)
	}
	if sum != m.Length {
		t.Fatalf("pieces add up to %d, want %d", sum, m.Length)
	}
	var off int64
	for i, f := range m.Files {
		if f.Offset != off || f.Length < 0 {
			t.Fatalf("file %d offset %d length %d, want offset %d", i, f.Offset, f.Length, off)
		}
		off += f.Length
		p := m.FilePath(i)
		if p == "" || !filepath.IsLocal(p) || filepath.Clean(p) != p {
			t.Fatalf("file %d: unsafe path %q", i, p)
		}
	}
}

// FuzzInfoFields builds well-formed info dicts from fuzzed fields, so the
// validation behind the bencode layer (paths, lengths, piece counts) gets
// inputs that random bytes rarely reach. Whatever parses must be safe.
func FuzzInfoFields(f *testing.F) {
	f.Add("multi", "a", "b/c", int64(10), int64(20), int64(16), "", false)
	f.Add("t", "..", "x", int64(1), int64(0), int64(1), "p", true)
	f.Add("t", "a", "a/b", int64(1), int64(1), int64(1), "", true)
	f.Add("/", "a\x00", `b\c`, int64(-1), int64(5), int64(0), "xp", false)
	f.Fuzz(func(t *testing.T, name, p1, p2 string, len1, len2, pieceLen int64, attr string, multi bool) {
		info := map[string]any{"name": name, "piece length": pieceLen}
		total := len1
		if multi {
			total += len2
			info["files"] = []any{
				map[string]any{"length": len1, "path": strings.Split(p1, "/"), "attr": attr},
				map[string]any{"length": len2, "path": strings.Split(p2, "/")},
			}
		} else {
			info["length"] = len1
		}
		n := int64(1)
		if pieceLen > 0 && total > 0 {
			n = (total + pieceLen - 1) / pieceLen
		}
		if n > 1<<12 {
			n = 1 << 12 // the parser must then refuse the count
		}
		info["pieces"] = make([]byte, 20*n)
		data, err := bencode.Marshal(map[string]any{"info": info})
		if err != nil {
			t.Skip()
		}
		m, err := Parse(data)
		if err != nil {
			return
		}
		checkMetainfoInvariants(t, m)
	})
}
