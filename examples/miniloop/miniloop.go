//go:build linux

// Miniloop is aiotorrent's runtime (package aio) in one page, the way
// tokio's mini-tokio is tokio in one page: an epoll loop on one OS thread,
// a FIFO of ready tasks, tasks that are coroutines, a timer heap, sticky
// cancellation and non-blocking sockets. Read this file, then aio/;
// README.md maps one onto the other and says what is left out.
package main

import (
	"container/heap"
	"errors"
	"fmt"
	"io"
	"iter"
	"runtime"
	"slices"
	"time"

	"golang.org/x/sys/unix"
)

var errCanceled = errors.New("miniloop: task canceled")

// Loop is driven by the one goroutine that calls Run. None of it has a
// lock, because no other thread ever touches it.
type Loop struct {
	epfd   int
	events []unix.EpollEvent
	fds    map[int]*FD    // the registered fds, by number
	ready  []*Task        // FIFO: the tasks the next run phase resumes
	timers timerHeap      // sleeping tasks, earliest deadline on top
	tasks  map[*Task]bool // every task that has not returned
}

// NewLoop makes a loop around a new epoll instance; Run drives it.
func NewLoop() (*Loop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	return &Loop{epfd: epfd, events: make([]unix.EpollEvent, 64),
		fds: map[int]*FD{}, tasks: map[*Task]bool{}}, nil
}

// Run runs main until it returns, then cancels what main left behind and
// steps on until all of it has cleaned up (as asyncio.run does). The
// calling goroutine is locked to its OS thread: that thread is the loop,
// and every task step runs on it, since a coroutine switch keeps the
// thread.
func (l *Loop) Run(main func(t *Task) error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer unix.Close(l.epfd)
	m := l.Spawn(main)
	for len(l.tasks) > 0 {
		if m.done {
			for t := range l.tasks {
				t.Cancel() // every step: tasks spawned while cleaning up too
			}
		}
		if err := l.runOnce(); err != nil {
			return err
		}
	}
	return m.err
}

// runOnce is one loop step, and the only place tasks are resumed. Its
// phases have the names and numbers of aio's runOnce (aio/loop.go).
func (l *Loop) runOnce() error {
	// 1 timeout: 0 if a task is ready, else until the next timer rounded
	// up (rounded down, 0.5 ms would be a busy poll with timeout 0).
	timeout := -1
	if len(l.ready) > 0 {
		timeout = 0
	} else if len(l.timers) > 0 {
		d := max(0, time.Until(l.timers[0].when))
		timeout = int((d + time.Millisecond - 1) / time.Millisecond)
	}
	// 2 poll
	n, err := unix.EpollWait(l.epfd, l.events, timeout)
	if err == unix.EINTR {
		n = 0 // a signal arrived; nothing is ready
	} else if err != nil {
		return fmt.Errorf("epoll_wait: %w", err)
	}
	// 3 io: errors and hang-ups wake both sides; each task then learns
	// what happened from its own syscall.
	for _, ev := range l.events[:n] {
		if f := l.fds[int(ev.Fd)]; f != nil {
			if ev.Events&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 && f.reader != nil {
				f.reader.wake(nil)
			}
			if ev.Events&(unix.EPOLLOUT|unix.EPOLLHUP|unix.EPOLLERR) != 0 && f.writer != nil {
				f.writer.wake(nil)
			}
		}
	}
	// 4 timers. A cancelled sleep leaves its timer in the heap, dead,
	// to be dropped here: cheaper than a removal (asyncio does the same).
	for len(l.timers) > 0 && !time.Now().Before(l.timers[0].when) {
		if tm := heap.Pop(&l.timers).(*timer); tm.task != nil {
			tm.task.wake(nil)
		}
	}
	// (5 posted: aio takes executor results here; no other thread here)
	// 6 run what is ready now, once; what it wakes waits for the next
	// step, so the loop is back in epoll_wait in bounded time.
	batch := l.ready
	l.ready = nil
	for _, t := range batch {
		l.step(t)
	}
	return nil
}

// A Task is a function on the loop thread that runs until it parks. It is
// a coroutine (iter.Pull): resume switches to its stack, yield switches
// back, on the same OS thread, with no Go scheduler in between.
type Task struct {
	loop      *Loop
	body      func(t *Task) error
	resume    func() (struct{}, bool) // nil until the first step
	yield     func(struct{}) bool
	parked    bool   // suspended in park: only wake makes it ready
	abort     func() // while parked: takes t out of what it waits on
	wakeErr   error  // what park returns
	cancelled bool   // sticky: set by Cancel, never cleared
	done      bool
	err       error
	joiners   []*Task
}

// Spawn queues a new task; it first runs in a later run phase.
func (l *Loop) Spawn(body func(t *Task) error) *Task {
	t := &Task{loop: l, body: body}
	l.tasks[t] = true
	l.ready = append(l.ready, t)
	return t
}

