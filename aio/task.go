package aio

import (
	"iter"
	"runtime/debug"
	"time"
)

type taskState uint8

const (
	taskReady   taskState = iota // in the loop's ready queue
	taskRunning                  // the loop is inside its step
	taskParked                   // suspended until a waiter wakes it
	taskDone                     // its function returned
)

// A Task is a coroutine on the loop: a function that runs until it awaits
// something, hands the thread back to the loop, and is resumed when what it
// waits for is ready. The *Task is passed to the function and must be
// handed to every call that can suspend (Sleep, Await, conn.Read, ...):
// that is how the code shows where it can be interrupted.
//
// A Task is built on iter.Pull: the loop calls resume, which switches to
// the coroutine's stack on the same OS thread; the task calls suspend,
// which switches back. Neither involves Go's scheduler.
type Task struct {
	loop *Loop
	name string

	resume  func() (struct{}, bool) // iter.Pull's next: run until the next suspension
	stop    func()                  // iter.Pull's stop: used only at loop close
	suspend func(struct{}) bool     // the coroutine's yield: false once stopped

	// Invariant: state == taskParked iff the task is suspended in park;
	// then seq identifies the park, and only a waiter holding the same
	// seq can wake it. abort, if non-nil, undoes the registration the
	// parked wait made (a place in a queue, on a socket) and is cleared on
	// wake. deadline is armed while the park has a deadline (its own, or
	// a scope's) and is stopped before park returns.
	state    taskState
	seq      uint64
	abort    func()
	wakeErr  error // what park returns; set by wake
	deadline Timer // reused by every park, so a timed wait allocates nothing

	// Invariant: once cancelled is set it stays set until the task
	// returns (trio's level-triggered cancellation). scopes are the
	// Timeout and Shield calls the task is inside, innermost last; see
	// cancel.go.
	cancelled bool
	scopes    []scope

	budget int // I/O operations left before a forced yield, see checkpoint

	waitKind string // what the task parks on, for DumpTasks (see setWait)
	waitArg  int64

	body func(t *Task) // until the first step, which makes the coroutine
	err  error         // set when the function returns

	prev, next *Task // the loop's list of live tasks
}

// Name is the name the task was spawned with.
func (t *Task) Name() string { return t.name }

// Loop is the loop the task runs on.
func (t *Task) Loop() *Loop { return t.loop }

// Done reports whether the task's function has returned.
func (t *Task) Done() bool { return t.state == taskDone }

// Err is the task's error once it is done (nil while it runs).
func (t *Task) Err() error { return t.err }

// waiter is one parked wait: the task and the park it belongs to. A waiter
// that outlives its park (left in a list after a timeout) wakes nothing.
type waiter struct {
	t   *Task
	seq uint64
}

func (w waiter) wake(err error) bool {
	t := w.t
	if t == nil || t.state != taskParked || t.seq != w.seq {
		return false
	}
	t.state = taskReady
	t.abort = nil
	t.wakeErr = err
	t.loop.ready = append(t.loop.ready, t)
	return true
}

// budgetPerStep bounds how many I/O operations a task may complete without
// suspending. A peer that always has data ready would otherwise never hand
// the thread back (tokio calls this cooperative budgeting).
const budgetPerStep = 64

// newTask creates a task around body and schedules its first step.
func (l *Loop) newTask(name string, body func(t *Task)) *Task {
	t := &Task{loop: l, name: name, state: taskReady, body: body}
	t.deadline = Timer{loop: l, index: -1, owner: t}
	l.live++
	l.stats.Spawned++
	t.next = l.tasks
	if l.tasks != nil {
		l.tasks.prev = t
	}
	l.tasks = t
	l.ready = append(l.ready, t)
	return t
}

// runStep resumes t until it suspends or returns. This is the only place a
// task's code runs.
func (l *Loop) runStep(t *Task) {
	if t.resume == nil {
		// The coroutine is made here, on the loop thread, and not in
		// Spawn: the runtime requires a coroutine to be created and
		// resumed under the same OS-thread lock, and Spawn may run
		// before the loop has locked its thread.
		body := t.body
		t.body = nil
		t.resume, t.stop = iter.Pull(func(yield func(struct{}) bool) {
			t.suspend = yield
			body(t)
		})
	}
	t.state = taskRunning
	t.budget = budgetPerStep
	l.current = t
	var alive bool
	if l.observed() {
		start := time.Now()
		_, alive = t.resume()
		l.afterStep(t, start)
	} else {
		_, alive = t.resume()
	}
	l.current = nil
	l.stats.Switches++
	if !alive {
		l.finish(t)
	}
}

