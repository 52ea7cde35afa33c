package torrent

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
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
func startLocalDHT(at *aio.Task, n int) (netip.AddrPort, []*dht.Node, error) {
	var first netip.AddrPort
	var nodes []*dht.Node
	for i := range n {
		conn, err := aio.ListenUDP(at, loopback)
		if err != nil {
			return first, nil, err
		}
		node := dht.New(at.Loop(), localDHTConfig)
		nodes = append(nodes, node)
		aio.Spawn(at, fmt.Sprintf("dht node %d", i), func(t *aio.Task) (struct{}, error) {
			defer conn.Close()
			return struct{}{}, node.Run(t, conn)
		})
		if i == 0 {
			first = conn.LocalAddr()
			continue
		}
		if _, err := node.Bootstrap(at, []netip.AddrPort{first}); err != nil {
			return first, nil, fmt.Errorf("bootstrap node %d: %w", i, err)
		}
	}
	return first, nodes, nil
}

// storedPeers counts the announces the nodes hold.
func storedPeers(nodes []*dht.Node) int {
	n := 0
	for _, nd := range nodes {
		_, p := nd.StoredPeers()
		n += p
	}
	return n
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
	var announced, firstPeer, metadata, complete time.Duration
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		sw, err := newSwarm(t, at, payloadSizes, 32<<10)
		if err != nil {
			return struct{}{}, err
		}
		src = sw.src
		boot, nodes, err := startLocalDHT(at, 20)
		if err != nil {
			return struct{}{}, err
		}
		seederStart := at.Loop().Now()
		if _, _, err := sw.nodeWith(at, "seeder", sw.src, true, dhtClientConfig(boot), SessionOptions{NoTrackers: true}); err != nil {
			return struct{}{}, err
		}
		// The measurements below are of finding a peer that is in the
		// DHT; a fetch started earlier would look again until it is
		// (TestFetchMetadataWithDHTWaitsForPeers).
		if err := waitUntil(at, 20*time.Second, func() bool { return storedPeers(nodes) > 0 }); err != nil {
			return struct{}{}, fmt.Errorf("the seeder's announce: %w", err)
		}
		announced = at.Loop().Now().Sub(seederStart)
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
	t.Logf("local DHT of 20 nodes: seeder announced %v after its start; leecher: first peer after %v, metadata after %v, complete after %v", announced, firstPeer, metadata, complete)
}

