package torrent

// The choker decides which peers may download from us. Like the picker it
// is a pure component: peer statistics and the time go in, the set of
// peers to unchoke comes out; no I/O, no clock of its own, no aio. The
// session calls it from its tick and applies the difference.
//
// The algorithm is BitTorrent's tit-for-tat as mainline, libtorrent and
// Transmission run it:
//
//  1. Every Interval (10 s) a round ranks the peers that are interested in
//     our data and unchokes the best Slots (4) of them: while we download,
//     the ones that upload to us fastest (reciprocation); once we seed,
//     the ones we upload to fastest (they make the best use of the slot).
//  2. One more peer is unchoked optimistically and kept for
//     OptimisticInterval (30 s): a random interested peer outside the
//     regular set, newly connected peers three times as likely (they have
//     nothing to trade yet). This is how a new peer gets its first pieces
//     and how we discover peers faster than the current four.
//  3. Anti-snubbing: a peer we are interested in that has sent us no block
//     for SnubTimeout (60 s) is not given a regular slot however good its
//     past rate; only the optimistic unchoke can still pick it.
//
// Ties in rate are broken at random, so that among equal peers (at the
// start, every rate is zero) the slots go round instead of sticking to
// whoever connected first.

import (
	"math/rand/v2"
	"slices"
	"time"

	"github.com/aiotorrent/aiotorrent/piece"
)

// ChokeConfig tunes the choking algorithm. Zero values take the defaults,
// which are BitTorrent's; tests shorten the intervals.
type ChokeConfig struct {
	// Slots is the number of regular unchokes (default 4).
	Slots int
	// Interval is the time between rounds (default 10 s).
	Interval time.Duration
	// OptimisticInterval is how long an optimistic unchoke lasts
	// (default 30 s).
	OptimisticInterval time.Duration
	// SnubTimeout is how long a peer we want data from may send nothing
	// before it loses its regular slot (default 60 s).
	SnubTimeout time.Duration
}

func (c *ChokeConfig) setDefaults() {
	c.Slots = defaultInt(c.Slots, 4)
	c.Interval = defaultDuration(c.Interval, 10*time.Second)
	c.OptimisticInterval = defaultDuration(c.OptimisticInterval, 30*time.Second)
	c.SnubTimeout = defaultDuration(c.SnubTimeout, 60*time.Second)
}

func defaultDuration(v, def time.Duration) time.Duration {
	if v <= 0 {
		return def
	}
	return v
}

// chokeCandidate is what the choker knows of one connected peer.
type chokeCandidate struct {
	id           piece.PeerID
	interested   bool      // the peer wants our data
	amInterested bool      // we want its data
	downRate     float64   // its upload to us, bytes per second
	upRate       float64   // our upload to it, bytes per second
	lastBlock    time.Time // its last block to us, or since when we wait for one
	connected    time.Time
}

// newPeerWeight is how much likelier a newly connected peer is to be the
// optimistic unchoke (mainline's factor).
const newPeerWeight = 3

// choker holds the state that outlives one round: when the next round and
// the next optimistic rotation are due, and who the optimistic peer is.
type choker struct {
	cfg ChokeConfig
	rng *rand.Rand

	nextRound      time.Time
	optimistic     piece.PeerID // 0: none
	nextOptimistic time.Time

	ranked []chokeCandidate // scratch
}

func newChoker(cfg ChokeConfig, rng *rand.Rand) *choker {
	cfg.setDefaults()
	return &choker{cfg: cfg, rng: rng}
}

// due reports whether a round is due at now. The first call is always due.
func (c *choker) due(now time.Time) bool { return !now.Before(c.nextRound) }

// snubbed reports whether p has left us waiting too long for data.
func (c *choker) snubbed(p *chokeCandidate, now time.Time) bool {
	return p.amInterested && now.Sub(p.lastBlock) >= c.cfg.SnubTimeout
}

// rechoke runs a round at now and appends to dst the peers to unchoke;
// every other peer is to be choked. seeding selects the ranking: our
// upload rate to each peer instead of its upload rate to us.
func (c *choker) rechoke(now time.Time, seeding bool, peers []chokeCandidate, dst []piece.PeerID) []piece.PeerID {
	c.nextRound = now.Add(c.cfg.Interval)
	ranked := c.ranked[:0]
	for _, p := range peers {
		if p.interested && !c.snubbed(&p, now) {
			ranked = append(ranked, p)
		}
	}
	// Shuffle, then sort stably: equal rates end up in random order.
	c.rng.Shuffle(len(ranked), func(i, j int) { ranked[i], ranked[j] = ranked[j], ranked[i] })
	rateOf := func(p chokeCandidate) float64 {
		if seeding {
			return p.upRate
		}
		return p.downRate
	}
	slices.SortStableFunc(ranked, func(a, b chokeCandidate) int {
		ra, rb := rateOf(a), rateOf(b)
		switch {
		case ra > rb:
			return -1
		case ra < rb:
			return 1
		}
		return 0
	})
	regular := ranked[:min(len(ranked), c.cfg.Slots)]
	for _, p := range regular {
		dst = append(dst, p.id)
	}
	c.ranked = ranked
	if opt := c.pickOptimistic(now, peers, regular); opt != 0 {
		dst = append(dst, opt)
	}
	return dst
}

// pickOptimistic keeps the optimistic unchoke for its interval while it
// stays interested and outside the regular set; otherwise, or when the
// interval is up, it draws another peer (a different one when it can).
func (c *choker) pickOptimistic(now time.Time, peers, regular []chokeCandidate) piece.PeerID {
	inRegular := func(id piece.PeerID) bool {
		return slices.ContainsFunc(regular, func(p chokeCandidate) bool { return p.id == id })
	}
	current := c.optimistic
	still := false
	for _, p := range peers {
		if p.id == current && p.interested && !inRegular(p.id) {
			still = true
		}
	}
	if still && now.Before(c.nextOptimistic) {
		return current
	}
	// Draw by weight among the interested peers outside the regular set,
	// leaving out the current one unless it is the only choice.
	total := 0
	weight := func(p *chokeCandidate) int {
		if !p.interested || inRegular(p.id) || (p.id == current && still) {
			return 0
		}
		if now.Sub(p.connected) < c.cfg.OptimisticInterval {
			return newPeerWeight
		}
		return 1
	}
	for i := range peers {
		total += weight(&peers[i])
	}
	c.optimistic = 0
	if total == 0 {
		if still {
			c.optimistic = current // the only candidate keeps it
		}
	} else {
		r := c.rng.IntN(total)
		for i := range peers {
			if r -= weight(&peers[i]); r < 0 {
				c.optimistic = peers[i].id
				break
			}
		}
	}
	c.nextOptimistic = now.Add(c.cfg.OptimisticInterval)
	return c.optimistic
}
