package torrent

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/lsd"
	"github.com/aiotorrent/aiotorrent/peer"
	"github.com/aiotorrent/aiotorrent/piece"
	"github.com/aiotorrent/aiotorrent/utp"
)

// ClientConfig configures a Client. Zero values take the defaults.
type ClientConfig struct {
	// ListenAddr is where incoming peers connect (default 0.0.0.0:6881).
	// Port 0 picks a free port.
	ListenAddr netip.AddrPort
	// ExtraListenAddrs are further addresses that take peers, each on
	// the port ListenAddr got when its own port is 0. The CLI needs one
	// on OpenBSD, where [::] takes no IPv4 peers, to listen on 0.0.0.0
	// as well.
	ExtraListenAddrs []netip.AddrPort
	// PeerID is ours; zero means a fresh Azureus-style id.
	PeerID [20]byte
	// MaxPeers caps connections per torrent (default 50).
	MaxPeers int
	// MaxConns caps connections across every torrent of the client,
	// dialled and accepted (default 200): file descriptors and memory
	// are per process, not per torrent.
	MaxConns int
	// MaxDialing caps connection attempts in progress per torrent
	// (default 20).
	MaxDialing int
	// DialTimeout bounds a connect plus handshake (default 5 s).
	DialTimeout time.Duration
	// HandshakeTimeout bounds an incoming handshake (default 10 s).
	HandshakeTimeout time.Duration
	// MaxHalfOpen caps incoming connections still in their handshake
	// (default 64).
	MaxHalfOpen int
	// MaxDownloadRate and MaxUploadRate limit the payload bytes per
	// second across every torrent (0: no limit).
	MaxDownloadRate, MaxUploadRate int64
	// LSD turns on local service discovery (BEP 14): every torrent that is
	// not private is announced on the local network, and peers found
	// there are dialled. LSDConfig tunes it (its ListenPort is ours). A
	// network without multicast is logged and done without.
	LSD       bool
	LSDConfig lsd.Config
	// DHT turns on the Mainline DHT (BEP 5, client_dht.go): one node for
	// the client, through which every torrent that is not private finds
	// peers and announces itself, and magnet links without trackers find
	// theirs. DHTConfig tunes it. A socket that cannot be opened is
	// logged and done without.
	DHT       bool
	DHTConfig DHTConfig
	// NoUTP turns uTP (BEP 29, client_udp.go) off. With it on (the
	// default), connections are taken over uTP on our UDP port (the TCP
	// listener's, shared with the DHT), and a peer known to speak it (a
	// PEX flag, an earlier uTP connection) is dialled over uTP first.
	NoUTP bool
	// Encryption is which connections we make and take: MSE-encrypted,
	// plain, or both (the default; see Encryption).
	Encryption Encryption
	// MaxOpenFiles bounds the data files held open across every torrent
	// of the client (default piece.DefaultMaxOpenFiles): one cache of
	// file handles serves all their storages.
	MaxOpenFiles int
	// Logf receives one line per notable event (a dropped peer and why);
	// nil discards them.
	Logf func(format string, args ...any)
}

