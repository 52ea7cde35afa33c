package torrent

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/dht"
	"github.com/aiotorrent/aiotorrent/metainfo"
	"github.com/aiotorrent/aiotorrent/peer"
)

// localDHTConfig suits a DHT whose nodes all share 127.0.0.1: the per-IP
// rate limit would otherwise starve them.
var localDHTConfig = dht.Config{RateLimit: 1e6, RateBurst: 1e6, QueryTimeout: time.Second, LookupTimeout: 10 * time.Second}

// startLocalDHT runs n nodes on loopback, each bootstrapped from the
// first, and returns the first's address. They stop when the loop does.
func startLocalDHT(at *aio.Task, n int) (netip.AddrPort, error) {
	var first netip.AddrPort
	for i := range n {
		conn, err := aio.ListenUDP(at, loopback)
		if err != nil {
			return first, err
		}
		node := dht.New(at.Loop(), localDHTConfig)
		aio.Spawn(at, fmt.Sprintf("dht node %d", i), func(t *aio.Task) (struct{}, error) {
			defer conn.Close()
			return struct{}{}, node.Run(t, conn)
		})
		if i == 0 {
			first = conn.LocalAddr()
			continue
		}
		if _, err := node.Bootstrap(at, []netip.AddrPort{first}); err != nil {
			return first, fmt.Errorf("bootstrap node %d: %w", i, err)
		}
	}
	return first, nil
}

// dhtClientConfig is a client on a local DHT reached through boot.
func dhtClientConfig(boot netip.AddrPort) ClientConfig {
	return ClientConfig{DHT: true, DHTConfig: DHTConfig{
		Bootstrap: []string{boot.String()}, Node: localDHTConfig, RetryInterval: 100 * time.Millisecond,
	}}
}

// Issue 13's first test: a seeder announces itself on a local DHT of 20
// nodes; a leecher given a magnet with only the info-hash (no tracker, no
// x.pe) finds it through the DHT, fetches the metadata and downloads the
// files byte for byte.
func TestDHTMagnetWithOnlyTheInfoHashDownloads(t *testing.T) {
	dst := t.TempDir()
	var src string
	var firstPeer, metadata, complete time.Duration
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		sw, err := newSwarm(t, at, payloadSizes, 32<<10)
		if err != nil {
			return struct{}{}, err
		}
		src = sw.src
		boot, err := startLocalDHT(at, 20)
		if err != nil {
			return struct{}{}, err
		}
		if _, _, err := sw.nodeWith(at, "seeder", sw.src, true, dhtClientConfig(boot), SessionOptions{NoTrackers: true}); err != nil {
			return struct{}{}, err
		}
		cc := dhtClientConfig(boot)
		cc.ListenAddr, cc.Logf = loopback, t.Logf
		c, err := NewClient(at, cc)
		if err != nil {
			return struct{}{}, err
		}
		defer c.Close()
		aio.Spawn(at, "leecher listener", func(t *aio.Task) (struct{}, error) { return struct{}{}, c.Run(t) })
		start := at.Loop().Now()
		lookup := c.DHTLookup()
		m, err := FetchMetadata(at, &metainfo.Magnet{InfoHash: sw.meta.InfoHash}, FetchConfig{
			PeerID: c.PeerID(), Port: c.Addr().Port(), Timeout: 60 * time.Second, Logf: t.Logf,
			DHTInterval: 200 * time.Millisecond,
			DHT: func(t *aio.Task, ih [20]byte, found func(netip.AddrPort)) error {
				return lookup(t, ih, func(a netip.AddrPort) {
					if firstPeer == 0 {
						firstPeer = at.Loop().Now().Sub(start)
					}
					found(a)
				})
			},
		})
		if err != nil {
			return struct{}{}, fmt.Errorf("fetch: %w", err)
		}
		metadata = at.Loop().Now().Sub(start)
		s, err := c.Add(m, SessionOptions{Dir: dst})
		if err != nil {
			return struct{}{}, err
		}
		err = aio.Timeout(at, 60*time.Second, s.Run)
		complete = at.Loop().Now().Sub(start)
		return struct{}{}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	sameTree(t, src, dst)
	t.Logf("local DHT of 20 nodes: first peer after %v, metadata after %v, complete after %v", firstPeer, metadata, complete)
}

