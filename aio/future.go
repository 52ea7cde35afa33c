package aio

// A Future is a result that is not there yet: a value or an error, set
// once, and the tasks waiting for it. Every wait in aio surfaces as one:
// executor jobs, spawned tasks, and whatever your own code resolves.
//
// Completing a future never runs a waiter inline; it moves the waiting
// tasks to the loop's ready queue, as asyncio's set_result schedules its
// callbacks with call_soon. Futures belong to one loop and are used on its
// thread only.
type Future[T any] struct {
	loop    *Loop
	done    bool
	val     T
	err     error
	waiters []waiter
	// retrieved is set once someone has looked at the result (debug mode
	// reports failed tasks whose error nobody awaited).
	retrieved bool
}

// Awaitable is anything Await can wait for: *Future[T] and *Handle[T].
type Awaitable[T any] interface {
	future() *Future[T]
}

// NewFuture returns an unresolved future on l.
func NewFuture[T any](l *Loop) *Future[T] { return &Future[T]{loop: l} }

func (f *Future[T]) future() *Future[T] { return f }

// Resolve sets the future's value and wakes its waiters. Setting a result
// twice is a bug and panics.
func (f *Future[T]) Resolve(v T) { f.settle(v, nil) }

// Reject sets the future's error and wakes its waiters.
func (f *Future[T]) Reject(err error) {
	var zero T
	f.settle(zero, err)
}

func (f *Future[T]) settle(v T, err error) {
	if f.done {
		panic("aio: future resolved twice")
	}
	f.done, f.val, f.err = true, v, err
	for _, w := range f.waiters {
		w.wake(nil)
	}
	f.waiters = nil
}

// Done reports whether the future has a result.
func (f *Future[T]) Done() bool { return f.done }

// Result returns the value and error of a done future (zero values before).
func (f *Future[T]) Result() (T, error) {
	f.retrieved = f.done
	return f.val, f.err
}

// Await suspends t until a is done and returns its result. If t is
// cancelled first (or a Timeout's deadline passes), Await returns
// ErrCanceled (ErrTimeout) and a is left running. A future that is already
// done hands over its result without suspending, even to a cancelled task:
// a result that exists is never dropped.
func Await[T any](t *Task, a Awaitable[T]) (T, error) {
	f := a.future()
	for !f.done {
		w := t.waiter()
		f.waiters = append(f.waiters, w)
		t.setWait("future", 0)
		if err := t.park(func() { f.removeWaiter(w) }); err != nil {
			var zero T
			return zero, err
		}
	}
	f.retrieved = true
	return f.val, f.err
}

func (f *Future[T]) removeWaiter(w waiter) {
	for i, x := range f.waiters {
		if x == w {
			f.waiters = append(f.waiters[:i], f.waiters[i+1:]...)
			return
		}
	}
}

// Handle is a spawned task together with the future of its result.
type Handle[T any] struct {
	task *Task
	fut  *Future[T]
}

func (h *Handle[T]) future() *Future[T] { return h.fut }

// Task returns the spawned task.
func (h *Handle[T]) Task() *Task { return h.task }

// Cancel cancels the spawned task (see Task.Cancel).
func (h *Handle[T]) Cancel() { h.task.Cancel() }

// Done reports whether the task has finished.
func (h *Handle[T]) Done() bool { return h.fut.done }

// Result returns the task's result once it is done.
func (h *Handle[T]) Result() (T, error) { return h.fut.Result() }

// Spawner is what a task can be started from: a *Task (the usual case,
// inside a task) or a *Loop (from a callback or before the loop runs).
type Spawner interface {
	spawnLoop() *Loop
}

func (t *Task) spawnLoop() *Loop { return t.loop }
func (l *Loop) spawnLoop() *Loop { return l }

// LoopOf is the loop s belongs to, for what is built on a loop before it
// runs tasks there (a utp.Socket fed by someone else's reader).
func LoopOf(s Spawner) *Loop { return s.spawnLoop() }

// Spawn starts fn as a new task on the loop and returns its handle; the
// task first runs in a later loop step, not inside Spawn. A spawned task is
// independent of its spawner (asyncio's create_task); for children that
// must not outlive their parent, use a Group.
func Spawn[T any](s Spawner, name string, fn func(t *Task) (T, error)) *Handle[T] {
	l := s.spawnLoop()
	h := &Handle[T]{fut: NewFuture[T](l)}
	h.task = l.newTask(name, func(t *Task) {
		v, err := run(t, fn)
		t.err = err
		waited := len(h.fut.waiters) > 0
		h.fut.settle(v, err)
		if !waited {
			l.noteFailure(t.name, err, &h.fut.retrieved)
		}
	})
	return h
}