func (l *Loop) finish(t *Task) {
	t.state = taskDone
	t.resume, t.suspend = nil, nil
	l.live--
	if t.prev != nil {
		t.prev.next = t.next
	} else {
		l.tasks = t.next
	}
	if t.next != nil {
		t.next.prev = t.prev
	}
	t.prev, t.next = nil, nil
}

// run calls fn, turning a panic into the task's error.
func run[T any](t *Task, fn func(*Task) (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Task: t.name, Value: r, Stack: debug.Stack()}
		}
	}()
	return fn(t)
}

// current checks that t may suspend now: it must be the running task.
func (t *Task) check() error {
	if t == nil || t.loop == nil || t.loop.current != t {
		return ErrNotInTask
	}
	return nil
}

// waiter returns the token for the park that is about to happen.
func (t *Task) waiter() waiter { return waiter{t: t, seq: t.seq + 1} }

// park suspends the running task until a waiter from t.waiter() wakes it,
// and returns the error the waker gave. This is the one suspension
// primitive: every blocking call in aio registers a waiter, then parks.
// abort (may be nil) is called if the wait is ended by cancellation or a
// deadline instead, so the registration can be undone.
func (t *Task) park(abort func()) error { return t.parkUntil(0, abort) }

// parkUntil is park with the wait's own deadline on the loop clock (0 for
// none; a socket deadline, the end of a Sleep). The deadlines of the
// scopes t is in apply as well: whichever comes first ends the wait with
// ErrTimeout. A task that is already cancelled, or whose scope has
// expired, does not suspend at all: cancellation is sticky.
func (t *Task) parkUntil(deadline time.Duration, abort func()) error {
	err := t.check()
	if err == nil {
		err = t.interrupted()
	}
	if err != nil {
		if abort != nil {
			abort()
		}
		return err
	}
	if d := t.scopeDeadline(); d != 0 && (deadline == 0 || d < deadline) {
		deadline = d
	}
	t.seq++
	t.state = taskParked
	t.abort = abort
	if deadline != 0 {
		t.loop.armTimer(&t.deadline, deadline)
	}
	alive := t.suspend(struct{}{})
	if deadline != 0 {
		t.loop.stopTimer(&t.deadline)
	}
	if !alive {
		// The loop stopped this coroutine at close: nothing will wake it.
		t.state = taskRunning
		return ErrClosed
	}
	err = t.wakeErr
	t.wakeErr = nil
	return err
}

// deadlinePassed is the deadline timer's callback: the park it was armed
// for ends with ErrTimeout.
func (t *Task) deadlinePassed() {
	if t.state != taskParked {
		return
	}
	if t.abort != nil {
		t.abort()
	}
	waiter{t: t, seq: t.seq}.wake(ErrTimeout)
}

// checkpoint is called by operations that completed without suspending:
// after budgetPerStep of them in a row the task yields once, so one busy
// socket cannot starve the others. A cancel found here is not reported:
// the operation's result stands, and the next call sees the cancel.
func (t *Task) checkpoint() {
	t.budget--
	if t.budget > 0 {
		return
	}
	_ = Yield(t)
}

// Yield suspends t and puts it at the back of the ready queue: the other
// ready tasks run first (asyncio's sleep(0)). A cancelled task does not
// yield: it gets ErrCanceled (or ErrTimeout if a scope's deadline passed).
func Yield(t *Task) error {
	if err := t.check(); err != nil {
		return err
	}
	if err := t.interrupted(); err != nil {
		return err
	}
	t.seq++ // no waiter from an earlier park may wake this one
	t.state = taskReady
	t.loop.ready = append(t.loop.ready, t)
	if !t.suspend(struct{}{}) {
		t.state = taskRunning
		return ErrClosed
	}
	return nil
}
