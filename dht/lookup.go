package dht

import (
	"errors"
	"net/netip"
	"slices"

	"github.com/aiotorrent/aiotorrent/aio"
)

// Iterative lookups (Kademlia, as BEP 5 runs them): start from the K
// nodes we know closest to the target, ask Alpha of them at a time, add
// the closer nodes they name, and stop when the K closest nodes that did
// not fail have all answered. Each query has its own timeout; the whole
// lookup is bounded by Config.LookupTimeout, after which it ends with what
// it has. A lookup is one task: queries are started without blocking and
// their answers come back through a queue that only it reads.

// Alpha is how many queries a lookup keeps in flight.
const Alpha = 3

const (
	maxCandidates = 8 * K // closest nodes a lookup remembers
	maxSeen       = 1024  // addresses a lookup will not ask twice
	maxFoundPeers = 4096  // peers a get_peers lookup reports (deduplicated)
)

// TokenNode is a node that answered get_peers, with the token it gave.
type TokenNode struct {
	NodeInfo
	Token []byte
}

type candState int

const (
	fresh candState = iota
	asked
	answered
	failed
)

type candidate struct {
	NodeInfo
	state candState
	token []byte
}

type answer struct {
	c   *candidate
	m   *Msg
	err error
}

type lookup struct {
	n        *Node
	target   ID
	method   string
	cands    []*candidate // closest first
	seen     map[netip.AddrPort]bool
	answers  *aio.Queue[answer]
	inflight int
	onAnswer func(m *Msg)
}

// run drives the lookup to its end and returns the nodes that answered,
// closest first (at most K).
func (n *Node) runLookup(t *aio.Task, target ID, method string, onAnswer func(*Msg)) ([]*candidate, error) {
	l := &lookup{n: n, target: target, method: method, seen: map[netip.AddrPort]bool{},
		answers: aio.NewQueue[answer](2 * Alpha), onAnswer: onAnswer}
	l.add(n.table.Closest(target, K, n.loop.Now()))
	n.stats.Lookups++
	err := aio.Timeout(t, n.cfg.LookupTimeout, l.loop)
	if errors.Is(err, aio.ErrTimeout) {
		n.stats.LookupLimit++
		err = nil
	}
	var out []*candidate
	for _, c := range l.cands {
		if c.state == answered && len(out) < K {
			out = append(out, c)
		}
	}
	return out, err
}

func (l *lookup) loop(t *aio.Task) error {
	for {
		for l.inflight < Alpha {
			c := l.next()
			if c == nil {
				break
			}
			l.ask(c)
		}
		if l.inflight == 0 {
			return nil
		}
		a, err := l.answers.Get(t)
		if err != nil {
			return err
		}
		l.inflight--
		if a.err != nil {
			a.c.state = failed
			continue
		}
		a.c.state, a.c.token = answered, a.m.R.Token
		l.add(a.m.R.Nodes)
		l.add(a.m.R.Nodes6)
		if l.onAnswer != nil {
			l.onAnswer(a.m)
		}
	}
}

// next is the closest node not yet asked among the K closest that have
// not failed, or nil when those have all been asked.
func (l *lookup) next() *candidate {
	live := 0
	for _, c := range l.cands {
		if c.state == failed {
			continue
		}
		if c.state == fresh {
			return c
		}
		if live++; live == K {
			return nil
		}
	}
	return nil
}

func (l *lookup) ask(c *candidate) {
	c.state = asked
	args := Args{Target: l.target, InfoHash: l.target}
	err := l.n.startQuery(c.Addr, l.method, args, func(m *Msg, err error) {
		l.answers.TryPut(answer{c: c, m: m, err: err}) // room for every query in flight
	})
	if err != nil {
		c.state = failed
		return
	}
	l.inflight++
}

// add merges nodes into the candidates, keeping the closest maxCandidates.
func (l *lookup) add(nodes []NodeInfo) {
	for _, nd := range nodes {
		if nd.ID == l.n.cfg.ID || !usable(nd.Addr) || l.seen[nd.Addr] || len(l.seen) >= maxSeen {
			continue
		}
		l.seen[nd.Addr] = true
		i, _ := slices.BinarySearchFunc(l.cands, nd.ID, func(c *candidate, id ID) int {
			if l.target.Closer(c.ID, id) {
				return -1
			}
			return 1
		})
		if i >= maxCandidates {
			continue
		}
		l.cands = slices.Insert(l.cands, i, &candidate{NodeInfo: nd})
		if len(l.cands) > maxCandidates {
			l.cands = l.cands[:maxCandidates]
		}
	}
}

