package aio

import (
	"container/heap"
	"fmt"
	"time"
)

// A Timer is a callback the loop runs at a point in time, on the loop
// thread. Timers live in a min-heap ordered by deadline; the loop's poll
// timeout is the distance to the heap's top.
type Timer struct {
	loop  *Loop
	when  time.Duration // on the loop's clock
	seq   uint64        // ties broken by arming order
	fn    func()
	index int   // in the heap; -1 when not armed
	owner *Task // for a task's deadline timer: the task (see armTimer)
}

type timerHeap []*Timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].when != h[j].when {
		return h[i].when < h[j].when
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *timerHeap) Push(x any) {
	t := x.(*Timer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.index = -1
	return t
}

// AfterFunc arms a timer that calls fn on the loop thread after d. fn must
// not block; to do more, spawn a task from it.
func (l *Loop) AfterFunc(d time.Duration, fn func()) *Timer {
	t := &Timer{loop: l, fn: fn, index: -1}
	l.armTimer(t, l.now()+max(d, 0))
	return t
}

// armTimer (re)arms t for when, on the loop clock. Re-arming takes a new
// place in the arming order, so a timer re-armed by a callback is not
// fired again in the same batch.
func (l *Loop) armTimer(t *Timer, when time.Duration) {
	if t.fn == nil {
		t.fn = t.owner.deadlinePassed // a task's deadline timer: bound once
	}
	l.timerSeq++
	t.when, t.seq = when, l.timerSeq
	if t.index >= 0 {
		heap.Fix(&l.timers, t.index)
		return
	}
	heap.Push(&l.timers, t)
}

func (l *Loop) stopTimer(t *Timer) bool {
	if t.index < 0 {
		return false
	}
	heap.Remove(&l.timers, t.index)
	return true
}

// Stop disarms a timer made by AfterFunc, and reports whether it was still
// armed (false if it already fired or was stopped). A timer that is due in
// the batch being fired right now is still armed: stopping it from another
// timer's callback keeps it from firing, as in libuv. Call it on the loop.
func (t *Timer) Stop() bool {
	if t == nil {
		return false
	}
	return t.loop.stopTimer(t)
}

// fireTimers is loop phase 4: it runs every timer that was due when the
// phase began. Timers stay in the heap until their turn, so one callback
// can still stop another; a timer armed (or re-armed) by a callback has a
// later place in the arming order than any timer of this batch, which is
// how the phase ends even if callbacks keep arming zero-delay timers
// (libuv's rule, kept without copying the batch out).
func (l *Loop) fireTimers() {
	if len(l.timers) == 0 {
		return
	}
	now, last := l.now(), l.timerSeq
	fired := 0
	for len(l.timers) > 0 {
		t := l.timers[0]
		if t.when > now || t.seq > last {
			break
		}
		heap.Pop(&l.timers)
		t.fn()
		fired++
	}
	if tr := l.opts.tracer; tr != nil && fired > 0 {
		tr.instant(fmt.Sprintf("%d timers", fired), time.Now())
	}
	l.stats.Timers += uint64(fired)
	l.sincePoll += fired
}

// Sleep suspends t for d. It returns early with ErrCanceled if t is
// cancelled, or with ErrTimeout if the deadline of a Timeout it is in
// passes first. A sleep is a park whose own deadline is the time to wake
// up, so it allocates nothing.
func Sleep(t *Task, d time.Duration) error {
	if err := t.check(); err != nil {
		return err
	}
	if d <= 0 {
		return Yield(t)
	}
	until := t.loop.now() + d
	t.setWait("sleep", int64(until))
	err := t.parkUntil(until, nil)
	if err == ErrTimeout && t.interrupted() == nil {
		return nil // our own deadline: the sleep is over
	}
	return err
}
