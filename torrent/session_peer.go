package torrent

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/peer"
	"github.com/aiotorrent/aiotorrent/piece"
)

// learn adds an address from a peer source, unless it is ours, and wakes
// the dialer if it is new.
func (s *Session) learn(addr netip.AddrPort, src peerSource) {
	if s.isSelf(addr) {
		return
	}
	if s.peerList.add(addr, src) {
		s.kickDialer()
	}
}

// isSelf reports whether addr is our own listener, as far as can be told
// without a handshake: our port on a loopback address, or our exact
// address. (A peer that hands us our public address is found out by the
// handshake: ErrSelf.)
func (s *Session) isSelf(addr netip.AddrPort) bool {
	self := s.client.Addr()
	return addr == self || addr.Port() == self.Port() && addr.Addr().IsLoopback()
}

// kickDialer tells the dialer the peer list may have an address to dial,
// and starts it if it is not running. The dialer runs only while there is
// something to dial or a back-off to wait out: a torrent with nobody to
// call holds no task for it.
func (s *Session) kickDialer() {
	s.newPeers.Set()
	if s.dialerOn || s.group == nil || s.closed {
		return // not yet running: Run kicks it once the group exists
	}
	s.dialerOn = true
	s.group.Go("dialer", s.dialLoop)
}

// dialLoop dials the addresses the peer list offers, at most MaxDialing
// at once, MaxPeers in all, and within the client's MaxConns across
// torrents. When no address is ready it sleeps until one is learnt or one
// comes out of its back-off; when none will be, it ends (kickDialer starts
// it again).
func (s *Session) dialLoop(t *aio.Task) error {
	defer func() { s.dialerOn = false }()
	for {
		addr, wake, ok := s.peerList.next(s.loop.Now(), s.picker.Complete())
		if !ok && wake.IsZero() {
			return nil
		}
		if !ok {
			if err := s.waitForPeers(t, wake); err != nil {
				return err
			}
			continue
		}
		if err := s.acquireSlot(t); err != nil {
			return err
		}
		if err := s.dialing.Acquire(t); err != nil {
			s.releaseSlot()
			return err
		}
		// The wait may have let an incoming connection from addr in.
		if again, _, _ := s.peerList.next(s.loop.Now(), s.picker.Complete()); again != addr {
			s.dialing.Release()
			s.releaseSlot()
			continue
		}
		s.peerList.dialing(addr, s.loop.Now())
		s.group.Go("dial "+addr.String(), func(t *aio.Task) error {
			defer s.releaseSlot()
			conn, hs, how, err := s.client.dialPeer(t, addr, s.meta.InfoHash, s.handshake(), s.limits(),
				s.peerList.plainFirst(addr), s.peerList.utpFirst(addr))
			s.dialing.Release()
			if err != nil {
				s.dialFailed(addr, err)
				return nil
			}
			s.peerList.setPlainOnly(addr, s.client.cfg.Encryption == EncryptionPrefer && !how.viaMSE)
			s.peerList.setUTP(addr, how.utp)
			s.runPeer(t, conn, hs, addr, how)
			return nil
		})
	}
}

// dialFailed records a failed dial. An address that turns out to be our
// own is banned quietly.
func (s *Session) dialFailed(addr netip.AddrPort, err error) {
	if errors.Is(err, peer.ErrSelf) {
		s.peerList.ban(addr)
		return
	}
	// "peer: dial ADDR: why" said the address twice and no torrent.
	why := err.Error()
	if i := strings.LastIndex(why, "dial "+addr.String()+": "); i >= 0 {
		why = why[i+len("dial "+addr.String()+": "):]
	}
	s.client.cfg.Logf("%s: peer %s not reached: %s", s.meta.Name, addr, why)
	s.peerList.ended(addr, s.loop.Now(), false)
	s.kickDialer()
}

// waitForPeers parks the dialer until the peer list may have an address
// ready: one was learnt or a connection ended (newPeers), or the back-off
// of the earliest one ends at wake (zero: no back-off to wait for).
func (s *Session) waitForPeers(t *aio.Task, wake time.Time) error {
	s.newPeers.Clear()
	if wake.IsZero() {
		return s.newPeers.Wait(t)
	}
	err := aio.Timeout(t, max(wake.Sub(s.loop.Now()), time.Millisecond), s.newPeers.Wait)
	if errors.Is(err, aio.ErrTimeout) {
		return nil
	}
	return err
}

