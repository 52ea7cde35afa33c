package dht

import (
	"net/netip"
	"testing"
	"time"
)

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// idAt returns an id sharing exactly cp leading bits with the zero id (our
// own in these tests), told apart by tag in its last byte.
func idAt(cp int, tag byte) ID {
	var id ID
	id[cp/8] = 0x80 >> (cp % 8)
	id[19] |= tag
	return id
}

func addr(i int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 6881)
}

func node(cp int, tag byte, a int) NodeInfo { return NodeInfo{ID: idAt(cp, tag), Addr: addr(a)} }

func TestTableFillsThenSplitsOnlyOurOwnBucket(t *testing.T) {
	tb := NewTable(ID{}, t0)
	for i := range K {
		if !tb.Replied(node(0, byte(i), i), t0) {
			t.Fatalf("far node %d not added to an empty table", i)
		}
	}
	if tb.Buckets() != 1 {
		t.Fatalf("buckets = %d, want 1 before the first overflow", tb.Buckets())
	}
	// A ninth far node: the only bucket is ours, so it splits, but all
	// nine are far (first bit differs) and stay in bucket 0, which is now
	// full and no longer ours: the ninth waits as a replacement.
	if tb.Replied(node(0, 9, 9), t0) {
		t.Error("ninth far node added to a full far bucket")
	}
	if tb.Buckets() != 2 || tb.Len() != K {
		t.Errorf("buckets, len = %d, %d; want 2, %d", tb.Buckets(), tb.Len(), K)
	}
	// Near nodes go to the new last bucket, which splits again as needed.
	for i := range K + 1 {
		if !tb.Replied(node(5+i%2, byte(20+i), 100+i), t0) {
			t.Errorf("near node %d not added", i)
		}
	}
	if tb.Len() != 2*K+1 {
		t.Errorf("len = %d, want %d", tb.Len(), 2*K+1)
	}
	if tb.Replied(NodeInfo{ID: ID{}, Addr: addr(999)}, t0) {
		t.Error("our own id was added")
	}
}

func TestTableOneEntryPerAddress(t *testing.T) {
	tb := NewTable(ID{}, t0)
	tb.Replied(node(0, 1, 1), t0)
	tb.Replied(node(3, 2, 1), t0) // same IP:port, new id: the node restarted
	if tb.Len() != 1 {
		t.Fatalf("len = %d, want 1", tb.Len())
	}
	if _, ok := tb.Status(idAt(0, 1), t0); ok {
		t.Error("the old id is still in the table")
	}
	// The same id from another address is not believed while the known
	// one is good.
	tb.Replied(NodeInfo{ID: idAt(3, 2), Addr: addr(2)}, t0)
	if got := tb.Nodes(); len(got) != 1 || got[0].Addr != addr(1) {
		t.Errorf("nodes = %v, want the first address kept", got)
	}
}

func TestTableStatusFollowsBEP5Timing(t *testing.T) {
	tb := NewTable(ID{}, t0)
	n := node(0, 1, 1)
	tb.Replied(n, t0)
	steps := []struct {
		name string
		do   func()
		at   time.Duration
		want Status
	}{
		{"just replied", func() {}, 0, Good},
		{"14 minutes later", func() {}, 14 * time.Minute, Good},
		{"15 minutes of silence", func() {}, 15 * time.Minute, Questionable},
		{"it queries us", func() { tb.Queried(n, t0.Add(16*time.Minute)) }, 16 * time.Minute, Good},
		{"15 minutes after its query", func() {}, 31 * time.Minute, Questionable},
		{"one missed reply", func() { tb.Failed(n.Addr, t0.Add(32*time.Minute)) }, 32 * time.Minute, Questionable},
		{"two missed replies", func() { tb.Failed(n.Addr, t0.Add(33*time.Minute)) }, 33 * time.Minute, Bad},
		{"it replies again", func() { tb.Replied(n, t0.Add(34*time.Minute)) }, 34 * time.Minute, Good},
	}
	for _, s := range steps {
		s.do()
		got, ok := tb.Status(n.ID, t0.Add(s.at))
		if !ok || got != s.want {
			t.Errorf("%s: status %v (in table %v), want %v", s.name, got, ok, s.want)
		}
	}
	// A node that never replied but queries us is not added.
	if tb.Queried(node(1, 7, 7), t0) {
		t.Error("an unknown querier was added")
	}
}

