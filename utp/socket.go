package utp

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// Transport sends datagrams for a Socket. SendTo must send p now or fail,
// never park (it is called from timer callbacks and from inside packet
// handling), and must not keep p. A failure counts as a lost packet;
// retransmission repairs it.
type Transport interface {
	SendTo(p []byte, to netip.AddrPort) error
}

// udpTransport is the Transport of a Socket that owns its UDP socket.
type udpTransport struct{ u *aio.UDPConn }

func (t udpTransport) SendTo(p []byte, to netip.AddrPort) error { return t.u.TryWriteTo(p, to) }

func (t udpTransport) SendBatch(msgs []aio.Message) (int, error) { return t.u.TryWriteBatch(msgs) }

// Config bounds a Socket. Zero fields take the defaults.
type Config struct {
	// MaxHalfOpen caps connections that have sent a SYN and nothing
	// since: a SYN flood from spoofed addresses fills this and no more.
	MaxHalfOpen int // default 64
	// Backlog is how many established connections may wait for Accept.
	Backlog int // default 64
	// SendBuffer and RecvBuffer bound each connection's unacknowledged
	// and queued outgoing bytes, and its unread plus out-of-order incoming
	// bytes (what it advertises as wnd_size).
	SendBuffer int // default 1 MiB
	RecvBuffer int // default 1 MiB
}

func (c Config) withDefaults() Config {
	if c.MaxHalfOpen <= 0 {
		c.MaxHalfOpen = 64
	}
	if c.Backlog <= 0 {
		c.Backlog = 64
	}
	if c.SendBuffer <= 0 {
		c.SendBuffer = 1 << 20
	}
	if c.RecvBuffer <= 0 {
		c.RecvBuffer = 1 << 20
	}
	c.SendBuffer = max(c.SendBuffer, 2*packetSize)
	c.RecvBuffer = max(c.RecvBuffer, 2*packetSize)
	return c
}

// Stats counts what a Socket did with the datagrams it was given.
type Stats struct {
	Received     uint64 // datagrams handed to Receive
	Malformed    uint64 // dropped by the decoder
	Unknown      uint64 // for no connection of ours (answered with RESET)
	Refused      uint64 // SYNs dropped: half-open cap, backlog, or closing
	Invalid      uint64 // for a connection, but with an ack or seq outside its window
	Sent         uint64
	SendErrors   uint64
	Retransmits  uint64
	FastResends  uint64
	Timeouts     uint64
	Accepted     uint64
	ResetsSent   uint64
	ResetsRecved uint64
}

// connKey finds a connection: the remote address and the connection id
// it puts in the packets it sends us (our receive id).
type connKey struct {
	addr netip.AddrPort
	id   uint16
}

// Socket multiplexes uTP connections over one datagram transport. All of
// it runs on the loop thread.
type Socket struct {
	loop  *aio.Loop
	tr    Transport
	udp   *aio.UDPConn // nil when datagrams come from Receive
	cfg   Config
	epoch time.Time

	conns    map[connKey]*Conn
	halfOpen int
	accept   *aio.Queue[*Conn]
	flushing []*Conn // connections with acks or data to send at Flush
	ticker   *aio.Timer
	closed   bool

	outPool []*outPacket
	inPool  []*inPacket
	scratch [headerLen + 2 + maxSACKLen]byte // control packets are built here
	batch   sendBatch                        // datagrams for the next writeOut (sendbatch.go)
	stats   Stats
}

// tick is how often timeouts are looked at. RTOs are at least 500 ms, so
// 50 ms of lateness is noise; one timer per socket instead of one re-armed
// per packet keeps the send path free of allocations.
const tick = 50 * time.Millisecond

// NewSocket makes a Socket that sends through tr and is fed incoming
// datagrams by whoever reads the port: call Receive for each uTP datagram
// (IsUTP tells them from KRPC) and Flush after each batch.
//
// A tr that is also a BatchTransport gets the datagrams in batches.
func NewSocket(l *aio.Loop, tr Transport, cfg Config) *Socket {
	s := &Socket{
		loop:   l,
		tr:     tr,
		cfg:    cfg.withDefaults(),
		epoch:  l.Now(),
		conns:  make(map[connKey]*Conn),
		accept: aio.NewQueue[*Conn](cfg.withDefaults().Backlog),
	}
	s.batch.tr, _ = tr.(BatchTransport)
	return s
}

// Listen binds a UDP socket to addr and starts the task that reads it:
// the Socket owns the port. Close closes it.
func Listen(t *aio.Task, addr netip.AddrPort, cfg Config) (*Socket, error) {
	u, err := aio.ListenUDP(t, addr)
	if err != nil {
		return nil, fmt.Errorf("utp: listen: %w", err)
	}
	// Best effort: a smaller buffer only means more loss under bursts.
	_ = u.SetReadBuffer(socketBuffer)
	_ = u.SetWriteBuffer(socketBuffer)
	s := NewSocket(t.Loop(), udpTransport{u}, cfg)
	s.udp = u
	aio.Spawn(t, "utp-read", s.readLoop)
	return s, nil
}

