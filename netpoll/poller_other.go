//go:build !linux && !darwin && !dragonfly && !freebsd && !netbsd && !openbsd

package netpoll

import "time"

// Poller is a stub on systems without epoll or kqueue, so that the package
// (and its documentation) builds everywhere. New always fails.
type Poller struct{}

// New returns ErrUnsupported.
func New() (*Poller, error) { return nil, ErrUnsupported }

// Add returns ErrUnsupported.
func (*Poller) Add(int, Interest) error { return ErrUnsupported }

// Modify returns ErrUnsupported.
func (*Poller) Modify(int, Interest) error { return ErrUnsupported }

// Remove returns ErrUnsupported.
func (*Poller) Remove(int) error { return ErrUnsupported }

// CloseFD returns ErrUnsupported.
func (*Poller) CloseFD(int) error { return ErrUnsupported }

// Wait returns ErrUnsupported.
func (*Poller) Wait([]Event, time.Duration) (int, error) { return 0, ErrUnsupported }

// Wake returns ErrUnsupported.
func (*Poller) Wake() error { return ErrUnsupported }

// Close returns ErrUnsupported.
func (*Poller) Close() error { return ErrUnsupported }
