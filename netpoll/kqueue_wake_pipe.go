//go:build netbsd || openbsd

package netpoll

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// waker is a self-pipe: OpenBSD has no EVFILT_USER (and NetBSD gained it
// only in 10.0), so a byte written to a non-blocking pipe does the job.
type waker struct{ r, w int }

func (k *waker) init(kq int) error {
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		return fmt.Errorf("pipe2: %w", err)
	}
	k.r, k.w = fds[0], fds[1]
	var ev unix.Kevent_t
	unix.SetKevent(&ev, k.r, unix.EVFILT_READ, unix.EV_ADD|unix.EV_CLEAR)
	if _, err := unix.Kevent(kq, []unix.Kevent_t{ev}, nil, nil); err != nil {
		k.close()
		return fmt.Errorf("kevent add wake pipe: %w", err)
	}
	return nil
}

func (k *waker) is(e *unix.Kevent_t) bool {
	return e.Filter == unix.EVFILT_READ && int(e.Ident) == k.r
}

func (k *waker) drain() {
	var buf [64]byte
	for {
		if n, err := unix.Read(k.r, buf[:]); n <= 0 || err != nil {
			return
		}
	}
}

func (k *waker) wake(int) error {
	_, err := unix.Write(k.w, []byte{1})
	if err != nil && err != unix.EAGAIN { // a full pipe already holds a wakeup
		return fmt.Errorf("wake pipe write: %w", err)
	}
	return nil
}

func (k *waker) close() {
	unix.Close(k.r)
	unix.Close(k.w)
}
