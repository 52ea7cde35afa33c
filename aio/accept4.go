//go:build freebsd || dragonfly

package aio

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// acceptInheritsNoDelay is false here: without a test on these systems
// that accepted sockets keep the listener's TCP_NODELAY, Accept sets it
// on each.
const acceptInheritsNoDelay = false

// accept takes a pending connection as a non-blocking, close-on-exec fd.
func accept(fd int) (int, netip.AddrPort, error) {
	nfd, sa, err := unix.Accept4(fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	return nfd, addrPort(sa), err
}
