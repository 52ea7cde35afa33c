//go:build linux || freebsd || dragonfly

package aio

import "golang.org/x/sys/unix"

// accept takes a pending connection as a non-blocking, close-on-exec fd.
func accept(fd int) (int, unix.Sockaddr, error) {
	return unix.Accept4(fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
}
