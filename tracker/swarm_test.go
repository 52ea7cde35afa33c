package tracker

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"
)

func newTestSwarms(maxTorrents, maxPeers int) *swarms {
	return newSwarms(10*time.Second, maxTorrents, maxPeers, rand.New(rand.NewPCG(1, 2)))
}

func peerReq(ih byte, id byte, left int64, ev Event) AnnounceRequest {
	return AnnounceRequest{InfoHash: [20]byte{ih}, PeerID: [20]byte{id}, Left: left, Event: ev}
}

func addrs(ps []peerRec) []netip.AddrPort {
	out := make([]netip.AddrPort, len(ps))
	for i := range ps {
		out[i] = ps[i].addrPort()
	}
	slices.SortFunc(out, func(a, b netip.AddrPort) int { return a.Compare(b) })
	return out
}

func TestSwarmScenario(t *testing.T) {
	s := newTestSwarms(0, 0)
	t0 := time.Unix(1000, 0)
	a, b, c := ap("10.0.0.1:1"), ap("10.0.0.2:2"), ap("[::ffff:10.0.0.3]:3")
	steps := []struct {
		name       string
		req        AnnounceRequest
		from       netip.AddrPort
		at         time.Duration
		wantPeers  []netip.AddrPort
		complete   int
		incomplete int
	}{
		{"a starts alone", peerReq(1, 'a', 10, EventStarted), a, 0, nil, 0, 1},
		{"b gets a, never itself", peerReq(1, 'b', 0, EventStarted), b, 0, []netip.AddrPort{a}, 1, 1},
		{"c (4in6) gets a and b", peerReq(1, 'c', 5, EventStarted), c, 0, []netip.AddrPort{a, b}, 1, 2},
		{"a completes", peerReq(1, 'a', 0, EventCompleted), a, time.Second, []netip.AddrPort{b, ap("10.0.0.3:3")}, 2, 1},
		{"b stops", peerReq(1, 'b', 0, EventStopped), b, time.Second, nil, 1, 1},
		{"after 2·interval only the fresh one is handed out", peerReq(1, 'c', 5, EventNone), ap("10.0.0.3:3"),
			21 * time.Second, nil, 0, 1},
	}
	for _, st := range steps {
		res, err := s.announce(st.req, st.from, t0.Add(st.at))
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := addrs(res.peers); !slices.Equal(got, st.wantPeers) {
			t.Errorf("%s: got peers %v, want %v", st.name, got, st.wantPeers)
		}
		if res.complete != st.complete || res.incomplete != st.incomplete {
			t.Errorf("%s: got %d/%d complete/incomplete, want %d/%d", st.name, res.complete, res.incomplete, st.complete, st.incomplete)
		}
	}
	if got, want := s.scrape([20]byte{1}), (ScrapeStats{Complete: 0, Downloaded: 1, Incomplete: 1}); got != want {
		t.Errorf("scrape: got %+v, want %+v", got, want)
	}
	s.expire(t0.Add(time.Hour))
	if len(s.torrents) != 0 {
		t.Errorf("after expiry: got %d torrents, want 0", len(s.torrents))
	}
}

func TestSwarmNumWant(t *testing.T) {
	s := newTestSwarms(0, 0)
	now := time.Unix(0, 0)
	for i := range MaxNumWant + 20 {
		from := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 1)
		s.announce(peerReq(1, 0, 1, EventStarted), from, now)
	}
	for _, tt := range []struct{ numWant, want int32 }{{0, DefaultNumWant}, {-1, DefaultNumWant}, {5, 5}, {10000, MaxNumWant}} {
		req := peerReq(1, 0, 1, EventNone)
		req.NumWant = tt.numWant
		res, _ := s.announce(req, ap("10.9.9.9:9"), now)
		if len(res.peers) != int(tt.want) {
			t.Errorf("numwant %d: got %d peers, want %d", tt.numWant, len(res.peers), tt.want)
		}
	}
}