// A private torrent (BEP 27) stays off the DHT: its session announces
// nothing and its handshake has no DHT bit, while a public one does both.
func TestDHTPrivateTorrentIsNotAnnounced(t *testing.T) {
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		conn, err := aio.ListenUDP(at, loopback)
		if err != nil {
			return struct{}{}, err
		}
		defer conn.Close()
		store := dht.New(at.Loop(), localDHTConfig)
		aio.Spawn(at, "dht node", func(t *aio.Task) (struct{}, error) { return struct{}{}, store.Run(t, conn) })
		for _, private := range []bool{true, false} {
			root := t.TempDir()
			writePayload(t, filepath.Join(root, "p"), map[string]int{"x": 50_000})
			m, _, err := metainfo.CreateSync(metainfo.CreateOptions{Path: filepath.Join(root, "p"), PieceLength: 16 << 10, Private: private})
			if err != nil {
				return struct{}{}, err
			}
			cc := dhtClientConfig(conn.LocalAddr())
			cc.ListenAddr, cc.Logf = loopback, t.Logf
			c, err := NewClient(at, cc)
			if err != nil {
				return struct{}{}, err
			}
			runner := aio.Spawn(at, "client", func(t *aio.Task) (struct{}, error) { return struct{}{}, c.Run(t) })
			s, err := c.Add(m, SessionOptions{Dir: root, Seed: true, NoTrackers: true})
			if err != nil {
				return struct{}{}, err
			}
			if got := s.handshake().Reserved.Has(peer.DHTBit); got == private {
				return struct{}{}, fmt.Errorf("private %v: DHT bit %v", private, got)
			}
			// The public torrent's announce shows how long one takes; the
			// private one gets as long and must leave the store empty.
			_ = aio.Timeout(at, 3*time.Second, func(t *aio.Task) error {
				h := aio.Spawn(t, "session", func(t *aio.Task) (struct{}, error) { return struct{}{}, s.Run(t) })
				defer h.Cancel()
				for {
					if _, peers := store.StoredPeers(); peers > 0 {
						return nil
					}
					if err := aio.Sleep(t, 20*time.Millisecond); err != nil {
						return err
					}
				}
			})
			_, peers := store.StoredPeers()
			if private && peers != 0 || !private && peers != 1 {
				return struct{}{}, fmt.Errorf("private %v: the DHT stores %d peers", private, peers)
			}
			runner.Cancel()
			c.Close()
		}
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The node id and table outlive the client: the state file written when
// the client stops is what the next client starts from, so it needs no
// bootstrap node to find the DHT again.
func TestDHTStateFileRestartsWithoutBootstrap(t *testing.T) {
	state := filepath.Join(t.TempDir(), "sub", "dht.state")
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		boot, err := startLocalDHT(at, 5)
		if err != nil {
			return struct{}{}, err
		}
		cc := dhtClientConfig(boot)
		cc.ListenAddr, cc.Logf, cc.DHTConfig.StateFile = loopback, t.Logf, state
		var id dht.ID
		for run := range 2 {
			c, err := NewClient(at, cc)
			if err != nil {
				return struct{}{}, err
			}
			h := aio.Spawn(at, "client", func(t *aio.Task) (struct{}, error) { return struct{}{}, c.Run(t) })
			err = waitUntil(at, 10*time.Second, func() bool { return c.DHT() != nil && c.DHT().Table().Len() >= 5 })
			if err != nil {
				return struct{}{}, fmt.Errorf("run %d: table: %w", run, err)
			}
			if run == 1 && c.DHT().ID() != id {
				return struct{}{}, fmt.Errorf("id %x after the restart, want the saved %x", c.DHT().ID(), id)
			}
			id = c.DHT().ID()
			h.Cancel()
			if _, err := aio.AwaitTimeout(at, h, 5*time.Second); err != nil && !errors.Is(err, aio.ErrCanceled) {
				return struct{}{}, err
			}
			c.Close()
			cc.DHTConfig.Bootstrap = nil // the second run has only the state file
		}
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(state); err != nil || len(b) == 0 {
		t.Fatalf("state file: %d bytes, %v", len(b), err)
	}
}

// waitUntil polls cond every 10 ms for at most d.
func waitUntil(t *aio.Task, d time.Duration, cond func() bool) error {
	return aio.Timeout(t, d, func(t *aio.Task) error {
		for !cond() {
			if err := aio.Sleep(t, 10*time.Millisecond); err != nil {
				return err
			}
		}
		return nil
	})
}
