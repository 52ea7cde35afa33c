package aio

import (
	"errors"
	"time"
)

// Group is structured concurrency, as trio's nurseries and asyncio's
// TaskGroup: children started with Go belong to the group; when one fails,
// the others are cancelled; Wait returns only when all have returned, with
// the first error. No child outlives the Wait.
type Group struct {
	loop      *Loop
	children  map[*Task]struct{} // the running ones
	running   int
	err       error
	cancelled bool     // Cancel was called: children's ErrCanceled is expected
	done      waitList // the task in Wait
}

// NewGroup returns an empty group for tasks on t's loop.
func NewGroup(s Spawner) *Group { return &Group{loop: s.spawnLoop()} }

// Go starts fn as a child of the group. A group lives as long as its
// parent needs: children may be added while others run (one per peer
// connection, say), and finished ones are forgotten.
func (g *Group) Go(name string, fn func(t *Task) error) {
	g.running++
	child := g.loop.newTask(name, func(t *Task) {
		_, err := run(t, func(t *Task) (struct{}, error) { return struct{}{}, fn(t) })
		t.err = err
		delete(g.children, t)
		g.childDone(err)
	})
	if g.children == nil {
		g.children = make(map[*Task]struct{})
	}
	g.children[child] = struct{}{}
	if g.cancelled {
		child.Cancel() // a group that is being cancelled starts nothing new
	}
}

func (g *Group) childDone(err error) {
	g.running--
	if err != nil && g.err == nil && !(g.cancelled && errors.Is(err, ErrCanceled)) {
		g.err = err
		g.Cancel()
	}
	if g.running == 0 {
		g.done.wakeAll(nil)
	}
}

// Cancel cancels every child that is still running.
func (g *Group) Cancel() {
	g.cancelled = true
	for c := range g.children {
		c.Cancel()
	}
}

// Wait parks t until every child has returned and returns the first error
// (nil if all succeeded). If t is cancelled while waiting, the children
// are cancelled, Wait still waits for them, and returns ErrCanceled.
func (g *Group) Wait(t *Task) error {
	canceled := false
	for g.running > 0 {
		if err := g.done.wait(t, "group"); err != nil {
			if !errors.Is(err, ErrCanceled) {
				return err // ErrNotInTask or a closed loop: nothing to wait with
			}
			canceled = true
			g.Cancel()
		}
	}
	if g.err == nil && canceled {
		return ErrCanceled
	}
	return g.err
}

// Gather runs fns as concurrent tasks and returns their results in
// argument order, like asyncio.gather. If one fails, the others are
// cancelled and the first error is returned once all have stopped.
func Gather[T any](t *Task, fns ...func(t *Task) (T, error)) ([]T, error) {
	results := make([]T, len(fns))
	g := NewGroup(t)
	for i, fn := range fns {
		g.Go("gather", func(t *Task) error {
			v, err := fn(t)
			results[i] = v
			return err
		})
	}
	if err := g.Wait(t); err != nil {
		return nil, err
	}
	return results, nil
}

// WaitFor runs fn as a child task and waits at most d for it. On timeout
// the child is cancelled, waited for, and WaitFor returns ErrTimeout.
func WaitFor[T any](t *Task, d time.Duration, fn func(t *Task) (T, error)) (T, error) {
	var zero T
	if err := t.check(); err != nil {
		return zero, err
	}
	h := Spawn(t, t.name, fn)
	v, err := AwaitTimeout(t, h, d)
	if err == nil || h.Done() {
		return v, err
	}
	// Timed out or cancelled: the child must not outlive us.
	h.Cancel()
	for !h.Done() {
		w := t.waiter()
		h.fut.waiters = append(h.fut.waiters, w)
		t.park(func() { h.fut.removeWaiter(w) })
	}
	return zero, err
}

// AwaitTimeout is Await with a time limit: it returns ErrTimeout if a is
// not done within d (a keeps running).
func AwaitTimeout[T any](t *Task, a Awaitable[T], d time.Duration) (T, error) {
	f := a.future()
	if f.done {
		return f.val, f.err
	}
	deadline := t.loop.now() + d
	for !f.done {
		w := t.waiter()
		f.waiters = append(f.waiters, w)
		if err := t.parkDeadline(deadline, func() { f.removeWaiter(w) }); err != nil {
			var zero T
			return zero, err
		}
	}
	return f.val, f.err
}
