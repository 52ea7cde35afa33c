package metainfo

import (
	"bytes"
	"crypto/sha1"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func loadFixture(t *testing.T, name string) *Torrent {
	t.Helper()
	m, err := Load(filepath.Join(testdataDir, name))
	if err != nil {
		t.Fatalf("Load(%s): %v", name, err)
	}
	return m
}

// infoHashOf finds the info dict in a well-formed fixture independently of
// the scanner: it is the bytes after "4:info" up to the dict's end, which
// for these fixtures is the file minus the keys that sort after "info".
func infoHashOf(t *testing.T, name string) [20]byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdataDir, name))
	if err != nil {
		t.Fatal(err)
	}
	info, err := scanMetainfo(data)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data[bytes.Index(data, []byte("4:info"))+6:], info) {
		t.Fatalf("%s: info span does not follow the info key", name)
	}
	return sha1.Sum(info)
}

func TestParseGoodFixtures(t *testing.T) {
	ann := "http://127.0.0.1:1/announce"
	multiPaths := [][]string{{".hidden"}, {"a.txt"}, {"a", "x.bin"}, {"b", "c", "d.bin"}, {"empty"}}
	tests := []struct {
		file      string
		name      string
		length    int64
		pieces    int
		multi     bool
		paths     [][]string
		padding   []bool
		trackers  [][]string
		private   bool
		source    string
		urlList   []string
		createdBy string
	}{
		{file: "single.torrent", name: "single.dat", length: 40000, pieces: 3,
			paths: [][]string{{"single.dat"}}, trackers: [][]string{{ann}}},
		{file: "multi.torrent", name: "multi", length: 54010, pieces: 4, multi: true, paths: multiPaths,
			trackers:  [][]string{{ann}, {"udp://127.0.0.1:2", "http://127.0.0.1:3/announce"}},
			urlList:   []string{"http://127.0.0.1:4/files/"},
			createdBy: "aiotorrent fixtures"},
		{file: "announce-list.torrent", name: "single.dat", length: 40000, pieces: 3,
			paths:    [][]string{{"single.dat"}},
			trackers: [][]string{{"http://127.0.0.1:5/a", "http://127.0.0.1:6/a"}, {"udp://127.0.0.1:7"}}},
		{file: "private.torrent", name: "single.dat", length: 40000, pieces: 3,
			paths: [][]string{{"single.dat"}}, trackers: [][]string{{ann}}, private: true, source: "FIXTURE"},
		{file: "hybrid.torrent", name: "single.dat", length: 40000, pieces: 3,
			paths: [][]string{{"single.dat"}}, trackers: [][]string{{ann}}},
		{file: "padding.torrent", name: "padded", length: 3*16384 + 33000, pieces: 6, multi: true,
			paths:    [][]string{{"a.txt"}, {".pad", "16384"}, {"a", "x.bin"}, {".pad", "16384"}, {"b", "c", "d.bin"}},
			padding:  []bool{false, true, false, true, false},
			trackers: [][]string{{ann}}},
		{file: "mktorrent-multi.torrent", name: "multi", length: 54010, pieces: 2, multi: true, paths: multiPaths,
			trackers: [][]string{{ann}}, createdBy: "mktorrent 1.1"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m := loadFixture(t, tt.file)
			if m.Name != tt.name || m.Length != tt.length || m.NumPieces() != tt.pieces || m.MultiFile != tt.multi {
				t.Errorf("got name %q length %d pieces %d multi %v, want %q %d %d %v",
					m.Name, m.Length, m.NumPieces(), m.MultiFile, tt.name, tt.length, tt.pieces, tt.multi)
			}
			var paths [][]string
			var padding []bool
			var off int64
			for i, f := range m.Files {
				paths = append(paths, f.Path)
				padding = append(padding, f.Padding)
				if f.Offset != off {
					t.Errorf("file %d offset: got %d, want %d", i, f.Offset, off)
				}
				off += f.Length
			}
			if off != m.Length {
				t.Errorf("files add up to %d, want Length %d", off, m.Length)
			}
			if !reflect.DeepEqual(paths, tt.paths) {
				t.Errorf("paths: got %q, want %q", paths, tt.paths)
			}
			if tt.padding == nil {
				tt.padding = make([]bool, len(tt.paths))
			}
			if !reflect.DeepEqual(padding, tt.padding) {
				t.Errorf("padding: got %v, want %v", padding, tt.padding)
			}
			if got := m.Trackers(); !reflect.DeepEqual(got, tt.trackers) {
				t.Errorf("trackers: got %q, want %q", got, tt.trackers)
			}
			if m.Private != tt.private || m.Source != tt.source || m.CreatedBy != tt.createdBy {
				t.Errorf("got private %v source %q created by %q, want %v %q %q",
					m.Private, m.Source, m.CreatedBy, tt.private, tt.source, tt.createdBy)
			}
			if !reflect.DeepEqual(m.URLList, tt.urlList) {
				t.Errorf("url-list: got %q, want %q", m.URLList, tt.urlList)
			}
			if want := infoHashOf(t, tt.file); m.InfoHash != want {
				t.Errorf("info-hash: got %x, want %x", m.InfoHash, want)
			}
			if sha1.Sum(m.InfoBytes) != m.InfoHash {
				t.Errorf("InfoBytes do not hash to InfoHash")
			}
		})
	}
}

