package piece

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// testData returns n deterministic pseudo-random bytes.
func testData(n int64, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// writeAll writes every piece of data through s.
func writeAll(t testing.TB, s *Storage, data []byte) {
	t.Helper()
	l := s.Layout()
	for i := 0; i < l.NumPieces(); i++ {
		start := int64(i) * l.PieceLength
		if err := s.WritePiece(i, data[start:start+l.PieceSize(i)]); err != nil {
			t.Fatalf("WritePiece(%d): %v", i, err)
		}
	}
}

func TestStorageRoundTrip(t *testing.T) {
	dir := t.TempDir()
	// Pieces of 16: files straddle pieces, one piece spans three files,
	// and a padding file and an empty file sit in the middle.
	fl := files("t/a", 20, "t/sub/b", 5, "t/empty", 0, "#1", 7, "t/sub/deeper/c", 30)
	l := Layout{PieceLength: 16, Length: 62, Files: fl}
	data := testData(l.Length, 1)
	for _, f := range fl {
		if f.Padding {
			clear(data[f.Offset : f.Offset+f.Length])
		}
	}
	s, err := OpenStorage(dir, l, StorageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(filepath.Join(dir, "t")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenStorage created files before any write: stat err = %v", err)
	}
	writeAll(t, s, data)

	for _, f := range fl {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		got, err := os.ReadFile(p)
		switch {
		case f.Padding || f.Length == 0:
			if !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s: exists on disk (err %v), want not created", f.Path, err)
			}
		case err != nil:
			t.Errorf("%s: %v", f.Path, err)
		case !bytes.Equal(got, data[f.Offset:f.Offset+f.Length]):
			t.Errorf("%s: got %x, want %x", f.Path, got, data[f.Offset:f.Offset+f.Length])
		}
	}
	buf := make([]byte, 16)
	for i := 0; i < l.NumPieces(); i++ {
		if err := s.ReadPiece(i, buf); err != nil {
			t.Fatalf("ReadPiece(%d): %v", i, err)
		}
		want := data[int64(i)*16 : int64(i)*16+l.PieceSize(i)]
		if got := buf[:len(want)]; !bytes.Equal(got, want) {
			t.Errorf("ReadPiece(%d) = %x, want %x", i, got, want)
		}
	}
	part := make([]byte, 5)
	if err := s.ReadAt(part, 1, 3); err != nil || !bytes.Equal(part, data[19:24]) {
		t.Errorf("ReadAt(piece 1, off 3) = %x, %v; want %x", part, err, data[19:24])
	}
	if err := s.CreateEmptyFiles(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "t", "empty")); err != nil || fi.Size() != 0 {
		t.Errorf("empty file after CreateEmptyFiles: %v, %v", fi, err)
	}
}

