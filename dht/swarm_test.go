package dht

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

var loopback = netip.MustParseAddrPort("127.0.0.1:0")

// testNet is a DHT of n nodes in one process, each on its own UDP socket
// on 127.0.0.1. All nodes share one IP, so the per-IP rate limit is
// raised.
type testNet struct {
	nodes []*Node
	conns []*aio.UDPConn
	group *aio.Group
}

func startNet(t *aio.Task, n int, cfg Config) (*testNet, error) {
	net := &testNet{group: aio.NewGroup(t)}
	for i := range n {
		conn, err := aio.ListenUDP(t, loopback)
		if err != nil {
			net.stop(t)
			return nil, err
		}
		c := cfg
		c.ID = ID{}
		node := New(t.Loop(), c)
		net.nodes = append(net.nodes, node)
		net.conns = append(net.conns, conn)
		net.group.Go(fmt.Sprintf("node %d", i), func(t *aio.Task) error { return node.Run(t, conn) })
	}
	return net, nil
}

func (net *testNet) stop(t *aio.Task) {
	net.group.Cancel()
	net.group.Wait(t)
	for _, c := range net.conns {
		c.Close()
	}
}

func (net *testNet) addr(i int) netip.AddrPort { return net.conns[i].LocalAddr() }

var swarmConfig = Config{RateLimit: 1e6, RateBurst: 1e6, QueryTimeout: time.Second, LookupTimeout: 10 * time.Second}

// The 30-node DHT of issue 13: every node bootstraps from node 0; one
// announces an info-hash with port P; another finds 127.0.0.1:P.
func TestDHT30NodesAnnounceThenGetPeersFindsThePeer(t *testing.T) {
	const n, port = 30, 51413
	ih := RandomID()
	var firstPeer, lookup time.Duration
	var found []netip.AddrPort
	_, err := aio.Run(func(t *aio.Task) (struct{}, error) {
		net, err := startNet(t, n, swarmConfig)
		if err != nil {
			return struct{}{}, err
		}
		defer net.stop(t)
		return struct{}{}, aio.Timeout(t, 60*time.Second, func(t *aio.Task) error {
			for i := 1; i < n; i++ {
				if _, err := net.nodes[i].Bootstrap(t, []netip.AddrPort{net.addr(0)}); err != nil {
					return fmt.Errorf("bootstrap %d: %w", i, err)
				}
			}
			accepted, err := net.nodes[7].Announce(t, ih, port, nil)
			if err != nil || accepted == 0 {
				return fmt.Errorf("announce: %d nodes accepted, %v", accepted, err)
			}
			start := t.Loop().Now()
			_, err = net.nodes[22].GetPeers(t, ih, func(p netip.AddrPort) {
				if len(found) == 0 {
					firstPeer = t.Loop().Now().Sub(start)
				}
				found = append(found, p)
			})
			lookup = t.Loop().Now().Sub(start)
			return err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	want := netip.MustParseAddrPort(fmt.Sprintf("127.0.0.1:%d", port))
	if !slices.Contains(found, want) {
		t.Fatalf("GetPeers found %v, want %v among them", found, want)
	}
	t.Logf("30 nodes: first peer after %v, whole get_peers lookup %v", firstPeer, lookup)
}

// Every node's table holds the others after the bootstrap, and a
// FindNode for any node's id finds that node first.
func TestDHT30NodesFindNodeFindsEachNode(t *testing.T) {
	const n = 30
	_, err := aio.Run(func(t *aio.Task) (struct{}, error) {
		net, err := startNet(t, n, swarmConfig)
		if err != nil {
			return struct{}{}, err
		}
		defer net.stop(t)
		return struct{}{}, aio.Timeout(t, 60*time.Second, func(t *aio.Task) error {
			for i := 1; i < n; i++ {
				if _, err := net.nodes[i].Bootstrap(t, []netip.AddrPort{net.addr(0)}); err != nil {
					return err
				}
			}
			for _, i := range []int{0, 5, 29} {
				for _, j := range []int{3, 17, 28} {
					got, err := net.nodes[i].FindNode(t, net.nodes[j].ID())
					if err != nil {
						return err
					}
					if len(got) == 0 || got[0].ID != net.nodes[j].ID() || got[0].Addr != net.addr(j) {
						return fmt.Errorf("node %d's FindNode(node %d) = %v, want node %d (%v) first", i, j, got, j, net.addr(j))
					}
				}
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A node that restarts with its saved state keeps its id and rejoins
// through the nodes it knew, with no bootstrap router.
func TestDHTRestartFromSavedState(t *testing.T) {
	_, err := aio.Run(func(t *aio.Task) (struct{}, error) {
		net, err := startNet(t, 10, swarmConfig)
		if err != nil {
			return struct{}{}, err
		}
		defer net.stop(t)
		return struct{}{}, aio.Timeout(t, 60*time.Second, func(t *aio.Task) error {
			for i := 1; i < 10; i++ {
				if _, err := net.nodes[i].Bootstrap(t, []netip.AddrPort{net.addr(0)}); err != nil {
					return err
				}
			}
			saved, err := DecodeState(net.nodes[4].State().Encode())
			if err != nil {
				return err
			}
			conn, err := aio.ListenUDP(t, loopback)
			if err != nil {
				return err
			}
			defer conn.Close()
			c := swarmConfig
			c.ID = saved.ID
			again := New(t.Loop(), c)
			h := aio.Spawn(t, "restarted", func(t *aio.Task) (struct{}, error) { return struct{}{}, again.Run(t, conn) })
			defer h.Cancel()
			known, err := again.Bootstrap(t, saved.Addrs())
			if err != nil {
				return err
			}
			if again.ID() != net.nodes[4].ID() || known < len(saved.Nodes) {
				return fmt.Errorf("restarted node: id %v (want %v), %d nodes known (saved %d)",
					again.ID(), net.nodes[4].ID(), known, len(saved.Nodes))
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}
