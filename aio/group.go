package aio

import (
	"errors"
	"time"
)

// Group is structured concurrency, as trio's nurseries and asyncio's
// TaskGroup: children started with Go belong to the group; when one fails
// with a real error, the others are cancelled; Wait returns only when all
// have returned, with the first error. No child outlives the Wait, and
// none can be added after it.
type Group struct {
	loop      *Loop
	children  map[*Task]struct{} // the running ones
	running   int
	err       error
	cancelled bool     // Cancel was called: new children start cancelled
	closed    bool     // Wait has returned: Go refuses new children
	done      waitList // the task in Wait
	onFailure func(error)
}

// NewGroup returns an empty group for tasks on t's loop.
func NewGroup(s Spawner) *Group { return &Group{loop: s.spawnLoop()} }

// Go starts fn as a child of the group. A group lives as long as its
// parent needs: children may be added while others run (one per peer
// connection, say), and finished ones are forgotten. Once Wait has
// returned, Go starts nothing and returns ErrClosed: whatever fn was to
// own (a connection) is the caller's to close.
func (g *Group) Go(name string, fn func(t *Task) error) error {
	if g.closed {
		return ErrClosed
	}
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
	return nil
}

// childDone records a child's end. A child that ended with ErrCanceled was
// cancelled, by the group or on its own: like asyncio's TaskGroup, the
// group does not count that as a failure of the whole.
func (g *Group) childDone(err error) {
	g.running--
	if err != nil && g.err == nil && !errors.Is(err, ErrCanceled) {
		g.err = err
		g.Cancel()
		if g.onFailure != nil {
			g.onFailure(err)
		}
	}
	if g.running == 0 {
		g.done.wakeAll(nil)
	}
}

// OnFailure sets fn to be called, on the loop, when a child first fails
// with a real error (as the group cancels the others). It is for a parent
// that waits on something else before it calls Wait, and needs to know
// when to stop waiting: a group may run with no child at all for a while
// (a seeding torrent that nobody connects to), so the parent, not a child
// parked forever, is what keeps it.
func (g *Group) OnFailure(fn func(error)) { g.onFailure = fn }

// Cancel cancels every child that is still running, and those started
// later.
func (g *Group) Cancel() {
	g.cancelled = true
	for c := range g.children {
		c.Cancel()
	}
}

// Wait parks t until every child has returned and returns the first real
// error (nil if all succeeded or were cancelled). If t is cancelled, or a
// Timeout around Wait expires, the children are cancelled and Wait still
// waits for them (shielded: they are cancelled, so they end promptly),
// then returns ErrCanceled (ErrTimeout) unless a child failed first.
func (g *Group) Wait(t *Task) error {
	err := g.waitChildren(t)
	if errors.Is(err, ErrCanceled) || errors.Is(err, ErrTimeout) {
		g.Cancel()
		if serr := Shield(t, 0, g.waitChildren); serr != nil {
			err = serr // the loop closed under us: nothing to wait with
		}
	}
	g.closed = true
	if g.err != nil {
		return g.err
	}
	return err
}

func (g *Group) waitChildren(t *Task) error {
	for g.running > 0 {
		if err := g.done.wait(t, "group"); err != nil {
			return err
		}
	}
	return nil
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

// WaitFor runs fn on t with a deadline d from now: Timeout for functions
// that return a value. Nothing is spawned, so a cancel of t reaches fn at
// once and stays (WaitFor returns ErrCanceled, never a timeout in its
// place), and a value fn produced is returned even if the deadline passed
// as it finished.
func WaitFor[T any](t *Task, d time.Duration, fn func(t *Task) (T, error)) (T, error) {
	var v T
	err := Timeout(t, d, func(t *Task) error {
		var err error
		v, err = fn(t)
		return err
	})
	return v, err
}

// AwaitTimeout is Await with a time limit: it returns ErrTimeout if a is
// not done within d (a keeps running).
func AwaitTimeout[T any](t *Task, a Awaitable[T], d time.Duration) (T, error) {
	return WaitFor(t, d, func(t *Task) (T, error) { return Await(t, a) })
}
