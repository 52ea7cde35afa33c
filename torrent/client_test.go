package torrent

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
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
