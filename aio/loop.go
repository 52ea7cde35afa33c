package aio

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aiotorrent/aiotorrent/netpoll"
)

// Loop is the event loop: one poller, one timer heap, one ready queue, and
// the tasks that run on them, all driven by one OS thread. Everything about
// a loop, except Post and its executor's internals, is touched only from
// that thread, so none of it needs a lock.
type Loop struct {
	poller *netpoll.Poller
	events []netpoll.Event
	fds    []*pollFD // indexed by fd number; nil where aio has none open

	// Invariant: every task in ready has state taskReady, and appears once.
	ready, running []*Task
	current        *Task // the task inside runStep, nil between steps
	live           int   // tasks spawned and not done
	tasks          *Task // the live tasks, linked through Task.prev/next

	clock    clock
	start    time.Time
	timers   timerHeap
	timerSeq uint64

	// Posted callbacks: the one door into the loop from other threads.
	postMu      sync.Mutex
	posted      []func()
	postPending atomic.Bool // true while a wake for posted work is on its way
	inflight    int         // executor jobs submitted and not yet posted back
	exec        *executor

	lastYield time.Duration // real time since start of the last yieldToScheduler
	sincePoll int           // task steps and timers run since the poller was last asked
	closed    atomic.Bool
	running_  bool
	stats     Stats
	onClose   []func() // run by shutdown, after the tasks are gone
	openFDs   int
	failures  []unretrieved // debug mode: failed tasks not yet awaited
	opts      options
}

// Stats counts what the loop has done, for benchmarks and --stats.
type Stats struct {
	Steps    uint64 // loop iterations
	Switches uint64 // task steps (resume + suspend)
	Polls    uint64 // calls into the poller
	Timers   uint64 // timers fired
	Posted   uint64 // callbacks and executor results taken from other threads
	Spawned  uint64 // tasks created
	Yields   uint64 // passes through Go's scheduler (see yieldToScheduler)

	PollWait time.Duration // time blocked in the poller
	ExecJobs uint64        // executor jobs run
	ExecBusy time.Duration // executor workers' time in jobs, summed
}

// Option configures a loop.
type Option func(*options)

type options struct {
	workers int
	virtual bool
	tracer  *Tracer
	debug   func(format string, args ...any)
}

// WithWorkers sets the number of executor threads (default: the number of
// CPUs, at least 2).
func WithWorkers(n int) Option { return func(o *options) { o.workers = n } }

// defaultWorkers is the executor's size unless WithWorkers says otherwise:
// one thread per CPU for hashing, and at least two so that one slow disk
// or DNS call does not hold up every other job. Code that sizes its work
// to the pool asks Loop.Workers rather than computing this again.
func defaultWorkers() int { return max(2, runtime.NumCPU()) }

// Workers is the number of executor threads the loop has (started or
// not), for splitting blocking work into that many jobs.
func (l *Loop) Workers() int { return l.exec.size }

// WithVirtualTime gives the loop a clock that jumps: whenever no task is
// ready, no I/O is pending at once and no executor job is out, time skips
// to the next timer instead of sleeping. Tests of timeouts and retries then
// run in microseconds (trio's MockClock with autojump).
func WithVirtualTime() Option { return func(o *options) { o.virtual = true } }

// NewLoop creates a loop with its poller and executor. Run it with Run, on
// the goroutine that is to become the loop thread.
func NewLoop(opts ...Option) (*Loop, error) {
	o := options{workers: defaultWorkers()}
	for _, fn := range opts {
		fn(&o)
	}
	p, err := netpoll.New()
	if err != nil {
		return nil, fmt.Errorf("aio: new loop: %w", err)
	}
	l := &Loop{poller: p, events: make([]netpoll.Event, 256), opts: o, start: time.Now()}
	l.clock.virtual = o.virtual
	l.exec = newExecutor(l, o.workers)
	return l, nil
}

