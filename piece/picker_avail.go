package piece

import "fmt"

// This file keeps availability: the per-peer bitfields, the per-piece
// counts, and the buckets of waiting pieces ordered by them.

// PeerBitfield records a peer's BITFIELD (or, built with SetAll, a BEP 6
// HAVE ALL). A second bitfield from the same peer replaces the first.
func (p *Picker) PeerBitfield(peer PeerID, bf *Bitfield) error {
	if bf.Len() != p.numPieces {
		return fmt.Errorf("%w: bitfield of %d pieces, torrent has %d", ErrPeerInput, bf.Len(), p.numPieces)
	}
	ps := p.peer(peer)
	for i := ps.have.NextSet(0); i >= 0; i = ps.have.NextSet(i + 1) {
		p.changeAvail(i, -1)
	}
	ps.have = bf.Clone()
	for i := ps.have.NextSet(0); i >= 0; i = ps.have.NextSet(i + 1) {
		p.changeAvail(i, +1)
	}
	return nil
}

// PeerHave records a peer's HAVE. A repeated HAVE changes nothing.
func (p *Picker) PeerHave(peer PeerID, i int) error {
	if i < 0 || i >= p.numPieces {
		return fmt.Errorf("%w: HAVE for piece %d of %d", ErrPeerInput, i, p.numPieces)
	}
	ps := p.peer(peer)
	if !ps.have.Has(i) {
		ps.have.Set(i)
		p.changeAvail(i, +1)
	}
	return nil
}

// PeerGone forgets a peer: its requests go back to the pool and its pieces
// no longer count towards availability.
func (p *Picker) PeerGone(peer PeerID) {
	ps := p.peers[peer]
	if ps == nil {
		return
	}
	p.PeerChoked(peer)
	for i := ps.have.NextSet(0); i >= 0; i = ps.have.NextSet(i + 1) {
		p.changeAvail(i, -1)
	}
	delete(p.peers, peer)
}

// PeerHas reports whether the picker knows peer to have piece i.
func (p *Picker) PeerHas(peer PeerID, i int) bool {
	ps := p.peers[peer]
	return ps != nil && ps.have.Has(i)
}

// peer returns the state of peer, creating it on first use.
func (p *Picker) peer(peer PeerID) *peerState {
	ps := p.peers[peer]
	if ps == nil {
		ps = &peerState{have: NewBitfield(p.numPieces)}
		p.peers[peer] = ps
	}
	return ps
}

// changeAvail adds d to piece i's availability, moving it between buckets
// if it is waiting.
func (p *Picker) changeAvail(i int, d int32) {
	if !p.waiting.Has(i) {
		p.avail[i] += d
		return
	}
	p.removeWaiting(i)
	p.avail[i] += d
	p.addWaiting(i)
}

// addWaiting puts piece i in the bucket of its availability at a random
// slot (the inside-out Fisher-Yates step), so that a walk in slot order
// breaks ties at random.
func (p *Picker) addWaiting(i int) {
	a := int(p.avail[i])
	for len(p.buckets) <= a {
		p.buckets = append(p.buckets, nil)
	}
	b := append(p.buckets[a], int32(i))
	last := len(b) - 1
	if j := p.rng.IntN(last + 1); j != last {
		b[last] = b[j]
		p.pos[b[last]] = int32(last)
		b[j] = int32(i)
		last = j
	}
	p.pos[i] = int32(last)
	p.buckets[a] = b
	p.waiting.Set(i)
	p.lowBucket = min(p.lowBucket, a)
	p.seqWord = min(p.seqWord, i/64)
}

// removeWaiting takes piece i out of its bucket by moving the bucket's
// last piece into its slot.
func (p *Picker) removeWaiting(i int) {
	a := p.avail[i]
	b := p.buckets[a]
	k, last := p.pos[i], int32(len(b)-1)
	if k != last {
		b[k] = b[last]
		p.pos[b[k]] = k
	}
	b = b[:last]
	if cap(b) > 1024 && len(b) < cap(b)/4 {
		// Every piece passes through many buckets as peers arrive; without
		// this each bucket would keep the capacity of its busiest moment.
		b = append(make([]int32, 0, 2*len(b)), b...)
	}
	p.buckets[a] = b
	p.pos[i] = -1
	p.waiting.Clear(i)
}
