package tracker

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"time"
)

// The tracker server's state: swarms keyed by info-hash, no I/O and no
// clock of its own (every call is told the time). The HTTP and UDP front
// ends both call announce and scrape; the server task owns the one swarms
// value, so nothing here needs a lock.

// Server limits and defaults.
const (
	DefaultInterval    = 30 * time.Minute
	DefaultNumWant     = 50
	MaxNumWant         = 200
	DefaultMaxTorrents = 10000
	DefaultMaxPeers    = 5000 // per torrent
)

// Refusals the front ends turn into a failure reason or a UDP error.
var (
	errTooManyTorrents = errors.New("tracker is full")
)

// swarmPeer is one peer in a swarm. It is identified by its address: the
// address is what other peers dial, and it cannot be chosen by the client.
type swarmPeer struct {
	addr    netip.AddrPort
	id      [20]byte
	seeder  bool
	expires time.Time
}

// swarm is the peers of one torrent.
type swarm struct {
	// Invariant: index[p.addr] == i for every i, p in peers, and seeders
	// counts the peers with seeder set. peers is dense so that a random
	// sample is a random start and a walk.
	peers      []swarmPeer
	index      map[netip.AddrPort]int
	seeders    int
	downloaded int       // "completed" events seen, for scrape
	nextPurge  time.Time // when announce next drops expired peers
}

// swarms is the whole tracker state.
type swarms struct {
	interval    time.Duration // announce interval; peers expire after 2·interval
	maxTorrents int
	maxPeers    int
	rng         *rand.Rand
	torrents    map[[20]byte]*swarm
	onAnnounce  func(AnnounceRequest, netip.AddrPort) // ServerConfig.OnAnnounce
	fullSweep   time.Time                             // the last expire forced by a full tracker
}

// fullSweepEvery is how often a tracker at its torrent cap may sweep every
// swarm to make room for a new torrent.
const fullSweepEvery = time.Second

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
		rng: rng, torrents: make(map[[20]byte]*swarm)}
}

// announceResult is what a front end encodes: the peers (with ids, for
// dictionary responses) and the swarm's counts.
type announceResult struct {
	peers      []swarmPeer
	complete   int
	incomplete int
}

// announce records req from addr and picks peers for it. numwant ≤ 0 means
// DefaultNumWant; more than MaxNumWant is capped. The requester is never in
// its own answer. A swarm at its peer cap still answers, it just does not
// add the newcomer.
func (s *swarms) announce(req AnnounceRequest, addr netip.AddrPort, now time.Time) (announceResult, error) {
	addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	if s.onAnnounce != nil {
		s.onAnnounce(req, addr)
	}
	sw := s.torrents[req.InfoHash]
	if sw == nil {
		if req.Event == EventStopped {
			return announceResult{}, nil
		}
		if len(s.torrents) >= s.maxTorrents && now.Sub(s.fullSweep) >= fullSweepEvery {
			// A sweep is O(all peers): once per fullSweepEvery, not once per
			// refused announce, or a full tracker spends milliseconds on
			// each newcomer it then turns away.
			s.fullSweep = now
			s.expire(now)
		}
		if len(s.torrents) >= s.maxTorrents {
			return announceResult{}, errTooManyTorrents
		}
		sw = &swarm{index: make(map[netip.AddrPort]int), nextPurge: now.Add(s.interval)}
		s.torrents[req.InfoHash] = sw
	}
	if !now.Before(sw.nextPurge) {
		sw.purge(now)
		sw.nextPurge = now.Add(s.interval)
	}
	if req.Event == EventStopped {
		sw.remove(addr)
		if len(sw.peers) == 0 {
			delete(s.torrents, req.InfoHash)
		}
		return announceResult{complete: sw.seeders, incomplete: len(sw.peers) - sw.seeders}, nil
	}
	sw.upsert(swarmPeer{addr: addr, id: req.PeerID, seeder: req.Left == 0,
		expires: now.Add(2 * s.interval)}, s.maxPeers, req.Event)
	numWant := int(req.NumWant)
	if numWant <= 0 {
		numWant = DefaultNumWant
	}
	return announceResult{
		peers:      sw.sample(s.rng, min(numWant, MaxNumWant), addr, now),
		complete:   sw.seeders,
		incomplete: len(sw.peers) - sw.seeders,
	}, nil
}

// upsert adds p or refreshes it. A "completed" event from a peer we knew as
// a leecher counts as a download.
func (sw *swarm) upsert(p swarmPeer, maxPeers int, ev Event) {
	i, ok := sw.index[p.addr]
	if !ok {
		if len(sw.peers) >= maxPeers {
			return
		}
		i = len(sw.peers)
		sw.index[p.addr] = i
		sw.peers = append(sw.peers, swarmPeer{addr: p.addr})
	}
	old := &sw.peers[i]
	if ev == EventCompleted && !old.seeder && p.seeder {
		sw.downloaded++
	}
	if old.seeder != p.seeder {
		if p.seeder {
			sw.seeders++
		} else {
			sw.seeders--
		}
	}
	*old = p
}

// remove drops addr by moving the last peer into its slot.
func (sw *swarm) remove(addr netip.AddrPort) {
	i, ok := sw.index[addr]
	if !ok {
		return
	}
	if sw.peers[i].seeder {
		sw.seeders--
	}
	last := len(sw.peers) - 1
	sw.peers[i] = sw.peers[last]
	sw.index[sw.peers[i].addr] = i
	sw.peers = sw.peers[:last]
	delete(sw.index, addr)
}

// sample returns up to n live peers other than self, starting at a random
// place so every peer gets handed out.
func (sw *swarm) sample(rng *rand.Rand, n int, self netip.AddrPort, now time.Time) []swarmPeer {
	total := len(sw.peers)
	if total == 0 || n <= 0 {
		return nil
	}
	out := make([]swarmPeer, 0, min(n, total))
	start := rng.IntN(total)
	for k := 0; k < total && len(out) < n; k++ {
		p := sw.peers[(start+k)%total]
		if p.addr != self && now.Before(p.expires) {
			out = append(out, p)
		}
	}
	return out
}

// expire drops peers that have not announced for 2·interval, and swarms
// left empty. It is O(all peers): the server calls it once per interval,
// and announce when the torrent cap is hit, at most once a second. Between sweeps,
// announce purges the one swarm it touches at most once per interval.
func (s *swarms) expire(now time.Time) {
	for ih, sw := range s.torrents {
		sw.purge(now)
		if len(sw.peers) == 0 {
			delete(s.torrents, ih)
		}
	}
}

// purge drops the swarm's expired peers. Walking backwards is safe with
// remove's swap: the peer moved into slot i was already checked.
func (sw *swarm) purge(now time.Time) {
	for i := len(sw.peers) - 1; i >= 0; i-- {
		if !now.Before(sw.peers[i].expires) {
			sw.remove(sw.peers[i].addr)
		}
	}
}

// scrape reports the counts for one torrent; an unknown torrent is zeros.
func (s *swarms) scrape(ih [20]byte) ScrapeStats {
	sw := s.torrents[ih]
	if sw == nil {
		return ScrapeStats{}
	}
	return ScrapeStats{Complete: sw.seeders, Downloaded: sw.downloaded, Incomplete: len(sw.peers) - sw.seeders}
}