// Run runs fn as the loop's main task until it returns, then cancels and
// waits for every task still alive, stops the executor and closes the
// loop, like asyncio.run. The calling goroutine is locked to its OS thread
// for the duration: it is the loop thread. A loop runs once.
func Run[T any](fn func(t *Task) (T, error), opts ...Option) (T, error) {
	var zero T
	l, err := NewLoop(opts...)
	if err != nil {
		return zero, err
	}
	h := Spawn(l, "main", fn)
	if err := l.Run(h.Task()); err != nil {
		return zero, err
	}
	return h.Result()
}

// Run drives the loop until main is done, then shuts it down (see the
// package function Run).
func (l *Loop) Run(main *Task) error {
	if l.running_ || l.closed.Load() {
		return fmt.Errorf("aio: loop already ran: %w", ErrClosed)
	}
	l.running_ = true
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer l.bindThread()() // for OnLoopThread and CheckBlocking
	var err error
	for !main.Done() && err == nil {
		err = l.runOnce()
	}
	if serr := l.shutdown(); err == nil {
		err = serr
	}
	return err
}

// runOnce is one iteration of the loop, and the only place tasks are
// resumed. Its phases, in order (docs/runtime.md draws them):
//
//  1. timeout  how long the poller may block: skip the poll when tasks
//     are ready or a timer is due (but poll, without blocking, at least
//     every 64 task steps), else until the next timer, else forever
//  2. poll     ask epoll/kqueue which fds are ready
//  3. io       wake the tasks parked on those fds
//  4. timers   run the timers that are due
//  5. posted   take callbacks and executor results from other threads
//  6. run      run each task that is ready now, once
func (l *Loop) runOnce() error {
	l.stats.Steps++
	timeout, jump := l.pollTimeout()     // 1
	events, err := l.poll(timeout, jump) // 2
	if err != nil {
		return err
	}
	l.dispatchIO(events) // 3
	l.fireTimers()       // 4
	l.takePosted()       // 5
	l.runReady()         // 6
	l.yieldToScheduler()
	return nil
}

// yieldInterval is how often a busy loop passes through Go's scheduler:
// under the 10 ms after which the runtime's sysmon thinks a goroutine has
// held its processor too long.
const yieldInterval = 8 * time.Millisecond

// yieldToScheduler lets Go's scheduler see the loop goroutine every
// yieldInterval. Task switches are coroutine switches, which the
// scheduler does not count, so without it the loop goroutine looks to
// sysmon like one that has run without a break since the loop started:
// sysmon then preempts it, takes its processor at each system call and,
// having found work each time, polls again every 20 µs instead of backing
// off to 10 ms; that cost a tracker a tenth of its CPU under load. A
// Gosched on the locked loop thread costs a hand-off between two threads,
// about a hundred times a second.
func (l *Loop) yieldToScheduler() {
	if now := time.Since(l.start); now-l.lastYield >= yieldInterval {
		l.lastYield = now
		l.stats.Yields++
		runtime.Gosched()
	}
}

// poll is phase 2: it waits on epoll/kqueue for at most timeout and
// returns the readiness events, or none if timeout is skipPoll. On a
// virtual clock (jump), a poll that found nothing moves time to the next
// timer instead of sleeping until it.
func (l *Loop) poll(timeout time.Duration, jump bool) ([]netpoll.Event, error) {
	if timeout == skipPoll {
		return nil, nil
	}
	var before time.Time
	if timeout != 0 {
		before = time.Now()
	}
	n, err := l.poller.Wait(l.events, timeout)
	if err != nil {
		return nil, fmt.Errorf("aio: poll: %w", err)
	}
	if timeout != 0 {
		l.stats.PollWait += time.Since(before)
	}
	l.stats.Polls++
	l.sincePoll = 0
	if jump && n == 0 && !l.postPending.Load() {
		l.clock.jump(l.timers[0].when) // virtual time: skip the sleep
	}
	return l.events[:n], nil
}

// skipPoll means "do not ask the poller in this step".
const skipPoll = time.Duration(-2)

