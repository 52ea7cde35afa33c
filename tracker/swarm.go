package tracker

import (
	"math/rand/v2"
	"net/netip"
	"time"
)

// The tracker server's state: swarms keyed by info-hash, no I/O and no
// clock of its own (every call is told the time). The HTTP and UDP front
// ends both call announce and scrape; the server task owns the one swarms
// value, so nothing here needs a lock.
//
// Memory is bounded by two caps, and reaching one never refuses an
// announce: a new peer beyond MaxPeers evicts the stalest of a few peers
// under the hand, a new torrent beyond MaxTorrents evicts the stalest of a
// few swarms under it. The hand is a cursor over every peer of every
// swarm, like a CLOCK page-replacement hand: each announce moves it a few
// records, dropping the expired ones it passes, and the server's tick
// moves it further. Expired peers are thus reaped a few at a time and
// every operation costs O(1) amortised: there is no sweep of all peers.

// Server limits and defaults.
const (
	DefaultInterval = 30 * time.Minute
	DefaultNumWant  = 50
	MaxNumWant      = 200
	// DefaultMaxPeers bounds the peers of all torrents together: a peer
	// record is 24 bytes and its share of a swarm's table at most 8 more,
	// so a million peers are about 32 MiB at most.
	DefaultMaxPeers = 1_000_000
	// DefaultMaxTorrents bounds the swarms: an empty swarm's overhead is
	// about 200 bytes, so 100,000 swarms cost about 20 MiB on top.
	DefaultMaxTorrents = 100_000
)

// Costs of the incremental work, in peer records looked at.
const (
	reapPerAnnounce = 4  // the hand's step on each announce
	evictWindow     = 32 // peers compared to choose one to evict
	swarmWindow     = 4  // swarms compared to choose one to evict
	ReapPerTick     = 20_000
)

// swarms is the whole tracker state.
type swarms struct {
	interval    time.Duration // announce interval; peers expire after 2·interval
	maxTorrents int
	maxPeers    int
	rng         *rand.Rand
	seed        uint64 // for hashRec
	torrents    map[[20]byte]*swarm
	// Invariant: list holds every swarm of torrents once, list[i].pos ==
	// i, and total is the sum of their len(peers) ≤ maxPeers after every
	// announce.
	list       []*swarm
	total      int
	hand       struct{ sw, slot int } // the reaping and eviction cursor
	epoch      time.Time              // time 0 of the uint32 clock in peer records
	onAnnounce func(AnnounceRequest, netip.AddrPort)
	scratch    []peerRec // the last sample, reused
}

