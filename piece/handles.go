package piece

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
)

// handle is one open file, shared by every operation that uses it.
//
// Invariant (under FileCache.mu): refs counts the operations between
// acquire and release; cached says the handle is in the map and the LRU
// list. A handle is closed exactly once, by whoever sees refs == 0 and
// !cached: eviction of an idle handle, or the last release of an evicted
// one. So an executor thread never has its file closed under it.
type handle struct {
	f          *os.File
	key        handleKey
	writable   bool
	refs       int
	cached     bool
	prev, next *handle // LRU list; most recent at head.next
}

// handleKey names one file of one Storage in a FileCache.
type handleKey struct {
	set  *handleCache
	file int
}

// FileCache keeps at most a bound of files open for any number of
// Storages: one cache for the process, so that the descriptors it uses do
// not grow with the number of torrents or files (a seeder of 1,000
// torrents held 1,000 files open with one cache per Storage). Operations
// in flight may hold a few more: evicted files until they release them,
// files being opened or being closed (outside the lock). Each operation
// has at most two such files at a time, so the files open at any moment
// number at most the bound plus twice the operations running (one per
// executor thread).
//
// Storage runs on executor threads, several at once, so the cache is
// guarded by a sync.Mutex: the one lock in piece/ (DESIGN.md allows it
// here and nowhere else). The critical sections are a map lookup and a
// few pointer moves; opening and closing files happens outside them, so
// no thread waits on another's syscall.
//
// When an open fails because the process or the system is out of
// descriptors (EMFILE, ENFILE), the cache closes its idle files, lowers
// its bound to half of what it held (sockets need descriptors too, and
// the limit is evidently lower than the bound), and tries once more; the
// bound stays lowered for the cache's life.
type FileCache struct {
	mu   sync.Mutex
	max  int
	m    map[handleKey]*handle
	head handle // sentinel of the circular LRU list

	open atomic.Int64 // files open now: cached, evicted in use, or being opened
}

// NewFileCache returns a cache that keeps at most max files open
// (0 or less: DefaultMaxOpenFiles), to share between Storages through
// StorageOptions.Files.
func NewFileCache(max int) *FileCache {
	c := &FileCache{max: orDefault(max, DefaultMaxOpenFiles), m: make(map[handleKey]*handle)}
	c.head.prev, c.head.next = &c.head, &c.head
	return c
}

// Open reports how many files the cache holds open now, idle or in use.
func (c *FileCache) Open() int { return int(c.open.Load()) }

// Bound reports how many idle files the cache keeps at most: the bound it
// was made with, or less once the process ran out of descriptors.
func (c *FileCache) Bound() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.max
}

// handleCache is one Storage's view of a FileCache: its files are keyed
// by the view, and closing the view closes only them.
type handleCache struct {
	c      *FileCache
	n      int  // handles of this view in the cache; under c.mu
	closed bool // under c.mu
}

func newHandleCache(c *FileCache) *handleCache { return &handleCache{c: c} }

// acquire returns an open handle for file, writable if asked, opening it
// with open on a miss. The caller must release it.
func (v *handleCache) acquire(file int, writable bool, open func() (*os.File, error)) (*handle, error) {
	c, key := v.c, handleKey{v, file}
	c.mu.Lock()
	if v.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	if h := c.hitLocked(key, writable); h != nil {
		c.mu.Unlock()
		return h, nil
	}
	c.mu.Unlock()

	f, err := c.openFile(open)
	if err != nil {
		return nil, err
	}
	nh := &handle{f: f, key: key, writable: writable, refs: 1}

	var stale []*handle
	c.mu.Lock()
	if v.closed {
		c.mu.Unlock()
		c.closeFile(nh)
		return nil, ErrClosed
	}
	// Another thread may have opened the same file meanwhile.
	if h := c.hitLocked(key, writable); h != nil {
		c.mu.Unlock()
		c.closeFile(nh)
		return h, nil
	}
	if old := c.m[key]; old != nil { // read-only, and we need to write
		stale = c.evictLocked(old, stale)
	}
	c.m[key] = nh
	v.n++
	nh.cached = true
	c.pushFrontLocked(nh)
	for len(c.m) > c.max {
		stale = c.evictLocked(c.head.prev, stale)
	}
	c.mu.Unlock()
	c.closeAll(stale)
	return nh, nil
}

