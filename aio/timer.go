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
	index int // in the heap; -1 when not armed
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
	if d < 0 {
		d = 0
	}
	l.timerSeq++
	t := &Timer{loop: l, when: l.now() + d, seq: l.timerSeq, fn: fn}
	heap.Push(&l.timers, t)
	return t
}

func (l *Loop) stopTimer(t *Timer) bool {
	if t.index < 0 {
		return false
	}
	heap.Remove(&l.timers, t.index)
	return true
}

// Stop disarms a timer made by AfterFunc, and reports whether it was still
// armed (false if it already fired or was stopped). Call it on the loop.
func (t *Timer) Stop() bool {
	if t == nil || t.index < 0 {
		return false
	}
	return t.loop.stopTimer(t)
}

// fireTimers runs every timer that is due. The due ones are taken off the
// heap first and then run, so a callback that arms a new zero-delay timer
// cannot keep this phase going forever (libuv does the same).
func (l *Loop) fireTimers() {
	if len(l.timers) == 0 {
		return
	}
	now := l.now()
	due := l.dueScratch[:0]
	for len(l.timers) > 0 && l.timers[0].when <= now {
		due = append(due, heap.Pop(&l.timers).(*Timer))
	}
	if tr := l.opts.tracer; tr != nil && len(due) > 0 {
		tr.instant(fmt.Sprintf("%d timers", len(due)), time.Now())
	}
	for i, t := range due {
		t.fn()
		due[i] = nil
	}
	l.dueScratch = due[:0]
	l.stats.Timers += uint64(len(due))
}

// Sleep suspends t for d. It returns early with ErrCanceled if t is
// cancelled.
func Sleep(t *Task, d time.Duration) error {
	if err := t.check(); err != nil {
		return err
	}
	if d <= 0 {
		return Yield(t)
	}
	w := t.waiter()
	tm := t.loop.AfterFunc(d, func() { w.wake(nil) })
	t.setWait("sleep", int64(tm.when))
	return t.park(func() { t.loop.stopTimer(tm) })
}

// parkDeadline is park with a time limit: if nothing wakes t before
// deadline (on the loop clock; 0 means none), the wait is aborted and park
// returns ErrTimeout.
func (t *Task) parkDeadline(deadline time.Duration, abort func()) error {
	if deadline == 0 {
		return t.park(abort)
	}
	l := t.loop
	w := t.waiter()
	tm := l.AfterFunc(deadline-l.now(), func() {
		if abort != nil && w.t.state == taskParked && w.t.seq == w.seq {
			abort()
		}
		w.wake(ErrTimeout)
	})
	err := t.park(func() {
		l.stopTimer(tm)
		if abort != nil {
			abort()
		}
	})
	l.stopTimer(tm)
	return err
}
