package tracker

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// Tiers is a torrent's announce-list (BEP 12): trackers in tiers, each
// tier shuffled once, tried in order. The tracker that answers moves to
// the front of its tier, so the next announce starts there; when a whole
// tier fails, the next tier is tried. Tiers is itself a Tracker.
type Tiers struct {
	// Invariant: every tier is non-empty.
	tiers [][]Tracker
	// status holds every URL of the announce-list in its order, the
	// skipped ones too (with why), so a user can be told what each
	// tracker last did; byURL indexes it.
	status []TrackerStatus
	byURL  map[string]int
}

// TrackerStatus is what one tracker of a Tiers last did, for display.
type TrackerStatus struct {
	URL string
	// Err is why its last announce failed (or why it is never tried: an
	// unsupported scheme); nil if it answered or was not tried yet.
	Err error
	// LastOK is when it last answered; zero if never.
	LastOK time.Time
	// Peers is how many peers its last answer gave.
	Peers int
	// Trying is when the announce in progress began; zero when none is:
	// a tracker that does not answer (a UDP tracker retransmits for
	// minutes) can be told apart from one not asked yet.
	Trying time.Time
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
			ts.addStatus(u, err)
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
		for _, tr := range tier {
			ts.addStatus(tr.URL(), nil)
		}
		if len(tier) > 0 {
			ts.tiers = append(ts.tiers, append([]Tracker(nil), tier...))
		}
	}
	return ts
}

func (ts *Tiers) addStatus(url string, err error) {
	if ts.byURL == nil {
		ts.byURL = make(map[string]int)
	}
	if _, dup := ts.byURL[url]; dup {
		return
	}
	ts.byURL[url] = len(ts.status)
	ts.status = append(ts.status, TrackerStatus{URL: url, Err: err})
}

// Status returns what each tracker of the announce-list last did, in the
// announce-list's order. Trackers after the one that answered were not
// asked, and keep what they last did.
func (ts *Tiers) Status() []TrackerStatus {
	return append([]TrackerStatus(nil), ts.status...)
}

// announceOne asks tr and records the outcome in its status.
func (ts *Tiers) announceOne(t *aio.Task, tr Tracker, req AnnounceRequest) (*AnnounceResponse, error) {
	st := &ts.status[ts.byURL[tr.URL()]]
	st.Trying = t.Loop().Now()
	resp, err := tr.Announce(t, req)
	st.Trying = time.Time{}
	switch {
	case err == nil:
		st.Err, st.LastOK, st.Peers = nil, t.Loop().Now(), len(resp.Peers)
	case !errors.Is(err, aio.ErrCanceled):
		st.Err = err
	}
	return resp, err
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
			resp, err := ts.announceOne(t, tr, req)
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