// A private torrent (BEP 27) stays off the DHT: its session announces
// nothing and its handshake has no DHT bit, while a public one does both.
// The public one goes first and shows how long an announce takes; the
// private one gets twice as long and must leave its node's store empty.
func TestDHTPrivateTorrentIsNotAnnounced(t *testing.T) {
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		var took time.Duration
		for _, private := range []bool{false, true} {
			wait := 10 * time.Second
			if private {
				wait = max(2*took, 500*time.Millisecond)
			}
			peers, d, err := announceOnce(t, at, private, wait)
			if err != nil {
				return struct{}{}, fmt.Errorf("private %v: %w", private, err)
			}
			if private && peers != 0 || !private && peers != 1 {
				return struct{}{}, fmt.Errorf("private %v: the DHT stores %d peers after %v", private, peers, d)
			}
			took = d
		}
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// announceOnce seeds a torrent on a client whose DHT is one node of its
// own, and returns how many peers that node stores once it has one or
// after wait (the first one counts), and how long that took.
func announceOnce(t *testing.T, at *aio.Task, private bool, wait time.Duration) (int, time.Duration, error) {
	conn, err := aio.ListenUDP(at, loopback)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close()
	store := dht.New(at.Loop(), localDHTConfig)
	node := aio.Spawn(at, "dht node", func(t *aio.Task) (struct{}, error) { return struct{}{}, store.Run(t, conn) })
	defer node.Cancel()
	root := t.TempDir()
	writePayload(t, filepath.Join(root, "p"), map[string]int{"x": 50_000})
	m, _, err := metainfo.CreateSync(metainfo.CreateOptions{Path: filepath.Join(root, "p"), PieceLength: 16 << 10, Private: private})
	if err != nil {
		return 0, 0, err
	}
	cc := dhtClientConfig(conn.LocalAddr())
	cc.ListenAddr, cc.Logf = loopback, t.Logf
	c, err := NewClient(at, cc)
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()
	runner := aio.Spawn(at, "client", func(t *aio.Task) (struct{}, error) { return struct{}{}, c.Run(t) })
	defer runner.Cancel()
	s, err := c.Add(m, SessionOptions{Dir: root, Seed: true, NoTrackers: true})
	if err != nil {
		return 0, 0, err
	}
	if got := s.handshake().Reserved.Has(peer.DHTBit); got == private {
		return 0, 0, fmt.Errorf("DHT bit %v", got)
	}
	session := aio.Spawn(at, "session", func(t *aio.Task) (struct{}, error) { return struct{}{}, s.Run(t) })
	defer session.Cancel()
	start := at.Loop().Now()
	_ = waitUntil(at, wait, func() bool { _, n := store.StoredPeers(); return n > 0 })
	_, n := store.StoredPeers()
	return n, at.Loop().Now().Sub(start), nil
}

// The node id and table outlive the client: the state file written when
// the client stops is what the next client starts from, so it needs no
// bootstrap node to find the DHT again.
func TestDHTStateFileRestartsWithoutBootstrap(t *testing.T) {
	state := filepath.Join(t.TempDir(), "sub", "dht.state")
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		boot, _, err := startLocalDHT(at, 5)
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

// BEP 5's PORT message: two clients with a DHT but no bootstrap node,
// one told of the other, meet as peers; each sends the other its node's
// port, and each pings the node it is told of, which joins its table.
// That is how a client that knows no router gets into the DHT.
func TestDHTPortMessageAddsThePeersNode(t *testing.T) {
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		sw, err := newSwarm(t, at, map[string]int{"x": 100_000}, 16<<10)
		if err != nil {
			return struct{}{}, err
		}
		cc := ClientConfig{DHT: true, DHTConfig: DHTConfig{Node: localDHTConfig}}
		seeder, _, err := sw.nodeWith(at, "seeder", sw.src, true, cc, SessionOptions{NoTrackers: true})
		if err != nil {
			return struct{}{}, err
		}
		leech, _, err := sw.nodeWith(at, "leecher", t.TempDir(), true, cc,
			SessionOptions{NoTrackers: true, Peers: []netip.AddrPort{seeder.client.Addr()}})
		if err != nil {
			return struct{}{}, err
		}
		knows := func(a, b *Session) bool {
			node := a.client.DHT()
			if node == nil {
				return false
			}
			for _, nd := range node.Table().Nodes() {
				if nd.Addr == b.client.DHTAddr() && nd.ID == b.client.DHT().ID() {
					return true
				}
			}
			return false
		}
		err = waitUntil(at, 10*time.Second, func() bool { return knows(leech, seeder) && knows(seeder, leech) })
		if err != nil {
			return struct{}{}, fmt.Errorf("leecher knows the seeder's node: %v, seeder the leecher's: %v: %w",
				knows(leech, seeder), knows(seeder, leech), err)
		}
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Regression: a magnet link with no tracker and no x.pe used to give up
// at once (no peer left to ask). With a DHT the fetch looks again until
// a peer turns up, here on the third lookup.
func TestFetchMetadataWithDHTWaitsForPeers(t *testing.T) {
	want := bigTorrent(t)
	lookups := 0
	got, err := aio.Run(func(at *aio.Task) (*metainfo.Torrent, error) {
		honest, err := serveMetadata(at, want.InfoHash, want.InfoBytes, false)
		if err != nil {
			return nil, err
		}
		lookup := func(t *aio.Task, ih [20]byte, found func(netip.AddrPort)) error {
			if ih != want.InfoHash {
				return fmt.Errorf("lookup of %x, want %x", ih, want.InfoHash)
			}
			lookups++
			if lookups >= 3 {
				found(honest)
			}
			return nil
		}
		return FetchMetadata(at, &metainfo.Magnet{InfoHash: want.InfoHash}, FetchConfig{
			DHT: lookup, DHTInterval: 50 * time.Millisecond, Timeout: 20 * time.Second, Logf: t.Logf,
		})
	})
	if err != nil {
		t.Fatalf("after %d lookups: %v", lookups, err)
	}
	if got.InfoHash != want.InfoHash || lookups < 3 {
		t.Fatalf("got %x after %d lookups, want %x after 3", got.InfoHash, lookups, want.InfoHash)
	}
}

// Regression: lookups waited for the whole bootstrap, and the bootstrap
// (a lookup of our own id) waits for every node near our id to answer or
// time out. One dead node there held every magnet fetch for a query
// timeout, a second per dead node in a local DHT and three on the real
// one, which is full of them. Here a dead node sits next to the client's
// id, and the query timeout and the lookup bound are longer than the
// fetch may take: the fetch must start its lookup once the table has
// nodes enough.
func TestDHTLookupNotHeldByADeadNodeNearOurID(t *testing.T) {
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		sw, err := newSwarm(t, at, map[string]int{"x": 100_000}, 16<<10)
		if err != nil {
			return struct{}{}, err
		}
		boot, nodes, err := startLocalDHT(at, 12)
		if err != nil {
			return struct{}{}, err
		}
		if _, _, err := sw.nodeWith(at, "seeder", sw.src, true, dhtClientConfig(boot), SessionOptions{NoTrackers: true}); err != nil {
			return struct{}{}, err
		}
		if err := waitUntil(at, 20*time.Second, func() bool { return storedPeers(nodes) > 0 }); err != nil {
			return struct{}{}, fmt.Errorf("the seeder's announce: %w", err)
		}
		ourID := dht.RandomID()
		neighbour := ourID
		neighbour[19] ^= 1
		if err := joinThenDie(at, boot, nodes, neighbour); err != nil {
			return struct{}{}, err
		}
		cc := dhtClientConfig(boot)
		cc.ListenAddr, cc.Logf = loopback, t.Logf
		cc.DHTConfig.Node.ID, cc.DHTConfig.Node.QueryTimeout, cc.DHTConfig.Node.LookupTimeout = ourID, time.Minute, time.Minute
		c, err := NewClient(at, cc)
		if err != nil {
			return struct{}{}, err
		}
		defer c.Close()
		aio.Spawn(at, "leecher listener", func(t *aio.Task) (struct{}, error) { return struct{}{}, c.Run(t) })
		_, err = FetchMetadata(at, &metainfo.Magnet{InfoHash: sw.meta.InfoHash}, FetchConfig{
			PeerID: c.PeerID(), Port: c.Addr().Port(), Timeout: 20 * time.Second, Logf: t.Logf,
			DHT: c.DHTLookup(), DHTInterval: 200 * time.Millisecond,
		})
		return struct{}{}, err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// joinThenDie runs a node with id until three of nodes (a DHT that boot
// leads to) have it in their tables, then stops it and closes its socket.
func joinThenDie(at *aio.Task, boot netip.AddrPort, nodes []*dht.Node, id dht.ID) error {
	conn, err := aio.ListenUDP(at, loopback)
	if err != nil {
		return err
	}
	defer conn.Close()
	cfg := localDHTConfig
	cfg.ID = id
	node := dht.New(at.Loop(), cfg)
	h := aio.Spawn(at, "doomed dht node", func(t *aio.Task) (struct{}, error) { return struct{}{}, node.Run(t, conn) })
	defer h.Cancel()
	if _, err := node.Bootstrap(at, []netip.AddrPort{boot}); err != nil {
		return fmt.Errorf("doomed node: %w", err)
	}
	known := func() bool {
		n := 0
		for _, nd := range nodes {
			if slices.ContainsFunc(nd.Table().Nodes(), func(i dht.NodeInfo) bool { return i.ID == id }) {
				n++
			}
		}
		return n >= 3
	}
	if err := waitUntil(at, 10*time.Second, known); err != nil {
		return fmt.Errorf("the doomed node never joined three tables: %w", err)
	}
	return nil
}