// Addr is the local address of a Socket made by Listen.
func (s *Socket) Addr() netip.AddrPort {
	if s.udp == nil {
		return netip.AddrPort{}
	}
	return s.udp.LocalAddr()
}

// socketBuffer is the kernel buffer Listen asks for, each way: several
// connections' windows of datagrams.
const socketBuffer = 4 << 20

// maxSlot is the buffer for one incoming datagram. uTP packets are at
// most an Ethernet MTU (libtorrent's and ours); a datagram that fills the
// slot may have been cut short and is dropped.
const maxSlot = 8 << 10

// readLoop reads datagrams in batches, up to aio.MaxBatch per system call
// (recvmmsg on Linux), and Flushes after each batch, so a burst of DATA
// gets one ack and the acks and the data they let out go out together.
func (s *Socket) readLoop(t *aio.Task) (struct{}, error) {
	msgs := make([]aio.Message, aio.MaxBatch)
	arena := make([]byte, len(msgs)*maxSlot)
	for i := range msgs {
		msgs[i].Buf = arena[i*maxSlot : (i+1)*maxSlot]
	}
	for {
		n, err := s.udp.ReadBatch(t, msgs)
		if err != nil {
			if errors.Is(err, aio.ErrClosed) || errors.Is(err, aio.ErrCanceled) {
				return struct{}{}, nil
			}
			return struct{}{}, fmt.Errorf("utp: read: %w", err)
		}
		for _, m := range msgs[:n] {
			if m.N < len(m.Buf) {
				s.Receive(m.Buf[:m.N], m.Addr)
			}
		}
		s.Flush()
	}
}

// Stats returns the socket's counters.
func (s *Socket) Stats() Stats { return s.stats }

// now is the time since the socket was made: the loop's clock, virtual in
// tests.
func (s *Socket) now() time.Duration { return s.loop.Now().Sub(s.epoch) }

func (s *Socket) nowMicro() uint32 { return uint32(s.loop.Now().UnixMicro()) }

// Receive handles one datagram from the network. Nothing is kept of b.
// Anything malformed, or for no connection, is dropped (a non-SYN is
// answered with RESET, as libutp does); no state exists for a remote
// before a valid SYN from it.
func (s *Socket) Receive(b []byte, from netip.AddrPort) {
	s.stats.Received++
	var h header
	payload, err := decodePacket(b, &h)
	if err != nil {
		s.stats.Malformed++
		return
	}
	if h.typ == stSyn {
		s.handleSYN(&h, from)
		return
	}
	c := s.conns[connKey{from, h.connID}]
	if c == nil && h.typ == stReset {
		c = s.findBySendID(from, h.connID)
	}
	if c == nil {
		s.stats.Unknown++
		if h.typ != stReset && !s.closed {
			s.sendReset(from, h.connID, h.seq)
		}
		return
	}
	c.handle(&h, payload)
}

// findBySendID finds the connection a RESET is for when the peer put our
// send id in it (libutp answers an unknown packet with the id it carried).
// A dialer's send id is its receive id + 1, an acceptor's is - 1.
func (s *Socket) findBySendID(from netip.AddrPort, id uint16) *Conn {
	for _, rid := range [2]uint16{id - 1, id + 1} {
		if c := s.conns[connKey{from, rid}]; c != nil && c.sendID == id {
			return c
		}
	}
	return nil
}

// handleSYN opens a half-open connection for a new SYN, or answers a
// retransmitted one. The SYN's connection id is the dialer's receive id:
// we send with it and receive with it + 1 (BEP 29).
func (s *Socket) handleSYN(h *header, from netip.AddrPort) {
	key := connKey{from, h.connID + 1}
	if c := s.conns[key]; c != nil {
		if c.state == stateSynRecv && c.ackNr == h.seq {
			c.needAck = true // our STATE was lost; the dialer is asking again
			s.markFlush(c)
		}
		return
	}
	if s.closed || s.halfOpen >= s.cfg.MaxHalfOpen || s.accept.Len() >= s.cfg.Backlog {
		s.stats.Refused++
		return
	}
	c := s.newConn(from, h.connID+1, h.connID)
	c.state = stateSynRecv
	c.openedAt = s.now()
	c.ackNr = h.seq
	c.peerWnd = int(h.wnd)
	c.replyMicro = s.nowMicro() - h.timestamp
	c.needAck = true
	s.halfOpen++
	s.conns[key] = c
	s.markFlush(c)
	s.startTicker()
}

func (s *Socket) newConn(remote netip.AddrPort, recvID, sendID uint16) *Conn {
	seq := uint16(rand.Uint32())
	c := &Conn{
		s:        s,
		remote:   remote,
		recvID:   recvID,
		sendID:   sendID,
		seqAcked: seq,
		seqSent:  seq,
		seqNext:  seq,
		cc:       newLEDBAT(),
		peerWnd:  s.cfg.RecvBuffer,
	}
	c.lastRecv = s.now()
	c.lastSend = c.lastRecv
	return c
}

