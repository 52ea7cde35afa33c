package tracker

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// The tracker server's tasks: one accepts HTTP connections and spawns a
// task per connection, one serves UDP, one sweeps expired peers. They all
// share one serverState, touched only on the loop thread.

// ServerConfig configures Serve. An invalid (zero) address leaves that
// protocol off; port 0 picks a free port.
type ServerConfig struct {
	HTTPAddr netip.AddrPort
	UDPAddr  netip.AddrPort
	// Interval is the announce interval handed to clients (default 30
	// min); peers that stay silent for twice as long are forgotten.
	Interval time.Duration
	// MaxTorrents and MaxPeers cap the swarms (per tracker and per
	// torrent; defaults DefaultMaxTorrents and DefaultMaxPeers).
	MaxTorrents, MaxPeers int
	// MaxConns caps concurrent HTTP connections (default 256); more are
	// closed at once.
	MaxConns int
	// RequestTimeout bounds reading one HTTP request (default 5 s).
	RequestTimeout time.Duration
	// OnAnnounce, if set, is called on the loop with every well-formed
	// announce and the peer address it is recorded under (for a log, or
	// a test that checks which events a client sends).
	OnAnnounce func(req AnnounceRequest, peer netip.AddrPort)
}

// Server is a running tracker. Close stops it.
type Server struct {
	cfg    ServerConfig
	state  *serverState
	ln     *aio.TCPListener
	udp    *aio.UDPConn
	conns  map[*aio.TCPConn]struct{} // open HTTP connections, closed by Close
	tasks  []*aio.Task
	closed *aio.Event
}

// Serve starts the tracker on cfg's addresses and returns once it is
// listening; the work runs in tasks spawned from t.
func Serve(t *aio.Task, cfg ServerConfig) (*Server, error) {
	if !cfg.HTTPAddr.IsValid() && !cfg.UDPAddr.IsValid() {
		return nil, errors.New("tracker server: no address to listen on")
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 256
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 5 * time.Second
	}
	sw := newSwarms(cfg.Interval, cfg.MaxTorrents, cfg.MaxPeers, nil)
	sw.onAnnounce = cfg.OnAnnounce
	s := &Server{cfg: cfg, state: newServerState(sw), conns: make(map[*aio.TCPConn]struct{}), closed: aio.NewEvent()}
	if cfg.HTTPAddr.IsValid() {
		ln, err := aio.ListenTCP(t, cfg.HTTPAddr)
		if err != nil {
			return nil, fmt.Errorf("tracker server: %w", err)
		}
		s.ln = ln
		s.spawn(t, "tracker-http", s.acceptLoop)
	}
	if cfg.UDPAddr.IsValid() {
		u, err := aio.ListenUDP(t, cfg.UDPAddr)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("tracker server: %w", err)
		}
		s.udp = u
		s.spawn(t, "tracker-udp", s.udpLoop)
	}
	s.spawn(t, "tracker-sweep", s.sweepLoop)
	return s, nil
}

