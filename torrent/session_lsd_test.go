package torrent

import (
	"net/netip"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/lsd"
)

// TestLeecherFindsSeederThroughLSD: no tracker and no peer named: the two
// clients find each other by local service discovery (BEP 14), here on
// 127.0.0.1 multicast and a free port instead of 6771, so that tests do
// not hear each other.
func TestLeecherFindsSeederThroughLSD(t *testing.T) {
	var leech, seeder *Session
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		u, err := aio.ListenUDP(at, netip.AddrPortFrom(netip.IPv4Unspecified(), 0))
		if err != nil {
			return struct{}{}, err
		}
		port := u.LocalAddr().Port()
		u.Close()
		cc := ClientConfig{LSD: true, LSDConfig: lsd.Config{
			Interface: loopback.Addr(), NoIPv6: true, Port: port, MinGap: lsd.MinGapFloor, Interval: lsd.MinGapFloor,
		}}
		sw, err := newSwarm(t, at, payloadSizes, 32<<10)
		if err != nil {
			return struct{}{}, err
		}
		seeder, _, err = sw.nodeWith(at, "seeder", sw.src, true, cc, SessionOptions{NoTrackers: true})
		if err != nil {
			return struct{}{}, err
		}
		var h *aio.Handle[struct{}]
		leech, h, err = sw.nodeWith(at, "leecher", t.TempDir(), false, cc, SessionOptions{NoTrackers: true})
		if err != nil {
			return struct{}{}, err
		}
		_, err = aio.AwaitTimeout(at, h, 30*time.Second)
		return struct{}{}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Whichever heard the other first dialled it.
	byLeech := leech.peerList.entries[seeder.client.Addr()]
	bySeeder := seeder.peerList.entries[leech.client.Addr()]
	if (byLeech == nil || byLeech.sources&fromLSD == 0) && (bySeeder == nil || bySeeder.sources&fromLSD == 0) {
		t.Fatalf("neither found the other by LSD: %+v, %+v", byLeech, bySeeder)
	}
	if p := leech.Progress(); !p.Complete {
		t.Fatalf("progress %+v, want complete", p)
	}
}
