package aio

import (
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// UDPConn is a bound UDP socket on a raw non-blocking fd.
type UDPConn struct {
	pd    *pollFD
	local netip.AddrPort
	batch udpBatchState // arrays for ReadBatch and TryWriteBatch (udp_batch.go)
}

// ListenUDP binds a UDP socket to addr (port 0 picks a free one). On [::]
// it is dual-stack as ListenTCP's sockets are.
func ListenUDP(s Spawner, addr netip.AddrPort) (*UDPConn, error) {
	l := s.spawnLoop()
	family, sa := sockaddr(addr)
	fd, err := socket(family, unix.SOCK_DGRAM)
	if err != nil {
		return nil, fmt.Errorf("udp %s: socket: %w", addr, err)
	}
	if err := prepareBind(fd, family, sa); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("udp %s: %w", addr, err)
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("udp %s: bind: %w", addr, err)
	}
	pd, err := l.register(fd)
	if err != nil {
		return nil, fmt.Errorf("udp %s: %w", addr, err)
	}
	return &UDPConn{pd: pd, local: localAddr(fd)}, nil
}

// ReadFrom waits for one datagram, copies it into p (truncating it if p is
// too small) and returns its length and sender.
func (u *UDPConn) ReadFrom(t *Task, p []byte) (int, netip.AddrPort, error) {
	var sa unix.Sockaddr
	n, err := u.pd.retry(t, reading, "recvfrom", func() (n int, err error) {
		n, sa, err = unix.Recvfrom(u.pd.fd, p, 0)
		return n, err
	})
	if err != nil {
		return 0, netip.AddrPort{}, err
	}
	return n, addrPort(sa), nil
}

// WriteTo sends p as one datagram to addr.
func (u *UDPConn) WriteTo(t *Task, p []byte, addr netip.AddrPort) (int, error) {
	family, sa := sockaddr(addr)
	if family == unix.AF_INET && u.local.Addr().Is6() && !u.local.Addr().Is4In6() {
		// An IPv6 socket reaches IPv4 peers through mapped addresses.
		sa = &unix.SockaddrInet6{Port: int(addr.Port()), Addr: netip.AddrFrom16(addr.Addr().As16()).As16()}
	}
	return u.pd.retry(t, writing, "sendto", func() (int, error) {
		return len(p), unix.Sendto(u.pd.fd, p, 0, sa)
	})
}

// SetDeadline makes waits on u that are still parked at the given time fail
// with ErrTimeout. The zero time removes it.
func (u *UDPConn) SetDeadline(at time.Time) {
	u.pd.readDeadline = u.pd.loopTime(at)
	u.pd.writeDeadline = u.pd.readDeadline
}

// LocalAddr is the address the socket is bound to.
func (u *UDPConn) LocalAddr() netip.AddrPort { return u.local }

// Close closes the socket; a task parked in ReadFrom returns ErrClosed.
func (u *UDPConn) Close() error { return u.pd.close() }
