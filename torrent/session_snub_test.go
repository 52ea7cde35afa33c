package torrent

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/metainfo"
	"github.com/aiotorrent/aiotorrent/peer"
	"github.com/aiotorrent/aiotorrent/piece"
)

// snubber is a peer that claims every piece, unchokes, takes requests and
// never answers them.
func snubber(at *aio.Task, m *metainfo.Torrent) (netip.AddrPort, error) {
	all := piece.NewBitfield(m.NumPieces())
	all.SetAll()
	return fakePeer(at, m, all, func(t *aio.Task, c *peer.Conn) error {
		c.Queue(peer.AppendUnchoke(nil))
		return c.Flush(t)
	})
}

// TestSnubbingPeerLosesItsRequests: with two pieces in flight at most, a
// peer that takes requests for both and never answers would stall the
// download for good (no piece can start, so endgame never comes). After
// requestTimeout its requests go to the honest seeder.
func TestSnubbingPeerLosesItsRequests(t *testing.T) {
	old := requestTimeout
	requestTimeout = 300 * time.Millisecond
	defer func() { requestTimeout = old }()
	var logged []string
	dst := t.TempDir()
	var leech *Session
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		sw, err := newSwarm(t, at, map[string]int{"a.bin": 600_000}, 64<<10)
		if err != nil {
			return struct{}{}, err
		}
		bad, err := snubber(at, sw.meta)
		if err != nil {
			return struct{}{}, err
		}
		seeder, _, err := sw.node(at, "seeder", sw.src, true, nil)
		if err != nil {
			return struct{}{}, err
		}
		if err := aio.Sleep(at, 300*time.Millisecond); err != nil { // it checks its data
			return struct{}{}, err
		}
		// The snubber first, alone, so that it takes both piece slots.
		s, h, err := sw.nodeWith(at, "leecher", dst, false, ClientConfig{}, SessionOptions{
			Peers: []netip.AddrPort{bad}, MaxInFlight: 128 << 10, NoTrackers: true,
		})
		if err != nil {
			return struct{}{}, err
		}
		leech = s
		s.client.cfg.Logf = func(f string, a ...any) {
			logged = append(logged, f) // on the loop thread: no lock
		}
		if err := aio.Sleep(at, 100*time.Millisecond); err != nil {
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
	if !strings.Contains(strings.Join(logged, "\n"), "requests are handed to other peers") {
		t.Fatalf("the snubber was never caught; log: %q", logged)
	}
}
