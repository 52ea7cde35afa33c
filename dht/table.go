package dht

import (
	"crypto/rand"
	"net/netip"
	"slices"
	"time"
)

// The routing table of BEP 5, as a pure state machine: it is told what
// happened (a node replied, queried us, failed to reply) and when, and
// answers which nodes are closest to a target, which to ping, which
// buckets to refresh. It does no I/O and reads no clock.
//
// Buckets are kept by how many leading bits their nodes share with our
// own id: bucket i (for every bucket but the last) holds the nodes whose
// id first differs from ours at bit i; the last bucket holds all the
// rest, our own id's neighbourhood. Only that last bucket ever splits
// (BEP 5: "only the bucket our own id falls in"), so the table knows
// many nodes near us and a few far away, at most 160 buckets of K.

// K is the bucket size, and how many nodes a lookup converges on.
const K = 8

// BEP 5's timing: a node is good if it replied to us in the last 15
// minutes, or replied once and queried us in the last 15 minutes; it is
// bad once it has failed to reply this many times in a row; a bucket
// untouched for 15 minutes is refreshed.
const (
	GoodFor       = 15 * time.Minute
	BadAfterFails = 2
	RefreshAfter  = 15 * time.Minute
)

// Status is a node's standing in the table.
type Status int

const (
	Good Status = iota
	Questionable
	Bad
)

type entry struct {
	NodeInfo
	lastReply time.Time // zero: it never replied to us
	lastQuery time.Time // when it last queried us
	fails     int       // queries in a row it did not answer
}

func (e *entry) status(now time.Time) Status {
	switch {
	case e.fails >= BadAfterFails:
		return Bad
	case !e.lastReply.IsZero() && (now.Sub(e.lastReply) < GoodFor || now.Sub(e.lastQuery) < GoodFor):
		return Good
	}
	return Questionable
}

type bucket struct {
	entries      []*entry   // at most K; oldest first
	replacements []NodeInfo // nodes that replied while the bucket was full; newest last, at most K
	changed      time.Time  // last time a node in it was added or heard from
}

// Table is a routing table. Its zero value is not usable; call NewTable.
type Table struct {
	self    ID
	buckets []*bucket
	byAddr  map[netip.AddrPort]*entry // at most one entry per IP:port
}

// NewTable returns an empty table around our own id.
func NewTable(self ID, now time.Time) *Table {
	return &Table{self: self, buckets: []*bucket{{changed: now}}, byAddr: map[netip.AddrPort]*entry{}}
}

// Self is our own id.
func (t *Table) Self() ID { return t.self }

// Len is the number of nodes in the table.
func (t *Table) Len() int { return len(t.byAddr) }

// Buckets is the number of buckets.
func (t *Table) Buckets() int { return len(t.buckets) }

func (t *Table) index(id ID) int { return min(commonPrefix(t.self, id), len(t.buckets)-1) }

func (t *Table) find(id ID) (*bucket, int) {
	b := t.buckets[t.index(id)]
	for i, e := range b.entries {
		if e.ID == id {
			return b, i
		}
	}
	return b, -1
}

// Status reports the standing of the node with this id, and whether it is
// in the table at all.
func (t *Table) Status(id ID, now time.Time) (Status, bool) {
	b, i := t.find(id)
	if i < 0 {
		return Bad, false
	}
	return b.entries[i].status(now), true
}

// Replied records that n answered one of our queries: it is added if
// there is room (splitting our own bucket if need be) or a bad node to
// replace, refreshed if known, and otherwise kept as a replacement for
// the first node of its bucket to go bad. It reports whether n is now in
// the table.
func (t *Table) Replied(n NodeInfo, now time.Time) bool {
	if n.ID == t.self || !usable(n.Addr) {
		return false
	}
	if e := t.byAddr[n.Addr]; e != nil {
		if e.ID == n.ID {
			e.lastReply, e.fails = now, 0
			t.buckets[t.index(e.ID)].changed = now
			return true
		}
		t.remove(e) // the node at that address restarted with a new id
	}
	if b, i := t.find(n.ID); i >= 0 {
		if b.entries[i].status(now) != Bad {
			return false // keep the address we know: the new one may be spoofed
		}
		t.remove(b.entries[i])
	}
	return t.insert(&entry{NodeInfo: n, lastReply: now}, now)
}

func (t *Table) insert(e *entry, now time.Time) bool {
	for {
		i := t.index(e.ID)
		b := t.buckets[i]
		if len(b.entries) < K {
			t.add(b, e, now)
			return true
		}
		if i == len(t.buckets)-1 && i < 159 {
			t.split(now)
			continue
		}
		for _, old := range b.entries {
			if old.status(now) == Bad {
				t.remove(old)
				t.add(b, e, now)
				return true
			}
		}
		b.addReplacement(e.NodeInfo)
		return false
	}
}

func (t *Table) add(b *bucket, e *entry, now time.Time) {
	b.entries = append(b.entries, e)
	b.replacements = slices.DeleteFunc(b.replacements, func(r NodeInfo) bool { return r.ID == e.ID || r.Addr == e.Addr })
	b.changed = now
	t.byAddr[e.Addr] = e
}

func (b *bucket) addReplacement(n NodeInfo) {
	b.replacements = slices.DeleteFunc(b.replacements, func(r NodeInfo) bool { return r.ID == n.ID || r.Addr == n.Addr })
	if len(b.replacements) == K {
		b.replacements = append(b.replacements[:0], b.replacements[1:]...)
	}
	b.replacements = append(b.replacements, n)
}

