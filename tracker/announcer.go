package tracker

import (
	"errors"
	"net/netip"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// The Announcer keeps the swarm informed of one torrent, as a task (Run)
// or from the loop's timers (Start, announcer_sched.go):
//
//	started ──► wait interval ──► announce ──► wait ...        (cancelled)
//	   │  failure: wait backoff, retry        ▲  Completed():       │
//	   └────────────────────────────────────  └─ "completed" once   ▼
//	                                     shielded, StopTimeout: "completed"
//	                                     if still owed, then "stopped"
//
// Every peer address it learns is put on the session's queue: that queue
// is the contract with the download.

// AnnouncerConfig configures an Announcer. Zero durations take defaults.
type AnnouncerConfig struct {
	// Tracker is where to announce: a single Tracker or *Tiers.
	Tracker Tracker
	// Request returns the current request (counters, left); the Announcer
	// sets Event. It is called before every announce.
	Request func() AnnounceRequest
	// Peers receives every new peer address. Full queue: the address is
	// skipped now and offered again after a later announce.
	Peers *aio.Queue[netip.AddrPort]
	// OnPeer, if set, is called with each address instead of Peers: a
	// session takes them into its peer list at once, with no task of its
	// own parked on a queue for an announce every half hour.
	OnPeer func(netip.AddrPort)
	// Self lists our own listen addresses; trackers (opentracker among
	// them) hand the requester back. An entry with an unspecified address
	// (":6881") matches that port on any loopback address.
	Self []netip.AddrPort
	// MinInterval floors the re-announce interval, whatever the tracker
	// says (default 60 s; tests use less).
	MinInterval time.Duration
	// RetryMin and RetryMax bound the backoff after failures (defaults
	// 15 s and 30 min); it doubles from RetryMin.
	RetryMin, RetryMax time.Duration
	// StopTimeout bounds the "stopped" announce on shutdown (default 5 s).
	StopTimeout time.Duration
	// Coalesce, with Start, puts every re-announce and retry at the next
	// whole multiple of Coalesce of the loop's clock (0: as due), if that
	// delays it by a tenth at most. The announces of many torrents that
	// fall in the same stretch then start in one loop step, one wake-up of
	// the process for all of them.
	Coalesce time.Duration
}

// Announcer defaults.
const (
	DefaultMinInterval = time.Minute
	DefaultRetryMin    = 15 * time.Second
	DefaultRetryMax    = 30 * time.Minute
	DefaultStopTimeout = 5 * time.Second
	maxSeenPeers       = 4096
)

// Announcer announces one torrent. Make it with NewAnnouncer, run Run as a
// task (or Start it, and Close it), call Completed when the download
// finishes.
type Announcer struct {
	cfg       AnnouncerConfig
	completed *aio.Event
	// seen holds the distinct addresses offered, for PeersFound (at
	// most maxSeenPeers: past that the count stops growing).
	seen          map[netip.AddrPort]struct{}
	status        AnnouncerStatus
	sentCompleted bool // "completed" got through: it is sent once
	// event is what the next announce says: EventStarted until one got
	// through. failures counts the announces that failed in a row.
	event    Event
	failures int
	sched    schedule // Start's state; unused by Run
}

// AnnouncerStatus is what the last announce gave, for display.
type AnnouncerStatus struct {
	Last       time.Time // when the last announce ended
	Err        error     // nil if it succeeded
	Complete   int
	Incomplete int
	Announces  int // successful announces
	PeersFound int // distinct addresses put on the queue
}

// NewAnnouncer returns an Announcer; nothing happens until Run.
func NewAnnouncer(cfg AnnouncerConfig) *Announcer {
	if cfg.MinInterval <= 0 {
		cfg.MinInterval = DefaultMinInterval
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = DefaultRetryMin
	}
	if cfg.RetryMax < cfg.RetryMin {
		cfg.RetryMax = max(DefaultRetryMax, cfg.RetryMin)
	}
	if cfg.StopTimeout <= 0 {
		cfg.StopTimeout = DefaultStopTimeout
	}
	return &Announcer{cfg: cfg, completed: aio.NewEvent(), seen: make(map[netip.AddrPort]struct{}), event: EventStarted}
}

// Completed tells the Announcer the download finished; it sends
// "completed" once, at once. Call it only for a download that finished in
// this session (a torrent that starts complete never sends "completed").
func (a *Announcer) Completed() {
	a.completed.Set()
	a.sched.wake(a)
}

// Status returns what the last announce gave.
func (a *Announcer) Status() AnnouncerStatus { return a.status }

// Run announces until t is cancelled, then sends what the tracker is still
// owed within StopTimeout (see stop) and returns aio.ErrCanceled. Start
// does the same without a task parked between announces
// (announcer_sched.go).
func (a *Announcer) Run(t *aio.Task) error {
	for {
		wait, err := a.step(t)
		if err == nil {
			err = a.sleep(t, wait, a.event == EventNone && !a.sentCompleted)
		}
		if err != nil {
			return a.stop(t, a.event != EventStarted)
		}
	}
}

// step sends the announce that is due and returns how long to wait
// before the next: the tracker's interval, or a backoff after a failure.
// Its only error is aio.ErrCanceled.
func (a *Announcer) step(t *aio.Task) (time.Duration, error) {
	if a.completed.IsSet() && !a.sentCompleted && a.event != EventStarted {
		a.event = EventCompleted
	}
	wait, err := a.announceShieldedIfCompleted(t, a.event)
	if errors.Is(err, aio.ErrCanceled) {
		return 0, err
	}
	if err != nil {
		a.failures++
		return a.backoff(err, a.failures), nil
	}
	a.failures = 0
	a.sentCompleted = a.sentCompleted || a.event == EventCompleted
	a.event = EventNone
	return wait, nil
}

// announceShieldedIfCompleted is announce, with "completed" in a shield
// bounded by StopTimeout: a download that completes is usually stopped at
// once, and a "completed" cut off mid-flight may have reached the tracker
// or not; sent again from stop, it was counted twice.
func (a *Announcer) announceShieldedIfCompleted(t *aio.Task, event Event) (time.Duration, error) {
	if event != EventCompleted {
		return a.announce(t, event)
	}
	var wait time.Duration
	err := aio.Shield(t, a.cfg.StopTimeout, func(t *aio.Task) error {
		var err error
		wait, err = a.announce(t, event)
		return err
	})
	if err == nil && t.Cancelled() {
		a.sentCompleted = true
		err = aio.ErrCanceled // delivered: now stop
	}
	return wait, err
}

// announce sends one announce and hands its peers on. It returns when to
// announce next: the tracker's interval, floored by its min interval and
// ours.
func (a *Announcer) announce(t *aio.Task, event Event) (time.Duration, error) {
	req := a.cfg.Request()
	req.Event = event
	resp, err := a.cfg.Tracker.Announce(t, req)
	a.status.Last, a.status.Err = t.Loop().Now(), err
	if err != nil {
		return 0, err
	}
	a.status.Announces++
	a.status.Complete, a.status.Incomplete = resp.Complete, resp.Incomplete
	a.offer(resp.Peers)
	interval := resp.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	return max(interval, resp.MinInterval, a.cfg.MinInterval), nil
}

// offer puts every foreign address of a reply on the queue without
// waiting, the ones it gave before too: the queue's reader owns the
// addresses (a session's peer list dedups them), and a peer whose
// connection ended must be offered again, or it is lost for good.
func (a *Announcer) offer(peers []netip.AddrPort) {
	for _, p := range peers {
		if a.isSelf(p) {
			continue
		}
		if a.cfg.OnPeer != nil {
			a.cfg.OnPeer(p)
		} else if !a.cfg.Peers.TryPut(p) {
			return // full: the rest come again next time
		}
		if _, dup := a.seen[p]; !dup && len(a.seen) < maxSeenPeers {
			a.seen[p] = struct{}{}
			a.status.PeersFound++
		}
	}
}

func (a *Announcer) isSelf(p netip.AddrPort) bool {
	for _, s := range a.cfg.Self {
		if p == s || s.Addr().IsUnspecified() && p.Port() == s.Port() && p.Addr().IsLoopback() {
			return true
		}
	}
	return false
}

// backoff is RetryMin·2^(failures-1), capped at RetryMax, unless the
// tracker said when to come back (BEP 31).
func (a *Announcer) backoff(err error, failures int) time.Duration {
	var fe *FailureError
	if errors.As(err, &fe) && fe.RetryIn != 0 {
		if fe.RetryIn < 0 {
			return a.cfg.RetryMax
		}
		return min(max(fe.RetryIn, a.cfg.RetryMin), a.cfg.RetryMax)
	}
	d := a.cfg.RetryMin
	for i := 1; i < failures && d < a.cfg.RetryMax; i++ {
		d *= 2
	}
	return min(d, a.cfg.RetryMax)
}

// sleep waits d, or less if wakeOnComplete and Completed is called.
func (a *Announcer) sleep(t *aio.Task, d time.Duration, wakeOnComplete bool) error {
	if !wakeOnComplete {
		return aio.Sleep(t, d)
	}
	_, err := aio.WaitFor(t, d, func(t *aio.Task) (struct{}, error) {
		return struct{}{}, a.completed.Wait(t)
	})
	if errors.Is(err, aio.ErrTimeout) {
		return nil
	}
	return err
}

// stop is the announcer's cleanup once t is cancelled. If the tracker
// knows us, it is sent "completed" first when the download finished and
// that was not announced yet (a download that exits as it completes must
// still be counted), then "stopped". Both run in a shield, since t is
// cancelled and would otherwise not wait at all, bounded by StopTimeout
// together.
func (a *Announcer) stop(t *aio.Task, announced bool) error {
	if announced {
		aio.Shield(t, a.cfg.StopTimeout, func(t *aio.Task) error {
			if a.completed.IsSet() && !a.sentCompleted {
				if _, err := a.announce(t, EventCompleted); err != nil {
					return err
				}
				a.sentCompleted = true
			}
			_, err := a.announce(t, EventStopped)
			return err
		})
	}
	return aio.ErrCanceled
}