// TestSwarmTableAgainstModel drives one swarm through growth past
// tableMin and back with inserts and swap-removes, checking find against
// a map after every step.
func TestSwarmTableAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const seed = 12345
	sw := &swarm{}
	model := map[netip.AddrPort]bool{}
	tables := 0
	addr := func(i int) netip.AddrPort {
		if i%3 == 0 {
			return netip.AddrPortFrom(netip.AddrFrom16([16]byte{0x20, 1, 15: byte(i)}), uint16(i>>8))
		}
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), uint16(i%7+1))
	}
	for step := range 20000 {
		grow := step < 10000
		i := rng.IntN(600)
		a := addr(i)
		r := makeRec(a)
		slot := sw.find(&r, seed)
		if (slot >= 0) != model[a] {
			t.Fatalf("step %d: find(%v) = %d, model has it: %v", step, a, slot, model[a])
		}
		switch {
		case slot < 0 && (grow || (step < 15000 && rng.IntN(4) == 0) || rng.IntN(400) == 0):
			if i%5 == 0 {
				r.flags |= recSeeder
			}
			sw.insert(r, seed)
			model[a] = true
		case slot >= 0 && (!grow || rng.IntN(3) == 0):
			sw.removeAt(slot, seed)
			delete(model, a)
		}
		if len(sw.peers) != len(model) {
			t.Fatalf("step %d: %d records, model %d", step, len(sw.peers), len(model))
		}
		if len(sw.peers) > tableMin && sw.table == nil {
			t.Fatalf("step %d: %d records and no table", step, len(sw.peers))
		}
		tables += len(sw.table)
	}
	if len(sw.peers) > tableMin/2 || tables == 0 {
		t.Fatalf("the walk ended at %d peers, table work %d: want it through the table and back below tableMin/2", len(sw.peers), tables)
	}
	seeders := 0
	for a := range model {
		r := makeRec(a)
		slot := sw.find(&r, seed)
		if slot < 0 || sw.peers[slot].addrPort() != a {
			t.Fatalf("%v: found at %d", a, slot)
		}
		if sw.peers[slot].seeder() {
			seeders++
		}
	}
	if seeders != sw.seeders {
		t.Errorf("seeders: counted %d, swarm says %d", seeders, sw.seeders)
	}
}

// TestLargeSwarmStoresEveryPeer: a torrent with more peers than the old
// per-torrent cap (5,000, silently not stored) keeps them all, and
// answers numwant peers sampled from all of them.
func TestLargeSwarmStoresEveryPeer(t *testing.T) {
	s := newTestSwarms(0, 0)
	now := time.Unix(0, 0)
	const n = 20000
	for i := range n {
		s.announce(peerReq(1, 0, 1, EventStarted), netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 1), now)
	}
	if got := s.scrape([20]byte{1}).Incomplete; got != n {
		t.Fatalf("scrape: got %d peers, want %d", got, n)
	}
	seen := map[netip.AddrPort]bool{}
	for range 200 {
		res, _ := s.announce(peerReq(1, 0, 1, EventNone), ap("10.255.0.1:1"), now)
		for _, a := range addrs(res.peers) {
			seen[a] = true
		}
	}
	// 200 samples of 50 from 20,000: a sampler stuck on one region would
	// see a few hundred distinct peers; a random one about 8,000.
	if len(seen) < 5000 {
		t.Errorf("200 answers of 50 covered %d distinct peers of %d, want a spread sample", len(seen), n)
	}
}

// TestPeerCapEvictsInsteadOfRefusing: at the peer cap, newcomers are
// stored by evicting the stalest peers, the count never passes the cap
// ("no growth past the cap"), and existing swarms keep being answered.
func TestPeerCapEvictsInsteadOfRefusing(t *testing.T) {
	const limit = 200
	s := newTestSwarms(0, limit)
	t0 := time.Unix(0, 0)
	peer := func(i int) netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 1)
	}
	for i := range limit { // the stale half: 20 swarms of 10
		s.announce(peerReq(byte(i%20), 0, 1, EventStarted), peer(i), t0)
	}
	later := t0.Add(5 * time.Second) // not expired (interval 10 s), only older
	for i := limit; i < 2*limit; i++ {
		ih := byte(i % 25) // 5 new swarms too
		res, _ := s.announce(peerReq(ih, 0, 1, EventStarted), peer(i), later)
		if s.total > limit {
			t.Fatalf("after %d announces: %d peers stored, cap %d", i+1, s.total, limit)
		}
		if ih < 20 && res.complete+res.incomplete < 2 {
			t.Fatalf("announce %d to existing swarm %d: swarm has %d peers", i, ih, res.complete+res.incomplete)
		}
	}
	if s.total != limit {
		t.Errorf("got %d peers, want the cap %d", s.total, limit)
	}
	fresh, stored := 0, 0
	for _, sw := range s.list {
		for i := range sw.peers {
			stored++
			if sw.peers[i].expires > s.clock(t0)+s.ttl() {
				fresh++
			}
		}
	}
	if stored != s.total {
		t.Errorf("records %d, total says %d", stored, s.total)
	}
	// Each eviction drops the stalest of a window of 8: nearly every
	// survivor is one of the 200 newer peers.
	if fresh < limit*9/10 {
		t.Errorf("%d of %d survivors are the newer peers, want nearly all", fresh, limit)
	}
}