// acquireSlot waits for room for one more connection, in the session
// (MaxPeers) and in the client (MaxConns).
func (s *Session) acquireSlot(t *aio.Task) error {
	if err := s.slots.Acquire(t); err != nil {
		return err
	}
	if err := s.client.conns.Acquire(t); err != nil {
		s.slots.Release()
		return err
	}
	return nil
}

// tryAcquireSlot is acquireSlot without waiting.
func (s *Session) tryAcquireSlot() bool {
	if !s.slots.TryAcquire() {
		return false
	}
	if !s.client.conns.TryAcquire() {
		s.slots.Release()
		return false
	}
	return true
}

func (s *Session) releaseSlot() {
	s.client.conns.Release()
	s.slots.Release()
}

// adopt takes an incoming connection that finished its handshake; it is
// closed when the session or the client is full, when the session has not
// started its peers yet, and when it has ended while the handshake was
// under way (its group takes no more tasks then).
func (s *Session) adopt(conn *peer.Conn, hs peer.Handshake, how dialResult) {
	if s.group == nil || !s.tryAcquireSlot() {
		conn.Close()
		return
	}
	err := s.group.Go("peer "+conn.RemoteAddr().String(), func(t *aio.Task) error {
		defer s.releaseSlot()
		s.runPeer(t, conn, hs, netip.AddrPort{}, how)
		return nil
	})
	if err != nil {
		s.releaseSlot()
		conn.Close()
	}
}

// peerConn is our side of one connection: the BEP 3 state flags, the
// requests we owe, and the two tasks (reader and writer) that drive the
// socket. The blocks we asked for are the picker's to know (one owner per
// fact): Requests counts them, BlockReceived judges what arrives.
type peerConn struct {
	s      *Session
	id     piece.PeerID
	peerID [20]byte
	addr   netip.AddrPort // where we dialled, to ban; zero for incoming
	// outgoing: we dialled (else it connected to us). Of two connections
	// with one peer, this decides which stays (oneConnectionPerPeer).
	outgoing  bool
	encrypted bool // RC4 inside MSE (PEX says so of it)
	utp       bool // over uTP (PEX says so of it)
	dropped   bool // out of the session (dropPeer): it only winds down
	// closedFor is why the session closed the connection (both sides
	// seeds); its tasks end with aio.ErrClosed, which says nothing.
	closedFor error
	conn      *peer.Conn
	wake      *aio.Event // something is queued: the writer flushes

	amChoking, amInterested     bool
	peerChoking, peerInterested bool

	pipeline int            // how many requests to keep out
	uploads  []peer.Message // REQUESTs to serve, in order
	pieces   int            // how many pieces the peer has

	// For the choker: rates in both directions (bytes per second,
	// smoothed), when the connection began, and its last block to us (or
	// when we became interested, if later) for anti-snubbing.
	lastDown, lastUp uint64
	downRate, upRate float64
	connected        time.Time
	lastBlock        time.Time
	round            roundStats // counters at the last choking round

	// reqSince is when the peer last had no request of ours outstanding
	// or last sent a block: a peer that sends nothing for requestTimeout
	// after that is snubbing us, and its requests go to other peers.
	reqSince time.Time
	snubbed  bool // one request at a time until it sends a block

	ext  extState  // BEP 10: what the peer told us of its extensions
	fast fastState // BEP 6

	dhtPinged bool // its PORT's node was pinged (once per connection)
}

const (
	minPipeline = 16
	maxPipeline = 256
	maxUploads  = 512 // queued requests we serve; more is abuse
	idleTimeout = 2 * time.Minute
	keepAlive   = 90 * time.Second
)

// runPeer runs one connection until it fails or the session ends. A peer's
// misbehaviour ends only this connection: the reason is logged. addr is
// the address we dialled (zero for an incoming connection); the peer list
// hears how the connection went when it ends.
func (s *Session) runPeer(t *aio.Task, conn *peer.Conn, hs peer.Handshake, addr netip.AddrPort, how dialResult) {
	defer conn.Close()
	if s.bannedIDs[hs.PeerID] {
		if addr.IsValid() {
			s.peerList.ban(addr)
		}
		return
	}
	if !s.oneConnectionPerPeer(hs.PeerID, addr) {
		return
	}
	s.seen.add(hs.PeerID)
	s.nextID++
	now := s.loop.Now()
	p := &peerConn{
		connected: now, lastBlock: now, outgoing: addr.IsValid(), encrypted: how.encrypted, utp: how.utp,
		s: s, id: s.nextID, peerID: hs.PeerID, addr: addr, conn: conn,
		wake:      aio.NewEvent(),
		amChoking: true, peerChoking: true,
		pipeline: minPipeline,
	}
	p.fast.on = hs.Reserved.Has(peer.FastExtensionBit)
	s.peers[p.id] = p
	s.client.activate(s) // a peer: periodic work (client_tick.go)
	defer s.dropPeer(p)
	conn.SetIdleTimeout(idleTimeout)
	s.sayWhatWeHave(p)
	if hs.Reserved.Has(peer.ExtensionProtocolBit) {
		conn.Queue(s.extHandshakeFrame()) // BEP 10: after the bitfield
		p.wake.Set()
	}
	s.sendDHTPort(p, hs)
	s.client.cfg.Logf("%s: peer %s connected (%s)", s.meta.Name, conn.RemoteAddr(), how.describe(addr.IsValid()))
	g := aio.NewGroup(t)
	g.Go("read "+conn.RemoteAddr().String(), p.readLoop)
	g.Go("write "+conn.RemoteAddr().String(), p.writeLoop)
	s.client.cfg.Logf("%s: peer %s dropped: %s", s.meta.Name, conn.RemoteAddr(), dropReason(g.Wait(t), p, conn.RemoteAddr().String()))
}

