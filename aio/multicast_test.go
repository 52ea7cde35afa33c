package aio_test

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// errNoMulticast6 marks a machine without a route for IPv6 multicast.
var errNoMulticast6 = errors.New("no IPv6 multicast here")

// TestMulticastSharedPort opens two sockets on one group and port, as two
// BitTorrent clients on one machine would for BEP 14, and checks that a
// datagram one sends reaches both (loopback is on: the sender hears itself
// too) and carries the sender's port. IPv4 runs on the loopback interface;
// IPv6 uses the kernel's default interface and is skipped where there is
// none.
func TestMulticastSharedPort(t *testing.T) {
	for _, tc := range []struct {
		group string
		cfg   aio.MulticastConfig
	}{
		{"239.192.152.143", aio.MulticastConfig{Interface: netip.MustParseAddr("127.0.0.1")}},
		{"ff15::efc0:988f", aio.MulticastConfig{}},
	} {
		t.Run(tc.group, func(t *testing.T) {
			got, err := aio.Run(func(t *aio.Task) ([3]string, error) {
				return exchangeMulticast(t, netip.MustParseAddr(tc.group), tc.cfg)
			})
			if errors.Is(err, errNoMulticast6) {
				t.Skip(err)
			}
			if err != nil {
				t.Fatal(err)
			}
			want := [3]string{"hello group", "hello group", "sender's port"}
			if got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		})
	}
}

// exchangeMulticast sends from the second of two sockets on group and
// returns what each received and whether the source was the sender.
func exchangeMulticast(t *aio.Task, group netip.Addr, cfg aio.MulticastConfig) (got [3]string, err error) {
	a, err := aio.ListenMulticastUDP(t, netip.AddrPortFrom(group, 0), cfg)
	if group.Is6() && err != nil {
		return got, fmt.Errorf("%w: %v", errNoMulticast6, err)
	}
	if err != nil {
		return got, err
	}
	defer a.Close()
	to := netip.AddrPortFrom(group, a.LocalAddr().Port())
	b, err := aio.ListenMulticastUDP(t, to, cfg)
	if err != nil {
		return got, fmt.Errorf("second socket on port %d: %w", to.Port(), err)
	}
	defer b.Close()
	err = aio.Timeout(t, 10*time.Second, func(t *aio.Task) error {
		if _, err := b.WriteTo(t, []byte("hello group"), to); err != nil {
			if group.Is6() {
				return fmt.Errorf("%w: %v", errNoMulticast6, err)
			}
			return fmt.Errorf("send: %w", err)
		}
		buf := make([]byte, 64)
		n, from, err := a.ReadFrom(t, buf)
		if err != nil {
			return fmt.Errorf("a: %w", err)
		}
		got[0] = string(buf[:n])
		if from.Port() == b.LocalAddr().Port() {
			got[2] = "sender's port"
		}
		n, _, err = b.ReadFrom(t, buf)
		if err != nil {
			return fmt.Errorf("b: %w", err)
		}
		got[1] = string(buf[:n])
		return nil
	})
	return got, err
}

func TestMulticastRejectsUnicastGroup(t *testing.T) {
	_, err := aio.Run(func(t *aio.Task) (int, error) {
		u, err := aio.ListenMulticastUDP(t, netip.MustParseAddrPort("127.0.0.1:0"), aio.MulticastConfig{})
		if err == nil {
			u.Close()
		}
		return 0, err
	})
	if err == nil {
		t.Fatal("ListenMulticastUDP took a unicast address as a group")
	}
}
