package torrent

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/metainfo"
	"github.com/aiotorrent/aiotorrent/peer"
	"github.com/aiotorrent/aiotorrent/piece"
)

// fakePeer accepts connections for m and runs behave on each after the
// handshake, with the bitfield given sent.
func fakePeer(at *aio.Task, m *metainfo.Torrent, has *piece.Bitfield, behave func(t *aio.Task, c *peer.Conn) error) (netip.AddrPort, error) {
	hs := peer.Handshake{InfoHash: m.InfoHash, PeerID: peer.NewPeerID()}
	return fakePeerWith(at, m, hs, func(t *aio.Task, c *peer.Conn) error {
		c.Queue(peer.AppendBitfield(nil, has.Bytes()))
		return behave(t, c)
	})
}

// fakePeerWith accepts connections for m with our handshake hs and runs
// behave on each (its first message is behave's to send), then listens
// until the other side hangs up.
func fakePeerWith(at *aio.Task, m *metainfo.Torrent, hs peer.Handshake, behave func(t *aio.Task, c *peer.Conn) error) (netip.AddrPort, error) {
	ln, err := aio.ListenTCP(at, loopback)
	if err != nil {
		return netip.AddrPort{}, err
	}
	aio.Spawn(at, "fake peer", func(t *aio.Task) (struct{}, error) {
		defer ln.Close()
		for {
			tc, err := ln.Accept(t)
			if err != nil {
				return struct{}{}, err
			}
			aio.Spawn(t, "fake peer conn", func(t *aio.Task) (struct{}, error) {
				in, err := peer.ReadIncoming(t, tc, time.Second)
				if err != nil {
					return struct{}{}, err
				}
				c, _, err := in.Accept(t, hs, peer.Limits{NumPieces: m.NumPieces()}, time.Second)
				if err != nil {
					return struct{}{}, err
				}
				defer c.Close()
				if err := behave(t, c); err != nil {
					return struct{}{}, nil // the leecher hung up
				}
				for { // then listen until the leecher hangs up
					if _, err := c.ReadMessage(t); err != nil {
						return struct{}{}, nil
					}
				}
			})
		}
	})
	return ln.Addr(), nil
}

// downloadBeside downloads sw's torrent from an honest seeder, with other
// (a fake peer) connected first and alone for a moment; it returns the
// leecher and what it logged.
func downloadBeside(t *testing.T, other func(at *aio.Task, sw *swarm) (netip.AddrPort, error)) (*Session, []string) {
	t.Helper()
	var logged []string
	var leech *Session
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		sw, err := newSwarm(t, at, map[string]int{"a.bin": 300_000}, 64<<10)
		if err != nil {
			return struct{}{}, err
		}
		fake, err := other(at, sw)
		if err != nil {
			return struct{}{}, err
		}
		seeder, _, err := sw.node(at, "seeder", sw.src, true, nil)
		if err != nil {
			return struct{}{}, err
		}
		s, h, err := sw.nodeWith(at, "leecher", t.TempDir(), false, ClientConfig{}, SessionOptions{
			Peers: []netip.AddrPort{fake}, NoTrackers: true,
		})
		if err != nil {
			return struct{}{}, err
		}
		leech = s
		s.client.cfg.Logf = func(f string, a ...any) {
			line := fmt.Sprintf(f, a...)
			t.Log("leecher: " + line)
			logged = append(logged, line) // on the loop thread: no lock
		}
		if err := aio.Sleep(at, 300*time.Millisecond); err != nil { // the seeder checks its data
			return struct{}{}, err
		}
		s.learn(seeder.client.Addr(), fromTracker) // as a tracker reply would
		_, err = aio.AwaitTimeout(at, h, 30*time.Second)
		return struct{}{}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if p := leech.Progress(); !p.Complete {
		t.Fatalf("progress %+v, want complete", p)
	}
	return leech, logged
}

// TestUnrequestedBlockDropsThePeer: a peer that pushes a block of a piece
// it does not even claim to have, unasked, is cut off with the reason
// logged, and the bytes count as wasted.
func TestUnrequestedBlockDropsThePeer(t *testing.T) {
	leech, logged := downloadBeside(t, func(at *aio.Task, sw *swarm) (netip.AddrPort, error) {
		has := piece.NewBitfield(sw.meta.NumPieces())
		has.SetAll()
		has.Clear(0) // so piece 0 is never requested from it
		return fakePeer(at, sw.meta, has, func(t *aio.Task, c *peer.Conn) error {
			c.Queue(peer.AppendUnchoke(nil))
			c.Queue(peer.AppendPiece(nil, 0, 0, make([]byte, piece.BlockSize)))
			return c.Flush(t)
		})
	})
	if !strings.Contains(strings.Join(logged, "\n"), "sent block 0:0+16384, which we never requested from it") {
		t.Errorf("no log line names the unrequested block; log: %q", logged)
	}
	if w := leech.Progress().Wasted; w < piece.BlockSize || w%piece.BlockSize != 0 {
		t.Errorf("wasted %d bytes, want the pushed blocks (16 KiB each)", w)
	}
}

// TestBlockAfterChokeIsLateNotUnrequested: a peer that chokes us and then
// answers a request its choke voided did nothing wrong: the block is
// dropped quietly, counted as wasted, and the peer stays.
func TestBlockAfterChokeIsLateNotUnrequested(t *testing.T) {
	var answered int
	leech, logged := downloadBeside(t, func(at *aio.Task, sw *swarm) (netip.AddrPort, error) {
		has := piece.NewBitfield(sw.meta.NumPieces())
		has.SetAll()
		return fakePeer(at, sw.meta, has, func(t *aio.Task, c *peer.Conn) error {
			c.Queue(peer.AppendUnchoke(nil))
			if err := c.Flush(t); err != nil {
				return err
			}
			for {
				m, err := c.ReadMessage(t)
				if err != nil {
					return err
				}
				if m.ID == peer.Request && answered == 0 {
					answered = int(m.Length)
					c.Queue(peer.AppendChoke(nil))
					c.Queue(peer.AppendPiece(nil, m.Index, m.Begin, make([]byte, m.Length)))
					return c.Flush(t)
				}
			}
		})
	})
	if answered == 0 {
		t.Fatal("the fake peer was never asked for a block: the test proves nothing")
	}
	if all := strings.Join(logged, "\n"); strings.Contains(all, "never requested") {
		t.Errorf("a late block was taken for an unrequested one; log: %q", logged)
	}
	if w := leech.Progress().Wasted; w != int64(answered) {
		t.Errorf("wasted %d bytes, want the late block's %d", w, answered)
	}
}
