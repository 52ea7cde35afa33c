//go:build !openbsd

package aio

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestWildcardIPv6SocketsAreDualStack: a [::] listener refused IPv4 peers
// wherever the system defaults to v6-only (FreeBSD, NetBSD, DragonFly, or
// Linux with net.ipv6.bindv6only=1), because aio left IPV6_V6ONLY alone.
// The option must read back as 0 on TCP and UDP sockets, and an IPv4
// client must get through.
func TestWildcardIPv6SocketsAreDualStack(t *testing.T) {
	wildcard := netip.MustParseAddrPort("[::]:0")
	_, err := Run(func(t *Task) (struct{}, error) {
		ln, err := ListenTCP(t, wildcard)
		if err != nil {
			return struct{}{}, errNoIPv6
		}
		defer ln.Close()
		u, err := ListenUDP(t, wildcard)
		if err != nil {
			return struct{}{}, err
		}
		defer u.Close()
		for _, s := range []struct {
			name string
			fd   int
		}{{"tcp", ln.pd.fd}, {"udp", u.pd.fd}} {
			v6only, err := unix.GetsockoptInt(s.fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY)
			if err != nil || v6only != 0 {
				return struct{}{}, fmt.Errorf("%s [::] socket: IPV6_V6ONLY = %d, %v; want 0", s.name, v6only, err)
			}
		}

		accepted := Spawn(t, "accept", func(t *Task) (netip.AddrPort, error) {
			c, err := ln.Accept(t)
			if err != nil {
				return netip.AddrPort{}, err
			}
			defer c.Close()
			return c.RemoteAddr(), nil
		})
		c, err := DialTCP(t, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), ln.Addr().Port()), time.Second)
		if err != nil {
			return struct{}{}, fmt.Errorf("IPv4 dial to a [::] listener: %w", err)
		}
		defer c.Close()
		if _, err := Await(t, accepted); err != nil {
			return struct{}{}, err
		}

		v4, err := ListenUDP(t, netip.MustParseAddrPort("127.0.0.1:0"))
		if err != nil {
			return struct{}{}, err
		}
		defer v4.Close()
		to := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), u.LocalAddr().Port())
		if _, err := v4.WriteTo(t, []byte("ping"), to); err != nil {
			return struct{}{}, err
		}
		u.SetDeadline(t.Loop().Now().Add(5 * time.Second))
		buf := make([]byte, 8)
		n, from, err := u.ReadFrom(t, buf)
		if err != nil || string(buf[:n]) != "ping" || from != v4.LocalAddr() {
			return struct{}{}, fmt.Errorf("[::] UDP socket got %q from %v, %v; want %q from %v", buf[:n], from, err, "ping", v4.LocalAddr())
		}
		return struct{}{}, nil
	})
	if err == errNoIPv6 {
		t.Skip("no IPv6 on this machine")
	}
	if err != nil {
		t.Fatal(err)
	}
}

var errNoIPv6 = fmt.Errorf("no IPv6")
