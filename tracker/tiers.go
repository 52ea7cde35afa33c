package tracker

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/aiotorrent/aiotorrent/aio"
)

// Tiers is a torrent's announce-list (BEP 12): trackers in tiers, each
// tier shuffled once, tried in order. The tracker that answers moves to
// the front of its tier, so the next announce starts there; when a whole
// tier fails, the next tier is tried. Tiers is itself a Tracker.
type Tiers struct {
	// Invariant: every tier is non-empty.
	tiers [][]Tracker
}

// NewTiers builds the trackers for an announce-list. URLs with a scheme we
// cannot speak are skipped (BEP 12 clients ignore what they do not know);
// it is an error only if nothing is left. rng shuffles the tiers; nil uses
// the global source.
func NewTiers(announceList [][]string, cfg Config, rng *rand.Rand) (*Tiers, error) {
	shuffle := rand.Shuffle
	if rng != nil {
		shuffle = rng.Shuffle
	}
	ts := &Tiers{}
	var skipped []error
	for _, urls := range announceList {
		var tier []Tracker
		for _, u := range urls {
			tr, err := New(u, cfg)
			if err != nil {
				skipped = append(skipped, err)
				continue
			}
			tier = append(tier, tr)
		}
		if len(tier) == 0 {
			continue
		}
		shuffle(len(tier), func(i, j int) { tier[i], tier[j] = tier[j], tier[i] })
		ts.tiers = append(ts.tiers, tier)
	}
	if len(ts.tiers) == 0 {
		return nil, fmt.Errorf("tracker: no usable tracker in the announce-list: %w", errors.Join(skipped...))
	}
	return ts, nil
}

// NewTiersOf groups trackers that already exist (tests, or a session that
// adds trackers from a magnet link) without shuffling them.
func NewTiersOf(tiers ...[]Tracker) *Tiers {
	ts := &Tiers{}
	for _, tier := range tiers {
		if len(tier) > 0 {
			ts.tiers = append(ts.tiers, append([]Tracker(nil), tier...))
		}
	}
	return ts
}

// URL is the tracker that would be tried first.
func (ts *Tiers) URL() string {
	if len(ts.tiers) == 0 {
		return ""
	}
	return ts.tiers[0][0].URL()
}

// List returns the tiers' URLs in the order they would be tried.
func (ts *Tiers) List() [][]string {
	out := make([][]string, len(ts.tiers))
	for i, tier := range ts.tiers {
		for _, tr := range tier {
			out[i] = append(out[i], tr.URL())
		}
	}
	return out
}

// Announce tries the trackers in order until one answers. A cancelled task
// stops at once; other failures fall through to the next tracker. The
// error, when all fail, joins every tracker's error.
func (ts *Tiers) Announce(t *aio.Task, req AnnounceRequest) (*AnnounceResponse, error) {
	var errs []error
	for _, tier := range ts.tiers {
		for i, tr := range tier {
			resp, err := tr.Announce(t, req)
			if err == nil {
				copy(tier[1:i+1], tier[:i])
				tier[0] = tr
				return resp, nil
			}
			if errors.Is(err, aio.ErrCanceled) {
				return nil, err
			}
			errs = append(errs, err)
		}
	}
	if len(ts.tiers) == 0 {
		return nil, errors.New("tracker: empty announce-list")
	}
	return nil, errors.Join(errs...)
}
