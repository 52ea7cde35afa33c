package dht

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// Config configures a Node. The zero value is BEP 5's defaults with a
// random id.
type Config struct {
	// ID is the node id; zero means a random one. Keep it across runs
	// (State) so that the nodes that know us still do.
	ID ID
	// QueryTimeout bounds each query (default 3 s).
	QueryTimeout time.Duration
	// LookupTimeout bounds a whole iterative lookup (default 30 s).
	LookupTimeout time.Duration
	// RateLimit is how many queries a second one IP gets answered, after
	// a burst of RateBurst (defaults 20 and 50). Tests with many nodes on
	// 127.0.0.1 raise them.
	RateLimit float64
	RateBurst int
	// MaxTorrents and MaxPeers bound the peer store (defaults 2000
	// info-hashes, 100 peers each); MaxReplyValues bounds the peers in
	// one get_peers answer (default 50).
	MaxTorrents, MaxPeers, MaxReplyValues int
	// Logf receives a line for each notable event; nil discards them.
	Logf func(format string, args ...any)
}

func (c *Config) setDefaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.ID == (ID{}) {
		c.ID = RandomID()
	}
	if c.QueryTimeout <= 0 {
		c.QueryTimeout = 3 * time.Second
	}
	if c.LookupTimeout <= 0 {
		c.LookupTimeout = 30 * time.Second
	}
	if c.RateLimit <= 0 {
		c.RateLimit = 20
	}
	def(&c.RateBurst, 50)
	def(&c.MaxTorrents, 2000)
	def(&c.MaxPeers, 100)
	def(&c.MaxReplyValues, 50)
	c.MaxReplyValues = min(c.MaxReplyValues, MaxValues)
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
}

// Limits that keep a Node's memory bounded whatever the network sends.
const (
	maxPending   = 1024 // queries in flight
	sendQueueLen = 256  // datagrams waiting for the socket
	maxLimited   = 4096 // source IPs the rate limiter tracks
	maintEvery   = time.Minute
)

// Errors a query can end with (besides a remote *Error and the task's own
// cancellation).
var (
	ErrQueryTimeout = errors.New("dht: query timed out")
	ErrBusy         = errors.New("dht: too many queries in flight")
)

// Transport sends datagrams for a Node. *aio.UDPConn is one; a
// demultiplexer that shares the socket with uTP is another. WriteTo is
// called from one task at a time (the Node's sender).
type Transport interface {
	WriteTo(t *aio.Task, p []byte, addr netip.AddrPort) (int, error)
}

// Stats counts what a Node did.
type Stats struct {
	Received, Sent       int // datagrams
	Malformed            int // refused by Decode
	Limited              int // queries dropped by the rate limiter
	Unsolicited          int // replies to no query of ours (or from the wrong address)
	Timeouts             int // our queries that got no answer
	DroppedSends         int // datagrams dropped because the send queue was full
	BadTokens            int // announce_peer with a token not ours for that IP
	Announces, Refused   int // announces stored; refused because the store was full
	Lookups, LookupLimit int // lookups run; ended by LookupTimeout
}

// Node is one DHT node: a routing table, the server side that answers
// queries, and the client side that asks them. Its methods run on the aio
// loop thread; nothing in it is safe to call from elsewhere.
type Node struct {
	cfg     Config
	loop    *aio.Loop
	table   *Table
	tokens  tokens
	store   *peerStore
	limit   *limiter
	pending map[uint16]*pending
	nextTxn uint16
	// verifying holds the addresses of unknown queriers we are pinging;
	// its entries are a subset of pending's.
	verifying map[netip.AddrPort]bool
	out       *aio.Queue[datagram]
	stats     Stats
}

type datagram struct {
	b  []byte
	to netip.AddrPort
}

// pending is a query of ours waiting for its answer.
type pending struct {
	to    netip.AddrPort
	timer *aio.Timer
	done  func(*Msg, error) // called once, on the loop thread
}

// New makes a node on loop l. It sends nothing until Run or Serve.
func New(l *aio.Loop, cfg Config) *Node {
	cfg.setDefaults()
	now := l.Now()
	return &Node{
		cfg: cfg, loop: l,
		table:     NewTable(cfg.ID, now),
		tokens:    newTokens(now),
		store:     newPeerStore(cfg.MaxTorrents, cfg.MaxPeers),
		limit:     newLimiter(cfg.RateLimit, cfg.RateBurst, maxLimited),
		pending:   map[uint16]*pending{},
		verifying: map[netip.AddrPort]bool{},
		out:       aio.NewQueue[datagram](sendQueueLen),
	}
}

// ID is the node's id.
func (n *Node) ID() ID { return n.cfg.ID }

// Table is the node's routing table (read it on the loop thread).
func (n *Node) Table() *Table { return n.table }

// Stats returns the counters so far.
func (n *Node) Stats() Stats { return n.stats }

// StoredPeers returns how many info-hashes and peers the store holds.
func (n *Node) StoredPeers() (torrents, peers int) { return len(n.store.torrents), n.store.peers }

// Run serves on conn, which the node reads itself, until t is cancelled
// or conn fails. The caller closes conn.
func (n *Node) Run(t *aio.Task, conn *aio.UDPConn) error {
	g := aio.NewGroup(t)
	g.Go("dht read", func(t *aio.Task) error {
		buf := make([]byte, MaxMessageSize+1) // one more: a longer datagram shows as too long
		for {
			k, from, err := conn.ReadFrom(t, buf)
			if err != nil {
				return fmt.Errorf("dht: read: %w", err)
			}
			n.HandleDatagram(from, buf[:k])
		}
	})
	g.Go("dht serve", func(t *aio.Task) error { return n.Serve(t, conn) })
	return g.Wait(t)
}

