package piece

import "math/bits"

// Pick appends to dst up to max new block requests for peer and returns
// the extended slice. The blocks are recorded as requested from peer until
// BlockReceived, RequestCanceled, PeerChoked or PeerGone says otherwise.
// The factors it weighs are listed at the top of picker.go.
func (p *Picker) Pick(peer PeerID, max int, dst []Block) []Block {
	ps := p.peers[peer]
	if ps == nil || max <= 0 {
		return dst
	}
	limit := len(dst) + max
	for _, ap := range p.active {
		if len(dst) == limit {
			return dst
		}
		if ap.free > 0 && ps.have.Has(ap.index) {
			dst = p.requestFree(peer, ps, ap, dst, limit)
		}
	}
	for len(dst) < limit && (p.maxActive == 0 || len(p.active) < p.maxActive) {
		i := p.choose(ps)
		if i < 0 {
			break
		}
		dst = p.requestFree(peer, ps, p.activate(i), dst, limit)
	}
	if len(dst) < limit && p.Endgame() {
		dst = p.requestDuplicates(peer, ps, dst, limit)
	}
	return dst
}

// requestFree requests ap's unrequested blocks from peer, in order.
func (p *Picker) requestFree(peer PeerID, ps *peerState, ap *activePiece, dst []Block, limit int) []Block {
	for k := ap.firstFree; k < len(ap.blocks) && ap.free > 0 && len(dst) < limit; k++ {
		ap.firstFree = k + 1
		bs := &ap.blocks[k]
		if bs.received || len(bs.peers) > 0 {
			continue
		}
		dst = p.addRequest(peer, ps, ap, k, dst)
		ap.free--
		p.free--
	}
	return dst
}

// requestDuplicates is endgame: ask peer for blocks still outstanding from
// other peers, in pieces it has, never twice from the same peer.
func (p *Picker) requestDuplicates(peer PeerID, ps *peerState, dst []Block, limit int) []Block {
	for _, ap := range p.active {
		if !ps.have.Has(ap.index) {
			continue
		}
		for k := range ap.blocks {
			if len(dst) == limit {
				return dst
			}
			bs := &ap.blocks[k]
			if !bs.received && !containsPeer(bs.peers, peer) {
				dst = p.addRequest(peer, ps, ap, k, dst)
			}
		}
	}
	return dst
}

func (p *Picker) addRequest(peer PeerID, ps *peerState, ap *activePiece, k int, dst []Block) []Block {
	b := p.block(ap.index, k)
	ap.blocks[k].peers = append(ap.blocks[k].peers, peer)
	ps.requests = append(ps.requests, b)
	return append(dst, b)
}

func containsPeer(ps []PeerID, peer PeerID) bool {
	for _, q := range ps {
		if q == peer {
			return true
		}
	}
	return false
}

// activate moves waiting piece i into progress.
func (p *Picker) activate(i int) *activePiece {
	p.removeWaiting(i)
	n := p.numBlocks(i)
	ap := p.newActive(n)
	ap.index, ap.free = i, n
	p.active = append(p.active, ap)
	p.activeOf[i] = ap
	p.free += n
	return ap
}

// maxSpare bounds the retired activePieces kept for reuse: enough for the
// pieces one busy moment starts, without holding memory for long.
const maxSpare = 64

// newActive returns a clean activePiece with n blocks, reusing a retired
// one and its blocks' request slices so that steady picking does not
// allocate.
func (p *Picker) newActive(n int) *activePiece {
	k := len(p.spare)
	if k == 0 {
		return &activePiece{blocks: make([]blockState, n)}
	}
	ap := p.spare[k-1]
	p.spare[k-1] = nil
	p.spare = p.spare[:k-1]
	if cap(ap.blocks) < n {
		ap.blocks = make([]blockState, n)
	}
	ap.blocks = ap.blocks[:n]
	for j := range ap.blocks {
		ap.blocks[j] = blockState{peers: ap.blocks[j].peers[:0]}
	}
	ap.received, ap.firstFree = 0, 0
	return ap
}

// choose returns the waiting piece to start for a peer, or -1 if the peer
// has none of them.
func (p *Picker) choose(ps *peerState) int {
	if p.waiting.Count() == 0 || ps.have.Count() == 0 {
		return -1
	}
	switch {
	case p.sequential:
		return p.firstCommon(ps)
	case p.have.Count() < p.randomFirst:
		return p.nextCommon(ps, p.rng.IntN(p.numPieces), -1)
	default:
		return p.rarest(ps)
	}
}

// firstCommon returns the lowest waiting piece the peer has.
func (p *Picker) firstCommon(ps *peerState) int {
	ww, hw := p.waiting.words, ps.have.words
	for p.seqWord < len(ww) && ww[p.seqWord] == 0 {
		p.seqWord++
	}
	for k := p.seqWord; k < len(ww); k++ {
		if w := ww[k] & hw[k]; w != 0 {
			return k*64 + bits.LeadingZeros64(w)
		}
	}
	return -1
}

// rarest walks the availability buckets from the rarest, in their random
// order, and returns the first piece the peer has. A peer with few waiting
// pieces could make that walk long, so after about one step per bitfield
// word it hands over to nextCommon, which is told the bucket reached: every
// rarer bucket has been walked and holds nothing for this peer.
func (p *Picker) rarest(ps *peerState) int {
	for p.lowBucket < len(p.buckets) && len(p.buckets[p.lowBucket]) == 0 {
		p.lowBucket++
	}
	budget := len(p.waiting.words) + 16
	for a := max(p.lowBucket, 1); a < len(p.buckets); a++ {
		for _, i := range p.buckets[a] {
			if ps.have.Has(int(i)) {
				return int(i)
			}
			if budget--; budget == 0 {
				return p.nextCommon(ps, p.rng.IntN(p.numPieces), a)
			}
		}
	}
	return -1
}

// nextCommon scans (waiting AND peer has) a word at a time, from piece
// start round to just before it. With floor < 0 it returns the first piece
// found; otherwise the least available one, stopping early at one whose
// availability is floor, the least possible.
func (p *Picker) nextCommon(ps *peerState, start, floor int) int {
	ww, hw := p.waiting.words, ps.have.words
	best, bestAvail := -1, int32(0)
	first := start / 64
	head := ^uint64(0) >> (uint(start) % 64) // bits at or after start in its word
	for n := 0; n <= len(ww); n++ {
		k := (first + n) % len(ww)
		w := ww[k] & hw[k]
		switch n {
		case 0:
			w &= head
		case len(ww):
			w &^= head // the wrap-around: the bits before start
		}
		for w != 0 {
			z := bits.LeadingZeros64(w)
			w &^= 1 << (63 - uint(z))
			i := k*64 + z
			if floor < 0 || int(p.avail[i]) <= floor {
				return i
			}
			if best < 0 || p.avail[i] < bestAvail {
				best, bestAvail = i, p.avail[i]
			}
		}
	}
	return best
}