// openFile runs open, counted in c.open. Out of descriptors, it sheds the
// idle files and tries once more; if that fails too, the error says why.
func (c *FileCache) openFile(open func() (*os.File, error)) (*os.File, error) {
	c.open.Add(1)
	f, err := open()
	if err != nil && outOfDescriptors(err) {
		c.shed()
		f, err = open()
		if err != nil && outOfDescriptors(err) {
			err = fmt.Errorf("%w (%d data files open, at most %d kept)", err, c.Open()-1, c.Bound())
		}
	}
	if err != nil {
		c.open.Add(-1)
		return nil, err
	}
	return f, nil
}

// outOfDescriptors reports whether err is the process (EMFILE) or the
// system (ENFILE) running out of file descriptors.
func outOfDescriptors(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

// shed closes every idle file and lowers the bound to half of what the
// cache held, but not below a small floor (or the bound, if lower).
func (c *FileCache) shed() {
	var stale []*handle
	c.mu.Lock()
	c.max = min(c.max, max(len(c.m)/2, 16))
	for h := c.head.next; h != &c.head; {
		next := h.next
		if h.refs == 0 {
			stale = c.evictLocked(h, stale)
		}
		h = next
	}
	c.mu.Unlock()
	c.closeAll(stale)
}

// hitLocked takes a reference on a cached handle good enough for the
// request, or returns nil.
func (c *FileCache) hitLocked(key handleKey, writable bool) *handle {
	h := c.m[key]
	if h == nil || (writable && !h.writable) {
		return nil
	}
	h.refs++
	c.unlinkLocked(h)
	c.pushFrontLocked(h)
	return h
}

// evictLocked drops h from the cache and appends it to stale when nobody
// is using it; otherwise its last release closes it.
func (c *FileCache) evictLocked(h *handle, stale []*handle) []*handle {
	c.unlinkLocked(h)
	delete(c.m, h.key)
	h.key.set.n--
	h.cached = false
	if h.refs == 0 {
		stale = append(stale, h)
	}
	return stale
}

func (c *FileCache) pushFrontLocked(h *handle) {
	h.prev, h.next = &c.head, c.head.next
	h.next.prev = h
	c.head.next = h
}

func (c *FileCache) unlinkLocked(h *handle) {
	h.prev.next, h.next.prev = h.next, h.prev
	h.prev, h.next = nil, nil
}

// closeFile closes h's file, outside the lock, and returns close's error.
func (c *FileCache) closeFile(h *handle) error {
	err := h.f.Close()
	c.open.Add(-1)
	return err
}

// closeAll closes the files of stale handles and returns the first error.
func (c *FileCache) closeAll(stale []*handle) error {
	var first error
	for _, h := range stale {
		if err := c.closeFile(h); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// release gives back a handle from acquire.
func (v *handleCache) release(h *handle) {
	c := v.c
	c.mu.Lock()
	h.refs--
	closeIt := h.refs == 0 && !h.cached
	c.mu.Unlock()
	if closeIt {
		c.closeFile(h)
	}
}

// size reports how many handles of this view the cache holds, for tests.
func (v *handleCache) size() int {
	v.c.mu.Lock()
	defer v.c.mu.Unlock()
	return v.n
}

// closeAll closes this view's idle handles and makes its later acquires
// fail; handles in use are closed by their last release. It walks the
// whole LRU list, which the bound keeps short.
func (v *handleCache) closeAll() error {
	c := v.c
	var stale []*handle
	c.mu.Lock()
	v.closed = true
	for h := c.head.next; h != &c.head && v.n > 0; {
		next := h.next
		if h.key.set == v {
			stale = c.evictLocked(h, stale)
		}
		h = next
	}
	c.mu.Unlock()
	return c.closeAll(stale)
}
