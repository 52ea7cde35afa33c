package torrent

import (
	"fmt"
	"slices"

	"github.com/aiotorrent/aiotorrent/peer"
	"github.com/aiotorrent/aiotorrent/piece"
)

// The Fast extension (BEP 6), used with every peer that sets its bit in
// the handshake, as we always do:
//
//   - We say what we have with HAVE_ALL or HAVE_NONE where they fit, and
//     must send one of them or a bitfield first.
//   - Every REQUEST is answered, with the block or a REJECT: when we
//     choke, the queued requests are rejected; a request beyond our queue
//     (reqq), while choked, or cancelled by the peer gets a REJECT. So a
//     fast peer's CHOKE does not void our requests either: we wait for
//     its REJECTs (the picker takes them as RequestRejected).
//   - Allowed fast: we send our set (BEP 6's algorithm over the peer's
//     IP) and serve those pieces while choking; a peer's ALLOWED_FAST
//     messages are obeyed, never predicted (libtorrent computes its sets
//     over the unmasked IP): while it chokes us we ask it only for those.
//   - SUGGEST PIECE is checked and ignored.

// Fast extension limits.
const (
	allowedFastK   = peer.AllowedFastK // the size of the set we send
	maxAllowedFast = 64                // ALLOWED_FAST entries we keep from a peer
)

// fastCounts counts the Fast extension's events in a session, for tests
// and traces: what was sent and received, and the blocks that came while
// their sender choked us (allowed fast pieces).
type fastCounts struct {
	haveAllIn, rejectsIn, allowedFastIn, blocksWhileChoked int
	haveAllOut, rejectsOut, allowedFastOut, servedChoked   int
}

// fastState is one connection's Fast extension state.
type fastState struct {
	on bool // both sides set the bit
	// announced: the peer's first availability message (bitfield,
	// HAVE_ALL, HAVE_NONE, HAVE) has arrived; HAVE_ALL and HAVE_NONE are
	// only valid before it.
	announced  bool
	allowedIn  []int    // pieces the peer lets us ask for while it chokes us
	allowedOut []uint32 // pieces we let it have while we choke it
}

// sayWhatWeHave queues our first message: HAVE_ALL or HAVE_NONE to a fast
// peer when they fit, else a bitfield (none at all when we have nothing
// and the peer is not fast, as BEP 3 allows); then our allowed fast set.
func (s *Session) sayWhatWeHave(p *peerConn) {
	bf := s.picker.Bitfield()
	switch n := bf.Count(); {
	case p.fast.on && n == bf.Len():
		p.conn.Queue(peer.AppendHaveAll(nil))
		s.fastCounts.haveAllOut++
	case p.fast.on && n == 0:
		p.conn.Queue(peer.AppendHaveNone(nil))
	case n > 0:
		p.conn.Queue(peer.AppendBitfield(nil, bf.Bytes()))
	}
	if p.fast.on {
		ip := p.conn.RemoteAddr().Addr()
		for _, i := range peer.AllowedFastSet(ip, s.meta.InfoHash, s.meta.NumPieces(), allowedFastK) {
			p.fast.allowedOut = append(p.fast.allowedOut, i)
			p.conn.Queue(peer.AppendAllowedFast(nil, i))
			s.fastCounts.allowedFastOut++
		}
	}
	p.wake.Set()
}

// allowedWhileChoked reports whether we serve a request for piece i to p
// although we choke it (its allowed fast set).
func (p *peerConn) allowedWhileChoked(i uint32) bool {
	return p.fast.on && slices.Contains(p.fast.allowedOut, i)
}

// reject answers a request of a fast peer's that we will not serve.
// Without the extension there is no answer: the request is dropped, and
// the peer asks again after its own timeout.
func (p *peerConn) reject(m peer.Message) {
	if !p.fast.on {
		return
	}
	p.conn.Queue(peer.AppendReject(nil, m.Index, m.Begin, m.Length))
	p.wake.Set()
	p.s.fastCounts.rejectsOut++
}

// onFast handles the Fast extension's messages from p.
func (p *peerConn) onFast(m peer.Message) error {
	s := p.s
	if !p.fast.on {
		return fmt.Errorf("peer %s: %v without the fast extension", p.conn.RemoteAddr(), m.ID)
	}
	n := s.meta.NumPieces()
	switch m.ID {
	case peer.HaveAll, peer.HaveNone:
		if p.fast.announced {
			return fmt.Errorf("peer %s: %v after it said what it has", p.conn.RemoteAddr(), m.ID)
		}
		bf := piece.NewBitfield(n)
		if m.ID == peer.HaveAll {
			bf.SetAll()
			s.fastCounts.haveAllIn++
		}
		return p.onAvailability(bf)
	case peer.Reject:
		b := piece.Block{Piece: int(m.Index), Begin: int(m.Begin), Length: int(m.Length)}
		if !s.picker.RequestRejected(p.id, b) {
			return fmt.Errorf("peer %s: rejected %d:%d+%d, which we never requested", p.conn.RemoteAddr(), m.Index, m.Begin, m.Length)
		}
		s.fastCounts.rejectsIn++
		// The block is back in the pool; it is asked again at the next
		// tick, of whoever has room, rather than at once of a peer that
		// has just refused it.
	case peer.AllowedFast:
		if int(m.Index) >= n {
			return fmt.Errorf("peer %s: allowed fast piece %d of %d", p.conn.RemoteAddr(), m.Index, n)
		}
		if len(p.fast.allowedIn) < maxAllowedFast && !slices.Contains(p.fast.allowedIn, int(m.Index)) {
			p.fast.allowedIn = append(p.fast.allowedIn, int(m.Index))
		}
		s.fastCounts.allowedFastIn++
		if s.wants(int(m.Index)) && s.picker.PeerHas(p.id, int(m.Index)) {
			p.setInterested(true)
		}
		p.refill()
	case peer.Suggest:
		if int(m.Index) >= n {
			return fmt.Errorf("peer %s: suggested piece %d of %d", p.conn.RemoteAddr(), m.Index, n)
		}
	}
	return nil
}

// onAvailability takes a peer's whole availability (a bitfield, HAVE_ALL,
// HAVE_NONE): the picker learns it, we say whether we are interested.
func (p *peerConn) onAvailability(bf *piece.Bitfield) error {
	p.fast.announced = true
	if err := p.s.picker.PeerBitfield(p.id, bf); err != nil {
		return err
	}
	p.pieces = bf.Count()
	p.setInterested(p.wantsFrom(bf))
	p.refill() // it may have unchoked us already, or allowed pieces
	return p.checkBothSeeds()
}
