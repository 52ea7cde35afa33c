package torrent

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/tracker"
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
	// The summary's "from N peers": one seeder dialled again is one peer
	// (it said "from 2 peers").
	if p := leech.Progress(); leech.nextID < 2 || p.PeersSeen != 1 {
		t.Errorf("%d connections to the one seeder counted as %d peers, want at least 2 connections and 1 peer", leech.nextID, p.PeersSeen)
	}
}

// TestLeecherRedialsTrackerPeerThatRestarts: the leecher learns of its
// one seeder from the tracker; the seeder goes away mid-download (its
// "stopped" reaches the tracker) and comes back on the same port without
// announcing. The peer list must dial it again. Before, an address was
// dialled once per session: the announcer offered it only once, and the
// dialer forgot it when the connection ended, so the download stalled.
func TestLeecherRedialsTrackerPeerThatRestarts(t *testing.T) {
	dst := t.TempDir()
	var leech *Session
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		seederKnown := aio.NewEvent()
		sw, err := newSwarmWith(t, at, payloadSizes, 32<<10, tracker.ServerConfig{
			OnAnnounce: func(req tracker.AnnounceRequest, _ netip.AddrPort) {
				if req.Left == 0 && req.Event == tracker.EventStarted {
					seederKnown.Set()
				}
			},
		})
		if err != nil {
			return struct{}{}, err
		}
		// A slow first seeder, so the leecher is mid-way when it stops.
		seeder, first, err := sw.nodeWith(at, "seeder", sw.src, true, ClientConfig{MaxUploadRate: 200 << 10}, SessionOptions{})
		if err != nil {
			return struct{}{}, err
		}
		port := seeder.client.Addr().Port()
		// The leecher's first announce must hand it the seeder.
		if err := seederKnown.Wait(at); err != nil {
			return struct{}{}, err
		}
		stopped := aio.NewEvent()
		var h *aio.Handle[struct{}]
		leech, h, err = sw.node(at, "leecher", dst, false, func(s *Session) {
			s.onVerify = func(int) {
				if s.verified > 0 && !stopped.IsSet() {
					stopped.Set()
					first.Cancel()
				}
			}
		})
		if err != nil {
			return struct{}{}, err
		}
		if err := stopped.Wait(at); err != nil {
			return struct{}{}, err
		}
		if _, err := aio.Await(at, first); err == nil {
			return struct{}{}, errors.New("the first seeder was not stopped")
		}
		// The same seeder again, on the same port, telling no tracker.
		c, err := NewClient(at, ClientConfig{ListenAddr: netip.AddrPortFrom(loopback.Addr(), port)})
		if err != nil {
			return struct{}{}, fmt.Errorf("restart on port %d: %w", port, err)
		}
		defer c.Close()
		again, err := c.Add(sw.meta, SessionOptions{Dir: sw.src, Seed: true, NoTrackers: true})
		if err != nil {
			return struct{}{}, err
		}
		aio.Spawn(at, "seeder listener again", func(t *aio.Task) (struct{}, error) { return struct{}{}, c.Run(t) })
		aio.Spawn(at, "seeder again", func(t *aio.Task) (struct{}, error) { return struct{}{}, again.Run(t) })
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