// TestTorrentCapEvictsStalestSwarm: a new torrent beyond MaxTorrents is
// served, and the swarm announced to least recently goes.
func TestTorrentCapEvictsStalestSwarm(t *testing.T) {
	s := newTestSwarms(3, 0)
	t0 := time.Unix(0, 0)
	for ih := byte(1); ih <= 3; ih++ {
		s.announce(peerReq(ih, 0, 1, EventStarted), ap("10.0.0.1:1"), t0.Add(time.Duration(ih)*time.Second))
	}
	s.announce(peerReq(1, 0, 1, EventNone), ap("10.0.0.2:1"), t0.Add(4*time.Second)) // 2 is now the stalest
	res, err := s.announce(peerReq(4, 0, 1, EventStarted), ap("10.0.0.1:1"), t0.Add(5*time.Second))
	if err != nil || res.incomplete != 1 {
		t.Fatalf("new torrent at the cap: got %+v, %v; want it stored", res, err)
	}
	if len(s.torrents) != 3 || s.torrents[[20]byte{2}] != nil {
		t.Errorf("got torrents %v, want 1, 3, 4 (2 evicted)", s.torrents)
	}
	if s.total != 4 {
		t.Errorf("got %d peers, want 4", s.total)
	}
}

// TestReapIsIncremental: an announce reaps a bounded number of expired
// peers (never a sweep of all), and ticks reap the rest.
func TestReapIsIncremental(t *testing.T) {
	s := newTestSwarms(0, 0)
	t0 := time.Unix(0, 0)
	const n = 5 * ReapPerTick / 2
	for i := range n {
		s.announce(peerReq(byte(i%100), 0, 1, EventStarted), netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 1), t0)
	}
	late := t0.Add(time.Hour)
	s.announce(peerReq(200, 0, 1, EventStarted), ap("10.255.0.1:1"), late)
	if s.total < n+1-reapPerAnnounce {
		t.Errorf("one announce reaped %d peers, want at most %d", n+1-s.total, reapPerAnnounce)
	}
	for k := 1; k <= 3; k++ {
		s.tick(late)
		if got, want := s.total, max(1, n+1-reapPerAnnounce-k*ReapPerTick); got < want {
			t.Errorf("after %d ticks: %d peers left, want at least %d (a tick reaps %d)", k, got, want, ReapPerTick)
		}
	}
	if s.total != 1 || len(s.torrents) != 1 {
		t.Errorf("after the ticks: %d peers in %d torrents, want only the live one", s.total, len(s.torrents))
	}
}

// TestAnnounceAnswersUnderLoad: thousands of announces over many swarms,
// with stops and random numwant; every answer holds only peers of the
// asked torrent, never the asker, no duplicate, at most numwant.
func TestAnnounceAnswersUnderLoad(t *testing.T) {
	s := newSwarms(time.Hour, 0, 0, rand.New(rand.NewPCG(1, 2))) // nobody expires
	rng := rand.New(rand.NewPCG(5, 6))
	now := time.Unix(0, 0)
	members := map[byte]map[netip.AddrPort]bool{}
	for i := range 30000 {
		ih := byte(rng.IntN(50))
		from := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, ih, 0, byte(rng.IntN(200))}), 1)
		if rng.IntN(3) == 0 {
			from = netip.AddrPortFrom(netip.AddrFrom16([16]byte{0x20, 1, 2: ih, 15: byte(rng.IntN(200))}), 2)
		}
		ev := EventNone
		if rng.IntN(20) == 0 {
			ev = EventStopped
		}
		req := peerReq(ih, 0, int64(rng.IntN(2)), ev)
		req.NumWant = int32(rng.IntN(80) - 5)
		res, _ := s.announce(req, from, now.Add(time.Duration(i)*time.Millisecond))
		if members[ih] == nil {
			members[ih] = map[netip.AddrPort]bool{}
		}
		want := int(req.NumWant)
		if want <= 0 {
			want = DefaultNumWant
		}
		if len(res.peers) > want {
			t.Fatalf("announce %d: %d peers for numwant %d", i, len(res.peers), req.NumWant)
		}
		got := addrs(res.peers)
		for k, a := range got {
			if a == from || !members[ih][a] || (k > 0 && got[k-1] == a) {
				t.Fatalf("announce %d from %v to %d: peer %v (asker, foreign or duplicate) in %v", i, from, ih, a, got)
			}
		}
		if ev == EventStopped {
			delete(members[ih], from)
		} else {
			members[ih][from] = true
		}
		if c := res.complete + res.incomplete; ev != EventStopped && c != len(members[ih]) {
			t.Fatalf("announce %d: swarm counts %d peers, model %d", i, c, len(members[ih]))
		}
	}
}
