package aio

import (
	"fmt"
	"runtime/debug"
	"sync"
	"time"
)

// executor is a fixed pool of worker goroutines for calls that block: disk
// reads and writes, SHA-1 of a piece, DNS, HTTPS. The loop thread must
// never make such a call itself, or every task waits for it.
//
// Jobs go in through a mutex-guarded FIFO (never a channel send, which
// could block the loop thread when full) and come back through Loop.Post,
// which wakes the poller. Workers start on the first job, so a loop that
// never blocks has no extra goroutines.
type executor struct {
	loop    *Loop
	size    int
	mu      sync.Mutex
	cond    sync.Cond
	jobs    []func(worker int)
	started int
	busy    int
	closed  bool
	wg      sync.WaitGroup

	nJobs    uint64 // guarded by mu
	busyTime time.Duration
}

func newExecutor(l *Loop, size int) *executor {
	e := &executor{loop: l, size: max(1, size)}
	e.cond.L = &e.mu
	return e
}

func (e *executor) submit(job func(worker int)) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	e.jobs = append(e.jobs, job)
	if e.started < e.size && len(e.jobs) > e.idle() {
		e.started++
		e.wg.Add(1)
		go e.work(e.started - 1)
	}
	e.cond.Signal()
	return nil
}

// idle is a cheap upper bound of workers waiting for a job: started
// workers not yet known to be busy. Over-estimating only delays starting
// another worker until the next submit.
func (e *executor) idle() int { return e.started - e.busy }

func (e *executor) work(id int) {
	defer e.wg.Done()
	for {
		e.mu.Lock()
		for len(e.jobs) == 0 && !e.closed {
			e.cond.Wait()
		}
		if len(e.jobs) == 0 { // closed and drained
			e.mu.Unlock()
			return
		}
		job := e.jobs[0]
		e.jobs[0] = nil
		e.jobs = e.jobs[1:]
		e.busy++
		e.mu.Unlock()
		start := time.Now()
		job(id)
		d := time.Since(start)
		e.mu.Lock()
		e.busy--
		e.nJobs++
		e.busyTime += d
		e.mu.Unlock()
	}
}

func (e *executor) counters() (uint64, time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.nJobs, e.busyTime
}

// close lets the workers finish the queued jobs, then waits for them.
func (e *executor) close() {
	e.mu.Lock()
	e.closed = true
	e.cond.Broadcast()
	e.mu.Unlock()
	e.wg.Wait()
}

// Submit runs fn on an executor thread and returns a future for its
// result, without waiting. fn must not touch loop state: it runs on
// another thread. A panic in fn becomes the future's error.
func Submit[T any](s Spawner, fn func() (T, error)) *Future[T] {
	l := s.spawnLoop()
	f := NewFuture[T](l)
	l.inflight++
	tr, name := l.opts.tracer, "job"
	if l.current != nil {
		name = l.current.name // the submitting task names the job
	}
	err := l.exec.submit(func(worker int) {
		var start time.Time
		if tr != nil {
			start = time.Now()
		}
		v, err := callBlocking(fn)
		if tr != nil {
			tr.slice(name, workerTid+worker, start, time.Now())
		}
		l.Post(func() {
			l.inflight--
			f.settle(v, err)
		})
	})
	if err != nil {
		l.inflight--
		f.Reject(fmt.Errorf("aio: submit: %w", err))
	}
	return f
}

// Blocking runs fn on an executor thread and suspends t until it returns.
// If t is cancelled meanwhile, Blocking returns ErrCanceled at once; fn
// still runs to the end and its result is dropped.
func Blocking[T any](t *Task, fn func() (T, error)) (T, error) {
	if err := t.check(); err != nil {
		var zero T
		return zero, err
	}
	return Await(t, Submit(t, fn))
}

func callBlocking[T any](fn func() (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("aio: executor job panicked: %v\n%s", r, debug.Stack())
		}
	}()
	return fn()
}
