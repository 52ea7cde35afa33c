package aio

// dualStack does nothing on OpenBSD: it has no v4-mapped addresses at
// all (IPV6_V6ONLY is always on and cannot be cleared), so a program that
// wants IPv4 and IPv6 peers there listens on 0.0.0.0 and [::] separately.
// See ip6(4): https://man.openbsd.org/ip6.4
func dualStack(int) error { return nil }
