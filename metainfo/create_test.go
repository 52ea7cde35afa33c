package metainfo

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

const testAnnounce = "http://127.0.0.1:1/announce"

// TestCreateMatchesMktorrentFixture compares the whole .torrent with the
// one mktorrent 1.1 made from the same directory (recorded in testdata),
// so the comparison runs even where mktorrent is not installed.
func TestCreateMatchesMktorrentFixture(t *testing.T) {
	want, err := os.ReadFile(filepath.Join(testdataDir, "mktorrent-multi.torrent"))
	if err != nil {
		t.Fatal(err)
	}
	_, got, err := CreateSync(CreateOptions{
		Path:           filepath.Join(testdataDir, "files", "multi"),
		Announce:       [][]string{{testAnnounce}},
		PieceLength:    1 << 15,
		CreatedBy:      "mktorrent 1.1",
		NoCreationDate: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

// TestCreateThroughSymlink: a Path that is a symlink to a directory is
// followed (as mktorrent does), and the name comes from the link.
func TestCreateThroughSymlink(t *testing.T) {
	target, err := filepath.Abs(filepath.Join(testdataDir, "files", "multi"))
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "multi")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	want := loadFixture(t, "mktorrent-multi.torrent")
	got, _, err := CreateSync(CreateOptions{Path: link, PieceLength: 1 << 15})
	if err != nil {
		t.Fatal(err)
	}
	if got.InfoHash != want.InfoHash {
		t.Errorf("info-hash through a symlink: got %x, want %x", got.InfoHash, want.InfoHash)
	}
}

func TestCreateSingleMatchesFixture(t *testing.T) {
	want := loadFixture(t, "single.torrent")
	got, _, err := CreateSync(CreateOptions{
		Path:        filepath.Join(testdataDir, "files", "single.dat"),
		Announce:    [][]string{{testAnnounce}},
		PieceLength: fixturePieceLen,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.InfoBytes, want.InfoBytes) {
		t.Errorf("info dict: got %q, want %q", got.InfoBytes, want.InfoBytes)
	}
	if time.Since(got.CreationDate) > time.Minute {
		t.Errorf("creation date: got %v, want about now", got.CreationDate)
	}
}

// TestCreateRoundTrip: every option comes back from parsing the output.
func TestCreateRoundTrip(t *testing.T) {
	date := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	opts := CreateOptions{
		Path:         filepath.Join(testdataDir, "files", "multi"),
		Announce:     [][]string{{"http://127.0.0.1:1/a", "http://127.0.0.1:2/a"}, {"udp://127.0.0.1:3"}},
		PieceLength:  fixturePieceLen,
		Private:      true,
		Comment:      "round trip",
		CreatedBy:    "test",
		CreationDate: date,
		Source:       "SRC",
		WebSeeds:     []string{"http://127.0.0.1:4/"},
		Name:         "renamed",
		Exclude:      func(rel string) bool { return rel == ".hidden" || rel == "b" },
	}
	m, data, err := CreateSync(opts)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, m) {
		t.Errorf("parsing the output: got %+v, want %+v", back, m)
	}
	wantFiles := []File{{Path: []string{"a.txt"}, Length: 1000}, {Path: []string{"a", "x.bin"}, Length: 20000, Offset: 1000},
		{Path: []string{"empty"}, Offset: 21000}}
	if !reflect.DeepEqual(m.Files, wantFiles) {
		t.Errorf("files: got %+v, want %+v", m.Files, wantFiles)
	}
	checks := []struct {
		field     string
		got, want any
	}{
		{"name", m.Name, "renamed"},
		{"trackers", m.Trackers(), opts.Announce},
		{"announce", m.Announce, "http://127.0.0.1:1/a"},
		{"private", m.Private, true},
		{"comment", m.Comment, "round trip"},
		{"created by", m.CreatedBy, "test"},
		{"creation date", m.CreationDate, date},
		{"source", m.Source, "SRC"},
		{"url-list", m.URLList, opts.WebSeeds},
		{"piece length", m.PieceLength, int64(fixturePieceLen)},
		{"pieces", m.NumPieces(), 2},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %v, want %v", c.field, c.got, c.want)
		}
	}
}

func TestAutoPieceLength(t *testing.T) {
	tests := []struct{ total, want int64 }{
		{1, 16 << 10},
		{2000 * 16 << 10, 16 << 10},
		{2000*16<<10 + 1, 32 << 10},
		{1 << 30, 1 << 20}, // 1 GiB: 1024 pieces
		{4 << 30, 4 << 20},
		{1 << 50, 16 << 20},
	}
	for _, tt := range tests {
		got := AutoPieceLength(tt.total)
		if got != tt.want {
			t.Errorf("AutoPieceLength(%d): got %d, want %d", tt.total, got, tt.want)
		}
		if n := (tt.total + got - 1) / got; got < 16<<20 && got > 16<<10 && (n < 1000 || n > 2000) {
			t.Errorf("AutoPieceLength(%d) = %d gives %d pieces, want 1000..2000", tt.total, got, n)
		}
	}
}

func TestCreateErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero")
	if err := os.WriteFile(zero, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	single := filepath.Join(testdataDir, "files", "single.dat")
	tests := []struct {
		name string
		opts CreateOptions
		want error
	}{
		{"missing path", CreateOptions{Path: filepath.Join(dir, "nope")}, os.ErrNotExist},
		{"empty dir", CreateOptions{Path: empty}, ErrBadFiles},
		{"zero-length file", CreateOptions{Path: zero}, ErrBadLength},
		{"bad name", CreateOptions{Path: single, Name: "a/b"}, ErrBadPath},
		{"negative piece length", CreateOptions{Path: single, PieceLength: -1}, ErrBadPieceLength},
		{"huge piece length", CreateOptions{Path: single, PieceLength: MaxPieceLength + 1}, ErrBadPieceLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := CreateSync(tt.opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// TestHashPiecesChunks: hashing in chunks of any size, across file
// boundaries and empty files, gives the same hashes as one pass.
func TestHashPiecesChunks(t *testing.T) {
	p, err := planCreate(CreateOptions{Path: filepath.Join(testdataDir, "files", "multi"), PieceLength: 1000})
	if err != nil {
		t.Fatal(err)
	}
	whole, err := hashPieces(p.files, p.total, p.pieceLength, 0, p.numPieces)
	if err != nil {
		t.Fatal(err)
	}
	all := concatFiles(multiFiles())
	if want := piecesOf(all, 1000); !bytes.Equal(flatten(whole), want) {
		t.Fatalf("one pass: hashes differ from hashing the content")
	}
	for _, chunk := range []int{1, 3, 7, 64} {
		var got [][20]byte
		for first := 0; first < p.numPieces; first += chunk {
			h, err := hashPieces(p.files, p.total, p.pieceLength, first, chunk)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, h...)
		}
		if !reflect.DeepEqual(got, whole) {
			t.Errorf("chunks of %d: hashes differ from one pass", chunk)
		}
	}
}

func flatten(hs [][20]byte) []byte {
	var out []byte
	for _, h := range hs {
		out = append(out, h[:]...)
	}
	return out
}

// TestHashPiecesShrunkFile: a file cut short after planning is an error,
// not a hash of missing bytes.
func TestHashPiecesShrunkFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, fixtureData(5, 5000), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := planCreate(CreateOptions{Path: path, PieceLength: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 3000); err != nil {
		t.Fatal(err)
	}
	if _, err := hashPieces(p.files, p.total, p.pieceLength, 0, p.numPieces); !errors.Is(err, errShortFile) {
		t.Errorf("got %v, want errShortFile", err)
	}
}

func BenchmarkHashPieces(b *testing.B) {
	path := filepath.Join(b.TempDir(), "f")
	if err := os.WriteFile(path, fixtureData(6, 8<<20), 0o644); err != nil {
		b.Fatal(err)
	}
	p, err := planCreate(CreateOptions{Path: path, PieceLength: 256 << 10})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(p.total)
	for b.Loop() {
		if _, err := hashPieces(p.files, p.total, p.pieceLength, 0, p.numPieces); err != nil {
			b.Fatal(err)
		}
	}
}
