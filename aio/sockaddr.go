package aio

import (
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"
)

// sockaddr converts an address for the socket syscalls. An IPv4-mapped
// IPv6 address is unmapped so that it goes out over an AF_INET socket.
func sockaddr(ap netip.AddrPort) (family int, sa unix.Sockaddr) {
	addr := ap.Addr().Unmap()
	if addr.Is4() {
		return unix.AF_INET, &unix.SockaddrInet4{Port: int(ap.Port()), Addr: addr.As4()}
	}
	sa6 := &unix.SockaddrInet6{Port: int(ap.Port()), Addr: addr.As16()}
	return unix.AF_INET6, sa6
}

func addrPort(sa unix.Sockaddr) netip.AddrPort {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *unix.SockaddrInet6:
		// A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; unmap
		// them so that one peer has one address, whichever socket saw it.
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), uint16(sa.Port))
	}
	return netip.AddrPort{}
}

func localAddr(fd int) netip.AddrPort {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return netip.AddrPort{}
	}
	return addrPort(sa)
}

// prepareBind readies a fresh socket for bind: one for [::] is made
// dual-stack where the system allows it (see dualStack).
func prepareBind(fd, family int, sa unix.Sockaddr) error {
	sa6, ok := sa.(*unix.SockaddrInet6)
	if !ok || family != unix.AF_INET6 || sa6.Addr != [16]byte{} {
		return nil
	}
	if err := dualStack(fd); err != nil {
		return fmt.Errorf("IPV6_V6ONLY off: %w", err)
	}
	return nil
}
