// Package aio is aiotorrent's async runtime: an event loop on one OS
// thread that runs coroutine-style tasks over epoll or kqueue.
//
// # Multiplexer and loop
//
// The bottom half is the multiplexer (package netpoll): it asks the kernel
// which sockets are ready. The top half is the event loop proper: it keeps
// the tasks, timers and futures, and decides who runs next. A Loop is
// driven by the goroutine that calls Run, which is locked to its OS thread:
// every task step, timer callback and I/O dispatch happens there, so task
// code needs no locks.
//
// # Tasks are coroutines
//
// A task is a func(*Task) that runs until it waits for something, then
// hands the thread back. Tasks are built on iter.Pull (Go's runtime
// coroutines): resuming a task is a direct switch to its stack on the same
// thread, with no scheduler in between. Every call that can suspend takes
// the *Task, so the places where other tasks may run are visible in the
// code:
//
//	n, err := conn.Read(t, buf)   // parks t until the socket is readable
//	err = aio.Sleep(t, time.Second)
//	v, err := aio.Await(t, future)
//
// Underneath all of them is one primitive, park: register a waiter (on a
// socket, a timer, a future, a queue), suspend, and on resumption return
// what the waker said. A waiter carries the park's sequence number, so a
// stale waiter (left in a list after a timeout) can never wake a later
// wait.
//
// # One loop step
//
// Loop.runOnce is one iteration, and the only place tasks are resumed. It
// reads as six calls, one per phase:
//
//	┌─────────────────────────────────────────────────────────────────┐
//	│ 1 timeout  skip the poll if work is ready, else next timer or ∞ │
//	│ 2 poll     epoll_wait / kevent                                  │
//	│ 3 io       wake tasks parked on ready fds                       │
//	│ 4 timers   fire the timers that were due when the phase began   │
//	│ 5 posted   run callbacks from other threads (executor results)  │
//	│ 6 run      resume each task that was ready at the start, once   │
//	└─────────────────────────────────────────────────────────────────┘
//
// An idle loop blocks in phase 2 and uses no CPU. While there is always
// more to do (ready tasks, posted work, due timers) the loop skips the
// poll, but at most 64 task steps and timer callbacks in a row: then it
// polls without blocking, so sockets wait a bounded time. A task that
// completes I/O without ever suspending yields after 64 operations
// (cooperative budgeting), so one busy socket cannot starve the others.
//
// # Futures
//
// A Future is a result to come; completing it queues its waiters, never
// runs them inline. Spawn returns a Handle, which is awaitable. A panic in
// a task becomes its error (*PanicError).
//
// # Cancellation is a state (trio's model)
//
// Cancel marks a task cancelled for good: the wait in progress ends with
// ErrCanceled, and so does every later call that would suspend, until the
// task returns. No helper can swallow a cancel, and cancelling twice (a
// group, then the loop at close) is the same as once. Cleanup that must
// still wait runs in Shield, which holds the cancel off, with a deadline
// of its own. Timeout gives the code inside it a deadline on the current
// task (no task is spawned to time it); WaitFor and AwaitTimeout are
// Timeout for functions with results. A Group is structured concurrency
// (trio's nursery, asyncio's TaskGroup): when a child fails with a real
// error the others are cancelled, a child that was cancelled on its own
// is no failure, Wait returns only when all are done, and no child can be
// added after it.
//
// # Blocking work
//
// Disk I/O, hashing and DNS run on the executor, a small pool of worker
// goroutines (Submit, Blocking); results come back through Loop.Post,
// which wakes the poller (eventfd or EVFILT_USER). Those workers, the
// coroutines and one goroutine per OnSignal (which turns Go's signal
// channel into posts) are the only goroutines the runtime has; after Run
// returns, none is left, and neither is any fd it opened.
//
// # Sockets
//
// TCPConn, TCPListener and UDPConn are raw non-blocking fds, registered
// once with the poller, edge-triggered. Each operation tries the syscall
// first and parks on EAGAIN; closing a socket wakes a task parked on it
// with ErrClosed. Host names are resolved on the executor; IP literals
// never leave the loop.
//
// Datagram transports batch: UDPConn.ReadBatch and TryWriteBatch move up
// to MaxBatch datagrams per syscall (recvmmsg/sendmmsg on Linux, with UDP
// GSO for runs of one size to one address; one datagram per call
// elsewhere) and allocate nothing per datagram. uTP (package utp) is
// built on them; one syscall per packet is what keeps libutp's and
// libtorrent's uTP behind their TCP.
//
// docs/runtime.md walks through all of this with the benchmark figures.
package aio