func TestStorageErrors(t *testing.T) {
	dir := t.TempDir()
	l := Layout{PieceLength: 8, Length: 20, Files: files("a", 10, "b", 10)}
	s, err := OpenStorage(dir, l, StorageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	if err := s.ReadPiece(0, buf); !errors.Is(err, ErrMissing) {
		t.Errorf("ReadPiece before any write = %v, want ErrMissing", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a"), []byte("short"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.ReadPiece(0, buf); !errors.Is(err, ErrMissing) {
		t.Errorf("ReadPiece over a short file = %v, want ErrMissing", err)
	}
	bad := []struct {
		name string
		err  error
	}{
		{"read past piece", s.ReadAt(make([]byte, 5), 2, 1)},
		{"negative offset", s.ReadAt(buf, 0, -1)},
		{"piece out of range", s.ReadAt(buf, 3, 0)},
		{"negative piece", s.ReadAt(buf, -1, 0)},
		{"small buffer", s.ReadPiece(0, buf[:7])},
		{"write wrong size", s.WritePiece(2, buf)},
		{"write out of range", s.WritePiece(3, buf[:4])},
	}
	for _, b := range bad {
		if b.err == nil {
			t.Errorf("%s: no error", b.name)
		}
	}
	s.Close()
	if err := s.ReadPiece(0, buf); !errors.Is(err, ErrClosed) {
		t.Errorf("ReadPiece after Close = %v, want ErrClosed", err)
	}

	ro, err := OpenStorage(dir, l, StorageOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := ro.WritePiece(0, buf); !errors.Is(err, ErrReadOnly) {
		t.Errorf("WritePiece on read-only = %v, want ErrReadOnly", err)
	}
}

func TestStorageRefusesEscape(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "dl")
	outside := filepath.Join(base, "outside")
	for _, d := range []string{dir, outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	inside := filepath.Join(dir, "real")
	if err := os.Mkdir(inside, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(inside, filepath.Join(dir, "innerlink")); err != nil {
		t.Fatal(err)
	}
	l := Layout{PieceLength: 4, Length: 8, Files: files("link/x", 4, "innerlink/y", 4)}
	s, err := OpenStorage(dir, l, StorageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.WritePiece(0, []byte("evil")); !errors.Is(err, ErrOutside) {
		t.Errorf("write through a symlink leaving the directory = %v, want ErrOutside", err)
	}
	if _, err := os.Stat(filepath.Join(outside, "x")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("file created outside the download directory (stat err %v)", err)
	}
	if err := s.WritePiece(1, []byte("good")); err != nil {
		t.Errorf("write through a symlink that stays inside = %v, want nil", err)
	}

	// A layout that escapes lexically never gets this far.
	esc := Layout{PieceLength: 4, Length: 4, Files: []FileEntry{{Path: "../x", Length: 4}}}
	if _, err := OpenStorage(dir, esc, StorageOptions{}); err == nil {
		t.Error("OpenStorage accepted ../x")
	}
}

// TestStorageManyFiles writes and reads a 10,000-file torrent with a cache
// of 16 handles from several threads at once: it must neither run out of
// descriptors nor hold more than the cap (plus those in use).
func TestStorageManyFiles(t *testing.T) {
	nfiles, size := 10000, 100
	if testing.Short() {
		nfiles = 1000 // creating 10,000 files takes seconds on a busy disk
	}
	var specs []any
	for i := range nfiles {
		specs = append(specs, fmt.Sprintf("d%02d/f%05d", i%97, i), size)
	}
	l := Layout{PieceLength: 256, Length: int64(nfiles * size), Files: files(specs...)}
	data := testData(l.Length, 2)
	s, err := OpenStorage(t.TempDir(), l, StorageOptions{MaxOpenFiles: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	const workers = 8
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, l.PieceLength)
			for i := w; i < l.NumPieces(); i += workers {
				start := int64(i) * l.PieceLength
				want := data[start : start+l.PieceSize(i)]
				if err := s.WritePiece(i, want); err != nil {
					errs[w] = err
					return
				}
				if err := s.ReadPiece(i, buf); err != nil || !bytes.Equal(buf[:len(want)], want) {
					errs[w] = fmt.Errorf("piece %d read back wrong (err %v)", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if got := s.cache.size(); got > 16 {
		t.Errorf("cache holds %d handles, want <= 16", got)
	}
	got, err := os.ReadFile(filepath.Join(s.root, "d10", "f00980"))
	if want := data[980*size : 981*size]; err != nil || !bytes.Equal(got, want) {
		t.Errorf("file 980 on disk = %x, %v; want %x", got, err, want)
	}
}

// TestHandleEvictedWhileInUse checks the refcount: a handle pushed out of
// the cache by other opens stays usable until its user releases it.
func TestHandleEvictedWhileInUse(t *testing.T) {
	dir := t.TempDir()
	l := Layout{PieceLength: 4, Length: 12, Files: files("a", 4, "b", 4, "c", 4)}
	s, err := OpenStorage(dir, l, StorageOptions{MaxOpenFiles: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	writeAll(t, s, []byte("aaaabbbbcccc"))
	h, err := s.cache.acquire(0, false, func() (*os.File, error) { return s.openFile(0, false) })
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if err := s.ReadPiece(1, buf); err != nil { // evicts a
		t.Fatal(err)
	}
	if h.cached {
		t.Fatal("handle for a still cached with MaxOpenFiles 1")
	}
	if _, err := h.f.ReadAt(buf, 0); err != nil || string(buf) != "aaaa" {
		t.Errorf("read on evicted handle in use = %q, %v; want aaaa", buf, err)
	}
	s.cache.release(h)
	if _, err := h.f.ReadAt(buf, 0); err == nil {
		t.Error("evicted handle still open after its last release")
	}
}