func TestTableReplacesBadNodes(t *testing.T) {
	tb := NewTable(ID{}, t0)
	for i := range K + 1 { // fill bucket 0, which splits off once
		tb.Replied(node(0, byte(i), i), t0)
	}
	spare := node(0, 50, 50)
	if tb.Wants(spare.ID, t0) {
		t.Error("Wants a node for a bucket of good nodes")
	}
	tb.Replied(spare, t0) // kept as a replacement
	victim := addr(3)
	tb.Failed(victim, t0)
	if tb.Len() != K {
		t.Fatalf("len = %d after one failure", tb.Len())
	}
	tb.Failed(victim, t0)
	if _, ok := tb.Status(spare.ID, t0); !ok {
		t.Error("the replacement did not take the bad node's place")
	}
	if _, ok := tb.Status(idAt(0, 3), t0); ok {
		t.Error("the bad node is still in the table")
	}
	// The ninth node, the older replacement, takes the next place.
	tb.Failed(addr(4), t0)
	tb.Failed(addr(4), t0)
	if _, ok := tb.Status(idAt(0, K), t0); !ok {
		t.Error("the older replacement did not take the second bad node's place")
	}
	// With no replacement waiting, a bad node stays until a newcomer
	// replies: then it is replaced at once.
	tb.Failed(addr(5), t0)
	tb.Failed(addr(5), t0)
	if tb.Len() != K {
		t.Errorf("len = %d, want the bad node kept for now", tb.Len())
	}
	if !tb.Wants(idAt(0, 60), t0) {
		t.Error("Wants nothing though a bad node can be replaced")
	}
	if !tb.Replied(node(0, 60, 60), t0) {
		t.Error("a newcomer did not replace the bad node")
	}
}

func TestTableToPingAndStale(t *testing.T) {
	tb := NewTable(ID{}, t0)
	for i := range K + 1 {
		tb.Replied(node(0, byte(i), i), t0.Add(time.Duration(i)*time.Second))
	}
	later := t0.Add(20 * time.Minute)
	got := tb.ToPing(later)
	if len(got) != 1 || got[0] != node(0, 0, 0) {
		t.Errorf("ToPing = %v, want the longest-silent node of the full bucket", got)
	}
	stale := tb.Stale(later)
	if len(stale) != 2 {
		t.Fatalf("Stale = %d targets, want one per bucket (2)", len(stale))
	}
	for i, id := range stale {
		if got := tb.index(id); got != i {
			t.Errorf("refresh target %d falls in bucket %d", i, got)
		}
	}
	if again := tb.Stale(later.Add(time.Minute)); len(again) != 0 {
		t.Errorf("Stale asked again a minute later: %v", again)
	}
}

func TestTableClosest(t *testing.T) {
	tb := NewTable(ID{}, t0)
	for cp := range 20 {
		tb.Replied(node(cp, byte(cp), cp), t0)
	}
	target := idAt(10, 0)
	got := tb.Closest(target, K, t0)
	if len(got) != K {
		t.Fatalf("got %d nodes", len(got))
	}
	if got[0].ID != idAt(10, 10) {
		t.Errorf("closest = %v, want the node at prefix 10", got[0].ID)
	}
	for i := 1; i < len(got); i++ {
		if target.Closer(got[i].ID, got[i-1].ID) {
			t.Errorf("not sorted at %d", i)
		}
	}
	tb.Failed(addr(10), t0)
	tb.Failed(addr(10), t0)
	if got := tb.Closest(target, 1, t0); got[0].ID == idAt(10, 10) {
		t.Error("a bad node was returned")
	}
}

// Thousands of nodes stay in at most 160 buckets of K.
func TestTableBoundedUnderManyNodes(t *testing.T) {
	tb := NewTable(RandomID(), t0)
	for i := range 5000 {
		tb.Replied(NodeInfo{ID: RandomID(), Addr: addr(i)}, t0)
	}
	if tb.Len() > tb.Buckets()*K || tb.Buckets() > 160 {
		t.Errorf("len %d in %d buckets", tb.Len(), tb.Buckets())
	}
	for i, b := range tb.buckets {
		if len(b.entries) > K || len(b.replacements) > K {
			t.Errorf("bucket %d: %d entries, %d replacements", i, len(b.entries), len(b.replacements))
		}
	}
}
