package aio

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/aiotorrent/aiotorrent/netpoll"
)

// pollFD is a non-blocking fd registered with the loop's poller, and the
// tasks parked on it. It is registered once, edge-triggered, for both
// directions; after that the hot path is: try the syscall, and only on
// EAGAIN park until the poller says the fd changed.
type pollFD struct {
	loop *Loop
	fd   int
	// Invariant: reader (writer) is the task parked waiting for the fd to
	// become readable (writable), or the zero waiter. One of each at most:
	// two tasks reading one socket would interleave its bytes.
	reader, writer waiter
	closed         bool
	// Deadlines for parked reads and writes, on the loop clock; 0 means
	// none. The timer that enforces them is the parked task's own.
	readDeadline, writeDeadline time.Duration
	// Made at the fd's first park and kept, so that parking allocates
	// nothing after that and an fd that never parks (a tracker's
	// connection whose request has already arrived) not even once.
	abortRead, abortWrite func()
}

// direction is which readiness a socket call waits for on EAGAIN.
type direction uint8

const (
	reading direction = iota
	writing
)

// register makes fd non-blocking-aware of the loop: it is added to the
// poller and to the loop's fd table. The fd must already be non-blocking.
func (l *Loop) register(fd int) (*pollFD, error) {
	pd := new(pollFD)
	if err := l.registerInto(pd, fd); err != nil {
		return nil, err
	}
	return pd, nil
}

// registerInto is register into a zero pollFD the caller allocated, so
// that one allocation can hold it and the object that owns it.
func (l *Loop) registerInto(pd *pollFD, fd int) error {
	if l.closed.Load() {
		unix.Close(fd)
		return ErrClosed
	}
	if err := l.poller.Add(fd, netpoll.Read|netpoll.Write); err != nil {
		unix.Close(fd)
		return err
	}
	pd.loop, pd.fd = l, fd
	for fd >= len(l.fds) {
		l.fds = append(l.fds, make([]*pollFD, len(l.fds)+64)...)
	}
	l.fds[fd] = pd
	l.openFDs++
	return nil
}

// dispatchIO is loop phase 3: wake whoever waits on a ready fd. An event
// for an fd nobody waits on is dropped: the next syscall on it will find
// the data (readiness is a hint, see netpoll).
func (l *Loop) dispatchIO(events []netpoll.Event) {
	for _, ev := range events {
		if ev.Fd >= len(l.fds) || l.fds[ev.Fd] == nil {
			continue // closed since the poll: a stale event
		}
		pd := l.fds[ev.Fd]
		if tr := l.opts.tracer; tr != nil {
			tr.instant(fmt.Sprintf("fd %d ready", ev.Fd), time.Now())
		}
		if ev.Ready&(netpoll.Readable|netpoll.HangUp|netpoll.Error) != 0 && pd.reader.t != nil {
			w := pd.reader
			pd.reader = waiter{}
			w.wake(nil)
		}
		if ev.Ready&(netpoll.Writable|netpoll.Error) != 0 && pd.writer.t != nil {
			w := pd.writer
			pd.writer = waiter{}
			w.wake(nil)
		}
	}
}

// wait parks t until the fd may be ready in direction dir, its deadline
// for that direction passes (ErrTimeout), the fd is closed (ErrClosed) or
// t is cancelled.
func (pd *pollFD) wait(t *Task, dir direction) error {
	if pd.closed {
		return ErrClosed
	}
	if pd.abortRead == nil {
		pd.abortRead = func() { pd.reader = waiter{} }
		pd.abortWrite = func() { pd.writer = waiter{} }
	}
	slot, deadline, abort, kind := &pd.reader, pd.readDeadline, pd.abortRead, "read"
	if dir == writing {
		slot, deadline, abort, kind = &pd.writer, pd.writeDeadline, pd.abortWrite, "write"
	}
	if slot.t != nil {
		return fmt.Errorf("aio: fd %d: two tasks waiting to %s at once", pd.fd, kind)
	}
	*slot = t.waiter()
	t.setWait(kind, int64(pd.fd))
	return t.parkUntil(deadline, abort)
}

// close unregisters and closes the fd, and wakes any parked reader or
// writer with ErrClosed, so that closing a socket is also how another task
// interrupts a blocked read.
func (pd *pollFD) close() error {
	if pd.closed {
		return ErrClosed
	}
	pd.closed = true
	l := pd.loop
	l.openFDs--
	if pd.fd < len(l.fds) && l.fds[pd.fd] == pd {
		l.fds[pd.fd] = nil
	}
	// aio never duplicates an fd, so closing it also takes it out of the
	// poller's set: no separate Remove (see netpoll.Poller.CloseFD).
	err := l.poller.CloseFD(pd.fd)
	pd.reader.wake(ErrClosed)
	pd.writer.wake(ErrClosed)
	pd.reader, pd.writer = waiter{}, waiter{}
	return err
}

// loopTime converts a deadline to the loop clock (0 for the zero time).
func (pd *pollFD) loopTime(at time.Time) time.Duration {
	if at.IsZero() {
		return 0
	}
	return max(1, at.Sub(pd.loop.start))
}

// retry is the loop every socket call is written on, once: it checks for
// cancellation (every call is a checkpoint, so a cancelled task cannot go
// on reading a socket that always has data), tries the syscall op, and on
// EAGAIN parks until the fd is ready in direction dir, then tries again.
// op must not block; an errno it returns is wrapped with what, the
// call's name. A call that succeeds counts against the task's budget (see
// checkpoint).
func (pd *pollFD) retry(t *Task, dir direction, what string, op func() (int, error)) (int, error) {
	if err := t.check(); err != nil {
		return 0, err
	}
	if err := t.interrupted(); err != nil {
		return 0, err
	}
	for {
		if pd.closed {
			return 0, ErrClosed
		}
		n, err := op()
		switch err {
		case nil:
			t.checkpoint()
			return n, nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			if err := pd.wait(t, dir); err != nil {
				return 0, err
			}
		default:
			return 0, fmt.Errorf("%s: %w", what, err)
		}
	}
}

// read reads some of p from a stream socket; io.EOF (errEOF) at its end.
func (pd *pollFD) read(t *Task, p []byte) (int, error) {
	n, err := pd.retry(t, reading, "read", func() (int, error) { return unix.Read(pd.fd, p) })
	if err == nil && n == 0 && len(p) > 0 {
		return 0, errEOF
	}
	return n, err
}

// write writes some of p.
func (pd *pollFD) write(t *Task, p []byte) (int, error) {
	return pd.retry(t, writing, "write", func() (int, error) { return unix.Write(pd.fd, p) })
}
