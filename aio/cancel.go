package aio

import "time"

// Cancellation here is trio's, not asyncio's: it is a state, not an event.
//
// Once a task is cancelled, every call that would suspend it returns
// ErrCanceled, until the task's function returns. A cancel cannot be
// swallowed by a helper that catches one error and goes on waiting (the
// bug asyncio's wait_for had for years, bpo-42130), and cancelling twice,
// from a group, a session and the loop's shutdown alike, is the same as
// cancelling once.
//
// Cleanup that must still wait (a tracker's "stopped" announce, a final
// write) runs inside Shield, which holds the task's cancellation off for
// a bounded time. Deadlines are scopes too: Timeout runs code with a
// deadline on the current task, and no helper task is spawned to time it.
//
// A task keeps its scopes on a stack (Task.scopes, innermost last). Every
// park asks interrupted whether it may wait at all, and scopeDeadline when
// it must wake up at the latest; the task's one reusable timer
// (Task.deadline) ends the park then.

// scope is one Timeout or Shield call the task is inside.
type scope struct {
	deadline time.Duration // on the loop clock; 0 for none
	shield   bool          // the task's cancellation does not reach inside
}

// Cancel asks the task to stop. If it is parked, its wait ends now with
// ErrCanceled; from then on every call that would suspend it returns
// ErrCanceled at once, except inside a Shield, until its function
// returns. Cancelling a task twice, or one that is done, changes nothing.
// Cancel must be called on the loop.
func (t *Task) Cancel() {
	if t.state == taskDone || t.cancelled {
		return
	}
	t.cancelled = true
	if t.state != taskParked {
		return // its next suspension sees the flag
	}
	if err := t.interrupted(); err != nil { // nil: parked inside a shield
		if t.abort != nil {
			t.abort()
		}
		waiter{t: t, seq: t.seq}.wake(err)
	}
}

// Cancelled reports whether the task has been cancelled.
func (t *Task) Cancelled() bool { return t.cancelled }

// interrupted says why t may not wait now: ErrTimeout if the deadline of
// a scope it is in has passed, ErrCanceled if it is cancelled and no
// shield is in the way, nil if it may wait. Scopes are looked at from the
// innermost out; a shield ends the search, since what is outside it
// cannot reach in.
func (t *Task) interrupted() error {
	if len(t.scopes) == 0 { // the common case, kept small enough to inline
		if t.cancelled {
			return ErrCanceled
		}
		return nil
	}
	return t.interruptedInScope()
}

func (t *Task) interruptedInScope() error {
	var now time.Duration = -1
	for i := len(t.scopes) - 1; i >= 0; i-- {
		s := &t.scopes[i]
		if s.deadline != 0 {
			if now < 0 {
				now = t.loop.now()
			}
			if now >= s.deadline {
				return ErrTimeout
			}
		}
		if s.shield {
			return nil
		}
	}
	if t.cancelled {
		return ErrCanceled
	}
	return nil
}

// scopeDeadline is the earliest deadline among the scopes that apply to
// t now (up to and including the innermost shield), 0 if none.
func (t *Task) scopeDeadline() time.Duration {
	var d time.Duration
	for i := len(t.scopes) - 1; i >= 0; i-- {
		s := &t.scopes[i]
		if s.deadline != 0 && (d == 0 || s.deadline < d) {
			d = s.deadline
		}
		if s.shield {
			break
		}
	}
	return d
}

// within runs fn(t) inside one more scope and removes it afterwards, also
// when fn panics.
func (t *Task) within(s scope, fn func(t *Task) error) error {
	if err := t.check(); err != nil {
		return err
	}
	depth := len(t.scopes)
	t.scopes = append(t.scopes, s)
	defer func() { t.scopes = t.scopes[:depth] }()
	return fn(t)
}

// deadlineAfter turns a duration into a scope deadline on t's loop clock.
// A zero or negative d gives a deadline that has already passed: the
// first wait times out.
func (t *Task) deadlineAfter(d time.Duration) time.Duration {
	return max(1, t.loop.now()+max(d, 0))
}

// Shield runs fn with t's cancellation held off, for cleanup that must
// wait: a "stopped" announce, flushing a file. Inside, awaits do not see
// a cancel of t (they do see it again once Shield returns). d > 0 gives
// the shield a deadline of its own, after which its awaits return
// ErrTimeout: cleanup must not hold a cancelled task up for long, so give
// one unless the wait is bounded anyway. Shield returns fn's error.
func Shield(t *Task, d time.Duration, fn func(t *Task) error) error {
	s := scope{shield: true}
	if d > 0 {
		s.deadline = t.deadlineAfter(d)
	}
	return t.within(s, fn)
}

// Timeout runs fn with a deadline d from now on the current task: once it
// passes, the wait in progress and every later one inside fn return
// ErrTimeout. Nothing is spawned; fn runs on t itself. Timeout returns
// fn's error: ErrTimeout (possibly wrapped) if the deadline cut it short,
// whatever fn returned otherwise, including a result that was ready just
// as the deadline passed. Scopes nest; an inner one cannot extend an
// outer one's deadline.
func Timeout(t *Task, d time.Duration, fn func(t *Task) error) error {
	return t.within(scope{deadline: t.deadlineAfter(d)}, fn)
}
