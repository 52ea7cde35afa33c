package main

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/dht"
	"github.com/aiotorrent/aiotorrent/torrent"
)

// `demo --dht`: the swarm finds itself through a DHT of a few nodes on
// 127.0.0.1 instead of a tracker, and the torrent names no tracker. The
// seeders announce themselves there (BEP 5's announce_peer) and the
// leecher looks the info-hash up, as with a trackerless magnet link.

// demoDHTNodes is the size of the local DHT: enough that a lookup walks
// toward the info-hash rather than asking everyone at once.
const demoDHTNodes = 8

// demoDHTNode suits nodes that all share 127.0.0.1: the per-IP rate limit
// would otherwise make them starve one another.
var demoDHTNode = dht.Config{RateLimit: 1e6, RateBurst: 1e6, QueryTimeout: time.Second, LookupTimeout: 10 * time.Second}

// demoDHT is the local DHT: its nodes run in group until stop.
type demoDHT struct {
	nodes []*dht.Node
	addrs []netip.AddrPort
	group *aio.Group
}

// startDemoDHT runs n nodes on loopback, each bootstrapped from the first.
func startDemoDHT(t *aio.Task, n int) (*demoDHT, error) {
	d := &demoDHT{group: aio.NewGroup(t)}
	for i := range n {
		conn, err := aio.ListenUDP(t, demoLoopback)
		if err != nil {
			d.stop(t)
			return nil, fmt.Errorf("dht node %d: %w", i+1, err)
		}
		node := dht.New(t.Loop(), demoDHTNode)
		d.nodes, d.addrs = append(d.nodes, node), append(d.addrs, conn.LocalAddr())
		d.group.Go(fmt.Sprintf("dht node %d", i+1), func(t *aio.Task) error {
			defer conn.Close()
			return node.Run(t, conn)
		})
		if i == 0 {
			continue
		}
		if _, err := node.Bootstrap(t, d.addrs[:1]); err != nil {
			d.stop(t)
			return nil, fmt.Errorf("dht node %d: bootstrap: %w", i+1, err)
		}
	}
	return d, nil
}

// stop ends the nodes and waits for them.
func (d *demoDHT) stop(t *aio.Task) {
	d.group.Cancel()
	_ = d.group.Wait(t) // their errors are the cancellation
}

// clientConfig is the DHT of a demo client: on, joined through every
// local node, with no router and no state file. A lookup that finds no
// peer (a leecher that looked before a seeder announced) is repeated
// after seconds rather than BEP 5's 15 minutes.
func (d *demoDHT) clientConfig() torrent.DHTConfig {
	boot := make([]string, len(d.addrs))
	for i, a := range d.addrs {
		boot[i] = a.String()
	}
	return torrent.DHTConfig{Bootstrap: boot, Node: demoDHTNode, RetryInterval: 100 * time.Millisecond, AnnounceInterval: 5 * time.Second}
}

// waitAnnounced looks infoHash up from the first node until the lookups
// have named n peers, for at most timeout: the leecher then finds every
// seeder on its first lookup. (Counting the nodes' stored announces
// would not do: each announce is kept by several nodes.)
func (d *demoDHT) waitAnnounced(t *aio.Task, infoHash [20]byte, n int, timeout time.Duration) error {
	seen := map[netip.AddrPort]bool{}
	return aio.Timeout(t, timeout, func(t *aio.Task) error {
		for len(seen) < n {
			_, err := d.nodes[0].GetPeers(t, dht.ID(infoHash), func(a netip.AddrPort) { seen[a] = true })
			if err != nil {
				return err
			}
			if len(seen) < n {
				if err := aio.Sleep(t, 100*time.Millisecond); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
