//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package netpoll

import (
	"time"

	"golang.org/x/sys/unix"
)

// retryEINTR calls wait until it fails with something other than EINTR. A
// signal interrupting the wait sends it back with the time that is left,
// so a timeout is never stretched by signals.
func retryEINTR(timeout time.Duration, wait func(time.Duration) (int, error)) (int, error) {
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	for {
		n, err := wait(timeout)
		if err != unix.EINTR {
			return n, err
		}
		if timeout > 0 {
			if timeout = time.Until(deadline); timeout < 0 {
				timeout = 0
			}
		}
	}
}
