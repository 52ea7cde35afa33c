package torrent

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/peer"
	"github.com/aiotorrent/aiotorrent/piece"
)

// TestHaveFromUnchokingPeerRequestsAtOnce: a peer that unchoked us while
// it had nothing we wanted, then announces a piece with HAVE, gets its
// requests in the same loop step as our INTERESTED. They used to wait for
// the session's next tick (up to 250 ms). The loop runs on virtual time,
// so "at once" is exact: no virtual time passes between the two.
func TestHaveFromUnchokingPeerRequestsAtOnce(t *testing.T) {
	var waited time.Duration = -1
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		sw, err := newSwarm(t, at, map[string]int{"a.bin": 300_000}, 64<<10)
		if err != nil {
			return struct{}{}, err
		}
		empty := piece.NewBitfield(sw.meta.NumPieces())
		done := aio.NewEvent()
		fake, err := fakePeer(at, sw.meta, empty, func(t *aio.Task, c *peer.Conn) error {
			defer done.Set()
			c.Queue(peer.AppendUnchoke(nil))
			if err := c.Flush(t); err != nil {
				return err
			}
			if err := aio.Sleep(t, time.Second); err != nil { // the leecher settles, not interested
				return err
			}
			c.Queue(peer.AppendHave(nil, 0))
			if err := c.Flush(t); err != nil {
				return err
			}
			sent := t.Loop().Now()
			for {
				m, err := c.ReadMessage(t)
				if err != nil {
					return err
				}
				if m.ID == peer.Request {
					waited = t.Loop().Now().Sub(sent)
					return nil
				}
			}
		})
		if err != nil {
			return struct{}{}, err
		}
		_, h, err := sw.nodeWith(at, "leecher", t.TempDir(), false, ClientConfig{}, SessionOptions{
			Peers: []netip.AddrPort{fake}, NoTrackers: true,
		})
		if err != nil {
			return struct{}{}, err
		}
		defer h.Cancel()
		if err := aio.Timeout(at, time.Minute, done.Wait); err != nil {
			return struct{}{}, fmt.Errorf("the fake peer never got a request: %w", err)
		}
		return struct{}{}, nil
	}, aio.WithVirtualTime())
	if err != nil {
		t.Fatal(err)
	}
	if waited != 0 {
		t.Fatalf("the request came %v after the HAVE, want in the same step", waited)
	}
}