// dropReason says why a connection ended, for the log (-v): the error
// without the "peer ADDR: " it starts with, the line names the peer.
func dropReason(err error, p *peerConn, addr string) string {
	switch {
	case p.closedFor != nil:
		return strings.TrimPrefix(p.closedFor.Error(), "peer "+addr+": ")
	case errors.Is(err, aio.ErrCanceled):
		return "the session ends"
	case errors.Is(err, io.EOF):
		return "it closed the connection"
	case err != nil:
		return strings.TrimPrefix(err.Error(), "peer "+addr+": ")
	case p.dropped:
		return "replaced by another connection to it"
	}
	return "it closed the connection"
}

// oneConnectionPerPeer decides, for a new connection with the peer
// whose id is theirs, whether it may run; addr is where we dialled (zero
// if it dialled us). When both sides dial each other at once, each ends
// up with two connections; closing "the second" would close both, since
// each side sees a different one second. So both sides apply one rule:
// the connection dialled by the lower peer id stays. If that is the new
// one, the old one is closed (its tasks end); if it is the old one, or
// both go the same way, the new one is refused, and the old one takes
// over the address we dialled, so the peer list keeps it busy until that
// connection ends.
func (s *Session) oneConnectionPerPeer(theirs [20]byte, addr netip.AddrPort) bool {
	var old *peerConn
	for _, p := range s.peers {
		if p.peerID == theirs {
			old = p
			break
		}
	}
	if old == nil {
		return true
	}
	outgoing := addr.IsValid()
	weAreLower := bytes.Compare(s.client.cfg.PeerID[:], theirs[:]) < 0
	if old.outgoing != outgoing && outgoing == weAreLower {
		old.conn.Close()
		s.dropPeer(old) // at once: its tasks may take a step to see the close
		return true
	}
	switch {
	case !outgoing:
	case !old.addr.IsValid():
		old.addr = addr
	case old.addr != addr: // the same peer at a second address
		s.peerList.ended(addr, s.loop.Now(), false)
	}
	return false
}

// addrFree tells the peer list that p's connection ended, unless another
// connection holds the same address (the one that won a duplicate).
// Moving any payload either way makes it an address worth coming back to
// soon; otherwise its back-off grows.
func (s *Session) addrFree(p *peerConn) {
	if !p.addr.IsValid() {
		return
	}
	for _, q := range s.peers {
		if q.addr == p.addr {
			return
		}
	}
	st := p.conn.Stats()
	s.peerList.ended(p.addr, s.loop.Now(), st.Downloaded > 0 || st.Uploaded > 0)
	s.kickDialer() // its back-off has a new end
}

// dropPeer takes p out of the session: its requests back to the pool, its
// upload slot to another, its address free in the peer list. It runs once
// per connection, when the connection ends or when a newer connection
// with the same peer replaces it (oneConnectionPerPeer).
func (s *Session) dropPeer(p *peerConn) {
	if p.dropped {
		return
	}
	p.dropped = true
	delete(s.peers, p.id)
	s.addrFree(p)
	s.picker.PeerGone(p.id)
	if !p.amChoking {
		s.fillSlots()
	}
	s.refillAll() // its blocks are back in the pool
}

func (p *peerConn) readLoop(t *aio.Task) error {
	for {
		msg, err := p.conn.ReadMessage(t)
		if err != nil {
			return err
		}
		if p.dropped {
			return nil // replaced by another connection: what it still had buffered is not ours
		}
		if err := p.handle(msg); err != nil {
			return err
		}
		if msg.ID == peer.Piece {
			p.lastBlock = t.Loop().Now()
			// The download limit: read no further until the block is
			// paid for. The socket buffer fills and TCP slows the sender.
			if err := throttle(t, p.s.client.down, len(msg.Payload)); err != nil {
				return err
			}
		}
	}
}

