//go:build !openbsd

package aio

import "golang.org/x/sys/unix"

// dualStack makes an AF_INET6 socket about to be bound to the wildcard
// [::] take IPv4 peers too, as v4-mapped addresses (::ffff:a.b.c.d). RFC
// 3493 leaves the default to the system, and they differ: Linux follows
// the sysctl net.ipv6.bindv6only (usually 0, but distributions and
// containers set it), while FreeBSD, NetBSD and DragonFly default to
// v6-only, so a [::] listener there would refuse every IPv4 peer. Setting
// IPV6_V6ONLY to 0 explicitly gives one behaviour everywhere it is
// possible (OpenBSD: see dualstack_openbsd.go).
func dualStack(fd int) error {
	return unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0)
}
