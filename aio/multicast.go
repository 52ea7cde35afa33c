package aio

import (
	"errors"
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"
)

// Multicast UDP, for local discovery (BEP 14): several sockets, in this
// process and in others, listen on one well-known port, all of them hear
// every datagram sent to the group, and what one sends stays on the link.
//
// The socket is bound to the wildcard address of the group's family, not
// to the group: binding to a group address filters well on Linux and the
// BSDs, but the wildcard is what every system accepts. The options whose
// argument type differs between systems (IP_MULTICAST_LOOP and
// IP_MULTICAST_TTL: an int on Linux, a u_char on the BSDs) are set in
// multicast_linux.go and multicast_bsd.go.

// MulticastConfig says which interface a multicast socket uses. The zero
// value leaves both choices to the kernel (its routing table).
type MulticastConfig struct {
	// Interface is the IPv4 address of the interface to join an IPv4
	// group on and to send from (IP_ADD_MEMBERSHIP, IP_MULTICAST_IF).
	// The zero or unspecified address lets the kernel choose. 127.0.0.1
	// keeps everything on the loopback interface, which is how tests
	// run multicast on one machine.
	Interface netip.Addr
	// IfIndex is the interface index to join an IPv6 group on and to send
	// from (IPV6_JOIN_GROUP, IPV6_MULTICAST_IF); 0 lets the kernel choose.
	IfIndex int
}

// ListenMulticastUDP opens a UDP socket that receives what is sent to
// group and sends to it: bound to group's port (0 picks a free one;
// LocalAddr tells which) with SO_REUSEADDR and SO_REUSEPORT, so that every
// process on the machine can listen on the same port; joined to the group
// on the configured interface; sending from that interface with a TTL
// (hop limit) of 1, so nothing leaves the local network, and with
// loopback on, so processes on the same host hear each other (and the
// socket hears itself: callers tell their own datagrams apart).
func ListenMulticastUDP(s Spawner, group netip.AddrPort, cfg MulticastConfig) (*UDPConn, error) {
	l := s.spawnLoop()
	ip := group.Addr().Unmap()
	if !ip.IsMulticast() {
		return nil, fmt.Errorf("udp multicast %s: not a multicast address", group)
	}
	if ip.Is4() && cfg.Interface.IsValid() && !cfg.Interface.Unmap().Is4() {
		return nil, fmt.Errorf("udp multicast %s: interface %s is not an IPv4 address", group, cfg.Interface)
	}
	bind := netip.AddrPortFrom(netip.IPv6Unspecified(), group.Port())
	if ip.Is4() {
		bind = netip.AddrPortFrom(netip.IPv4Unspecified(), group.Port())
	}
	family, sa := sockaddr(bind)
	fd, err := socket(family, unix.SOCK_DGRAM)
	if err != nil {
		return nil, fmt.Errorf("udp multicast %s: socket: %w", group, err)
	}
	if err := setupMulticast(fd, ip, cfg); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("udp multicast %s: %w", group, err)
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("udp multicast %s: bind: %w", group, err)
	}
	pd, err := l.register(fd)
	if err != nil {
		return nil, fmt.Errorf("udp multicast %s: %w", group, err)
	}
	return &UDPConn{pd: pd, local: localAddr(fd)}, nil
}

// setupMulticast sets every option before bind: SO_REUSEPORT must be on
// before bind on every system for a second socket to share the port.
func setupMulticast(fd int, group netip.Addr, cfg MulticastConfig) error {
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return fmt.Errorf("SO_REUSEADDR: %w", err)
	}
	// On Linux SO_REUSEADDR alone lets UDP sockets share a port; the BSDs
	// and macOS want SO_REUSEPORT on a wildcard bind. Set both, so that we
	// can share the port with a client that set either one.
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil && !errors.Is(err, unix.ENOPROTOOPT) {
		return fmt.Errorf("SO_REUSEPORT: %w", err)
	}
	if group.Is4() {
		return setupMulticast4(fd, group, cfg.Interface)
	}
	return setupMulticast6(fd, group, cfg.IfIndex)
}

func setupMulticast4(fd int, group, ifaddr netip.Addr) error {
	var iface [4]byte // INADDR_ANY: the kernel's choice
	if ifaddr.IsValid() {
		iface = ifaddr.Unmap().As4()
	}
	// ip_mreq names the interface by address, which every system takes
	// (Linux's ip_mreqn, by index, is not needed for that).
	mreq := &unix.IPMreq{Multiaddr: group.As4(), Interface: iface}
	if err := unix.SetsockoptIPMreq(fd, unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq); err != nil {
		return fmt.Errorf("IP_ADD_MEMBERSHIP on %s: %w", ifaddr, err)
	}
	if ifaddr.IsValid() && !ifaddr.IsUnspecified() {
		if err := unix.SetsockoptInet4Addr(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_IF, iface); err != nil {
			return fmt.Errorf("IP_MULTICAST_IF %s: %w", ifaddr, err)
		}
	}
	return setMulticastLoopTTL4(fd, true, 1)
}

func setupMulticast6(fd int, group netip.Addr, ifindex int) error {
	// An IPv6 socket on the port must leave IPv4 to the IPv4 socket that
	// shares it, or the two would each hear the other's family.
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1); err != nil {
		return fmt.Errorf("IPV6_V6ONLY: %w", err)
	}
	mreq := &unix.IPv6Mreq{Multiaddr: group.As16(), Interface: uint32(ifindex)}
	if err := unix.SetsockoptIPv6Mreq(fd, unix.IPPROTO_IPV6, unix.IPV6_JOIN_GROUP, mreq); err != nil {
		return fmt.Errorf("IPV6_JOIN_GROUP on interface %d: %w", ifindex, err)
	}
	if ifindex != 0 {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_IF, ifindex); err != nil {
			return fmt.Errorf("IPV6_MULTICAST_IF %d: %w", ifindex, err)
		}
	}
	// The IPv6 options are ints everywhere (RFC 3493 section 5.2).
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_LOOP, 1); err != nil {
		return fmt.Errorf("IPV6_MULTICAST_LOOP: %w", err)
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_HOPS, 1); err != nil {
		return fmt.Errorf("IPV6_MULTICAST_HOPS: %w", err)
	}
	return nil
}