// TestParseMultiFields checks the optional top-level fields and that the
// piece hashes match the content in testdata/files.
func TestParseMultiFields(t *testing.T) {
	m := loadFixture(t, "multi.torrent")
	if m.Comment != "multi-file fixture" {
		t.Errorf("comment: got %q", m.Comment)
	}
	if want := time.Unix(1700000000, 0).UTC(); !m.CreationDate.Equal(want) {
		t.Errorf("creation date: got %v, want %v", m.CreationDate, want)
	}
	all := concatFiles(multiFiles())
	for i := range m.NumPieces() {
		start := int64(i) * m.PieceLength
		if got := sha1.Sum(all[start : start+m.PieceSize(i)]); got != m.Pieces[i] {
			t.Errorf("piece %d: hash of the content %x, metainfo says %x", i, got, m.Pieces[i])
		}
	}
	wantPaths := []string{"multi/.hidden", "multi/a.txt", "multi/a/x.bin", "multi/b/c/d.bin", "multi/empty"}
	for i, want := range wantPaths {
		if got := m.FilePath(i); got != filepath.FromSlash(want) {
			t.Errorf("FilePath(%d): got %q, want %q", i, got, want)
		}
	}
}

func TestPieceSize(t *testing.T) {
	m := loadFixture(t, "single.torrent") // 40000 bytes in 16384-byte pieces
	tests := []struct {
		i    int
		want int64
	}{{-1, 0}, {0, 16384}, {1, 16384}, {2, 40000 - 2*16384}, {3, 0}}
	for _, tt := range tests {
		if got := m.PieceSize(tt.i); got != tt.want {
			t.Errorf("PieceSize(%d): got %d, want %d", tt.i, got, tt.want)
		}
	}
	if got := m.FilePath(0); got != "single.dat" {
		t.Errorf("FilePath(0): got %q, want single.dat", got)
	}
}

func TestFilePathRefusesHandBuiltEscapes(t *testing.T) {
	m := &Torrent{Name: "t", MultiFile: true, Files: []File{{Path: []string{"..", "x"}}}}
	if got := m.FilePath(0); got != "" {
		t.Errorf("FilePath of a .. path: got %q, want \"\"", got)
	}
}

