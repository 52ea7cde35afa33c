package torrent

import (
	"net/netip"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// TestLeecherRedialsNamedPeer: the one peer a leecher is given refuses it
// at first (its session is added but not yet running, as while a seeder
// checks its data); the leecher must try again and finish.
func TestLeecherRedialsNamedPeer(t *testing.T) {
	dst := t.TempDir()
	var leech *Session
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		sw, err := newSwarm(t, at, payloadSizes, 32<<10)
		if err != nil {
			return struct{}{}, err
		}
		c, err := NewClient(at, ClientConfig{ListenAddr: loopback})
		if err != nil {
			return struct{}{}, err
		}
		defer c.Close()
		seeder, err := c.Add(sw.meta, SessionOptions{Dir: sw.src, Seed: true, NoTrackers: true})
		if err != nil {
			return struct{}{}, err
		}
		aio.Spawn(at, "seeder listener", func(t *aio.Task) (struct{}, error) { return struct{}{}, c.Run(t) })
		var h *aio.Handle[struct{}]
		leech, h, err = sw.nodeWith(at, "leecher", dst, false, ClientConfig{},
			SessionOptions{NoTrackers: true, Peers: []netip.AddrPort{c.Addr()}})
		if err != nil {
			return struct{}{}, err
		}
		// Let the first attempt be refused before the seeder runs: the
		// handshake succeeds, then the session-less seeder hangs up.
		if err := aio.Sleep(at, 300*time.Millisecond); err != nil {
			return struct{}{}, err
		}
		if leech.downloaded != 0 || leech.nextID == 0 {
			t.Errorf("before the seeder ran: %d bytes from %d connections, want nothing from at least one",
				leech.downloaded, leech.nextID)
		}
		aio.Spawn(at, "seeder", func(t *aio.Task) (struct{}, error) { return struct{}{}, seeder.Run(t) })
		_, err = aio.AwaitTimeout(at, h, 30*time.Second)
		return struct{}{}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if p := leech.Progress(); !p.Complete {
		t.Fatalf("progress %+v, want complete", p)
	}
}
