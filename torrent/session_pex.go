package torrent

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/aiotorrent/aiotorrent/peer"
)

// Peer exchange (BEP 11, ut_pex): every connected peer is told, at most
// once a minute, which peers we are connected to, and tells us the same;
// an address it gives goes to the peer list as fromPEX. A leecher told of
// one peer thus finds the seeder that peer knows. Private torrents (BEP
// 27) neither send nor take PEX: their peers come from the trackers only.
//
// The first message to a peer goes out with the first tick after its
// extension handshake, with the full list; later ones carry the changes
// (peer.PexState), never more often than pexInterval.

// PEX limits.
const (
	defaultPexInterval = time.Minute
	// pexWindow and maxPexInWindow: a peer sending more PEX than this is
	// abusive (libtorrent drops one at more than 6 in 60 s).
	pexWindow      = time.Minute
	maxPexInWindow = 6
)

// ourUTPexID is the extended message id we ask peers to send ut_pex
// messages under.
const ourUTPexID = 3

// pexState is one connection's PEX: the peer's id for ut_pex (0: it does
// not speak it), what it has been told, and when it last sent us one.
type pexState struct {
	theirID  uint8
	out      peer.PexState
	lastSent time.Time
	received []time.Time // its messages in the last pexWindow
}

// pexEnabled reports whether the torrent may use PEX.
func (s *Session) pexEnabled() bool { return !s.meta.Private }

// onPex takes a ut_pex message from p: its added peers go to the peer
// list. Too many messages, or a malformed one, end the connection.
func (s *Session) onPex(p *peerConn, payload []byte) error {
	if !s.pexEnabled() {
		return nil // we did not offer it; a peer that sends it anyway is ignored
	}
	now := s.loop.Now()
	px := &p.ext.pex
	kept := px.received[:0]
	for _, at := range px.received {
		if now.Sub(at) < pexWindow {
			kept = append(kept, at)
		}
	}
	px.received = append(kept, now)
	if len(px.received) > maxPexInWindow {
		return fmt.Errorf("peer %s: %d ut_pex messages in %v", p.conn.RemoteAddr(), len(px.received), pexWindow)
	}
	m, err := peer.ParsePexMsg(payload)
	if err != nil {
		return fmt.Errorf("peer %s: %w", p.conn.RemoteAddr(), err)
	}
	for i, addr := range m.Added {
		if !s.pexAddrAllowed(p, addr) {
			continue
		}
		s.learn(addr, fromPEX)
		if i < len(m.Flags) && m.Flags[i]&peer.PexSeed != 0 {
			s.peerList.setSeed(addr, true)
		}
		if i < len(m.Flags) && m.Flags[i]&peer.PexUTP != 0 && !s.peerList.busyOrTried(addr) {
			s.peerList.setUTP(addr, true)
		}
	}
	return nil
}

// pexAddrAllowed filters what a peer may hand us: a loopback or private
// address only from a peer that is itself on one (libtorrent's rule: a
// stranger on the internet cannot point us at our own LAN).
func (s *Session) pexAddrAllowed(from *peerConn, addr netip.AddrPort) bool {
	a := addr.Addr().Unmap()
	if !a.IsLoopback() && !a.IsPrivate() && !a.IsLinkLocalUnicast() {
		return true
	}
	src := from.conn.RemoteAddr().Addr().Unmap()
	return src.IsLoopback() || src.IsPrivate() || src.IsLinkLocalUnicast()
}

// sendPex queues a ut_pex message to every peer that speaks it and is due
// one (Session.tick calls it).
func (s *Session) sendPex(now time.Time) {
	if !s.pexEnabled() {
		return
	}
	var current map[netip.AddrPort]peer.PexFlags
	for _, p := range s.peers {
		px := &p.ext.pex
		if px.theirID == 0 || !px.lastSent.IsZero() && now.Sub(px.lastSent) < s.pexInterval {
			continue
		}
		if current == nil {
			current = s.pexPeers()
		}
		px.out.Peer = p.addr
		m, ok := px.out.Update(current)
		px.lastSent = now // a minute from now at the earliest, sent or not
		if !ok {
			continue
		}
		p.conn.Queue(peer.AppendPexMsg(nil, px.theirID, m))
		p.wake.Set()
	}
}

// pexPeers is what PEX tells about: every connected peer others could
// dial (we dialled it, or it gave its listen port), with its flags.
func (s *Session) pexPeers() map[netip.AddrPort]peer.PexFlags {
	out := make(map[netip.AddrPort]peer.PexFlags, len(s.peers))
	for _, p := range s.peers {
		if !p.addr.IsValid() {
			continue
		}
		var f peer.PexFlags
		if p.pieces == s.meta.NumPieces() {
			f |= peer.PexSeed
		}
		if p.outgoing {
			f |= peer.PexReachable
		}
		if p.encrypted || p.ext.prefersEncryption {
			f |= peer.PexEncryption
		}
		if p.utp {
			f |= peer.PexUTP
		}
		out[p.addr] = f
	}
	return out
}

// onTheirListenPort takes the listen port a peer gave in its extension
// handshake ("p"). For a peer that connected to us, its address plus that
// port is where it can be dialled: the peer list learns it (busy while
// this connection lasts) and PEX can pass it on. It reports false if that
// address is banned.
func (s *Session) onTheirListenPort(p *peerConn, port int) bool {
	if port <= 0 || p.outgoing || p.addr.IsValid() {
		return true
	}
	addr := netip.AddrPortFrom(p.conn.RemoteAddr().Addr().Unmap(), uint16(port))
	if !dialable(addr) || s.isSelf(addr) {
		return true
	}
	for _, q := range s.peers {
		if q != p && q.addr == addr {
			return true // a connection we dialled holds it
		}
	}
	if !s.peerList.connected(addr, fromIncoming) {
		return false
	}
	if p.utp {
		s.peerList.setUTP(addr, true) // it dialled us over uTP from there
	}
	p.addr = addr
	return true
}
