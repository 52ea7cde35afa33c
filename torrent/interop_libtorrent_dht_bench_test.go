package torrent

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/metainfo"
)

// BenchmarkDHTMagnet: issue 13's figures. A local DHT of 30 of our nodes
// on loopback, where our seeder has announced a torrent; a leecher that
// has only the magnet link (the info-hash: no tracker, no x.pe) and one
// node of the DHT to join through, ours (a fresh Client and
// FetchMetadata) and libtorrent's (a fresh peer.py --magnet), in turns in
// one run. Each is timed from its start (our NewClient; peer.py's start,
// after its import of libtorrent, before its session exists: both have a
// cold DHT node to bootstrap) to the first peer a DHT answer names, and
// to the metadata. docs/performance.md has the figures.
//
//	go test -run '^$' -bench DHTMagnet -benchtime 10x ./torrent
func BenchmarkDHTMagnet(b *testing.B) {
	needLibtorrent(b)
	sw, _ := bigSwarm(b, 4<<20)
	magnet := fmt.Sprintf("magnet:?xt=urn:btih:%x", sw.meta.InfoHash)
	// Per round: the first peer and the metadata, ours and libtorrent's.
	var rounds [][4]time.Duration
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		boot, nodes, err := startLocalDHT(at, 30)
		if err != nil {
			return struct{}{}, err
		}
		if _, _, err := sw.nodeWith(at, "seeder", sw.src, true, dhtClientConfig(boot), SessionOptions{NoTrackers: true}); err != nil {
			return struct{}{}, err
		}
		if err := waitUntil(at, 20*time.Second, func() bool { return storedPeers(nodes) > 0 }); err != nil {
			return struct{}{}, fmt.Errorf("the seeder's announce: %w", err)
		}
		b.ResetTimer()
		for i := range b.N {
			peer, meta, err := ourMagnetFetch(at, boot, sw.meta.InfoHash)
			if err != nil {
				return struct{}{}, fmt.Errorf("ours, round %d: %w", i, err)
			}
			ltPeer, ltMeta, err := ltMagnetFetch(at, b, boot, magnet)
			if err != nil {
				return struct{}{}, fmt.Errorf("libtorrent, round %d: %w", i, err)
			}
			rounds = append(rounds, [4]time.Duration{peer, meta, ltPeer, ltMeta})
		}
		return struct{}{}, nil
	})
	if err != nil {
		b.Fatal(err)
	}
	median := func(k int) float64 {
		v := make([]time.Duration, len(rounds))
		for i, r := range rounds {
			v[i] = r[k]
		}
		slices.Sort(v)
		return float64(v[len(v)/2]) / float64(time.Millisecond)
	}
	b.ReportMetric(median(0), "ours-peer-ms")
	b.ReportMetric(median(1), "ours-meta-ms")
	b.ReportMetric(median(2), "lt-peer-ms")
	b.ReportMetric(median(3), "lt-meta-ms")
	b.Logf("30-node local DHT, median of %d rounds: first peer: ours %.1f ms, libtorrent %.1f ms; metadata: ours %.1f ms, libtorrent %.1f ms",
		len(rounds), median(0), median(2), median(1), median(3))
	for i, r := range rounds {
		b.Logf("round %d: ours %v, %v; libtorrent %v, %v", i, r[0], r[1], r[2], r[3])
	}
}

// ourMagnetFetch starts a client whose DHT joins through boot, fetches
// the metadata of infoHash through the DHT alone, stops the client, and
// returns the times from before NewClient to the first peer a lookup
// named and to the metadata.
func ourMagnetFetch(at *aio.Task, boot netip.AddrPort, infoHash [20]byte) (peer, meta time.Duration, err error) {
	start := at.Loop().Now()
	cc := dhtClientConfig(boot)
	cc.ListenAddr = loopback
	c, err := NewClient(at, cc)
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()
	run := aio.Spawn(at, "client", func(t *aio.Task) (struct{}, error) { return struct{}{}, c.Run(t) })
	defer func() {
		run.Cancel()
		_, _ = aio.AwaitTimeout(at, run, 5*time.Second) // its end does not change the figures
	}()
	lookup := c.DHTLookup()
	_, err = FetchMetadata(at, &metainfo.Magnet{InfoHash: infoHash}, FetchConfig{
		PeerID: c.PeerID(), Port: c.Addr().Port(), Timeout: 30 * time.Second, DHTInterval: 200 * time.Millisecond,
		DHT: func(t *aio.Task, ih [20]byte, found func(netip.AddrPort)) error {
			return lookup(t, ih, func(a netip.AddrPort) {
				if peer == 0 {
					peer = at.Loop().Now().Sub(start)
				}
				found(a)
			})
		},
	})
	return peer, at.Loop().Now().Sub(start), err
}

// ltMagnetFetch runs peer.py with the magnet link and boot as its only
// DHT node, and returns the times it reports from its start to the first
// DHT answer with peers and to the metadata.
func ltMagnetFetch(at *aio.Task, tb testing.TB, boot netip.AddrPort, magnet string) (peer, meta time.Duration, err error) {
	lp := startLibtorrent(tb, "libtorrent magnet", "", tb.TempDir(), 60*time.Second,
		append([]string{"--magnet", magnet, "--dht-node", boot.String()}, ltSettings...)...)
	defer lp.stdin.Close() // it exits
	seconds := func(word string) (time.Duration, error) {
		line, err := lp.await(at, word, 30*time.Second)
		if err != nil {
			return 0, err
		}
		f := strings.Fields(line)
		s, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			return 0, fmt.Errorf("%q: %w", line, err)
		}
		return time.Duration(s * float64(time.Second)), nil
	}
	if peer, err = seconds("DHT_PEERS"); err != nil {
		return 0, 0, err
	}
	meta, err = seconds("METADATA")
	return peer, meta, err
}