func (c *ClientConfig) setDefaults() {
	if !c.ListenAddr.IsValid() {
		c.ListenAddr = netip.AddrPortFrom(netip.IPv4Unspecified(), 6881)
	}
	if c.PeerID == ([20]byte{}) {
		c.PeerID = peer.NewPeerID()
	}
	c.MaxPeers = defaultInt(c.MaxPeers, 50)
	c.MaxConns = defaultInt(c.MaxConns, 200)
	c.MaxDialing = defaultInt(c.MaxDialing, 20)
	c.MaxHalfOpen = defaultInt(c.MaxHalfOpen, 64)
	if c.DialTimeout <= 0 {
		c.DialTimeout = 5 * time.Second
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = 10 * time.Second
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
}

func defaultInt(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// Client is one BitTorrent node: a peer id, its listening sockets, and the
// sessions (torrents) it serves. Incoming connections are routed to a
// session by the info-hash in their handshake.
type Client struct {
	cfg      ClientConfig
	loop     *aio.Loop
	ticks    ticks              // the sessions' periodic work (client_tick.go)
	lns      []*aio.TCPListener // lns[0] listens on ListenAddr
	sessions map[[20]byte]*Session
	halfOpen *aio.Semaphore
	conns    *aio.Semaphore   // MaxConns: held by every dial and connection
	lsd      *lsd.Service     // nil: LSD off or unavailable
	dht      *clientDHT       // nil: DHT off or unavailable
	udp      *clientUDP       // nil: neither DHT nor uTP, or the socket would not open
	files    *piece.FileCache // every session's open files, MaxOpenFiles

	// The rate limits, shared by all sessions; nil when unlimited.
	down, up *tokenBucket
}

// NewClient opens the listening sockets. Run must then run as a task to
// accept connections.
func NewClient(s aio.Spawner, cfg ClientConfig) (*Client, error) {
	cfg.setDefaults()
	lns, err := listenAll(s, cfg.ListenAddr, cfg.ExtraListenAddrs)
	if err != nil {
		return nil, err
	}
	c := &Client{
		cfg:      cfg,
		loop:     aio.LoopOf(s),
		lns:      lns,
		sessions: make(map[[20]byte]*Session),
		halfOpen: aio.NewSemaphore(cfg.MaxHalfOpen),
		conns:    aio.NewSemaphore(cfg.MaxConns),
		files:    piece.NewFileCache(cfg.MaxOpenFiles),
	}
	// The buckets start full; their clock starts at the first take.
	if cfg.MaxDownloadRate > 0 {
		c.down = newTokenBucket(cfg.MaxDownloadRate, time.Time{})
	}
	if cfg.MaxUploadRate > 0 {
		c.up = newTokenBucket(cfg.MaxUploadRate, time.Time{})
	}
	if cfg.LSD {
		lc := cfg.LSDConfig
		lc.ListenPort = c.Addr().Port()
		if lc.Logf == nil {
			lc.Logf = cfg.Logf
		}
		svc, err := lsd.New(s, lc)
		if err != nil {
			cfg.Logf("local peer discovery is off: %v", err)
		} else {
			c.lsd = svc
		}
	}
	if cfg.DHT || !cfg.NoUTP {
		c.openUDP(s, c.dhtListenAddr())
	}
	if cfg.DHT && c.udp != nil {
		c.openDHT()
	}
	return c, nil
}

// listenAll opens the listener on addr, then one on each extra address
// (port 0: addr's port), and closes them all if one fails.
func listenAll(s aio.Spawner, addr netip.AddrPort, extra []netip.AddrPort) ([]*aio.TCPListener, error) {
	var lns []*aio.TCPListener
	for i, a := range append([]netip.AddrPort{addr}, extra...) {
		if i > 0 && a.Port() == 0 {
			a = netip.AddrPortFrom(a.Addr(), lns[0].Addr().Port())
		}
		ln, err := aio.ListenTCP(s, a)
		if err != nil {
			for _, ln := range lns {
				ln.Close()
			}
			return nil, fmt.Errorf("client: %w", err)
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

// Addr is the address the client listens on (ListenAddr's listener).
func (c *Client) Addr() netip.AddrPort { return c.lns[0].Addr() }

// Encryption is the client's encryption policy.
func (c *Client) Encryption() Encryption { return c.cfg.Encryption }

// PeerID is the client's peer id.
func (c *Client) PeerID() [20]byte { return c.cfg.PeerID }

// Close stops listening.
func (c *Client) Close() error {
	var first error
	for _, ln := range c.lns {
		if err := ln.Close(); err != nil && first == nil {
			first = err
		}
	}
	if c.udp != nil {
		c.udp.close()
	}
	return first
}

// Run accepts incoming connections until t is cancelled or the listeners
// close. Each connection's handshake runs in its own task, bounded in
// number (MaxHalfOpen) and in time (HandshakeTimeout).
func (c *Client) Run(t *aio.Task) error {
	g := aio.NewGroup(t)
	defer g.Wait(t)
	defer g.Cancel()
	if c.lsd != nil {
		g.Go("local peer discovery", func(t *aio.Task) error {
			if err := c.lsd.Run(t); err != nil && !errors.Is(err, aio.ErrCanceled) {
				c.cfg.Logf("local peer discovery: %v", err)
			}
			return nil
		})
	}
	if c.udp != nil {
		g.Go("udp", c.readUDP)
	}
	if c.dht != nil {
		g.Go("dht", c.dht.run)
	}
	if c.UTP() {
		g.Go("accept utp", func(t *aio.Task) error { return c.acceptUTP(t, g) })
	}
	for _, ln := range c.lns[1:] {
		g.Go("accept "+ln.Addr().String(), func(t *aio.Task) error {
			c.accept(t, g, ln)
			return nil
		})
	}
	c.accept(t, g, c.lns[0])
	return nil
}

// accept takes connections from ln until t is cancelled or ln closes, and
// starts each one's handshake in g.
func (c *Client) accept(t *aio.Task, g *aio.Group, ln *aio.TCPListener) {
	for {
		conn, err := ln.Accept(t)
		if errors.Is(err, aio.ErrCanceled) || errors.Is(err, aio.ErrClosed) {
			return
		}
		if err != nil {
			// EMFILE and friends: wait a moment rather than spin.
			c.cfg.Logf("accept: %v", err)
			if err := aio.Sleep(t, 100*time.Millisecond); err != nil {
				return
			}
			continue
		}
		if !c.halfOpen.TryAcquire() {
			conn.Close() // too many handshakes in progress
			continue
		}
		g.Go("handshake "+conn.RemoteAddr().String(), func(t *aio.Task) error {
			c.incoming(t, conn)
			return nil
		})
	}
}

// incoming reads the first 48 bytes of a handshake, finds the session for
// its info-hash, and hands the connection over.
func (c *Client) incoming(t *aio.Task, conn peer.Stream) {
	released := false
	release := func() {
		if !released {
			released = true
			c.halfOpen.Release()
		}
	}
	defer release()
	in, encrypted, err := c.readIncoming(t, conn)
	if err != nil {
		c.cfg.Logf("incoming %s: %v", conn.RemoteAddr(), err)
		return
	}
	s := c.sessions[in.InfoHash()]
	if s == nil {
		c.cfg.Logf("incoming %s: unknown info-hash %x", conn.RemoteAddr(), in.InfoHash())
		conn.Close()
		return
	}
	pc, hs, err := in.Accept(t, s.handshake(), s.limits(), c.cfg.HandshakeTimeout)
	if err != nil {
		c.cfg.Logf("incoming %s: %v", conn.RemoteAddr(), err)
		return
	}
	release()
	_, overUTP := conn.(*utp.Conn)
	s.adopt(pc, hs, dialResult{encrypted: encrypted, utp: overUTP})
}

// Logf is the client's log function (never nil), for work done on its
// behalf such as fetching a magnet link's metadata.
func (c *Client) Logf() func(format string, args ...any) { return c.cfg.Logf }
