package piece

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// longerOnDisk writes each file of l under dir with its torrent bytes from
// data followed by extra[i] more, so it is longer than the torrent says.
func longerOnDisk(t *testing.T, dir string, l Layout, data []byte, extra map[string]int) {
	t.Helper()
	for _, f := range l.Files {
		n, ok := extra[f.Path]
		if !ok {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		b := append(append([]byte(nil), data[f.Offset:f.Offset+f.Length]...), bytes.Repeat([]byte{0xee}, n)...)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// sizeOf returns the size of dir/rel on disk.
func sizeOf(t *testing.T, dir, rel string) int64 {
	t.Helper()
	st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// TestWritePieceCutsALongerFileAtItsLastPiece: a file longer than the
// torrent says keeps its tail while earlier pieces are written (the bytes
// are the user's until the torrent's end of the file is verified) and is
// cut to its length, byte for byte the torrent's, by the write of the
// piece holding its last byte. It used to stay longer.
func TestWritePieceCutsALongerFileAtItsLastPiece(t *testing.T) {
	dir := t.TempDir()
	// Pieces of 16: a is pieces 0-1 and part of 2, b the rest of 2 and 3.
	l := Layout{PieceLength: 16, Length: 60, Files: files("t/a", 40, "t/b", 20)}
	data := testData(l.Length, 7)
	longerOnDisk(t, dir, l, data, map[string]int{"t/a": 100, "t/b": 5})
	s, err := OpenStorage(dir, l, StorageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i, want := range []struct{ a, b int64 }{{140, 25}, {140, 25}, {40, 25}, {40, 20}} {
		if err := s.WritePiece(i, data[int64(i)*16:int64(i)*16+l.PieceSize(i)]); err != nil {
			t.Fatalf("WritePiece(%d): %v", i, err)
		}
		if a, b := sizeOf(t, dir, "t/a"), sizeOf(t, dir, "t/b"); a != want.a || b != want.b {
			t.Errorf("after piece %d: sizes %d, %d; want %d, %d", i, a, b, want.a, want.b)
		}
	}
	for _, f := range l.Files {
		got, _ := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if !bytes.Equal(got, data[f.Offset:f.Offset+f.Length]) {
			t.Errorf("%s holds %x, want %x", f.Path, got, data[f.Offset:f.Offset+f.Length])
		}
	}
}

// TestTrimVerified: the resume path cuts exactly the longer files whose
// last piece is verified, and Oversized reports the rest.
func TestTrimVerified(t *testing.T) {
	dir := t.TempDir()
	l := Layout{PieceLength: 16, Length: 60, Files: files("t/a", 40, "t/b", 20, "t/empty", 0)}
	data := testData(l.Length, 8)
	longerOnDisk(t, dir, l, data, map[string]int{"t/a": 3, "t/b": 4, "t/empty": 5})

	ro, err := OpenStorage(dir, l, StorageOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	over, err := ro.Oversized()
	want := []Oversize{{0, "t/a", 43, 40}, {1, "t/b", 24, 20}, {2, "t/empty", 5, 0}}
	if err != nil || !reflect.DeepEqual(over, want) {
		t.Errorf("Oversized() = %v, %v; want %v", over, err, want)
	}
	if _, err := ro.TrimVerified(NewBitfield(4)); !errors.Is(err, ErrReadOnly) {
		t.Errorf("TrimVerified on a read-only storage: %v, want ErrReadOnly", err)
	}
	ro.Close()

	s, err := OpenStorage(dir, l, StorageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	have := NewBitfield(4)
	have.Set(2) // a's last piece; b's is 3
	cut, err := s.TrimVerified(have)
	if err != nil || !reflect.DeepEqual(cut, want[:1]) {
		t.Errorf("TrimVerified(piece 2) = %v, %v; want %v", cut, err, want[:1])
	}
	if a, b, e := sizeOf(t, dir, "t/a"), sizeOf(t, dir, "t/b"), sizeOf(t, dir, "t/empty"); a != 40 || b != 24 || e != 5 {
		t.Errorf("sizes %d, %d, %d; want 40, 24, 5", a, b, e)
	}
	for i := range 4 {
		have.Set(i)
	}
	cut, err = s.TrimVerified(have)
	if err != nil || !reflect.DeepEqual(cut, want[1:]) {
		t.Errorf("TrimVerified(all) = %v, %v; want %v", cut, err, want[1:])
	}
	if over, err := s.Oversized(); err != nil || len(over) != 0 {
		t.Errorf("Oversized() after = %v, %v; want none", over, err)
	}
}

// TestCreateEmptyFilesEmptiesThem: a file the torrent says is empty is
// emptied when the download completes, not only created.
func TestCreateEmptyFilesEmptiesThem(t *testing.T) {
	dir := t.TempDir()
	l := Layout{PieceLength: 16, Length: 10, Files: files("t/a", 10, "t/empty", 0, "t/new", 0)}
	longerOnDisk(t, dir, l, testData(10, 9), map[string]int{"t/empty": 7})
	s, err := OpenStorage(dir, l, StorageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateEmptyFiles(); err != nil {
		t.Fatal(err)
	}
	if e, n := sizeOf(t, dir, "t/empty"), sizeOf(t, dir, "t/new"); e != 0 || n != 0 {
		t.Errorf("sizes %d, %d; want 0, 0", e, n)
	}
}
