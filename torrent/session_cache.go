package torrent

import (
	"container/list"
	"fmt"

	"github.com/aiotorrent/aiotorrent/aio"
)

// The read cache serves uploads. A leecher asks for a piece 16 KiB at a
// time, usually all of it and in order, so a piece is read once, on the
// executor, in one call, and its blocks are sliced from that buffer.
// Pieces over maxLine are read in lines of maxLine bytes, so that a
// 16 MiB piece does not cost a 16 MiB read for one block.
//
// The cache is bounded in bytes and evicts the least recently used line.
// Evicted buffers are left to the garbage collector rather than reused: a
// writer may still be sending from one (QueuePiece does not copy). So the
// memory in use is the bound plus what sits in send queues, itself bounded
// by uploadBatch per peer (session_upload.go).
//
// Two peers missing the same line at once share one read: the first
// starts it, the others await the same future.

// maxLine is the largest read the cache makes.
const maxLine = 1 << 20

type lineKey struct{ piece, line int }

type readCache struct {
	maxBytes, bytes int64
	lineSize        int
	lru             *list.List // of lineKey, least recently used first
	lines           map[lineKey]cacheLine
	reading         map[lineKey]*aio.Future[[]byte]

	hits, misses int64 // lines found / read, for measurements
}

type cacheLine struct {
	data []byte
	elem *list.Element
}

func newReadCache(maxBytes int64, pieceLen int64) readCache {
	return readCache{
		maxBytes: maxBytes,
		lineSize: int(min(pieceLen, maxLine)),
		lru:      list.New(),
		lines:    make(map[lineKey]cacheLine),
		reading:  make(map[lineKey]*aio.Future[[]byte]),
	}
}

func (c *readCache) get(k lineKey) []byte {
	l, ok := c.lines[k]
	if !ok {
		return nil
	}
	c.lru.MoveToBack(l.elem)
	return l.data
}

func (c *readCache) put(k lineKey, data []byte) {
	if _, ok := c.lines[k]; ok {
		return
	}
	for c.bytes+int64(len(data)) > c.maxBytes && c.lru.Len() > 0 {
		c.remove(c.lru.Front().Value.(lineKey))
	}
	c.lines[k] = cacheLine{data: data, elem: c.lru.PushBack(k)}
	c.bytes += int64(len(data))
}

func (c *readCache) remove(k lineKey) {
	l, ok := c.lines[k]
	if !ok {
		return
	}
	c.lru.Remove(l.elem)
	delete(c.lines, k)
	c.bytes -= int64(len(l.data))
}

// invalidate drops what the cache holds of piece i.
func (c *readCache) invalidate(i int, pieceSize int) {
	for line := 0; line*c.lineSize < pieceSize; line++ {
		c.remove(lineKey{i, line})
	}
}

// readBlock returns length bytes at begin in piece i, which the caller
// has validated against the piece. The bytes must not be changed: they
// are the cache's, and writers may still be sending them.
func (s *Session) readBlock(t *aio.Task, i, begin, length int) ([]byte, error) {
	c := &s.cache
	k := lineKey{i, begin / c.lineSize}
	start := k.line * c.lineSize
	if begin+length > start+c.lineSize {
		// A block across two lines (only an odd request does that): read
		// it alone.
		return aio.Blocking(t, func() ([]byte, error) {
			buf := make([]byte, length)
			if err := s.storage.ReadAt(buf, i, int64(begin)); err != nil {
				return nil, fmt.Errorf("read piece %d: %w", i, err)
			}
			return buf, nil
		})
	}
	data, err := s.readLine(t, k, min(c.lineSize, s.picker.PieceSize(i)-start))
	if err != nil {
		return nil, err
	}
	return data[begin-start : begin-start+length], nil
}

// readLine returns line k (n bytes) from the cache, or reads it.
func (s *Session) readLine(t *aio.Task, k lineKey, n int) ([]byte, error) {
	c := &s.cache
	if data := c.get(k); data != nil {
		c.hits++
		return data, nil
	}
	f := c.reading[k]
	if f == nil {
		c.misses++
		off := int64(k.line * c.lineSize)
		f = aio.Submit(t, func() ([]byte, error) {
			buf := make([]byte, n)
			return buf, s.storage.ReadAt(buf, k.piece, off)
		})
		c.reading[k] = f
	}
	data, err := aio.Await(t, f)
	// Whoever wakes first files the result; a reader cancelled meanwhile
	// leaves it to the others, or to the next reader of the line.
	if c.reading[k] == f {
		delete(c.reading, k)
		if err == nil {
			c.put(k, data)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("read piece %d: %w", k.piece, err)
	}
	return data, nil
}
