package piece

import "slices"

// This file follows requests and pieces in progress: blocks arriving,
// requests dropped, pieces verified or failed.

// Arrival is what BlockReceived makes of a block. A block neither Wanted
// nor Late was never asked of the peer (or so long ago that the picker
// forgot: see maxVoided), or is not one of the torrent's blocks at all: a
// protocol violation.
type Arrival struct {
	// Wanted is true when the block was outstanding from the peer: store
	// it. Only requested blocks are taken, so that a peer cannot push data
	// into pieces in progress.
	Wanted bool
	// Late is true when the block had been requested from the peer and
	// the request was taken back (a CANCEL we sent, a CHOKE, a timeout,
	// another peer's copy arriving first, its piece ending): the peer may
	// have sent it before it knew. Drop it; the peer did nothing wrong.
	Late bool
	// PieceDone is true when this block completed its piece: every block
	// is in, and the piece is ready to hash.
	PieceDone bool
	// Cancel lists the other peers the block was requested from; send each
	// of them a CANCEL.
	Cancel []PeerID
}

// BlockReceived records a PIECE message's block from peer and says what
// it was: requested, late or neither (see Arrival).
func (p *Picker) BlockReceived(peer PeerID, b Block) Arrival {
	ps := p.peers[peer]
	if ps == nil {
		return Arrival{}
	}
	if !ps.dropRequest(b) {
		return Arrival{Late: ps.voided.take(b)}
	}
	// Outstanding, so (Invariant) its piece is in progress and the block
	// not yet received: receiving one clears its requests.
	k, _ := p.blockIndex(b)
	ap := p.activeOf[b.Piece]
	bs := &ap.blocks[k]
	bs.received = true
	ap.received++
	var cancel []PeerID
	for _, q := range bs.peers {
		if q != peer {
			p.peers[q].dropRequest(b)
			p.peers[q].voided.add(b)
			cancel = append(cancel, q)
		}
	}
	bs.peers = bs.peers[:0]
	return Arrival{Wanted: true, PieceDone: ap.received == len(ap.blocks), Cancel: cancel}
}

// RequestCanceled returns a request from peer to the pool: we sent CANCEL,
// the peer sent REJECT (BEP 6), or the request timed out.
func (p *Picker) RequestCanceled(peer PeerID, b Block) {
	ps := p.peers[peer]
	k, ok := p.blockIndex(b)
	if ps == nil || !ok || !ps.dropRequest(b) {
		return
	}
	ps.voided.add(b)
	if ap := p.activeOf[b.Piece]; ap != nil {
		p.unrequest(ap, k, peer)
	}
}

// PeerChoked returns all of peer's outstanding requests to the pool. Call
// it on CHOKE from a peer without the fast extension; with it, the peer
// REJECTs what it will not serve and RequestCanceled is the event.
func (p *Picker) PeerChoked(peer PeerID) {
	if ps := p.peers[peer]; ps != nil {
		ps.requests = p.takeBack(peer, ps)[:0]
	}
}

// CancelRequests takes back every request outstanding from peer, as
// RequestCanceled does one, and appends them to dst (to send CANCEL for
// each, when the peer timed out).
func (p *Picker) CancelRequests(peer PeerID, dst []Block) []Block {
	ps := p.peers[peer]
	if ps == nil {
		return dst
	}
	reqs := p.takeBack(peer, ps)
	dst = append(dst, reqs...)
	ps.requests = reqs[:0]
	return dst
}

// takeBack voids every request outstanding from peer and returns them;
// the caller gives the slice back to ps.requests, emptied.
func (p *Picker) takeBack(peer PeerID, ps *peerState) []Block {
	reqs := ps.requests
	ps.requests = nil // unrequest must not find them
	for _, b := range reqs {
		ps.voided.add(b)
		k, _ := p.blockIndex(b)
		if ap := p.activeOf[b.Piece]; ap != nil {
			p.unrequest(ap, k, peer)
		}
	}
	return reqs
}

// Requests returns how many requests peer has outstanding.
func (p *Picker) Requests(peer PeerID) int {
	if ps := p.peers[peer]; ps != nil {
		return len(ps.requests)
	}
	return 0
}

// unrequest removes peer from block k's requesters. A block left with none
// is free again; a piece left with no data and no requests stops being in
// progress, so that MaxActivePieces cannot be held by abandoned pieces.
func (p *Picker) unrequest(ap *activePiece, k int, peer PeerID) {
	bs := &ap.blocks[k]
	i := slices.Index(bs.peers, peer)
	if i < 0 {
		return
	}
	bs.peers = slices.Delete(bs.peers, i, i+1)
	if len(bs.peers) > 0 || bs.received {
		return
	}
	ap.free++
	p.free++
	ap.firstFree = min(ap.firstFree, k)
	if ap.received == 0 && ap.free == len(ap.blocks) {
		p.deactivate(ap)
		p.addWaiting(ap.index)
	}
}

// dropRequest forgets an outstanding request, reporting whether it was one.
func (ps *peerState) dropRequest(b Block) bool {
	for i, r := range ps.requests {
		if r == b {
			last := len(ps.requests) - 1
			ps.requests[i] = ps.requests[last]
			ps.requests = ps.requests[:last]
			return true
		}
	}
	return false
}

// PieceVerified marks piece i as had: its hash matched and it is on disk.
// It also loads resume data: call it for each piece Check found.
// Requests still out for the piece are voided (a late answer is dropped
// quietly); the session has sent the CANCELs BlockReceived asked for.
func (p *Picker) PieceVerified(i int) {
	if i < 0 || i >= p.numPieces || p.have.Has(i) {
		return
	}
	if ap := p.activeOf[i]; ap != nil {
		p.deactivate(ap)
	} else if p.waiting.Has(i) {
		p.removeWaiting(i)
	}
	p.have.Set(i)
	if p.wanted.Has(i) {
		p.wantedLeft--
	}
}

// PieceFailed puts piece i back to be downloaded again from scratch: its
// hash did not match.
func (p *Picker) PieceFailed(i int) {
	if i < 0 || i >= p.numPieces || p.have.Has(i) {
		return
	}
	ap := p.activeOf[i]
	if ap == nil {
		return
	}
	p.deactivate(ap)
	if p.wanted.Has(i) {
		p.addWaiting(i)
	}
}

// deactivate takes ap out of progress and forgets its requests.
func (p *Picker) deactivate(ap *activePiece) {
	for k := range ap.blocks {
		bs := &ap.blocks[k]
		if len(bs.peers) == 0 {
			continue
		}
		b := p.block(ap.index, k)
		for _, q := range bs.peers {
			p.peers[q].dropRequest(b)
			p.peers[q].voided.add(b) // it may still answer
		}
	}
	p.free -= ap.free
	p.activeOf[ap.index] = nil
	p.active = slices.DeleteFunc(p.active, func(x *activePiece) bool { return x == ap })
	if len(p.spare) < maxSpare {
		p.spare = append(p.spare, ap)
	}
}
