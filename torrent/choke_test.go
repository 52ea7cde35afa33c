package torrent

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/piece"
)

var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// at is a fake clock reading: epoch plus d.
func at(d time.Duration) time.Time { return epoch.Add(d) }

func testChoker(seed uint64) *choker {
	return newChoker(ChokeConfig{}, rand.New(rand.NewPCG(seed, 0)))
}

// candidate is an interested peer, connected long ago, that sent a block
// just now.
func candidate(id piece.PeerID, down, up float64, now time.Time) chokeCandidate {
	return chokeCandidate{
		id: id, interested: true, amInterested: true, downRate: down, upRate: up,
		lastBlock: now, connected: now.Add(-time.Hour),
	}
}

// split separates a round's answer into the regular unchokes (sorted) and
// the optimistic one (the last entry, when there are more than Slots).
func split(ids []piece.PeerID, slots int) (regular []piece.PeerID, optimistic piece.PeerID) {
	if len(ids) > slots {
		optimistic = ids[len(ids)-1]
		ids = ids[:len(ids)-1]
	}
	regular = slices.Clone(ids)
	slices.Sort(regular)
	return regular, optimistic
}

func TestChokerRanksByRate(t *testing.T) {
	now := at(time.Hour)
	// Peers 1-6: download rates rise with the id, upload rates fall.
	var peers []chokeCandidate
	for id := 1; id <= 6; id++ {
		peers = append(peers, candidate(piece.PeerID(id), float64(id*1000), float64((7-id)*1000), now))
	}
	tests := []struct {
		name    string
		seeding bool
		want    []piece.PeerID
		notOpt  []piece.PeerID
	}{
		{"leeching: fastest uploaders to us", false, []piece.PeerID{3, 4, 5, 6}, []piece.PeerID{3, 4, 5, 6}},
		{"seeding: fastest downloaders from us", true, []piece.PeerID{1, 2, 3, 4}, []piece.PeerID{1, 2, 3, 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := testChoker(1)
			got := c.rechoke(now, tc.seeding, peers, nil)
			regular, opt := split(got, 4)
			if !slices.Equal(regular, tc.want) {
				t.Errorf("regular unchokes %v, want %v", regular, tc.want)
			}
			if opt == 0 || slices.Contains(tc.notOpt, opt) {
				t.Errorf("optimistic unchoke %d, want one of the other two peers", opt)
			}
		})
	}
}

func TestChokerSkipsUninterestedAndSnubbed(t *testing.T) {
	now := at(time.Hour)
	peers := []chokeCandidate{
		candidate(1, 9000, 0, now),
		candidate(2, 8000, 0, now),
		candidate(3, 100, 0, now),
	}
	peers[0].interested = false              // fastest, but wants nothing from us
	peers[1].lastBlock = now.Add(-time.Hour) // fast once, silent for an hour: snubbed
	c := testChoker(1)
	got := c.rechoke(now, false, peers, nil)
	regular, opt := split(got, 1)
	if len(got) != 2 || !slices.Equal(regular, []piece.PeerID{3}) || opt != 2 {
		t.Fatalf("unchoked %v, want [3] regular and the snubbed 2 as optimistic only", got)
	}
	// While seeding nobody is snubbed: we want nothing from anyone.
	peers[1].amInterested = false
	got = c.rechoke(now, false, peers, nil)
	if regular, _ := split(got, 4); !slices.Equal(regular, []piece.PeerID{2, 3}) {
		t.Fatalf("unchoked %v, want 2 and 3 once 2 is no longer snubbing us", got)
	}
}

