package tracker

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// Tiers is a torrent's announce-list (BEP 12): trackers in tiers, each
// tier shuffled once, tried in order. The tracker that answers moves to
// the front of its tier, so the next announce starts there; when a whole
// tier fails, the next tier is tried. Tiers is itself a Tracker.
//
// Tried in order, but not one after another: a tracker that has not
// answered within NextTrackerAfter (3 s by default) keeps its turn, and
// the next one in the order is asked as well, and so on; the first answer
// wins and the announces still out are cancelled. This is happy eyeballs
// (RFC 8305) for trackers. Strictly one at a time, as BEP 12 reads and as
// libtorrent does by default (announce_to_all_trackers and
// announce_to_all_tiers are both off), a silent tracker holds the ones
// after it for its whole timeout: libtorrent's 10 s receive timeout, and
// here the minute a UDP tracker retransmits for, with no peers all that
// time. Asking every tracker at once (both settings on) loads every
// tracker with every announce for the sake of the rare dead one. With a
// head start, a tracker that answers is the only one asked, as in BEP 12,
// and a dead one costs a few seconds, whether the next tracker is in its
// tier or the next.
type Tiers struct {
	// Invariant: every tier is non-empty.
	tiers [][]Tracker
	// after is the head start each tracker has over the next.
	after time.Duration
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
	// unsupported scheme; or ErrAnotherAnswered: it was still silent when
	// a tracker after it answered); nil if it answered or was not tried
	// yet.
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
	ts := &Tiers{after: cfg.NextTrackerAfter}
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
// asked, and keep what they last did; trackers before it failed or were
// cut short (ErrAnotherAnswered).
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

// DefaultNextTrackerAfter is how long a tracker has to answer before the
// next one is asked as well: a few round trips to a distant tracker, DNS
// and TLS included, and well under any tracker timeout.
const DefaultNextTrackerAfter = 3 * time.Second

// position is where a tracker sits in the tiers.
type position struct{ tier, i int }

// attempt is the outcome of one tracker's announce within Announce.
type attempt struct {
	pos  position
	resp *AnnounceResponse
	err  error
}

// outstanding is an announce under way within Announce.
type outstanding struct {
	pos position
	url string
	h   *aio.Handle[struct{}]
}

// ErrAnotherAnswered is the status of a tracker whose announce was
// cancelled because one after it answered first.
var ErrAnotherAnswered = errors.New("no answer yet; another tracker answered first")

// Announce asks the trackers in order until one answers, each with a head
// start of NextTrackerAfter over the next (see Tiers); a failure passes
// the turn at once. A cancelled task stops at once. The error, when all
// fail, joins every tracker's error.
func (ts *Tiers) Announce(t *aio.Task, req AnnounceRequest) (*AnnounceResponse, error) {
	if len(ts.tiers) == 0 {
		return nil, errors.New("tracker: empty announce-list")
	}
	if len(ts.tiers) == 1 && len(ts.tiers[0]) == 1 {
		return ts.announceOnly(t, req)
	}
	var order []position
	for k, tier := range ts.tiers {
		for i := range tier {
			order = append(order, position{k, i})
		}
	}
	after := ts.after
	if after <= 0 {
		after = DefaultNextTrackerAfter
	}
	results := aio.NewQueue[attempt](len(order)) // never full: TryPut always fits
	var out []outstanding                        // in the order they began
	defer func() { ts.cancelOutstanding(t, out) }()
	start := func() {
		pos := order[0]
		order = order[1:]
		tr := ts.tiers[pos.tier][pos.i]
		out = append(out, outstanding{pos, tr.URL(), aio.Spawn(t, "announce "+tr.URL(), func(t *aio.Task) (struct{}, error) {
			resp, err := ts.announceOne(t, tr, req)
			results.TryPut(attempt{pos, resp, err})
			return struct{}{}, nil
		})})
	}
	start()
	var errs []error
	for len(out) > 0 {
		var a attempt
		var err error
		if len(order) > 0 {
			a, err = aio.WaitFor(t, after, results.Get)
			if errors.Is(err, aio.ErrTimeout) {
				start() // this one is slow: ask the next as well
				continue
			}
		} else {
			a, err = results.Get(t)
		}
		if err != nil {
			return nil, err // cancelled
		}
		out = slices.DeleteFunc(out, func(o outstanding) bool { return o.pos == a.pos })
		if a.err == nil {
			ts.promote(a.pos)
			return a.resp, nil
		}
		errs = append(errs, a.err)
		if len(order) > 0 {
			start()
		}
	}
	return nil, errors.Join(errs...)
}

// announceOnly is Announce for a single tracker (most torrents): nothing
// to race, so it is asked from t itself. A task per announce, with its
// queue and closures, was a goroutine whose stack the exchange grew, for
// every re-announce of every torrent.
func (ts *Tiers) announceOnly(t *aio.Task, req AnnounceRequest) (*AnnounceResponse, error) {
	resp, err := ts.announceOne(t, ts.tiers[0][0], req)
	switch {
	case err == nil:
		return resp, nil
	case t.Cancelled() && !errors.Is(err, aio.ErrCanceled):
		return nil, fmt.Errorf("%w: %w", aio.ErrCanceled, err)
	case t.Cancelled():
		return nil, err
	}
	return nil, errors.Join(err) // as when several trackers fail
}

// promote moves the tracker that answered to the front of its tier, so the
// next announce asks it first (BEP 12).
func (ts *Tiers) promote(pos position) {
	tier := ts.tiers[pos.tier]
	tr := tier[pos.i]
	copy(tier[1:pos.i+1], tier[:pos.i])
	tier[0] = tr
}

// cancelOutstanding cancels the announces still out when Announce returns
// and waits for them (shielded, briefly: a cancelled announce returns at
// its next wait), so that no announce of one call overlaps the next call's
// on the same tracker. Their status says another tracker answered first,
// unless the caller itself was cancelled.
func (ts *Tiers) cancelOutstanding(t *aio.Task, out []outstanding) {
	if len(out) == 0 {
		return
	}
	cancelled := t.Cancelled()
	for _, o := range out {
		o.h.Cancel()
	}
	aio.Shield(t, time.Second, func(t *aio.Task) error {
		for _, o := range out {
			aio.Await(t, o.h)
		}
		return nil
	})
	if cancelled {
		return
	}
	for _, o := range out {
		ts.status[ts.byURL[o.url]].Err = ErrAnotherAnswered
	}
}
