//go:build !openbsd

package main

import "net/netip"

// peerListenAddrs says where the client takes peers on port: [::] alone,
// which aio makes dual-stack (IPV6_V6ONLY off), so IPv4 peers arrive on it
// as well, even on systems that default to v6-only (FreeBSD, NetBSD,
// DragonFly). OpenBSD is different: see listen_openbsd.go.
func peerListenAddrs(port uint16) (netip.AddrPort, []netip.AddrPort) {
	return netip.AddrPortFrom(netip.IPv6Unspecified(), port), nil
}

// dhtListenAddr is the DHT's UDP address: the zero address, which is the
// peer listener's ([::], dual-stack).
func dhtListenAddr(uint16) netip.AddrPort { return netip.AddrPort{} }
