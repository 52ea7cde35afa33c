package main

import "net/netip"

// peerListenAddrs says where the client takes peers on port. OpenBSD has
// no v4-mapped addresses, so a [::] socket hears only IPv6 peers there
// (ip6(4)): 0.0.0.0 gets a listener of its own, on the same port (the
// extra address's port 0 means "the first listener's").
func peerListenAddrs(port uint16) (netip.AddrPort, []netip.AddrPort) {
	return netip.AddrPortFrom(netip.IPv6Unspecified(), port),
		[]netip.AddrPort{netip.AddrPortFrom(netip.IPv4Unspecified(), 0)}
}

// dhtListenAddr is the DHT's UDP address: 0.0.0.0, since a [::] socket
// would hear no IPv4 node, and most of the DHT is IPv4. (Port 0 on a
// client listening on any port.)
func dhtListenAddr(port uint16) netip.AddrPort {
	return netip.AddrPortFrom(netip.IPv4Unspecified(), port)
}
