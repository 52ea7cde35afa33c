package torrent

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/peer"
)

// TestClientMaxConns: a seeder whose client takes at most two connections
// serves four leechers that know only it. The others are turned away
// while two are served, retry, and all finish; the seeder never holds
// more than two peers (sampled every millisecond).
func TestClientMaxConns(t *testing.T) {
	var leeches []*Session
	most := 0
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		sw, err := newSwarm(t, at, payloadSizes, 32<<10)
		if err != nil {
			return struct{}{}, err
		}
		seeder, _, err := sw.nodeWith(at, "seeder", sw.src, true, ClientConfig{MaxConns: 2}, SessionOptions{NoTrackers: true})
		if err != nil {
			return struct{}{}, err
		}
		sample := aio.Spawn(at, "sample", func(t *aio.Task) (struct{}, error) {
			for {
				most = max(most, len(seeder.peers))
				if err := aio.Sleep(t, time.Millisecond); err != nil {
					return struct{}{}, err
				}
			}
		})
		defer sample.Cancel()
		var hs []*aio.Handle[struct{}]
		for i := range 4 {
			s, h, err := sw.nodeWith(at, fmt.Sprintf("leecher%d", i), t.TempDir(), false, ClientConfig{},
				SessionOptions{NoTrackers: true, Peers: []netip.AddrPort{seeder.client.Addr()}})
			if err != nil {
				return struct{}{}, err
			}
			leeches = append(leeches, s)
			hs = append(hs, h)
		}
		for _, h := range hs {
			if _, err := aio.AwaitTimeout(at, h, 60*time.Second); err != nil {
				return struct{}{}, err
			}
		}
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range leeches {
		if !s.Progress().Complete {
			t.Errorf("leecher%d did not complete", i)
		}
	}
	if most > 2 || most == 0 {
		t.Errorf("seeder held up to %d peers at once, want 1 or 2 (MaxConns 2)", most)
	}
}

// TestSeedsDropEachOther: two seeds that meet hang up on each other once
// their bitfields show there is nothing to trade.
func TestSeedsDropEachOther(t *testing.T) {
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		sw, err := newSwarm(t, at, payloadSizes, 32<<10)
		if err != nil {
			return struct{}{}, err
		}
		a, _, err := sw.nodeWith(at, "a", sw.src, true, ClientConfig{}, SessionOptions{NoTrackers: true})
		if err != nil {
			return struct{}{}, err
		}
		b, _, err := sw.nodeWith(at, "b", sw.src, true, ClientConfig{},
			SessionOptions{NoTrackers: true, Peers: []netip.AddrPort{a.client.Addr()}})
		if err != nil {
			return struct{}{}, err
		}
		for i := 0; ; i++ {
			if a.nextID > 0 && b.nextID > 0 && len(a.peers) == 0 && len(b.peers) == 0 {
				return struct{}{}, nil
			}
			if i > 10_000 {
				return struct{}{}, fmt.Errorf("after 10 s: a met %d peers and holds %d, b met %d and holds %d; want both met one and hold none",
					a.nextID, len(a.peers), b.nextID, len(b.peers))
			}
			if err := aio.Sleep(at, time.Millisecond); err != nil {
				return struct{}{}, err
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestClientHandshakeLimits opens two connections that never send a
// handshake to a client that allows one handshake at a time for 200 ms:
// the second is closed at once, the first when its time is up.
func TestClientHandshakeLimits(t *testing.T) {
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		c, err := NewClient(at, ClientConfig{ListenAddr: loopback, MaxHalfOpen: 1, HandshakeTimeout: 200 * time.Millisecond})
		if err != nil {
			return struct{}{}, err
		}
		defer c.Close()
		aio.Spawn(at, "listener", func(t *aio.Task) (struct{}, error) { return struct{}{}, c.Run(t) })
		start := at.Loop().Now()
		closedAt := func(name string) (*aio.Handle[time.Time], error) {
			conn, err := aio.DialTCP(at, c.Addr(), time.Second)
			if err != nil {
				return nil, err
			}
			return aio.Spawn(at, name, func(t *aio.Task) (time.Time, error) {
				defer conn.Close()
				buf := make([]byte, 1)
				if n, err := conn.Read(t, buf); n != 0 || err == nil {
					return time.Time{}, fmt.Errorf("%s: read %d bytes, %v; want the connection closed", name, n, err)
				}
				return t.Loop().Now(), nil
			}), nil
		}
		first, err := closedAt("first")
		if err != nil {
			return struct{}{}, err
		}
		if err := aio.Sleep(at, 20*time.Millisecond); err != nil { // accepted in order
			return struct{}{}, err
		}
		second, err := closedAt("second")
		if err != nil {
			return struct{}{}, err
		}
		t2, err := aio.AwaitTimeout(at, second, 5*time.Second)
		if err != nil {
			return struct{}{}, err
		}
		t1, err := aio.AwaitTimeout(at, first, 5*time.Second)
		if err != nil {
			return struct{}{}, err
		}
		if t1.Sub(start) < 200*time.Millisecond || !t2.Before(t1) {
			t.Errorf("first closed after %v, second after %v; want the second at once and the first after 200ms",
				t1.Sub(start), t2.Sub(start))
		}
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestClientTakesPeersOnExtraListenAddrs: on OpenBSD a [::] listener
// hears no IPv4 peers, so the CLI gives the client a second listener on
// 0.0.0.0. Here the first listens on [::1], the second on 127.0.0.1 with
// port 0 (meaning the first's port); a handshake that arrives over IPv4
// must reach the client (it answers an unknown info-hash by hanging up
// and logging it).
func TestClientTakesPeersOnExtraListenAddrs(t *testing.T) {
	var logged []string
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		c, err := NewClient(at, ClientConfig{
			ListenAddr:       netip.MustParseAddrPort("[::1]:0"),
			ExtraListenAddrs: []netip.AddrPort{loopback},
			Logf:             func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) },
		})
		if err != nil {
			return struct{}{}, errNoIPv6
		}
		defer c.Close()
		aio.Spawn(at, "listener", func(t *aio.Task) (struct{}, error) { return struct{}{}, c.Run(t) })
		v4 := netip.AddrPortFrom(loopback.Addr(), c.Addr().Port())
		conn, err := aio.DialTCP(at, v4, time.Second)
		if err != nil {
			return struct{}{}, fmt.Errorf("dial the extra listener at %v: %w", v4, err)
		}
		defer conn.Close()
		hs := peer.AppendHandshake(nil, peer.Handshake{InfoHash: [20]byte{1, 2, 3}})
		if err := conn.WriteAll(at, hs); err != nil {
			return struct{}{}, err
		}
		conn.SetDeadline(at.Loop().Now().Add(5 * time.Second))
		if n, err := conn.Read(at, make([]byte, 1)); n != 0 || err == nil {
			return struct{}{}, fmt.Errorf("read %d bytes, %v; want the connection closed", n, err)
		}
		return struct{}{}, nil
	})
	if err == errNoIPv6 {
		t.Skip("no IPv6 loopback")
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(logged) != 1 || !strings.Contains(logged[0], "unknown info-hash 0102030000") {
		t.Fatalf("client logged %q, want one line about the unknown info-hash", logged)
	}
}

var errNoIPv6 = errors.New("no IPv6 loopback")
