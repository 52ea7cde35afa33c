package torrent

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// TestPeersDialingEachOtherKeepOneConnection: two clients told of each
// other dial at once, so each sees two connections with the same peer.
// Each side keeps the one dialled by the lower peer id, so both keep the
// same one; two connections used to run side by side.
func TestPeersDialingEachOtherKeepOneConnection(t *testing.T) {
	most := map[string]int{}
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		sw, err := newSwarm(t, at, payloadSizes, 32<<10)
		if err != nil {
			return struct{}{}, err
		}
		// Listeners first, so each can be told the other's address.
		var clients [2]*Client
		for i := range clients {
			c, err := NewClient(at, ClientConfig{ListenAddr: loopback, Logf: t.Logf, MaxUploadRate: 1 << 20})
			if err != nil {
				return struct{}{}, err
			}
			defer c.Close()
			clients[i] = c
			aio.Spawn(at, fmt.Sprint("listener ", i), func(t *aio.Task) (struct{}, error) { return struct{}{}, c.Run(t) })
		}
		seeder, err := clients[0].Add(sw.meta, SessionOptions{Dir: sw.src, Seed: true, NoTrackers: true,
			Peers: []netip.AddrPort{clients[1].Addr()}})
		if err != nil {
			return struct{}{}, err
		}
		leech, err := clients[1].Add(sw.meta, SessionOptions{Dir: t.TempDir(), NoTrackers: true,
			Peers: []netip.AddrPort{clients[0].Addr()}})
		if err != nil {
			return struct{}{}, err
		}
		watch := func(name string, s *Session) {
			s.onVerify = func(int) { most[name] = max(most[name], len(s.peers)) }
		}
		watch("leecher", leech)
		aio.Spawn(at, "seeder", func(t *aio.Task) (struct{}, error) { return struct{}{}, seeder.Run(t) })
		h := aio.Spawn(at, "leecher", func(t *aio.Task) (struct{}, error) { return struct{}{}, leech.Run(t) })
		// Sample the seeder too, while the leecher downloads.
		aio.Spawn(at, "sampler", func(t *aio.Task) (struct{}, error) {
			for {
				most["seeder"] = max(most["seeder"], len(seeder.peers))
				if err := aio.Sleep(t, 10*time.Millisecond); err != nil {
					return struct{}{}, err
				}
			}
		})
		_, err = aio.AwaitTimeout(at, h, 30*time.Second)
		return struct{}{}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if most["leecher"] != 1 || most["seeder"] != 1 {
		t.Fatalf("most connections at once: %v, want 1 on each side", most)
	}
}
