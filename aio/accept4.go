//go:build freebsd || dragonfly

package aio

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// accept takes a pending connection as a non-blocking, close-on-exec fd.
func accept(fd int) (int, netip.AddrPort, error) {
	nfd, sa, err := unix.Accept4(fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	return nfd, addrPort(sa), err
}
