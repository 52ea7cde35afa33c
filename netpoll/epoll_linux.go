package netpoll

import (
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Poller is the epoll backend. One epoll instance, plus an eventfd
// registered in it for Wake.
type Poller struct {
	epfd   int
	wakefd int
	closed atomic.Bool
	// wakeMu keeps the eventfd open while a Wake writes to it: Wake holds
	// it shared, Close exclusively. A Wake that only checked closed could
	// otherwise write into another file that took the number after Close.
	wakeMu  sync.RWMutex
	scratch []unix.EpollEvent // reused by Wait: no allocation per call
}

// New creates an epoll instance and its wake eventfd.
func New() (*Poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	p := &Poller{epfd: epfd, wakefd: wakefd}
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLET, Fd: int32(wakefd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &ev); err != nil {
		unix.Close(wakefd)
		unix.Close(epfd)
		return nil, fmt.Errorf("epoll_ctl add eventfd: %w", err)
	}
	return p, nil
}

func epollEvents(in Interest) uint32 {
	// EPOLLRDHUP reports a peer's shutdown(SHUT_WR) as its own bit, so a
	// reader parked on a half-closed socket wakes and sees EOF.
	ev := uint32(unix.EPOLLET | unix.EPOLLRDHUP)
	if in&Read != 0 {
		ev |= unix.EPOLLIN
	}
	if in&Write != 0 {
		ev |= unix.EPOLLOUT
	}
	return ev
}

// Add registers fd, edge-triggered, for the given interest.
func (p *Poller) Add(fd int, in Interest) error {
	return p.ctl(unix.EPOLL_CTL_ADD, fd, in)
}

// Modify changes the interest of a registered fd.
func (p *Poller) Modify(fd int, in Interest) error {
	return p.ctl(unix.EPOLL_CTL_MOD, fd, in)
}

func (p *Poller) ctl(op, fd int, in Interest) error {
	if p.closed.Load() {
		return ErrClosed
	}
	ev := unix.EpollEvent{Events: epollEvents(in), Fd: int32(fd)}
	if err := unix.EpollCtl(p.epfd, op, fd, &ev); err != nil {
		return fmt.Errorf("epoll_ctl fd %d: %w", fd, err)
	}
	return nil
}

// Remove unregisters fd. Call it before closing the fd: the kernel drops a
// closed fd from the set by itself only when no duplicate of it is open.
// Removing an fd that is not registered is not an error.
func (p *Poller) Remove(fd int) error {
	if p.closed.Load() {
		return ErrClosed
	}
	err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, nil)
	if err != nil && err != unix.ENOENT && err != unix.EBADF {
		return fmt.Errorf("epoll_ctl del fd %d: %w", fd, err)
	}
	return nil
}

// CloseFD closes a registered fd and so drops it from the set, without the
// epoll_ctl(EPOLL_CTL_DEL) that Remove costs (a system call per
// connection, a few percent of a tracker's HTTP announce). The kernel
// removes a closed fd from every epoll set when its last reference goes;
// the caller guarantees it made no duplicate (dup, SCM_RIGHTS), and the
// only other copy a Go process makes is a forked child's, between fork
// and exec. syscall.ForkLock, held shared here, excludes that: os/exec
// forks under it held exclusively and, with CLONE_VFORK, releases it
// only once the child has exec'd and so closed its close-on-exec copy
// (a child in a new user namespace is not vforked and may still hold one
// for a moment). A copy that slips through costs no more than spurious
// events under the fd's number until the child execs: readiness is a
// hint, and whoever reuses the number retries its syscall.
func (p *Poller) CloseFD(fd int) error {
	syscall.ForkLock.RLock()
	err := unix.Close(fd)
	syscall.ForkLock.RUnlock()
	if err != nil {
		return fmt.Errorf("close fd %d: %w", fd, err)
	}
	return nil
}

// Wait blocks until at least one registered fd is ready, Wake is called,
// or timeout passes (negative: no timeout; zero: just look). It fills
// events and returns how many it filled. A wakeup is consumed here and is
// not an event, so n can be 0 before the timeout.
func (p *Poller) Wait(events []Event, timeout time.Duration) (int, error) {
	if p.closed.Load() {
		return 0, ErrClosed
	}
	if cap(p.scratch) < len(events) {
		p.scratch = make([]unix.EpollEvent, len(events))
	}
	raw := p.scratch[:len(events)]
	n, err := retryEINTR(timeout, func(timeout time.Duration) (int, error) {
		return unix.EpollWait(p.epfd, raw, timeoutMillis(timeout))
	})
	if err != nil {
		return 0, fmt.Errorf("epoll_wait: %w", err)
	}
	return p.translate(raw[:n], events), nil
}

func (p *Poller) translate(raw []unix.EpollEvent, events []Event) int {
	n := 0
	for _, e := range raw {
		if int(e.Fd) == p.wakefd {
			p.drainWake()
			continue
		}
		var r Ready
		if e.Events&(unix.EPOLLIN|unix.EPOLLPRI) != 0 {
			r |= Readable
		}
		if e.Events&unix.EPOLLOUT != 0 {
			r |= Writable
		}
		if e.Events&(unix.EPOLLRDHUP|unix.EPOLLHUP) != 0 {
			r |= HangUp | Readable
		}
		if e.Events&unix.EPOLLERR != 0 {
			// An error wakes both directions: whoever waits will see it
			// from their own syscall.
			r |= Error | Readable | Writable
		}
		events[n] = Event{Fd: int(e.Fd), Ready: r}
		n++
	}
	return n
}

func (p *Poller) drainWake() {
	var buf [8]byte
	unix.Read(p.wakefd, buf[:]) // EAGAIN means another drain got it: fine
}

// Wake makes a Wait in progress (or the next one) return. It is safe to
// call from any goroutine, any number of times, and during or after Close
// (then it returns ErrClosed and touches no fd).
func (p *Poller) Wake() error {
	p.wakeMu.RLock()
	defer p.wakeMu.RUnlock()
	if p.closed.Load() {
		return ErrClosed
	}
	one := [8]byte{1}
	_, err := unix.Write(p.wakefd, one[:])
	if err != nil && err != unix.EAGAIN { // EAGAIN: the counter is full, a wake is pending anyway
		return fmt.Errorf("eventfd write: %w", err)
	}
	return nil
}

// Close releases the epoll instance and the eventfd, after any Wake in
// progress has finished with it. It does not close the registered fds;
// they belong to the caller.
func (p *Poller) Close() error {
	p.wakeMu.Lock()
	defer p.wakeMu.Unlock()
	if p.closed.Swap(true) {
		return ErrClosed
	}
	err1 := unix.Close(p.wakefd)
	err2 := unix.Close(p.epfd)
	if err1 != nil {
		return err1
	}
	return err2
}