// writeLoop flushes whatever the reader and the session queued, once per
// wakeup, so that everything queued in one loop step goes out in one
// writev.
func (p *peerConn) writeLoop(t *aio.Task) error {
	for {
		if err := p.wake.Wait(t); err != nil {
			return err
		}
		p.wake.Clear()
		if err := p.serveUploads(t); err != nil {
			return err
		}
		if err := p.conn.Flush(t); err != nil {
			return err
		}
	}
}

// handle applies one message from the peer (BEP 3).
func (p *peerConn) handle(m peer.Message) error {
	s := p.s
	switch m.ID {
	case peer.KeepAlive:
	case peer.Choke:
		p.peerChoking = true
		if p.fast.on {
			break // it REJECTs what it will not serve (BEP 6)
		}
		// The requests are void (BEP 3); the picker remembers them, so a
		// block already on the wire is taken for late, not unrequested.
		s.picker.PeerChoked(p.id)
		s.refillAll()
	case peer.Unchoke:
		p.peerChoking = false
		p.refill()
	case peer.Interested:
		p.peerInterested = true
		s.onInterested(p)
	case peer.NotInterested:
		p.peerInterested = false
		s.onNotInterested(p)
	case peer.Have:
		p.fast.announced = true
		known := s.picker.PeerHas(p.id, int(m.Index))
		if err := s.picker.PeerHave(p.id, int(m.Index)); err != nil {
			return err
		}
		if !known {
			p.pieces++
		}
		if s.wants(int(m.Index)) {
			p.setInterested(true)
			p.refill() // a peer that already unchoked us gets requests now
		}
		return p.checkBothSeeds()
	case peer.Bitfield:
		// BEP 3 allows a bitfield only as the first message, but aria2
		// sends one again later (after its HAVEs, after INTERESTED):
		// refusing it cut every aria2 leecher off. A late bitfield
		// replaces what we knew of the peer (PeerBitfield recounts).
		bf, err := piece.FromBytes(m.Payload, s.meta.NumPieces())
		if err != nil {
			return err
		}
		return p.onAvailability(bf)
	case peer.HaveAll, peer.HaveNone, peer.Reject, peer.AllowedFast, peer.Suggest:
		return p.onFast(m)
	case peer.Request:
		return p.queueUpload(m)
	case peer.Cancel:
		p.cancelUpload(m)
	case peer.Piece:
		return p.onBlock(m)
	case peer.Extended:
		return s.onExtended(p, &p.ext, m)
	case peer.Port:
		s.onDHTPort(p, m.Port) // harmless without a DHT of ours
	default:
		return fmt.Errorf("unexpected %v (extension not advertised)", m.ID)
	}
	return nil
}

// errBothSeeds ends a connection between two seeds: neither will ever
// want anything from the other, and the connection holds a slot.
var errBothSeeds = errors.New("both sides have every piece: nothing to trade")

// checkBothSeeds ends the connection once the peer and we both have
// every piece. It also tells the peer list when the peer is a seed, so
// that a seeding session does not dial it again.
func (p *peerConn) checkBothSeeds() error {
	seed := p.pieces == p.s.meta.NumPieces()
	if seed && p.addr.IsValid() {
		p.s.peerList.setSeed(p.addr, true)
	}
	if seed && p.s.haveBytes == p.s.meta.Length {
		return fmt.Errorf("peer %s: %w", p.conn.RemoteAddr(), errBothSeeds)
	}
	return nil
}

// wantsFrom reports whether bf has a piece we still need.
func (p *peerConn) wantsFrom(bf *piece.Bitfield) bool {
	for i := bf.NextSet(0); i >= 0; i = bf.NextSet(i + 1) {
		if p.s.wants(i) {
			return true
		}
	}
	return false
}

func (p *peerConn) setInterested(on bool) {
	if p.amInterested == on {
		return
	}
	p.amInterested = on
	if on {
		p.lastBlock = p.s.loop.Now() // the snub clock starts now
		p.conn.Queue(peer.AppendInterested(nil))
	} else {
		p.conn.Queue(peer.AppendNotInterested(nil))
	}
	p.wake.Set()
}

