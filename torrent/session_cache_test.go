package torrent

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/metainfo"
	"github.com/aiotorrent/aiotorrent/piece"
)

func TestReadCacheBoundedInBytesLRU(t *testing.T) {
	c := newReadCache(100, 40) // lines of 40 bytes
	line := func(n int) []byte { return make([]byte, n) }
	c.put(lineKey{0, 0}, line(40))
	c.put(lineKey{1, 0}, line(40))
	c.get(lineKey{0, 0}) // 0 is now the most recently used
	c.put(lineKey{2, 0}, line(30))
	if c.bytes != 70 || c.get(lineKey{1, 0}) != nil || c.get(lineKey{0, 0}) == nil {
		t.Fatalf("after a put over the bound: %d bytes, lines %v; want 70 bytes with line 1 evicted", c.bytes, keys(&c))
	}
	c.put(lineKey{3, 0}, line(100)) // as large as the bound: everything else goes
	if c.bytes != 100 || !slices.Equal(keys(&c), []lineKey{{3, 0}}) {
		t.Fatalf("got %d bytes, lines %v; want only line 3", c.bytes, keys(&c))
	}
	c.invalidate(3, 40)
	if c.bytes != 0 || len(c.lines) != 0 || c.lru.Len() != 0 {
		t.Fatalf("after invalidate: %d bytes, %d lines, %d in LRU; want empty", c.bytes, len(c.lines), c.lru.Len())
	}
}

func keys(c *readCache) []lineKey {
	var out []lineKey
	for e := c.lru.Front(); e != nil; e = e.Next() {
		out = append(out, e.Value.(lineKey))
	}
	return out
}

// TestReadBlockLinesAndSharedMiss reads blocks of 3 MiB pieces, which the
// cache reads in 1 MiB lines: blocks match the file byte for byte, a
// block across a line boundary is read alone, and tasks missing the same
// line at once share one read.
func TestReadBlockLinesAndSharedMiss(t *testing.T) {
	const pieceLen = 3 << 20
	dir := t.TempDir()
	writePayload(t, filepath.Join(dir, "payload"), map[string]int{"f.bin": 2*pieceLen + 12345})
	meta, _, err := metainfo.CreateSync(metainfo.CreateOptions{Path: filepath.Join(dir, "payload"), PieceLength: pieceLen})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(filepath.Join(dir, "payload", "f.bin"))
	storage, err := piece.OpenStorage(dir, meta.Layout(), piece.StorageOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer storage.Close()
	picker, _ := piece.NewPicker(meta.PieceLength, meta.Length, rand.New(rand.NewPCG(1, 1)), piece.PickerOptions{})
	s := &Session{meta: meta, storage: storage, picker: picker, cache: newReadCache(4<<20, pieceLen)}
	blocks := []struct{ piece, begin, length int }{
		{0, 0, piece.BlockSize},
		{0, 1<<20 - 100, 200}, // across lines 0 and 1
		{1, 2<<20 + 16384, piece.BlockSize},
		{2, 12345 - 45, 45}, // the end of the short last piece
	}
	_, err = aio.Run(func(at *aio.Task) (struct{}, error) {
		for _, b := range blocks {
			got, err := s.readBlock(at, b.piece, b.begin, b.length)
			if err != nil {
				return struct{}{}, err
			}
			off := b.piece*pieceLen + b.begin
			if !bytes.Equal(got, want[off:off+b.length]) {
				t.Errorf("block %v: bytes differ from the file", b)
			}
		}
		misses := s.cache.misses
		fns := make([]func(*aio.Task) ([]byte, error), 5)
		for i := range fns {
			fns[i] = func(t *aio.Task) ([]byte, error) { return s.readBlock(t, 1, i*piece.BlockSize, piece.BlockSize) }
		}
		if _, err := aio.Gather(at, fns...); err != nil {
			return struct{}{}, err
		}
		if got := s.cache.misses - misses; got != 1 {
			t.Errorf("5 tasks missing one line made %d reads, want 1", got)
		}
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.cache.bytes > 4<<20 {
		t.Errorf("cache holds %d bytes, bound is %d", s.cache.bytes, 4<<20)
	}
}
