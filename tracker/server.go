package tracker

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"syscall"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// The tracker server's tasks: one accepts HTTP connections and spawns a
// task per connection, one serves UDP, one moves the reaping hand over
// expired peers. They all
// share one serverState, touched only on the loop thread.

// ServerConfig configures Serve. An invalid (zero) address leaves that
// protocol off; port 0 picks a free port.
type ServerConfig struct {
	HTTPAddr netip.AddrPort
	UDPAddr  netip.AddrPort
	// Interval is the announce interval handed to clients (default 30
	// min); peers that stay silent for twice as long are forgotten.
	Interval time.Duration
	// MaxTorrents and MaxPeers cap the swarms and the peers of all of
	// them together (defaults DefaultMaxTorrents and DefaultMaxPeers).
	// Reaching a cap evicts the stalest instead of refusing.
	MaxTorrents, MaxPeers int
	// MaxConns caps the HTTP connections served at once (default
	// DefaultMaxConns); each one is a file descriptor, so a process
	// should allow a few more open files than this. A connection over
	// the cap is answered 503 and closed.
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
	bufs   [][]byte // free request and reply buffers (loop thread only)
}

// DefaultMaxConns is ServerConfig.MaxConns's default: thousands of
// announces in flight, and 16 MiB of buffers at most.
const DefaultMaxConns = 4096

// tickEvery is how often the server moves the reaping hand on its own.
const tickEvery = time.Second

// Serve starts the tracker on cfg's addresses and returns once it is
// listening; the work runs in tasks spawned from t.
func Serve(t *aio.Task, cfg ServerConfig) (*Server, error) {
	if !cfg.HTTPAddr.IsValid() && !cfg.UDPAddr.IsValid() {
		return nil, errors.New("tracker server: no address to listen on")
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
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

// acceptLoop answers connections whose request is already there itself
// (serveReady) and spawns a task for the others. Over MaxConns, a connection
// is still read and answered, with a 503: a client told to come back
// later retries, one whose connection is closed unanswered counts a
// failure. Out of file descriptors (EMFILE), the loop waits a little
// and tries again, leaving the connections queued in the backlog.
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
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) || errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM) {
				if aio.Sleep(t, 10*time.Millisecond) != nil {
					return nil
				}
				continue
			}
			return fmt.Errorf("tracker accept: %w", err)
		}
		busy := len(s.conns) >= s.cfg.MaxConns
		req := s.getBuf()
		if !busy {
			var done bool
			if req, done = s.serveReady(t, c, req); done {
				continue
			}
			if s.closed.IsSet() {
				c.Close()
				return nil
			}
		}
		s.conns[c] = struct{}{}
		aio.Spawn(t, "tracker-conn", func(t *aio.Task) (struct{}, error) {
			defer func() { delete(s.conns, c); c.Close() }()
			return struct{}{}, s.serveConn(t, c, req, busy)
		})
	}
}

// serveReady answers, from the accept task, a connection whose whole
// request has already arrived, as it has on a busy tracker by the time
// the connection is accepted: no task, no coroutine stack to grow, for
// most announces. It reads what is there (waiting at most until the next
// loop step) and reports done once the connection is answered or gone;
// otherwise serveConn takes over with the bytes read so far.
func (s *Server) serveReady(t *aio.Task, c *aio.TCPConn, req []byte) ([]byte, bool) {
	now := t.Loop().Now()
	c.SetReadDeadline(now)
	m, err := c.Read(t, req[:cap(req)])
	req = req[:m]
	if err != nil || !bytes.Contains(req, []byte("\r\n\r\n")) {
		if err != nil && !errors.Is(err, aio.ErrTimeout) {
			s.putBuf(req)
			c.Close() // gone, or the server is closing
			return nil, true
		}
		return req, false
	}
	out := s.state.appendHTTP(s.getBuf(), req, c.RemoteAddr(), now)
	s.putBuf(req)
	c.SetWriteDeadline(now)
	n, err := c.Write(t, out)
	if err == nil && n < len(out) {
		err = aio.ErrTimeout // a short write: the rest waits for room
	}
	if err != nil && errors.Is(err, aio.ErrTimeout) && !s.closed.IsSet() {
		// The socket's buffer is full (a tiny window): a task finishes.
		s.conns[c] = struct{}{}
		aio.Spawn(t, "tracker-write", func(t *aio.Task) (struct{}, error) {
			defer func() { delete(s.conns, c); c.Close(); s.putBuf(out) }()
			c.SetWriteDeadline(t.Loop().Now().Add(s.cfg.RequestTimeout))
			return struct{}{}, c.WriteAll(t, out[n:])
		})
		return nil, true
	}
	s.putBuf(out)
	c.Close()
	return nil, true
}