// refill keeps the request pipeline full. A peer that chokes us is asked
// only for the pieces it allowed (BEP 6): libtorrent drops a peer that
// keeps requesting others while choked.
func (p *peerConn) refill() {
	s := p.s
	if !p.amInterested || p.peerChoking && len(p.fast.allowedIn) == 0 {
		return
	}
	out := s.picker.Requests(p.id)
	want := p.pipeline - out
	if want <= 0 {
		return
	}
	if out == 0 {
		p.reqSince = s.loop.Now()
	}
	if p.peerChoking {
		s.pickScratch = s.picker.PickFrom(p.id, want, p.fast.allowedIn, s.pickScratch[:0])
	} else {
		s.pickScratch = s.picker.Pick(p.id, want, s.pickScratch[:0])
	}
	for _, b := range s.pickScratch {
		s.frameScratch = peer.AppendRequest(s.frameScratch[:0], uint32(b.Piece), uint32(b.Begin), uint32(b.Length))
		p.conn.Queue(s.frameScratch)
	}
	if len(s.pickScratch) > 0 {
		p.wake.Set()
	}
	s.growBuffers()
}

// refillAll gives every peer a chance to pick after blocks went back to
// the pool or a piece slot freed up.
func (s *Session) refillAll() {
	for _, p := range s.peers {
		p.refill()
	}
	s.wakeWebSeeds()
}

// cancel tells the peer we no longer want b: another peer delivered it in
// endgame, and the picker has taken the request back.
func (p *peerConn) cancel(b piece.Block) {
	p.conn.Queue(peer.AppendCancel(nil, uint32(b.Piece), uint32(b.Begin), uint32(b.Length)))
	p.wake.Set()
}

// tick measures the peer's rates and adapts the pipeline to its upload
// to us: enough requests to cover about half a second of its transfer,
// like libtorrent's request queue.
func (p *peerConn) tick(d time.Duration, now time.Time) {
	st := p.conn.Stats()
	down := float64(st.Downloaded-p.lastDown) / d.Seconds()
	up := float64(st.Uploaded-p.lastUp) / d.Seconds()
	p.lastDown, p.lastUp = st.Downloaded, st.Uploaded
	p.downRate = 0.7*p.downRate + 0.3*down
	p.upRate = 0.7*p.upRate + 0.3*up
	p.pipeline = min(maxPipeline, max(minPipeline, int(p.downRate/2/piece.BlockSize)))
	if p.s.picker.Requests(p.id) > 0 && now.Sub(p.reqSince) >= requestTimeout {
		p.snub()
	}
	if p.snubbed {
		p.pipeline = 1
	}
	p.refill()
	if now.Sub(st.LastWrite) >= keepAlive && p.conn.Queued() == 0 {
		p.conn.Queue(peer.AppendKeepAlive(nil))
		p.wake.Set()
	}
}

// requestTimeout is how long a peer may leave our requests unanswered
// before they are given to other peers. Without it, a peer that unchokes
// us, takes requests and sends only keep-alives would hold its blocks (and
// the piece slots they are in) until endgame, which may never come.
var requestTimeout = 30 * time.Second

// snub takes back every request the peer is sitting on: the picker hands
// the blocks to other peers, the peer gets a CANCEL for each, and from now
// on one request at a time until it sends a block.
func (p *peerConn) snub() {
	s := p.s
	s.pickScratch = s.picker.CancelRequests(p.id, s.pickScratch[:0])
	s.client.cfg.Logf("peer %s: no block for %v: its %d requests are handed to other peers",
		p.conn.RemoteAddr(), requestTimeout, len(s.pickScratch))
	for _, b := range s.pickScratch {
		p.conn.Queue(peer.AppendCancel(nil, uint32(b.Piece), uint32(b.Begin), uint32(b.Length)))
	}
	p.snubbed, p.pipeline = true, 1
	p.wake.Set()
	s.refillAll()
}

// seenPeers counts the distinct peers (by peer id) that completed a
// handshake: a peer that reconnects, or whose second connection lost the
// one-connection rule, is one peer, as the summary says "from 2 peers".
// The set is made at the first peer (an idle torrent holds none) and
// stops growing at seenPeersMax; past it every new connection counts.
type seenPeers struct {
	ids   map[[20]byte]struct{}
	extra int
}

const seenPeersMax = 4096

func (sp *seenPeers) add(id [20]byte) {
	if sp.ids == nil {
		sp.ids = make(map[[20]byte]struct{})
	}
	if _, ok := sp.ids[id]; ok {
		return
	}
	if len(sp.ids) >= seenPeersMax {
		sp.extra++
		return
	}
	sp.ids[id] = struct{}{}
}

func (sp *seenPeers) count() int { return len(sp.ids) + sp.extra }