// Serve sends the node's datagrams through tr and keeps the table fresh,
// until t is cancelled. Datagrams reach the node through HandleDatagram:
// this is how a demultiplexer that owns the socket (and hands KRPC, the
// datagrams starting with 'd', to the DHT and the rest to uTP) drives it.
func (n *Node) Serve(t *aio.Task, tr Transport) error {
	g := aio.NewGroup(t)
	g.Go("dht send", func(t *aio.Task) error { return n.sendLoop(t, tr) })
	g.Go("dht maintain", n.maintain)
	return g.Wait(t)
}

func (n *Node) sendLoop(t *aio.Task, tr Transport) error {
	for {
		d, err := n.out.Get(t)
		if err != nil {
			return err
		}
		if _, err := tr.WriteTo(t, d.b, d.to); err != nil {
			if errors.Is(err, aio.ErrCanceled) || errors.Is(err, aio.ErrClosed) {
				return err
			}
			// An unreachable network or host is that datagram's problem
			// (its query will time out), not the node's.
			n.cfg.Logf("dht: send to %s: %v", d.to, err)
			continue
		}
		n.stats.Sent++
	}
}

// send queues m for addr; a full queue drops it, as a full socket buffer
// would.
func (n *Node) send(m *Msg, to netip.AddrPort) bool {
	if !n.out.TryPut(datagram{b: m.Encode(), to: to}) {
		n.stats.DroppedSends++
		return false
	}
	return true
}

// HandleDatagram takes one datagram that arrived from from. It never
// blocks: answers are queued for the sender. b is not kept.
func (n *Node) HandleDatagram(from netip.AddrPort, b []byte) {
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	n.stats.Received++
	m, err := Decode(b)
	if err != nil {
		n.stats.Malformed++
		return
	}
	if m.Y == KindQuery {
		n.handleQuery(from, m)
		return
	}
	n.handleReply(from, m)
}

func (n *Node) handleReply(from netip.AddrPort, m *Msg) {
	var p *pending
	if len(m.T) == 2 {
		p = n.pending[binary.BigEndian.Uint16(m.T)]
	}
	if p == nil || p.to != from {
		n.stats.Unsolicited++
		return
	}
	delete(n.pending, binary.BigEndian.Uint16(m.T))
	p.timer.Stop()
	if m.Y == KindError {
		p.done(nil, &m.E)
		return
	}
	if m.R.ID == n.cfg.ID {
		p.done(nil, errors.New("dht: a node answered with our own id"))
		return
	}
	n.table.Replied(NodeInfo{ID: m.R.ID, Addr: from}, n.loop.Now())
	p.done(m, nil)
}

// startQuery sends a query and arranges for done to be called with the
// answer, a remote error or ErrQueryTimeout. It fails at once (done is
// not called) if too many queries are in flight or the send queue is
// full.
func (n *Node) startQuery(to netip.AddrPort, method string, args Args, done func(*Msg, error)) error {
	if len(n.pending) >= maxPending {
		return ErrBusy
	}
	to = netip.AddrPortFrom(to.Addr().Unmap(), to.Port()) // as HandleDatagram sees answers
	for n.pending[n.nextTxn] != nil {
		n.nextTxn++
	}
	txn := n.nextTxn
	n.nextTxn++
	args.ID = n.cfg.ID
	m := &Msg{T: binary.BigEndian.AppendUint16(nil, txn), Y: KindQuery, Q: method, A: args}
	if !n.send(m, to) {
		return ErrBusy
	}
	p := &pending{to: to, done: done}
	p.timer = n.loop.AfterFunc(n.cfg.QueryTimeout, func() {
		if n.pending[txn] != p {
			return
		}
		delete(n.pending, txn)
		n.stats.Timeouts++
		n.table.Failed(to, n.loop.Now())
		done(nil, ErrQueryTimeout)
	})
	n.pending[txn] = p
	return nil
}

// Query sends one query and waits for its answer (at most QueryTimeout).
func (n *Node) Query(t *aio.Task, to netip.AddrPort, method string, args Args) (*Msg, error) {
	f := aio.NewFuture[*Msg](n.loop)
	err := n.startQuery(to, method, args, func(m *Msg, err error) {
		if err != nil {
			f.Reject(err)
			return
		}
		f.Resolve(m)
	})
	if err != nil {
		return nil, err
	}
	return aio.Await(t, f)
}

// Ping asks addr for its id; a node that answers joins the table if
// there is room for it.
func (n *Node) Ping(t *aio.Task, addr netip.AddrPort) (ID, error) {
	m, err := n.Query(t, addr, MethodPing, Args{})
	if err != nil {
		return ID{}, err
	}
	return m.R.ID, nil
}

// maintain does the periodic work: rotate the token secret, expire
// announces, ping the questionable nodes that block a replacement, and
// refresh buckets nobody was heard from in 15 minutes.
func (n *Node) maintain(t *aio.Task) error {
	for {
		if err := aio.Sleep(t, maintEvery); err != nil {
			return err
		}
		now := n.loop.Now()
		n.tokens.rotate(now)
		n.store.expire(now)
		for _, q := range n.table.ToPing(now) {
			n.startQuery(q.Addr, MethodPing, Args{}, func(*Msg, error) {})
		}
		for _, target := range n.table.Stale(now) {
			if _, err := n.FindNode(t, target); errors.Is(err, aio.ErrCanceled) {
				return err
			}
		}
	}
}