func TestParseBadFixtures(t *testing.T) {
	tests := []struct {
		file string
		want error
	}{
		{"bad-v2-only.torrent", ErrV2NotSupported},
		{"bad-pieces-length.torrent", ErrBadPieces},
		{"bad-pieces-count.torrent", ErrBadPieces},
		{"bad-piece-length.torrent", ErrBadPieceLength},
		{"bad-dotdot.torrent", ErrBadPath},
		{"bad-absolute.torrent", ErrBadPath},
		{"bad-backslash.torrent", ErrBadPath},
		{"bad-empty-component.torrent", ErrBadPath},
		{"bad-nul.torrent", ErrBadPath},
		{"bad-name.torrent", ErrBadPath},
		{"bad-duplicate-path.torrent", ErrBadPath},
		{"bad-empty-files.torrent", ErrBadFiles},
		{"bad-negative-length.torrent", ErrBadLength},
		{"bad-wrong-type.torrent", ErrBadType},
		{"bad-info-not-dict.torrent", ErrBadType},
		{"bad-missing-info.torrent", ErrMissingInfo},
		{"bad-truncated.torrent", ErrSyntax},
		{"bad-trailing.torrent", ErrSyntax},
		{"bad-nested.torrent", ErrTooDeep},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m, err := Load(filepath.Join(testdataDir, tt.file))
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if m != nil {
				t.Errorf("got a Torrent with the error")
			}
			if !strings.Contains(err.Error(), tt.file) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

// TestParseInline covers cases that are clearer as literal bencode.
func TestParseInline(t *testing.T) {
	pieces20 := "6:pieces20:" + strings.Repeat("x", 20)
	info := func(body string) string { return "d4:info" + body + "e" }
	tests := []struct {
		name, in string
		want     error
	}{
		{"empty", "", ErrSyntax},
		{"not a dict", "le", ErrSyntax},
		{"unknown type", "d1:ax1:be", ErrSyntax},
		{"leading zero int", "d1:ai01ee", ErrSyntax},
		{"negative zero", "d1:ai-0ee", ErrSyntax},
		{"empty int", "d1:aiee", ErrSyntax},
		{"leading zero length", "d01:a1:be", ErrSyntax},
		{"string past end", "d1:a99999999999999999999:be", ErrSyntax},
		{"int key", "di1e1:ae", ErrSyntax},
		{"key without value", "d1:ae", ErrSyntax},
		{"stray e", "d1:a1:bee", ErrSyntax},
		{"unsorted keys", "d1:bi1e1:ai1ee", ErrSyntax},
		{"duplicate keys", "d1:ai1e1:ai1ee", ErrSyntax},
		{"unsorted nested keys", "d1:ad1:bi1e1:ai1eee", ErrSyntax},
		{"duplicate info", info("d6:lengthi1e4:name1:a12:piece lengthi1e" + pieces20 + "e4:infode"), ErrSyntax},
		{"no pieces", info("d6:lengthi1e4:name1:a12:piece lengthi1ee"), ErrBadPieces},
		{"huge piece length", info("d6:lengthi1e4:name1:a12:piece lengthi1099511627776e" + pieces20 + "e"), ErrBadPieceLength},
		{"length overflow", info("d5:filesld6:lengthi9223372036854775807e4:pathl1:aeed6:lengthi1e4:pathl1:beee4:name1:a12:piece lengthi1e" + pieces20 + "e"), ErrBadLength},
		{"int overflow", info("d6:lengthi99999999999999999999e4:name1:a12:piece lengthi1e" + pieces20 + "e"), ErrBadType},
		{"zero total", info("d6:lengthi0e4:name1:a12:piece lengthi1e6:pieces0:e"), ErrBadLength},
		{"both length and files", info("d5:filesld6:lengthi1e4:pathl1:aeee6:lengthi1e4:name1:a12:piece lengthi1e" + pieces20 + "e"), ErrBadFiles},
		{"neither length nor files", info("d4:name1:a12:piece lengthi1e" + pieces20 + "e"), ErrBadFiles},
		{"file without length", info("d5:filesld4:pathl1:aeee4:name1:a12:piece lengthi1e" + pieces20 + "e"), ErrBadLength},
		{"file without path", info("d5:filesld6:lengthi1eee4:name1:a12:piece lengthi1e" + pieces20 + "e"), ErrBadPath},
		{"file is a directory", info("d5:filesld6:lengthi1e4:pathl1:aeed6:lengthi1e4:pathl1:a1:beee4:name1:a12:piece lengthi2e" + pieces20 + "e"), ErrBadPath},
		{"directory is a file", info("d5:filesld6:lengthi1e4:pathl1:a1:beed6:lengthi1e4:pathl1:aeee4:name1:a12:piece lengthi2e" + pieces20 + "e"), ErrBadPath},
		{"path is a string", info("d5:filesld6:lengthi1e4:path1:aee4:name1:a12:piece lengthi1e" + pieces20 + "e"), ErrBadType},
		{"announce-list wrong type", "d13:announce-listi1e" + info("d6:lengthi1e4:name1:a12:piece lengthi1e" + pieces20 + "e")[1:], ErrBadType},
		{"too large", "d1:a" + strings.Repeat("x", MaxSize) + "e", ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in))
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseInfoMatchesParseMetainfo(t *testing.T) {
	m := loadFixture(t, "multi.torrent")
	bare, err := ParseInfo(m.InfoBytes)
	if err != nil {
		t.Fatal(err)
	}
	if bare.InfoHash != m.InfoHash || !reflect.DeepEqual(bare.Files, m.Files) || bare.Trackers() == nil {
		t.Errorf("ParseInfo: got hash %x files %v, want %x %v", bare.InfoHash, bare.Files, m.InfoHash, m.Files)
	}
	if _, err := ParseInfo([]byte(strings.Repeat("l", 1000))); !errors.Is(err, ErrTooDeep) {
		t.Errorf("ParseInfo of deep lists: got %v, want ErrTooDeep", err)
	}
}

// TestURLListForms: BEP 19 allows one string or a list.
func TestURLListForms(t *testing.T) {
	base := "4:infod6:lengthi1e4:name1:a12:piece lengthi1e6:pieces20:" + strings.Repeat("x", 20) + "e"
	tests := []struct {
		in   string
		want []string
	}{
		{"d" + base + "8:url-list5:http:e", []string{"http:"}},
		{"d" + base + "8:url-listl5:http:0:2:wsee", []string{"http:", "ws"}},
		{"d" + base + "8:url-listi3ee", nil},
	}
	for _, tt := range tests {
		m, err := Parse([]byte(tt.in))
		if err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if !reflect.DeepEqual(m.URLList, tt.want) {
			t.Errorf("%s: got %q, want %q", tt.in, m.URLList, tt.want)
		}
	}
}

func BenchmarkParseMetainfo(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(testdataDir, "multi.torrent"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
