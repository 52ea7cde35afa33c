package aio

import (
	"sync"
	"sync/atomic"
)

// The loop thread makes socket and poller calls and nothing else: a file
// system call, a hash or a large zero-fill on it stalls every task for as
// long as it takes. The slow-step check in debug mode catches such a call
// only when it is slow this time; CheckBlocking catches it every time, at
// the entry of the code that blocks (piece.Storage calls it).
//
// Each running loop records the id of its OS thread (Run locks the loop
// goroutine to it, and the tasks' coroutines run on the same thread), so
// any code can ask whether it runs on a loop thread. Thread ids come from
// gettid(2), which only Linux has; elsewhere OnLoopThread is always false
// and the check is a no-op.

var (
	loopThreads  sync.Map     // OS thread id → *Loop, while that loop runs
	runningLoops atomic.Int32 // loops in loopThreads
	debugLoops   atomic.Int32 // of those, the ones in debug mode
)

// bindThread records the calling (locked) thread as l's loop thread, and
// returns the function that forgets it.
func (l *Loop) bindThread() (unbind func()) {
	tid, ok := threadID()
	if !ok {
		return func() {}
	}
	loopThreads.Store(tid, l)
	runningLoops.Add(1)
	if l.opts.debug != nil {
		debugLoops.Add(1)
	}
	return func() {
		if l.opts.debug != nil {
			debugLoops.Add(-1)
		}
		runningLoops.Add(-1)
		loopThreads.Delete(tid)
	}
}

// threadLoop returns the loop whose thread the caller runs on, or nil.
func threadLoop() *Loop {
	tid, ok := threadID()
	if !ok {
		return nil
	}
	l, _ := loopThreads.Load(tid)
	lp, _ := l.(*Loop)
	return lp
}

// OnLoopThread reports whether the caller runs on the thread of a running
// loop: in a task, a timer callback or a posted callback, as opposed to
// an executor job or a goroutine of its own. It is always false where the
// OS gives no thread ids (every system but Linux).
func OnLoopThread() bool {
	return runningLoops.Load() > 0 && threadLoop() != nil
}

// CheckBlocking is called at the entry of code that blocks the calling
// thread (a file system call, hashing a piece): when that thread is the
// thread of a loop in debug mode (WithDebug), the loop's debug log gets a
// line naming what, because such work belongs on the executor. Otherwise
// it does nothing, and costs an atomic load when no loop is in debug mode.
func CheckBlocking(what string) {
	if debugLoops.Load() == 0 {
		return
	}
	if l := threadLoop(); l != nil && l.opts.debug != nil {
		l.opts.debug("aio: %s on the loop thread: blocking work belongs on the executor (Submit, Blocking)", what)
	}
}
