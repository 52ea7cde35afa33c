//go:build darwin || netbsd || openbsd

package aio

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// acceptInheritsNoDelay is false here: without a test on these systems
// that accepted sockets keep the listener's TCP_NODELAY, Accept sets it
// on each.
const acceptInheritsNoDelay = false

// accept takes a pending connection and makes it non-blocking and
// close-on-exec: x/sys/unix has no accept4 on these systems.
func accept(fd int) (int, netip.AddrPort, error) {
	nfd, sa, err := unix.Accept(fd)
	if err != nil {
		return -1, netip.AddrPort{}, err
	}
	unix.CloseOnExec(nfd)
	if err := unix.SetNonblock(nfd, true); err != nil {
		unix.Close(nfd)
		return -1, netip.AddrPort{}, err
	}
	return nfd, addrPort(sa), nil
}