func newSwarms(interval time.Duration, maxTorrents, maxPeers int, rng *rand.Rand) *swarms {
	if interval <= 0 {
		interval = DefaultInterval
	}
	if maxTorrents <= 0 {
		maxTorrents = DefaultMaxTorrents
	}
	if maxPeers <= 0 {
		maxPeers = DefaultMaxPeers
	}
	if rng == nil {
		rng = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	return &swarms{interval: interval, maxTorrents: maxTorrents, maxPeers: maxPeers,
		rng: rng, seed: rng.Uint64() | 1, torrents: make(map[[20]byte]*swarm)}
}

// clock turns now into the seconds peer records count in. The epoch is
// the first call's time less a second, so that 0 is always in the past.
func (s *swarms) clock(now time.Time) uint32 {
	if s.epoch.IsZero() {
		s.epoch = now.Add(-time.Second)
	}
	d := now.Sub(s.epoch)
	if d < 0 {
		return 0
	}
	return uint32(d / time.Second)
}

// ttl is how long a peer lives without announcing, in whole seconds
// rounded up.
func (s *swarms) ttl() uint32 {
	return uint32((2*s.interval + time.Second - 1) / time.Second)
}

// announceResult is what a front end encodes: the peers and the swarm's
// counts. peers is only valid until the next announce.
type announceResult struct {
	peers      []peerRec
	complete   int
	incomplete int
}

// announce records req from addr and picks peers of either family for
// it (announceFamily with family 0). It never fails: a full tracker
// evicts rather than refuses.
func (s *swarms) announce(req AnnounceRequest, addr netip.AddrPort, now time.Time) (announceResult, error) {
	return s.announceFamily(req, addr, now, 0), nil
}

// announceFamily records req from addr and picks peers for it. numwant ≤ 0
// means DefaultNumWant; more than MaxNumWant is capped. The requester is
// never in its own answer. family, if 4 or 6, limits the answer to that
// address family (a UDP answer carries only the requester's).
func (s *swarms) announceFamily(req AnnounceRequest, addr netip.AddrPort, now time.Time, family int) announceResult {
	addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	if s.onAnnounce != nil {
		s.onAnnounce(req, addr)
	}
	secs := s.clock(now)
	// The hand moves after the announce, so that it never drops the
	// swarm being answered (the sample is a copy).
	defer s.reap(secs, reapPerAnnounce)
	sw := s.torrents[req.InfoHash]
	if sw == nil {
		if req.Event == EventStopped {
			return announceResult{}
		}
		if len(s.torrents) >= s.maxTorrents {
			s.evictSwarm()
		}
		sw = &swarm{pos: len(s.list), ih: req.InfoHash}
		s.list = append(s.list, sw)
		s.torrents[req.InfoHash] = sw
	}
	if sw.lastSeen != secs {
		s.purgeSome(sw, secs) // once a second is enough to keep the counts live
	}
	sw.lastSeen = secs
	rec := makeRec(addr)
	i := sw.find(&rec, s.seed)
	if req.Event == EventStopped {
		if i >= 0 {
			s.removePeer(sw, i)
		}
		res := announceResult{complete: sw.seeders, incomplete: len(sw.peers) - sw.seeders}
		if len(sw.peers) == 0 {
			s.dropSwarm(sw)
		}
		return res
	}
	if i < 0 {
		if s.total >= s.maxPeers {
			s.evictPeer(secs, sw)
		}
		i = sw.insert(rec, s.seed)
		s.total++
	}
	s.refresh(sw, i, req, secs)
	numWant := int(req.NumWant)
	if numWant <= 0 {
		numWant = DefaultNumWant
	}
	s.scratch = sw.sample(s.scratch[:0], s.rng, min(numWant, MaxNumWant), &rec, secs, family)
	return announceResult{peers: s.scratch, complete: sw.seeders, incomplete: len(sw.peers) - sw.seeders}
}

// refresh renews slot i's lease and seeder flag. A "completed" event from a
// peer we knew as a leecher counts as a download.
func (s *swarms) refresh(sw *swarm, i int, req AnnounceRequest, secs uint32) {
	p := &sw.peers[i]
	p.expires = secs + s.ttl()
	seeder := req.Left == 0
	if seeder == p.seeder() {
		return
	}
	if seeder {
		if req.Event == EventCompleted {
			sw.downloaded++
		}
		p.flags |= recSeeder
		sw.seeders++
	} else {
		p.flags &^= recSeeder
		sw.seeders--
	}
}

func (s *swarms) removePeer(sw *swarm, i int) {
	sw.removeAt(i, s.seed)
	s.total--
}

// purgeSome moves the swarm's own hand over a few of its records,
// dropping expired ones, so that a swarm announced to often counts only
// live peers without waiting for the global hand. It leaves an emptied
// swarm in place for the caller.
func (s *swarms) purgeSome(sw *swarm, now uint32) {
	for k := 0; k < reapPerAnnounce*2 && len(sw.peers) > 0; k++ {
		if sw.hand >= len(sw.peers) {
			sw.hand = 0
		}
		if now >= sw.peers[sw.hand].expires {
			s.removePeer(sw, sw.hand)
		} else {
			sw.hand++
		}
	}
}

// dropSwarm forgets a swarm and its peers; the last swarm of list takes
// its place (the hand may then pass that one twice or skip it once).
func (s *swarms) dropSwarm(sw *swarm) {
	s.total -= len(sw.peers)
	last := s.list[len(s.list)-1]
	s.list[sw.pos] = last
	last.pos = sw.pos
	s.list[len(s.list)-1] = nil
	s.list = s.list[:len(s.list)-1]
	delete(s.torrents, sw.ih)
}

// reap moves the hand over up to budget records, dropping expired peers
// and the swarms they leave empty.
func (s *swarms) reap(now uint32, budget int) {
	for ; budget > 0 && len(s.list) > 0; budget-- {
		if s.hand.sw >= len(s.list) {
			s.hand.sw, s.hand.slot = 0, 0
		}
		sw := s.list[s.hand.sw]
		switch {
		case s.hand.slot >= len(sw.peers):
			s.hand.sw++
			s.hand.slot = 0
		case now >= sw.peers[s.hand.slot].expires:
			s.removePeer(sw, s.hand.slot) // the last peer moved in: look at it next
			if len(sw.peers) == 0 {
				s.dropSwarm(sw) // the last swarm moved in: look at it next
				s.hand.slot = 0
			}
		default:
			s.hand.slot++
		}
	}
}

// evictPeer makes room for one peer in keep: it drops the stalest of the
// next evictWindow peers under the hand (an expired one if the hand meets
// one), never keep itself as a swarm.
func (s *swarms) evictPeer(now uint32, keep *swarm) {
	var victim *swarm
	vslot := -1
	for seen, steps := 0, 0; seen < evictWindow && steps < evictWindow+2*len(s.list); steps++ {
		if s.hand.sw >= len(s.list) {
			s.hand.sw, s.hand.slot = 0, 0
		}
		sw := s.list[s.hand.sw]
		if s.hand.slot >= len(sw.peers) {
			s.hand.sw++
			s.hand.slot = 0
			continue
		}
		if victim == nil || sw.peers[s.hand.slot].expires < victim.peers[vslot].expires {
			victim, vslot = sw, s.hand.slot
		}
		s.hand.slot++
		seen++
	}
	if victim == nil {
		return
	}
	s.removePeer(victim, vslot)
	if len(victim.peers) == 0 && victim != keep {
		s.dropSwarm(victim)
	}
}

// evictSwarm makes room for a torrent: of the swarmWindow swarms from the
// hand on, it drops the one announced to least recently.
func (s *swarms) evictSwarm() {
	if len(s.list) == 0 {
		return
	}
	if s.hand.sw >= len(s.list) {
		s.hand.sw = 0
	}
	victim := s.list[s.hand.sw]
	for k := 1; k < min(swarmWindow, len(s.list)); k++ {
		if sw := s.list[(s.hand.sw+k)%len(s.list)]; sw.lastSeen < victim.lastSeen {
			victim = sw
		}
	}
	s.hand.sw++
	s.hand.slot = 0
	s.dropSwarm(victim)
}

// tick reaps on the server's timer: ReapPerTick records at a time, a few
// tens of microseconds, so a quiet tracker forgets silent peers too.
func (s *swarms) tick(now time.Time) {
	s.reap(s.clock(now), ReapPerTick)
}

// expire reaps every peer now (tests; the server uses tick).
func (s *swarms) expire(now time.Time) {
	s.reap(s.clock(now), s.total+2*len(s.list)+1)
}

// sample appends up to n live peers other than self to dst, of the given
// family if not 0. It walks the swarm from a random slot with a random
// stride coprime with its size, which visits distinct slots in a random
// order: a random sample, O(n) rather than O(swarm), however large the
// swarm. The walk is bounded, so a filter that few peers pass returns
// fewer than n rather than scanning a huge swarm.
func (sw *swarm) sample(dst []peerRec, rng *rand.Rand, n int, self *peerRec, now uint32, family int) []peerRec {
	m := len(sw.peers)
	if m == 0 || n <= 0 {
		return dst
	}
	i, step := rng.IntN(m), 1
	if m > 2 {
		step = 1 + rng.IntN(m-1)
		for gcd(step, m) != 1 {
			step = 1 + rng.IntN(m-1)
		}
	}
	limit := min(m, 4*n+64)
	for k := 0; k < limit && len(dst) < n; k++ {
		p := &sw.peers[i]
		if now < p.expires && !p.sameAddr(self) && (family == 0 || (family == 6) == p.is6()) {
			dst = append(dst, *p)
		}
		if i += step; i >= m {
			i -= m
		}
	}
	return dst
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// scrape reports the counts for one torrent; an unknown torrent is zeros.
func (s *swarms) scrape(ih [20]byte) ScrapeStats {
	sw := s.torrents[ih]
	if sw == nil {
		return ScrapeStats{}
	}
	return ScrapeStats{Complete: sw.seeders, Downloaded: sw.downloaded, Incomplete: len(sw.peers) - sw.seeders}
}