// pollEvery bounds how many task steps and timer callbacks may run
// between two looks at the poller while there is always more to do.
// Asking on every step would cost a syscall per task switch; never asking
// would starve I/O. Every reason to skip the poll obeys it: ready tasks,
// posted work, and timers that are already due (a task that keeps
// re-arming a due timer must not keep sockets waiting).
const pollEvery = 64

// pollTimeout is phase 1. jump reports that, on a virtual clock, the loop
// only looks at the poller and skips time ahead if nothing is there.
func (l *Loop) pollTimeout() (timeout time.Duration, jump bool) {
	var next time.Duration = -1 // until the next timer; -1: forever
	if len(l.timers) > 0 {
		next = max(0, l.timers[0].when-l.now())
	}
	if len(l.ready) > 0 || l.postPending.Load() || next == 0 {
		if l.sincePoll < pollEvery {
			return skipPoll, false
		}
		return 0, false
	}
	if next > 0 && l.clock.virtual && l.inflight == 0 {
		return 0, true
	}
	return next, false
}

// runReady runs the tasks that were ready when the phase began. Tasks made
// ready while it runs wait for the next step, so the loop gets back to the
// poller in bounded time (asyncio's ntodo).
func (l *Loop) runReady() {
	l.running, l.ready = l.ready, l.running[:0]
	for i, t := range l.running {
		l.running[i] = nil
		if t.state != taskReady {
			continue // finished by shutdown's stop
		}
		l.runStep(t)
	}
	l.sincePoll += len(l.running)
	l.running = l.running[:0]
}

// Post schedules fn to run on the loop thread. It is the only Loop method
// that is safe to call from other goroutines: executor workers use it to
// deliver results, and so can tests, signal handlers and foreign code. It
// returns ErrClosed once the loop has closed; a nil error means fn will
// run.
func (l *Loop) Post(fn func()) error {
	// closed is read under postMu, where shutdown sets it: a callback is
	// either queued before the loop's last look at the queue, or refused.
	l.postMu.Lock()
	if l.closed.Load() {
		l.postMu.Unlock()
		return ErrClosed
	}
	l.posted = append(l.posted, fn)
	l.postMu.Unlock()
	// One wake per batch: if one is already on its way, the loop will take
	// this callback with it. A wake that races the loop's close finds the
	// poller closed (netpoll.ErrClosed) and touches no fd.
	if !l.postPending.Swap(true) {
		if err := l.poller.Wake(); err != nil && !errors.Is(err, netpoll.ErrClosed) {
			return fmt.Errorf("aio: post: %w", err)
		}
	}
	return nil
}

func (l *Loop) takePosted() {
	if !l.postPending.Load() {
		return
	}
	// Clear the flag before taking the batch: a Post that lands after the
	// swap below sees false and wakes the poller again.
	l.postPending.Store(false)
	l.postMu.Lock()
	batch := l.posted
	l.posted = nil
	l.postMu.Unlock()
	for _, fn := range batch {
		fn()
	}
	l.stats.Posted += uint64(len(batch))
	l.sincePoll += len(batch) // a thread that keeps posting must not keep sockets waiting
}

// Stats returns the loop's counters. Call it on the loop thread (or after
// the loop has closed).
func (l *Loop) Stats() Stats {
	s := l.stats
	s.ExecJobs, s.ExecBusy = l.exec.counters()
	return s
}

// Now is the loop's current time: the wall clock, or the virtual clock
// with WithVirtualTime.
func (l *Loop) Now() time.Time { return l.start.Add(l.now()) }

func (l *Loop) now() time.Duration {
	if l.clock.virtual {
		return l.clock.at
	}
	return time.Since(l.start)
}

// clock is the loop's sense of time. Real time is read from the monotonic
// clock; virtual time moves only when the loop jumps it.
type clock struct {
	virtual bool
	at      time.Duration
}

func (c *clock) jump(to time.Duration) {
	if c.virtual && to > c.at {
		c.at = to
	}
}
