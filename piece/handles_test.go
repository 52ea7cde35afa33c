package piece

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// fdsOpen counts this process's open descriptors, or -1 where /proc is not
// there to ask.
func fdsOpen(t testing.TB) int {
	t.Helper()
	if runtime.GOOS != "linux" {
		return -1
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestFileCacheBoundsManyStorages: 40 storages of 10 files each share one
// cache of 8, used by 8 threads at once. The files open at any moment never
// exceed the bound plus two per operation in flight, every byte reads back,
// and closing the storages closes every file.
func TestFileCacheBoundsManyStorages(t *testing.T) {
	const (
		storages, nfiles, size = 40, 10, 50
		bound, workers         = 8, 8
	)
	base := fdsOpen(t)
	c := NewFileCache(bound)
	var specs []any
	for i := range nfiles {
		specs = append(specs, fmt.Sprintf("f%d", i), size)
	}
	l := Layout{PieceLength: 32, Length: nfiles * size, Files: files(specs...)}
	var ss []*Storage
	var datas [][]byte
	for i := range storages {
		s, err := OpenStorage(filepath.Join(t.TempDir(), fmt.Sprint(i)), l, StorageOptions{Files: c})
		if err != nil {
			t.Fatal(err)
		}
		ss = append(ss, s)
		datas = append(datas, testData(l.Length, uint64(i)))
	}

	var wg sync.WaitGroup
	errs := make([]error, workers)
	peaks := make([]int, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, l.PieceLength)
			// Each worker walks every storage in its own order, so that
			// they share files, evict each other's and race on opens.
			for k := range storages {
				si := (k*7 + w*13) % storages
				s, data := ss[si], datas[si]
				for i := range l.NumPieces() {
					p := (i + w) % l.NumPieces()
					want := data[int64(p)*l.PieceLength:][:l.PieceSize(p)]
					if err := s.WritePiece(p, want); err != nil {
						errs[w] = err
						return
					}
					peaks[w] = max(peaks[w], c.Open())
					if err := s.ReadPiece(p, buf); err != nil || !bytes.Equal(buf[:len(want)], want) {
						errs[w] = fmt.Errorf("storage %d piece %d read back wrong (err %v)", si, p, err)
						return
					}
					peaks[w] = max(peaks[w], c.Open())
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for w, p := range peaks {
		if p > bound+2*workers {
			t.Errorf("worker %d saw %d files open, bound %d + 2 × %d in flight", w, p, bound, workers)
		}
	}
	if got := c.Open(); got > bound {
		t.Errorf("%d files open once idle, want <= %d", got, bound)
	}
	if n := fdsOpen(t); base >= 0 && n-base > bound {
		t.Errorf("%d descriptors more than before, want <= %d", n-base, bound)
	}
	for _, s := range ss {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.Open(); got != 0 {
		t.Errorf("%d files open after every storage closed, want 0", got)
	}
}

// TestFileCacheCloseIsPerStorage: closing one storage closes its files and
// fails its later reads; another storage's cached files stay open.
func TestFileCacheCloseIsPerStorage(t *testing.T) {
	c := NewFileCache(4)
	l := Layout{PieceLength: 4, Length: 8, Files: files("a", 4, "b", 4)}
	var ss [2]*Storage
	for i := range ss {
		s, err := OpenStorage(t.TempDir(), l, StorageOptions{Files: c})
		if err != nil {
			t.Fatal(err)
		}
		writeAll(t, s, []byte("aaaabbbb"))
		ss[i] = s
	}
	if got := c.Open(); got != 4 {
		t.Fatalf("%d files open, want 4", got)
	}
	ss[0].Close()
	if got, n := c.Open(), ss[1].cache.size(); got != 2 || n != 2 {
		t.Errorf("after closing one storage: %d files open, other holds %d; want 2, 2", got, n)
	}
	buf := make([]byte, 4)
	if err := ss[0].ReadPiece(0, buf); !errors.Is(err, ErrClosed) {
		t.Errorf("read on closed storage = %v, want ErrClosed", err)
	}
	if err := ss[1].ReadPiece(1, buf); err != nil || string(buf) != "bbbb" {
		t.Errorf("read on the other storage = %q, %v", buf, err)
	}
	ss[1].Close()
}

// emfile is what open(2) says when the process is out of descriptors.
var emfile = &os.PathError{Op: "open", Path: "x", Err: syscall.EMFILE}

// TestFileCacheShedsWhenOutOfDescriptors: an open that fails with EMFILE
// closes the idle files, lowers the bound and is tried once more; if that
// fails too, the operation fails with an error that says why, and the
// cache still works afterwards.
func TestFileCacheShedsWhenOutOfDescriptors(t *testing.T) {
	dir := t.TempDir()
	const n = 40
	var specs []any
	for i := range n {
		specs = append(specs, fmt.Sprintf("f%d", i), 4)
	}
	l := Layout{PieceLength: 4, Length: 4 * n, Files: files(specs...)}
	s, err := OpenStorage(dir, l, StorageOptions{MaxOpenFiles: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	writeAll(t, s, bytes.Repeat([]byte("x"), 4*n))
	c := s.cache.c
	busy, err := s.cache.acquire(0, false, func() (*os.File, error) { return s.openFile(0, false) })
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Open(); got != n {
		t.Fatalf("%d files open, want %d", got, n)
	}

	fails := 1
	open := func() (*os.File, error) {
		if fails > 0 {
			fails--
			return nil, emfile
		}
		return os.Open(filepath.Join(dir, "f1"))
	}
	h, err := s.cache.acquire(1000, false, open)
	if err != nil {
		t.Fatalf("acquire after one EMFILE: %v", err)
	}
	s.cache.release(h)
	// The idle files were closed; the one in use was not.
	if got := c.Open(); got != 2 {
		t.Errorf("%d files open after shedding, want 2 (the one in use, the new one)", got)
	}
	if got := c.Bound(); got != n/2 {
		t.Errorf("bound %d after running out with %d cached, want %d", got, n, n/2)
	}
	if _, err := busy.f.Stat(); err != nil {
		t.Errorf("file in use was closed by shedding: %v", err)
	}
	s.cache.release(busy)

	fails = 2
	_, err = s.cache.acquire(1001, false, open)
	if !errors.Is(err, syscall.EMFILE) || !strings.Contains(err.Error(), "data files open") {
		t.Errorf("acquire when out of descriptors twice = %v, want EMFILE saying how many are open", err)
	}
	buf := make([]byte, 4)
	if err := s.ReadPiece(5, buf); err != nil || string(buf) != "xxxx" {
		t.Errorf("read after a failed open = %q, %v", buf, err)
	}
}
