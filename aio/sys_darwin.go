//go:build darwin

package aio

import "golang.org/x/sys/unix"

// socket opens a socket and then makes it non-blocking and close-on-exec:
// macOS has no SOCK_NONBLOCK or SOCK_CLOEXEC flags. The gap between the two
// calls is harmless here because aio does not fork.
func socket(family, typ int) (int, error) {
	fd, err := unix.Socket(family, typ, 0)
	if err != nil {
		return -1, err
	}
	unix.CloseOnExec(fd)
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, err
	}
	// macOS raises SIGPIPE on a write to a reset socket unless asked not to.
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_NOSIGPIPE, 1)
	return fd, nil
}