// TestChokerOptimisticRotation runs rounds every 10 s of fake time for
// five minutes: the optimistic unchoke lasts 30 s, then moves to another
// peer, and over time every peer outside the top four gets its turn.
func TestChokerOptimisticRotation(t *testing.T) {
	var peers []chokeCandidate
	for id := 1; id <= 10; id++ {
		peers = append(peers, candidate(piece.PeerID(id), float64(id*1000), 0, epoch))
	}
	c := testChoker(7)
	var prev piece.PeerID
	var since time.Time
	seen := map[piece.PeerID]bool{}
	for round := 0; round < 60; round++ {
		now := at(time.Duration(round) * 10 * time.Second)
		if !c.due(now) {
			t.Fatalf("round %d at %v not due", round, now.Sub(epoch))
		}
		for i := range peers {
			peers[i].lastBlock = now
		}
		regular, opt := split(c.rechoke(now, false, peers, nil), 4)
		if c.due(now.Add(9 * time.Second)) {
			t.Fatalf("round %d: next round due before 10 s", round)
		}
		if !slices.Equal(regular, []piece.PeerID{7, 8, 9, 10}) {
			t.Fatalf("round %d: regular %v, want the four fastest", round, regular)
		}
		if opt < 1 || opt > 6 {
			t.Fatalf("round %d: optimistic %d, want one of peers 1-6", round, opt)
		}
		held := now.Sub(since)
		switch {
		case opt == prev && held >= 30*time.Second:
			t.Fatalf("round %d: optimistic %d held for %v, want rotation every 30 s", round, opt, held)
		case opt != prev && round > 0 && held < 30*time.Second:
			t.Fatalf("round %d: optimistic moved from %d to %d after %v, want 30 s", round, prev, opt, held)
		}
		if opt != prev {
			prev, since = opt, now
		}
		seen[opt] = true
	}
	if len(seen) != 6 {
		t.Fatalf("optimistic unchokes went to %d distinct peers, want all 6 outside the top four", len(seen))
	}
}

func TestChokerOptimisticReplacedWhenPromotedOrGone(t *testing.T) {
	now := at(time.Hour)
	peers := []chokeCandidate{
		candidate(1, 5000, 0, now), candidate(2, 4000, 0, now),
		candidate(3, 0, 0, now), candidate(4, 0, 0, now),
	}
	c := newChoker(ChokeConfig{Slots: 2}, rand.New(rand.NewPCG(3, 0)))
	_, opt := split(c.rechoke(now, false, peers, nil), 2)
	if opt != 3 && opt != 4 {
		t.Fatalf("optimistic %d, want 3 or 4", opt)
	}
	other := 7 - opt // the other of 3 and 4
	// The optimistic peer turns out the fastest of all: it earns a
	// regular slot, and the optimistic slot goes to someone else at once.
	peers[opt-1].downRate = 9000
	now = now.Add(10 * time.Second)
	regular, opt2 := split(c.rechoke(now, false, peers, nil), 2)
	if !slices.Contains(regular, opt) || opt2 != other {
		t.Fatalf("after promotion: regular %v optimistic %d, want %d regular and %d optimistic", regular, opt2, opt, other)
	}
	// The optimistic peer loses interest: replaced before its 30 s by
	// the one peer left outside the regular set.
	peers[other-1].interested = false
	now = now.Add(10 * time.Second)
	regular, opt3 := split(c.rechoke(now, false, peers, nil), 2)
	if want := []piece.PeerID{1, opt}; !slices.Equal(regular, want) || opt3 != 2 {
		t.Fatalf("after losing interest: regular %v optimistic %d, want %v and 2", regular, opt3, want)
	}
}

func TestChokerFavoursNewPeersForOptimistic(t *testing.T) {
	now := at(time.Hour)
	peers := []chokeCandidate{candidate(1, 0, 0, now), candidate(2, 0, 0, now)}
	peers[1].connected = now.Add(-time.Second) // new
	c := newChoker(ChokeConfig{Slots: 1}, rand.New(rand.NewPCG(11, 0)))
	c.cfg.Slots = 0 // every unchoke is optimistic: count the draws
	counts := map[piece.PeerID]int{}
	for i := 0; i < 4000; i++ {
		c.optimistic = 0
		got := c.rechoke(now, false, peers, nil)
		counts[got[0]]++
	}
	ratio := float64(counts[2]) / float64(counts[1])
	if ratio < 2.5 || ratio > 3.5 {
		t.Fatalf("new peer drawn %d times, old %d: ratio %.2f, want about %d", counts[2], counts[1], ratio, newPeerWeight)
	}
}

func TestChokerNobodyInterested(t *testing.T) {
	now := at(0)
	peers := []chokeCandidate{candidate(1, 100, 100, now)}
	peers[0].interested = false
	if got := testChoker(1).rechoke(now, true, peers, nil); len(got) != 0 {
		t.Fatalf("unchoked %v, want nobody", got)
	}
}
