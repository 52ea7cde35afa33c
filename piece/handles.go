package piece

import (
	"os"
	"sync"
)

// handle is one open file, shared by every operation that uses it.
//
// Invariant (under handleCache.mu): refs counts the operations between
// acquire and release; cached says the handle is in the map and the LRU
// list. A handle is closed exactly once, by whoever sees refs == 0 and
// !cached: eviction of an idle handle, or the last release of an evicted
// one. So an executor thread never has its file closed under it.
type handle struct {
	f          *os.File
	file       int
	writable   bool
	refs       int
	cached     bool
	prev, next *handle // LRU list; most recent at head.next
}

// handleCache keeps at most max files open. Operations in flight may hold
// a few more, evicted ones until they release them.
//
// Storage runs on executor threads, several at once, so the cache is
// guarded by a sync.Mutex: the one lock in piece/ (DESIGN.md allows it
// here and nowhere else). The critical sections are a map lookup and a
// few pointer moves; opening and closing files happens outside them, so
// no thread waits on another's syscall.
type handleCache struct {
	mu     sync.Mutex
	max    int
	m      map[int]*handle
	head   handle // sentinel of the circular LRU list
	closed bool
}

func newHandleCache(max int) *handleCache {
	c := &handleCache{max: max, m: make(map[int]*handle)}
	c.head.prev, c.head.next = &c.head, &c.head
	return c
}

// acquire returns an open handle for file, writable if asked, opening it
// with open on a miss. The caller must release it.
func (c *handleCache) acquire(file int, writable bool, open func() (*os.File, error)) (*handle, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	if h := c.hitLocked(file, writable); h != nil {
		c.mu.Unlock()
		return h, nil
	}
	c.mu.Unlock()

	f, err := open()
	if err != nil {
		return nil, err
	}
	nh := &handle{f: f, file: file, writable: writable, refs: 1}

	var stale []*handle
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		f.Close()
		return nil, ErrClosed
	}
	// Another thread may have opened the same file meanwhile.
	if h := c.hitLocked(file, writable); h != nil {
		c.mu.Unlock()
		f.Close()
		return h, nil
	}
	if old := c.m[file]; old != nil { // read-only, and we need to write
		stale = c.evictLocked(old, stale)
	}
	c.m[file] = nh
	nh.cached = true
	c.pushFrontLocked(nh)
	for len(c.m) > c.max {
		stale = c.evictLocked(c.head.prev, stale)
	}
	c.mu.Unlock()
	for _, h := range stale {
		h.f.Close()
	}
	return nh, nil
}

// hitLocked takes a reference on a cached handle good enough for the
// request, or returns nil.
func (c *handleCache) hitLocked(file int, writable bool) *handle {
	h := c.m[file]
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
func (c *handleCache) evictLocked(h *handle, stale []*handle) []*handle {
	c.unlinkLocked(h)
	delete(c.m, h.file)
	h.cached = false
	if h.refs == 0 {
		stale = append(stale, h)
	}
	return stale
}

func (c *handleCache) pushFrontLocked(h *handle) {
	h.prev, h.next = &c.head, c.head.next
	h.next.prev = h
	c.head.next = h
}

func (c *handleCache) unlinkLocked(h *handle) {
	h.prev.next, h.next.prev = h.next, h.prev
	h.prev, h.next = nil, nil
}

// release gives back a handle from acquire.
func (c *handleCache) release(h *handle) {
	c.mu.Lock()
	h.refs--
	closeIt := h.refs == 0 && !h.cached
	c.mu.Unlock()
	if closeIt {
		h.f.Close()
	}
}

// size reports how many handles the cache holds, for tests.
func (c *handleCache) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// closeAll closes every idle handle and makes later acquires fail; handles
// in use are closed by their last release.
func (c *handleCache) closeAll() error {
	var stale []*handle
	c.mu.Lock()
	c.closed = true
	for c.head.next != &c.head {
		stale = c.evictLocked(c.head.next, stale)
	}
	c.mu.Unlock()
	var first error
	for _, h := range stale {
		if err := h.f.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