func (l *Loop) step(t *Task) {
	if t.resume == nil {
		// Made here and not in Spawn: a coroutine must be created and
		// resumed under the same thread lock, and Spawn can run before Run.
		// Pull's stop is dropped: it abandons a coroutine, and Run lets
		// every task return instead.
		t.resume, _ = iter.Pull(func(yield func(struct{}) bool) {
			t.yield = yield
			t.err = t.body(t)
		})
	}
	if _, alive := t.resume(); !alive {
		t.done = true
		delete(l.tasks, t)
		for _, j := range slices.Clone(t.joiners) { // wake edits the list
			j.wake(nil)
		}
	}
}

// park is the one suspension primitive. The caller has put t where a
// waker will find it (an fd, the timer heap, a joiner list); abort takes
// it out again. Once t is cancelled, every park fails at once: trio's
// level-triggered cancellation, so a task cannot swallow a cancel and
// then block forever in its cleanup.
func (t *Task) park(abort func()) error {
	if t.cancelled {
		abort()
		return errCanceled
	}
	t.parked, t.abort = true, abort
	t.yield(struct{}{}) // back to the loop; returns when resumed
	return t.wakeErr
}

// wake makes a parked task ready, and takes it out of whatever it waited
// on. A task waits on one thing at a time, so no waker left behind can
// wake a later park. (aio needs sequence numbers instead: a wait there
// can have a deadline timer as well as an fd.)
func (t *Task) wake(err error) {
	if t.parked {
		t.abort()
		t.parked, t.abort, t.wakeErr = false, nil, err
		t.loop.ready = append(t.loop.ready, t)
	}
}

// Cancel marks t cancelled for good and ends the park it is in, if any.
func (t *Task) Cancel() {
	if !t.done && !t.cancelled {
		t.cancelled = true
		t.wake(errCanceled)
	}
}

// Join parks t until other has returned, and gives other's error.
func (t *Task) Join(other *Task) error {
	if !other.done {
		other.joiners = append(other.joiners, t)
		if err := t.park(func() {
			other.joiners = slices.DeleteFunc(other.joiners, func(j *Task) bool { return j == t })
		}); err != nil {
			return err
		}
	}
	return other.err
}

// A timer wakes a sleeping task. when comes from time.Now, so it is on the
// monotonic clock: setting the wall clock neither fires it early nor late.
type timer struct {
	when time.Time
	task *Task // nil once the sleep is over or cancelled
}

type timerHeap []*timer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].when.Before(h[j].when) }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(*timer)) }
func (h *timerHeap) Pop() any {
	tm := (*h)[len(*h)-1]
	*h = (*h)[:len(*h)-1]
	return tm
}

// Sleep parks t for d, or until it is cancelled.
func (t *Task) Sleep(d time.Duration) error {
	tm := &timer{when: time.Now().Add(d), task: t}
	heap.Push(&t.loop.timers, tm)
	return t.park(func() { tm.task = nil })
}

// FD is a non-blocking socket, registered with epoll once, for both
// directions, edge-triggered. An edge reports a change, not a state: a
// task reads or writes until EAGAIN, and parks only then. An edge that
// came while nobody waited is not lost: the next syscall finds the data.
type FD struct {
	loop           *Loop
	fd             int
	reader, writer *Task // parked until readable / writable
}

func (l *Loop) register(fd int) (*FD, error) {
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET, Fd: int32(fd)}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return nil, fmt.Errorf("epoll_ctl add fd %d: %w", fd, err)
	}
	f := &FD{loop: l, fd: fd}
	l.fds[fd] = f
	return f, nil
}

func (f *FD) waitRead(t *Task) error {
	f.reader = t
	return t.park(func() { f.reader = nil })
}

func (f *FD) waitWrite(t *Task) error {
	f.writer = t
	return t.park(func() { f.writer = nil })
}

// Read tries the syscall first and parks only on EAGAIN.
func (f *FD) Read(t *Task, p []byte) (int, error) {
	for {
		n, err := unix.Read(f.fd, p)
		switch {
		case err == unix.EAGAIN:
			if err := f.waitRead(t); err != nil {
				return 0, err
			}
		case err != nil:
			return 0, fmt.Errorf("read fd %d: %w", f.fd, err)
		case n == 0 && len(p) > 0:
			return 0, io.EOF
		default:
			return n, nil
		}
	}
}

// WriteAll writes all of p, parking whenever the send buffer is full.
func (f *FD) WriteAll(t *Task, p []byte) error {
	for len(p) > 0 {
		n, err := unix.Write(f.fd, p)
		switch {
		case err == unix.EAGAIN:
			if err := f.waitWrite(t); err != nil {
				return err
			}
		case err != nil:
			return fmt.Errorf("write fd %d: %w", f.fd, err)
		default:
			p = p[n:]
		}
	}
	return nil
}

// Close leaves epoll before closing: a closed fd leaves the epoll set by
// itself only when no duplicate of it is open. The miniature's tasks close
// only their own fds, so nobody can be parked on one being closed.
func (f *FD) Close() error {
	unix.EpollCtl(f.loop.epfd, unix.EPOLL_CTL_DEL, f.fd, nil)
	delete(f.loop.fds, f.fd)
	return unix.Close(f.fd)
}