func (t *Table) remove(e *entry) {
	b := t.buckets[t.index(e.ID)]
	b.entries = slices.DeleteFunc(b.entries, func(x *entry) bool { return x == e })
	delete(t.byAddr, e.Addr)
}

// split divides the last bucket: the nodes that share one more bit with
// our id move to a new last bucket.
func (t *Table) split(now time.Time) {
	last := len(t.buckets) - 1
	old := t.buckets[last]
	near := &bucket{changed: now}
	t.buckets = append(t.buckets, near)
	var far []*entry
	for _, e := range old.entries {
		if commonPrefix(t.self, e.ID) > last {
			near.entries = append(near.entries, e)
		} else {
			far = append(far, e)
		}
	}
	old.entries = far
	var keep []NodeInfo
	for _, r := range old.replacements {
		if commonPrefix(t.self, r.ID) > last {
			near.replacements = append(near.replacements, r)
		} else {
			keep = append(keep, r)
		}
	}
	old.replacements = keep
}

// Queried records that the node with this id and address sent us a
// query. A node we know stays good for longer; an unknown one is not
// added (anyone can send a query with any id): it reports false, and the
// caller may ping it to verify it.
func (t *Table) Queried(n NodeInfo, now time.Time) bool {
	e := t.byAddr[n.Addr]
	if e == nil || e.ID != n.ID {
		return false
	}
	e.lastQuery = now
	t.buckets[t.index(e.ID)].changed = now
	return true
}

// Failed records that the node at addr did not answer a query. Once it is
// bad, the newest replacement of its bucket takes its place; the
// replacement replied to us recently, so it is likely alive.
func (t *Table) Failed(addr netip.AddrPort, now time.Time) {
	e := t.byAddr[addr]
	if e == nil {
		return
	}
	e.fails++
	if e.status(now) != Bad {
		return
	}
	b := t.buckets[t.index(e.ID)]
	if n := len(b.replacements); n > 0 {
		r := b.replacements[n-1]
		b.replacements = b.replacements[:n-1]
		t.remove(e)
		t.add(b, &entry{NodeInfo: r, lastReply: now}, now)
	}
}

// Wants reports whether a node with this id would be added if it replied
// now: there is room in its bucket, its bucket can split, or a bad node
// can be replaced. It is how the caller decides whether an unknown node
// that queried us is worth a ping.
func (t *Table) Wants(id ID, now time.Time) bool {
	if id == t.self {
		return false
	}
	i := t.index(id)
	b := t.buckets[i]
	if len(b.entries) < K || (i == len(t.buckets)-1 && i < 159) {
		return true
	}
	for _, e := range b.entries {
		if e.ID == id {
			return false
		}
		if e.status(now) == Bad {
			return true
		}
	}
	return false
}

// Closest returns up to n nodes that are not bad, closest to target
// first.
func (t *Table) Closest(target ID, n int, now time.Time) []NodeInfo {
	var all []NodeInfo
	for _, b := range t.buckets {
		for _, e := range b.entries {
			if e.status(now) != Bad {
				all = append(all, e.NodeInfo)
			}
		}
	}
	slices.SortFunc(all, func(a, b NodeInfo) int {
		if target.Closer(a.ID, b.ID) {
			return -1
		}
		if target.Closer(b.ID, a.ID) {
			return 1
		}
		return 0
	})
	return all[:min(n, len(all))]
}

// ToPing returns, for each bucket that has replacements waiting, its
// questionable node that has been silent longest: pinging it either keeps
// it good or, after BadAfterFails misses, lets a replacement in (BEP 5).
func (t *Table) ToPing(now time.Time) []NodeInfo {
	var out []NodeInfo
	for _, b := range t.buckets {
		if len(b.replacements) == 0 {
			continue
		}
		var oldest *entry
		for _, e := range b.entries {
			if e.status(now) == Questionable && (oldest == nil || lastHeard(e).Before(lastHeard(oldest))) {
				oldest = e
			}
		}
		if oldest != nil {
			out = append(out, oldest.NodeInfo)
		}
	}
	return out
}

func lastHeard(e *entry) time.Time {
	if e.lastQuery.After(e.lastReply) {
		return e.lastQuery
	}
	return e.lastReply
}

// Stale returns a random target in each bucket nobody in which has been
// heard from for RefreshAfter; a find_node for it refreshes the bucket.
// Each bucket's changed time is reset, so it is asked for once per period.
func (t *Table) Stale(now time.Time) []ID {
	var out []ID
	for i, b := range t.buckets {
		if now.Sub(b.changed) >= RefreshAfter {
			out = append(out, t.randomIn(i))
			b.changed = now
		}
	}
	return out
}

// randomIn returns a random id that falls in bucket i: it shares our
// first i bits and (but in the last bucket) differs at bit i.
func (t *Table) randomIn(i int) ID {
	var id ID
	rand.Read(id[:])
	for bit := range i {
		mask := byte(0x80) >> (bit % 8)
		id[bit/8] = id[bit/8]&^mask | t.self[bit/8]&mask
	}
	if i < len(t.buckets)-1 {
		mask := byte(0x80) >> (i % 8)
		id[i/8] = id[i/8]&^mask | ^t.self[i/8]&mask
	}
	return id
}

// Nodes returns every node in the table, for saving it.
func (t *Table) Nodes() []NodeInfo {
	out := make([]NodeInfo, 0, len(t.byAddr))
	for _, b := range t.buckets {
		for _, e := range b.entries {
			out = append(out, e.NodeInfo)
		}
	}
	return out
}