// ListenAndServe runs a tracker until t is cancelled (then it returns nil)
// or Close is called: the whole of `aiotorrent tracker`. ready, if not nil,
// is called once it listens, to print the addresses.
func ListenAndServe(t *aio.Task, cfg ServerConfig, ready func(*Server)) error {
	s, err := Serve(t, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	if ready != nil {
		ready(s)
	}
	if err := s.closed.Wait(t); !errors.Is(err, aio.ErrCanceled) {
		return err
	}
	return nil
}

func (s *Server) spawn(t *aio.Task, name string, fn func(t *aio.Task) error) {
	h := aio.Spawn(t, name, func(t *aio.Task) (struct{}, error) { return struct{}{}, fn(t) })
	s.tasks = append(s.tasks, h.Task())
}

// HTTPAddr is where the HTTP tracker listens (invalid if off).
func (s *Server) HTTPAddr() netip.AddrPort {
	if s.ln == nil {
		return netip.AddrPort{}
	}
	return s.ln.Addr()
}

// UDPAddr is where the UDP tracker listens (invalid if off).
func (s *Server) UDPAddr() netip.AddrPort {
	if s.udp == nil {
		return netip.AddrPort{}
	}
	return s.udp.LocalAddr()
}

// AnnounceURL is the http:// announce URL, or udp:// if HTTP is off.
func (s *Server) AnnounceURL() string {
	if s.ln != nil {
		return "http://" + s.HTTPAddr().String() + "/announce"
	}
	return "udp://" + s.UDPAddr().String()
}

// UDPAnnounceURL is the udp:// announce URL ("" if UDP is off).
func (s *Server) UDPAnnounceURL() string {
	if s.udp == nil {
		return ""
	}
	return "udp://" + s.UDPAddr().String()
}

// Close stops the server: sockets closed, tasks cancelled. Call it on the
// loop thread; calling it twice is harmless.
func (s *Server) Close() error {
	if s.closed.IsSet() {
		return nil
	}
	s.closed.Set()
	if s.ln != nil {
		s.ln.Close()
	}
	if s.udp != nil {
		s.udp.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	for _, t := range s.tasks {
		t.Cancel()
	}
	return nil
}

// acceptLoop spawns a task per connection, up to MaxConns at once.
func (s *Server) acceptLoop(t *aio.Task) error {
	for {
		c, err := s.ln.Accept(t)
		if err != nil {
			if s.closed.IsSet() || errors.Is(err, aio.ErrCanceled) {
				// Cancelled (the loop is closing): stop listening too, so
				// that a client's last announce is refused at once rather
				// than left waiting in the backlog for its timeout.
				s.Close()
				return nil
			}
			return fmt.Errorf("tracker accept: %w", err)
		}
		if len(s.conns) >= s.cfg.MaxConns {
			c.Close()
			continue
		}
		s.conns[c] = struct{}{}
		aio.Spawn(t, "tracker-conn", func(t *aio.Task) (struct{}, error) {
			defer func() { delete(s.conns, c); c.Close() }()
			return struct{}{}, s.serveConn(t, c)
		})
	}
}

// serveConn reads one request (bounded in size and time), answers it and
// closes: trackers need no keep-alive.
func (s *Server) serveConn(t *aio.Task, c *aio.TCPConn) error {
	c.SetDeadline(t.Loop().Now().Add(s.cfg.RequestTimeout))
	buf := make([]byte, maxHTTPRequest)
	n := 0
	for !bytes.Contains(buf[:n], []byte("\r\n\r\n")) {
		if n == len(buf) {
			return c.WriteAll(t, httpReply(431, []byte("request too large\n")))
		}
		m, err := c.Read(t, buf[n:])
		if err != nil {
			return nil // gone or too slow: nothing to answer
		}
		n += m
	}
	return c.WriteAll(t, s.state.handleHTTP(buf[:n], c.RemoteAddr(), t.Loop().Now()))
}

// udpLoop answers datagrams until the socket closes. A failed send (the
// client's port is gone) is the client's problem, not the server's.
func (s *Server) udpLoop(t *aio.Task) error {
	buf := make([]byte, 2048) // the largest request is a 74-hash scrape: 1496 bytes
	for {
		n, from, err := s.udp.ReadFrom(t, buf)
		if err != nil {
			if s.closed.IsSet() || errors.Is(err, aio.ErrCanceled) {
				s.Close() // as acceptLoop
				return nil
			}
			return fmt.Errorf("tracker udp: %w", err)
		}
		if reply := s.state.handleUDP(buf[:n], from, t.Loop().Now()); reply != nil {
			s.udp.WriteTo(t, reply, from)
		}
	}
}

// sweepLoop forgets expired peers once per interval.
func (s *Server) sweepLoop(t *aio.Task) error {
	for {
		if err := aio.Sleep(t, s.state.swarms.interval); err != nil {
			return nil
		}
		s.state.swarms.expire(t.Loop().Now())
	}
}
