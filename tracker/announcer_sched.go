package tracker

import (
	"errors"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// Start runs the Announcer as Run does, but from a timer of l's: when an
// announce is due, spawn starts a task that sends it, arms the timer for
// the next and ends. Between announces nothing of the Announcer's is
// parked, so a seedbox's thousand idle torrents cost a thousand entries
// of the loop's timer heap, not a thousand parked tasks (a goroutine stack
// each, 8 KiB and more once an HTTP announce has grown it).
//
// spawn must start fn as a task that is cancelled when the torrent
// stops (a child of its task group). Call Close before cancelling it:
// the last announces ("completed" if owed, "stopped") are then sent by
// the announce in flight, or by a task Close spawns.
func (a *Announcer) Start(l *aio.Loop, first time.Duration, spawn func(fn func(t *aio.Task) error)) {
	a.sched = schedule{loop: l, spawn: spawn, started: true}
	a.sched.arm(a, first)
}

// Close ends what Start began: no announce is made after the one in
// flight, if any, but those the tracker is owed on leaving.
func (a *Announcer) Close() {
	s := &a.sched
	if !s.started || s.closed {
		return
	}
	s.closed = true
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	if !s.running && a.event != EventStarted {
		// Run in a task that is cancelled at once: stop shields its
		// announces, as it does for Run.
		s.spawn(func(t *aio.Task) error { return a.stop(t, true) })
	}
}

// schedule is Start's state. Invariant: after Start and until Close,
// exactly one of timer != nil and running holds.
type schedule struct {
	loop    *aio.Loop
	spawn   func(fn func(t *aio.Task) error)
	timer   *aio.Timer // the next announce, while none is in flight
	running bool       // a task is sending an announce
	started bool
	closed  bool
}

// arm sets the timer to spawn the next announce in d.
func (s *schedule) arm(a *Announcer, d time.Duration) {
	s.timer = s.loop.AfterFunc(d, func() {
		s.timer = nil
		s.running = true
		s.spawn(a.scheduledStep)
	})
}

// wake brings the next announce forward to now when "completed" is owed
// and only the interval stands in the way (as Run's sleep does).
func (s *schedule) wake(a *Announcer) {
	if s.timer == nil || a.event != EventNone || a.sentCompleted {
		return
	}
	s.timer.Stop()
	s.arm(a, 0)
}

// scheduledStep is the task Start's timer spawns: one announce, then the
// timer for the next, unless the Announcer was closed or cancelled
// meanwhile, in which case it sends what the tracker is owed on leaving.
func (a *Announcer) scheduledStep(t *aio.Task) error {
	s := &a.sched
	wait, err := a.step(t)
	s.running = false
	if errors.Is(err, aio.ErrCanceled) || s.closed {
		s.closed = true
		a.stop(t, a.event != EventStarted)
		return nil
	}
	if a.completed.IsSet() && a.event == EventNone && !a.sentCompleted {
		wait = 0 // Completed came while the announce was in flight
	}
	s.arm(a, coalesce(s.loop.Now(), wait, a.cfg.Coalesce))
	return nil
}

// coalesce lengthens d so that it ends at a whole multiple of q of the
// clock (multiples counted from Go's zero time: the same instants for
// every Announcer of a loop, whenever each started). A d shorter than ten
// q is kept: rounding would change it by more than a tenth.
func coalesce(now time.Time, d, q time.Duration) time.Duration {
	if q <= 0 || d < 10*q {
		return d
	}
	due := now.Add(d)
	if r := due.Truncate(q); r.Before(due) {
		due = r.Add(q)
	}
	return due.Sub(now)
}