// FindNode looks up the K nodes closest to target and returns those that
// answered, closest first. Every node that answers joins the table if
// there is room, so a lookup of our own id fills the table.
func (n *Node) FindNode(t *aio.Task, target ID) ([]NodeInfo, error) {
	cands, err := n.runLookup(t, target, MethodFindNode, nil)
	out := make([]NodeInfo, len(cands))
	for i, c := range cands {
		out[i] = c.NodeInfo
	}
	return out, err
}

// GetPeers looks up infoHash and calls found (on the loop thread; it must
// not block) with each peer as soon as an answer names it, each peer
// once. It returns the closest nodes that answered with a token: where
// Announce sends its announce_peer.
func (n *Node) GetPeers(t *aio.Task, infoHash ID, found func(netip.AddrPort)) ([]TokenNode, error) {
	reported := map[netip.AddrPort]bool{}
	cands, err := n.runLookup(t, infoHash, MethodGetPeers, func(m *Msg) {
		for _, p := range m.R.Values {
			if !usable(p) || reported[p] || len(reported) >= maxFoundPeers {
				continue
			}
			reported[p] = true
			if found != nil {
				found(p)
			}
		}
	})
	var out []TokenNode
	for _, c := range cands {
		if len(c.token) > 0 {
			out = append(out, TokenNode{NodeInfo: c.NodeInfo, Token: c.token})
		}
	}
	return out, err
}

// Announce runs GetPeers for infoHash (reporting peers to found, which
// may be nil), then tells the closest nodes that gave a token that we
// are a peer on port. Port 0 asks them to take the port our datagrams
// come from (implied_port, for a peer behind NAT that speaks uTP on the
// DHT's port). It returns how many nodes accepted the announce.
func (n *Node) Announce(t *aio.Task, infoHash ID, port uint16, found func(netip.AddrPort)) (int, error) {
	nodes, err := n.GetPeers(t, infoHash, found)
	if err != nil {
		return 0, err
	}
	results := aio.NewQueue[error](len(nodes) + 1)
	sent := 0
	for _, nd := range nodes {
		args := Args{InfoHash: infoHash, Token: nd.Token, Port: port, ImpliedPort: port == 0}
		if n.startQuery(nd.Addr, MethodAnnouncePeer, args, func(_ *Msg, err error) { results.TryPut(err) }) == nil {
			sent++
		}
	}
	accepted := 0
	for range sent {
		err, qerr := results.Get(t)
		if qerr != nil {
			return accepted, qerr
		}
		if err == nil {
			accepted++
		}
	}
	return accepted, nil
}

// Bootstrap joins the DHT through addrs (routers, saved nodes, a peer's
// PORT message; the caller resolves names): it asks each for the nodes
// closest to our own id, then looks our id up, which fills the table
// around us. It returns the number of nodes in the table.
func (n *Node) Bootstrap(t *aio.Task, addrs []netip.AddrPort) (int, error) {
	results := aio.NewQueue[error](len(addrs) + 1)
	sent := 0
	for _, a := range addrs {
		a = netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
		if !usable(a) {
			continue
		}
		err := n.startQuery(a, MethodFindNode, Args{Target: n.cfg.ID}, func(m *Msg, err error) {
			if err == nil {
				n.learn(m)
			}
			results.TryPut(err)
		})
		if err == nil {
			sent++
		}
	}
	for range sent {
		if _, err := results.Get(t); err != nil {
			return n.table.Len(), err
		}
	}
	_, err := n.FindNode(t, n.cfg.ID)
	return n.table.Len(), err
}

// learn pings the nodes a bootstrap answer names that the table has room
// for: they join once they answer.
func (n *Node) learn(m *Msg) {
	now := n.loop.Now()
	for _, nd := range append(m.R.Nodes, m.R.Nodes6...) {
		if usable(nd.Addr) && n.table.Wants(nd.ID, now) {
			n.startQuery(nd.Addr, MethodPing, Args{}, func(*Msg, error) {})
		}
	}
}