// established is called when a half-open connection hears from its
// dialer again: only now does it use a place in the accept queue.
func (s *Socket) established(c *Conn) {
	s.halfOpen--
	c.state = stateConnected
	if !s.accept.TryPut(c) {
		s.stats.Refused++
		c.reset()
		return
	}
	s.stats.Accepted++
}

// Dial opens a uTP connection to addr. It returns once the peer has
// answered the SYN, or with an error after the SYN was retransmitted with
// back-off to no avail (about 15 s), or when t is cancelled or times out.
func (s *Socket) Dial(t *aio.Task, addr netip.AddrPort) (*Conn, error) {
	if s.closed {
		return nil, fmt.Errorf("utp: dial %s: %w", addr, aio.ErrClosed)
	}
	addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	var id uint16
	for tries := 0; ; tries++ {
		id = uint16(rand.Uint32())
		if s.conns[connKey{addr, id}] == nil {
			break
		}
		if tries > 64 {
			return nil, fmt.Errorf("utp: dial %s: no free connection id", addr)
		}
	}
	c := s.newConn(addr, id, id+1)
	c.state = stateSynSent
	s.conns[connKey{addr, id}] = c
	s.startTicker()
	c.queueControl(stSyn)
	c.trySend()
	s.writeOut()
	if err := c.connected.Wait(t); err != nil {
		c.reset()
		s.writeOut()
		return nil, fmt.Errorf("utp: dial %s: %w", addr, err)
	}
	if c.err != nil {
		return nil, fmt.Errorf("utp: dial %s: %w", addr, c.err)
	}
	return c, nil
}

// Accept waits for a connection whose dialer has sent something after its
// SYN. A BitTorrent dialer always speaks first (the handshake), so this
// costs nothing, and a SYN from a spoofed address never gets this far.
func (s *Socket) Accept(t *aio.Task) (*Conn, error) {
	c, err := s.accept.Get(t)
	if err != nil {
		return nil, fmt.Errorf("utp: accept: %w", err)
	}
	return c, nil
}

// Close resets every connection, stops accepting and, for a Socket made by
// Listen, closes the UDP socket.
func (s *Socket) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.accept.Close()
	for _, c := range s.conns {
		c.reset()
	}
	s.writeOut()
	if s.ticker != nil {
		s.ticker.Stop()
		s.ticker = nil
	}
	if s.udp != nil {
		return s.udp.Close()
	}
	return nil
}

func (s *Socket) remove(c *Conn) {
	if s.conns[connKey{c.remote, c.recvID}] != c {
		return
	}
	delete(s.conns, connKey{c.remote, c.recvID})
	if c.state == stateSynRecv {
		s.halfOpen--
	}
	c.freeBuffers()
}

// markFlush puts c on the list Flush works through, once.
func (s *Socket) markFlush(c *Conn) {
	if !c.flushQueued {
		c.flushQueued = true
		s.flushing = append(s.flushing, c)
	}
}

// Flush sends what the datagrams since the last Flush made due: one ack
// per connection however many packets it got, and the data the acks let
// out. Whoever feeds Receive calls it after each batch.
func (s *Socket) Flush() {
	for i, c := range s.flushing {
		s.flushing[i] = nil
		c.flushQueued = false
		c.flush()
	}
	s.flushing = s.flushing[:0]
	s.writeOut()
}

func (s *Socket) startTicker() {
	if s.ticker == nil && !s.closed {
		s.ticker = s.loop.AfterFunc(tick, s.onTick)
	}
}

// onTick runs every connection's timers, then sends what they made due.
// It stops re-arming itself when no connection is left.
func (s *Socket) onTick() {
	s.ticker = nil
	now := s.now()
	for _, c := range s.conns {
		c.onTick(now)
	}
	s.Flush()
	if len(s.conns) > 0 {
		s.startTicker()
	}
}

// sendReset answers a packet for no connection of ours.
func (s *Socket) sendReset(to netip.AddrPort, connID, seq uint16) {
	h := header{typ: stReset, connID: connID, timestamp: s.nowMicro(), seq: uint16(rand.Uint32()), ack: seq}
	n := encodeHeader(s.scratch[:], &h)
	s.stats.ResetsSent++
	s.send(s.scratch[:n], to)
}

func (s *Socket) getOut() *outPacket {
	if n := len(s.outPool); n > 0 {
		p := s.outPool[n-1]
		s.outPool = s.outPool[:n-1]
		return p
	}
	return new(outPacket)
}

func (s *Socket) putOut(p *outPacket) {
	// Field by field: copying a zero outPacket would copy its 1.4 KB buffer.
	p.size, p.typ, p.seq, p.sentAt, p.transmissions, p.lost, p.sacked = 0, 0, 0, 0, 0, false, false
	s.outPool = append(s.outPool, p)
}

func (s *Socket) getIn() *inPacket {
	if n := len(s.inPool); n > 0 {
		p := s.inPool[n-1]
		s.inPool = s.inPool[:n-1]
		return p
	}
	return new(inPacket)
}

func (s *Socket) putIn(p *inPacket) { s.inPool = append(s.inPool, p) }
