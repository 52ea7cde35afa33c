//go:build linux || freebsd || dragonfly || netbsd || openbsd

package aio

import "golang.org/x/sys/unix"

// socket opens a non-blocking, close-on-exec socket in one syscall.
func socket(family, typ int) (int, error) {
	return unix.Socket(family, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
}
