package torrent

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/metainfo"
)

// Issue 13's interop case: a libtorrent seeder joins a local DHT of our
// nodes and announces its torrent there; our client, given a magnet
// with only the info-hash, finds it through the DHT, fetches the
// metadata from it and downloads the file byte for byte. (The DHT has
// nodes besides the two peers: a node never answers get_peers with
// itself, so two nodes alone cannot find each other's torrent.)
func TestLibtorrentDHTSeederFoundByMagnet(t *testing.T) {
	needLibtorrent(t)
	sw, torrentPath := bigSwarm(t, 4<<20)
	dst := t.TempDir()
	var announced, metadata time.Duration
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		boot, nodes, err := startLocalDHT(at, 8)
		if err != nil {
			return struct{}{}, err
		}
		start := at.Loop().Now()
		seeder := startLibtorrent(t, "libtorrent seeder", torrentPath, sw.src, interopTimeout,
			append([]string{"--seed", "--dht-node", boot.String()}, ltSettings...)...)
		if _, err := seeder.ready(at); err != nil {
			return struct{}{}, err
		}
		if err := waitUntil(at, 60*time.Second, func() bool { return storedPeers(nodes) > 0 }); err != nil {
			return struct{}{}, fmt.Errorf("libtorrent's announce never reached our DHT: %w", err)
		}
		announced = at.Loop().Now().Sub(start)

		cc := dhtClientConfig(boot)
		cc.ListenAddr, cc.Logf = loopback, t.Logf
		c, err := NewClient(at, cc)
		if err != nil {
			return struct{}{}, err
		}
		defer c.Close()
		aio.Spawn(at, "leecher listener", func(t *aio.Task) (struct{}, error) { return struct{}{}, c.Run(t) })
		start = at.Loop().Now()
		m, err := FetchMetadata(at, &metainfo.Magnet{InfoHash: sw.meta.InfoHash}, FetchConfig{
			PeerID: c.PeerID(), Port: c.Addr().Port(), Timeout: 60 * time.Second, Logf: t.Logf,
			DHT: c.DHTLookup(), DHTInterval: time.Second,
		})
		if err != nil {
			return struct{}{}, fmt.Errorf("fetch: %w", err)
		}
		metadata = at.Loop().Now().Sub(start)
		s, err := c.Add(m, SessionOptions{Dir: dst})
		if err != nil {
			return struct{}{}, err
		}
		if err := aio.Timeout(at, interopTimeout, s.Run); err != nil {
			return struct{}{}, fmt.Errorf("download: %w (progress %+v)", err, s.Progress())
		}
		if n := peersFrom(s, fromDHT); n == 0 {
			return struct{}{}, fmt.Errorf("no peer in the list came from the DHT")
		}
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sameFile(t, filepath.Join(sw.src, "big.bin"), filepath.Join(dst, "big.bin"))
	t.Logf("libtorrent's announce reached our DHT %v after its start; our metadata %v after the fetch began", announced, metadata)
}

// peersFrom counts the addresses in s's peer list that src named.
func peersFrom(s *Session, src peerSource) int {
	n := 0
	for _, e := range s.peerList.entries {
		if e.sources&src != 0 {
			n++
		}
	}
	return n
}

// Issue 13's second interop case: our seeder announces its torrent on a
// local DHT of our nodes; a libtorrent leecher that knows only one of
// those nodes (no --connect, no tracker) finds it there, downloads the
// file byte for byte, and says it learnt our seeder from the DHT.
func TestLibtorrentDHTLeecherFindsOurSeeder(t *testing.T) {
	needLibtorrent(t)
	sw, torrentPath := bigSwarm(t, 4<<20)
	dst := t.TempDir()
	var seederAddr netip.AddrPort
	var lt *ltPeer
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		boot, nodes, err := startLocalDHT(at, 8)
		if err != nil {
			return struct{}{}, err
		}
		cc := dhtClientConfig(boot)
		// Half a second of upload: libtorrent drops a seed once it is one,
		// and peer.py reports only the peers it has seen connected.
		cc.MaxUploadRate = 8 << 20
		seeder, _, err := sw.nodeWith(at, "seeder", sw.src, true, cc, SessionOptions{NoTrackers: true})
		if err != nil {
			return struct{}{}, err
		}
		seederAddr = seeder.client.Addr()
		if err := waitUntil(at, 20*time.Second, func() bool { return storedPeers(nodes) > 0 }); err != nil {
			return struct{}{}, fmt.Errorf("our seeder's announce: %w", err)
		}
		lt = startLibtorrent(t, "libtorrent leecher", torrentPath, dst, interopTimeout,
			append([]string{"--dht-node", boot.String()}, ltSettings...)...)
		if _, err := lt.ready(at); err != nil {
			return struct{}{}, err
		}
		if err := lt.done(at, interopTimeout); err != nil {
			return struct{}{}, fmt.Errorf("%w (our seeder: %+v)", err, seeder.Progress())
		}
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sameFile(t, filepath.Join(sw.src, "big.bin"), filepath.Join(dst, "big.bin"))
	if !slices.ContainsFunc(lt.peers(), func(p ltPeerInfo) bool { return p.Addr == seederAddr.String() && p.DHT }) {
		t.Fatalf("libtorrent's peers %+v: want our seeder %v from the DHT", lt.peers(), seederAddr)
	}
}
