//go:build darwin || dragonfly || freebsd

package netpoll

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// waker uses EVFILT_USER: a kqueue event with no fd behind it, triggered
// with NOTE_TRIGGER and auto-reset by EV_CLEAR. No fd, no syscall to drain.
type waker struct{}

const wakeIdent = 0 // EVFILT_USER idents live in their own namespace

func (waker) init(kq int) error {
	var ev unix.Kevent_t
	unix.SetKevent(&ev, wakeIdent, unix.EVFILT_USER, unix.EV_ADD|unix.EV_CLEAR)
	if _, err := unix.Kevent(kq, []unix.Kevent_t{ev}, nil, nil); err != nil {
		return fmt.Errorf("kevent add EVFILT_USER: %w", err)
	}
	return nil
}

func (waker) is(e *unix.Kevent_t) bool { return e.Filter == unix.EVFILT_USER }

func (waker) drain() {}

func (waker) wake(kq int) error {
	var ev unix.Kevent_t
	unix.SetKevent(&ev, wakeIdent, unix.EVFILT_USER, 0)
	ev.Fflags = unix.NOTE_TRIGGER
	if _, err := unix.Kevent(kq, []unix.Kevent_t{ev}, nil, nil); err != nil {
		return fmt.Errorf("kevent trigger EVFILT_USER: %w", err)
	}
	return nil
}

func (waker) close() {}
