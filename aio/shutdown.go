package aio

import (
	"fmt"
	"time"
)

// shutdownGrace is how long tasks may take to clean up after the main task
// returned and they were cancelled (long enough to send a tracker its
// "stopped" announce with a short deadline).
const shutdownGrace = 5 * time.Second

// shutdown ends the loop once the main task is done, in asyncio.run's
// order: cancel every task that is left, run the loop until they have all
// returned (bounded by shutdownGrace), stop the coroutines of any that
// would not, stop the executor, close what fds remain and the poller.
// Afterwards no goroutine and no fd of the loop's is left.
func (l *Loop) shutdown() error {
	for t := l.tasks; t != nil; t = t.next {
		t.Cancel()
	}
	graceOver := false
	grace := l.AfterFunc(shutdownGrace, func() { graceOver = true })
	var err error
	for l.live > 0 && !graceOver && err == nil {
		err = l.runOnce()
	}
	grace.Stop()
	for l.tasks != nil {
		// Still alive after the grace period: resume it with every
		// suspension failing (iter.Pull's stop) until it returns.
		t := l.tasks
		if l.opts.debug != nil {
			l.opts.debug("aio: task %q still pending %v after the loop began to close (%s)", t.name, shutdownGrace, t.waitingOn())
		}
		if t.stop != nil {
			l.current = t
			t.stop()
			l.current = nil
		}
		if t.state != taskDone {
			l.finish(t)
		}
	}
	l.debugAtClose()
	for _, fn := range l.onClose {
		fn()
	}
	l.postMu.Lock()
	l.closed.Store(true) // under postMu: see Post
	l.postMu.Unlock()
	l.exec.close()
	// Run what was posted before the close, even callbacks whose Post has
	// not yet raised postPending: Post promised they would run.
	l.postPending.Store(true)
	l.takePosted()
	for fd, pd := range l.fds {
		if pd != nil {
			pd.close()
			l.fds[fd] = nil
		}
	}
	if perr := l.poller.Close(); perr != nil && err == nil {
		err = fmt.Errorf("aio: close poller: %w", perr)
	}
	return err
}
