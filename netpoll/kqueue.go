//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package netpoll

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Poller is the kqueue backend. kqueue reports read and write readiness as
// separate events (one per filter), so one fd may appear twice in a Wait.
type Poller struct {
	kq     int
	wake   waker // EVFILT_USER or a self-pipe, see kqueue_wake_*.go
	closed atomic.Bool
	// wakeMu keeps the kqueue and the wake pipe open while a Wake uses
	// them: Wake holds it shared, Close exclusively. A Wake that only
	// checked closed could otherwise trigger or write into another file
	// that took the number after Close.
	wakeMu  sync.RWMutex
	scratch []unix.Kevent_t
}

// New creates a kqueue and its wake mechanism.
func New() (*Poller, error) {
	kq, err := unix.Kqueue()
	if err != nil {
		return nil, fmt.Errorf("kqueue: %w", err)
	}
	unix.CloseOnExec(kq)
	p := &Poller{kq: kq}
	if err := p.wake.init(kq); err != nil {
		unix.Close(kq)
		return nil, err
	}
	return p, nil
}

// Add registers fd, edge-triggered (EV_CLEAR), for the given interest.
func (p *Poller) Add(fd int, in Interest) error {
	return p.Modify(fd, in)
}

// Modify changes the interest of fd. Both filters are always named so
// that a direction no longer wanted is disabled rather than left on.
func (p *Poller) Modify(fd int, in Interest) error {
	if p.closed.Load() {
		return ErrClosed
	}
	var changes [2]unix.Kevent_t
	unix.SetKevent(&changes[0], fd, unix.EVFILT_READ, kqFlags(in&Read != 0))
	unix.SetKevent(&changes[1], fd, unix.EVFILT_WRITE, kqFlags(in&Write != 0))
	if _, err := unix.Kevent(p.kq, changes[:], nil, nil); err != nil {
		return fmt.Errorf("kevent add fd %d: %w", fd, err)
	}
	return nil
}

func kqFlags(on bool) int {
	if on {
		return unix.EV_ADD | unix.EV_ENABLE | unix.EV_CLEAR
	}
	return unix.EV_ADD | unix.EV_DISABLE | unix.EV_CLEAR
}

// Remove unregisters fd. Removing an fd that is not registered is not an
// error.
func (p *Poller) Remove(fd int) error {
	if p.closed.Load() {
		return ErrClosed
	}
	var changes [2]unix.Kevent_t
	unix.SetKevent(&changes[0], fd, unix.EVFILT_READ, unix.EV_DELETE)
	unix.SetKevent(&changes[1], fd, unix.EVFILT_WRITE, unix.EV_DELETE)
	// Each filter is deleted separately so that a missing one (ENOENT)
	// does not stop the other from going.
	for i := range changes {
		_, err := unix.Kevent(p.kq, changes[i:i+1], nil, nil)
		if err != nil && err != unix.ENOENT && err != unix.EBADF {
			return fmt.Errorf("kevent delete fd %d: %w", fd, err)
		}
	}
	return nil
}

// CloseFD closes a registered fd and so drops it from the set: kqueue
// deletes every kevent of a descriptor when it is closed, duplicates or
// not, so the two kevent calls of Remove are not needed.
func (p *Poller) CloseFD(fd int) error {
	if err := unix.Close(fd); err != nil {
		return fmt.Errorf("close fd %d: %w", fd, err)
	}
	return nil
}

// Wait blocks until a registered fd is ready, Wake is called, or timeout
// passes (negative: no timeout; zero: just look). A wakeup is consumed here
// and is not an event.
func (p *Poller) Wait(events []Event, timeout time.Duration) (int, error) {
	if p.closed.Load() {
		return 0, ErrClosed
	}
	if cap(p.scratch) < len(events) {
		p.scratch = make([]unix.Kevent_t, len(events))
	}
	raw := p.scratch[:len(events)]
	n, err := retryEINTR(timeout, func(timeout time.Duration) (int, error) {
		var ts *unix.Timespec
		if timeout >= 0 {
			t := unix.NsecToTimespec(int64(timeout))
			ts = &t
		}
		return unix.Kevent(p.kq, nil, raw, ts)
	})
	if err != nil {
		return 0, fmt.Errorf("kevent wait: %w", err)
	}
	return p.translate(raw[:n], events), nil
}

func (p *Poller) translate(raw []unix.Kevent_t, events []Event) int {
	n := 0
	for i := range raw {
		e := &raw[i]
		if p.wake.is(e) {
			p.wake.drain()
			continue
		}
		var r Ready
		switch e.Filter {
		case unix.EVFILT_READ:
			r = Readable
		case unix.EVFILT_WRITE:
			r = Writable
		}
		if e.Flags&unix.EV_EOF != 0 {
			r |= HangUp
		}
		if e.Flags&unix.EV_ERROR != 0 {
			r |= Error | Readable | Writable
		}
		events[n] = Event{Fd: int(e.Ident), Ready: r}
		n++
	}
	return n
}

// Wake makes a Wait in progress (or the next one) return. Safe from any
// goroutine, also during or after Close (then it returns ErrClosed and
// touches no fd).
func (p *Poller) Wake() error {
	p.wakeMu.RLock()
	defer p.wakeMu.RUnlock()
	if p.closed.Load() {
		return ErrClosed
	}
	return p.wake.wake(p.kq)
}

// Close releases the kqueue, after any Wake in progress has finished with
// it. Registered fds belong to the caller.
func (p *Poller) Close() error {
	p.wakeMu.Lock()
	defer p.wakeMu.Unlock()
	if p.closed.Swap(true) {
		return ErrClosed
	}
	p.wake.close()
	return unix.Close(p.kq)
}
