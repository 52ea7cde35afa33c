package aio

import (
	"errors"
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"
)

// ErrWouldBlock is TryWriteTo's answer when the socket's send buffer is
// full: the datagram was not sent.
var ErrWouldBlock = errors.New("aio: operation would block")

// TryReadFrom is ReadFrom that never parks, for code that drains a socket
// in batches and then does something once per batch (a transport that
// coalesces acks): ok is false when no datagram is waiting. Edge-triggered
// readiness stays correct: the EAGAIN that ends a drain re-arms the edge
// a later ReadFrom parks on.
func (u *UDPConn) TryReadFrom(p []byte) (n int, from netip.AddrPort, ok bool, err error) {
	if u.pd.closed {
		return 0, netip.AddrPort{}, false, ErrClosed
	}
	for {
		n, sa, err := unix.Recvfrom(u.pd.fd, p, 0)
		switch err {
		case nil:
			return n, addrPort(sa), true, nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return 0, netip.AddrPort{}, false, nil
		default:
			return 0, netip.AddrPort{}, false, fmt.Errorf("recvfrom: %w", err)
		}
	}
}

// TryWriteTo sends p as one datagram without parking, so it can be called
// from a timer callback: a datagram protocol with its own retransmission
// (uTP) treats a full send buffer (ErrWouldBlock) as a lost packet rather
// than waiting for room.
func (u *UDPConn) TryWriteTo(p []byte, addr netip.AddrPort) error {
	if u.pd.closed {
		return ErrClosed
	}
	family, sa := sockaddr(addr)
	if family == unix.AF_INET && u.local.Addr().Is6() && !u.local.Addr().Is4In6() {
		sa = &unix.SockaddrInet6{Port: int(addr.Port()), Addr: netip.AddrFrom16(addr.Addr().As16()).As16()}
	}
	for {
		switch err := unix.Sendto(u.pd.fd, p, 0, sa); err {
		case nil:
			return nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return ErrWouldBlock
		default:
			return fmt.Errorf("sendto: %w", err)
		}
	}
}

// SetReadBuffer asks the kernel for a receive buffer of n bytes
// (SO_RCVBUF, capped by net.core.rmem_max on Linux). A transport that
// keeps many datagrams in flight needs more than the default ~200 KiB, or
// a burst that arrives while the loop is busy overflows it and is lost.
func (u *UDPConn) SetReadBuffer(n int) error {
	if err := unix.SetsockoptInt(u.pd.fd, unix.SOL_SOCKET, unix.SO_RCVBUF, n); err != nil {
		return fmt.Errorf("setsockopt SO_RCVBUF: %w", err)
	}
	return nil
}

// SetWriteBuffer is SetReadBuffer for the send buffer (SO_SNDBUF).
func (u *UDPConn) SetWriteBuffer(n int) error {
	if err := unix.SetsockoptInt(u.pd.fd, unix.SOL_SOCKET, unix.SO_SNDBUF, n); err != nil {
		return fmt.Errorf("setsockopt SO_SNDBUF: %w", err)
	}
	return nil
}