// getBuf and putBuf keep a free list of request and reply buffers, so
// that a connection allocates nothing in the steady state.
func (s *Server) getBuf() []byte {
	if n := len(s.bufs); n > 0 {
		b := s.bufs[n-1]
		s.bufs = s.bufs[:n-1]
		return b[:0]
	}
	return make([]byte, 0, 2048)
}

func (s *Server) putBuf(b []byte) {
	if cap(b) <= maxHTTPRequest+4096 && len(s.bufs) < 256 {
		s.bufs = append(s.bufs, b)
	}
}

// serveConn reads one request (bounded in size and time; req holds what
// was read already), answers it (a 503 if busy) and closes: trackers need
// no keep-alive.
func (s *Server) serveConn(t *aio.Task, c *aio.TCPConn, req []byte, busy bool) error {
	c.SetDeadline(t.Loop().Now().Add(s.cfg.RequestTimeout))
	out := s.getBuf()
	defer func() { s.putBuf(req); s.putBuf(out) }()
	for !bytes.Contains(req, []byte("\r\n\r\n")) {
		if len(req) >= maxHTTPRequest {
			return c.WriteAll(t, appendReply(out, 431, []byte("request too large\n")))
		}
		if len(req) == cap(req) {
			req = append(req, make([]byte, min(cap(req), maxHTTPRequest-len(req)))...)[:len(req)]
		}
		m, err := c.Read(t, req[len(req):min(cap(req), maxHTTPRequest)])
		if err != nil {
			return nil // gone or too slow: nothing to answer
		}
		req = req[:len(req)+m]
	}
	if busy {
		out = appendReply(out, 503, []byte("busy, try again later\n"))
	} else {
		out = s.state.appendHTTP(out, req, c.RemoteAddr(), t.Loop().Now())
	}
	return c.WriteAll(t, out)
}

// udpLoop answers datagrams until the socket closes, a batch at a time
// (one recvmmsg and one sendmmsg per batch on Linux). A reply the socket
// cannot take now is dropped: the client retries, as BEP 15 expects.
func (s *Server) udpLoop(t *aio.Task) error {
	var in, out [aio.MaxBatch]aio.Message
	for i := range in {
		in[i].Buf = make([]byte, 2048) // the largest request is a 74-hash scrape: 1496 bytes
		out[i].Buf = make([]byte, 0, udpHeaderLen+MaxNumWant*compactV6Len+12)
	}
	for {
		n, err := s.udp.ReadBatch(t, in[:])
		if err != nil {
			if s.closed.IsSet() || errors.Is(err, aio.ErrCanceled) {
				s.Close() // as acceptLoop
				return nil
			}
			return fmt.Errorf("tracker udp: %w", err)
		}
		now := t.Loop().Now()
		k := 0
		for _, m := range in[:n] {
			if reply := s.state.appendUDP(out[k].Buf[:0], m.Buf[:m.N], m.Addr, now); reply != nil {
				out[k].Buf, out[k].Addr = reply, m.Addr
				k++
			}
		}
		for sent := 0; sent < k; {
			m, err := s.udp.TryWriteBatch(out[sent:k])
			sent += m
			if err != nil {
				if errors.Is(err, aio.ErrWouldBlock) {
					break
				}
				sent++ // that datagram alone failed (its address): skip it
			}
		}
	}
}

// sweepLoop moves the reaping hand every tickEvery, so that a quiet
// tracker forgets silent peers too, a bounded number at a time.
func (s *Server) sweepLoop(t *aio.Task) error {
	for {
		if err := aio.Sleep(t, tickEvery); err != nil {
			return nil
		}
		s.state.swarms.tick(t.Loop().Now())
	}
}
