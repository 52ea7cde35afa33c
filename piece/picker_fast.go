package piece

// The Fast extension (BEP 6) as the picker sees it. A peer that speaks it
// answers every request, with the block or a REJECT, so a REJECT is one
// more way a request ends; and a peer that chokes us may still serve the
// pieces of its allowed fast set, so we may ask it for those, and only
// those, while choked.

// RequestRejected records the peer's REJECT of b and reports whether the
// REJECT answers a request of ours: one outstanding (it goes back to the
// pool, like RequestCanceled), or one we had already taken back (a
// CANCEL, a timeout: BEP 6 has the peer answer those with a REJECT too).
// A REJECT of anything else answers nothing we asked: the caller decides
// what that says about the peer.
func (p *Picker) RequestRejected(peer PeerID, b Block) bool {
	ps := p.peers[peer]
	k, ok := p.blockIndex(b)
	if ps == nil || !ok {
		return false
	}
	if !ps.dropRequest(b) {
		return ps.voided.take(b)
	}
	if ap := p.activeOf[b.Piece]; ap != nil {
		p.unrequest(ap, k, peer)
	}
	return true
}

// PickFrom is Pick limited to the given pieces, in their order: what may
// be asked of a peer that chokes us but has allowed these (its allowed
// fast set). Pieces the peer lacks, we have, or do not want are skipped;
// one not yet in progress is started if MaxActivePieces allows.
func (p *Picker) PickFrom(peer PeerID, max int, pieces []int, dst []Block) []Block {
	ps := p.peers[peer]
	if ps == nil || max <= 0 {
		return dst
	}
	limit := len(dst) + max
	for _, i := range pieces {
		if len(dst) == limit {
			break
		}
		if i < 0 || i >= p.numPieces || !ps.have.Has(i) {
			continue
		}
		ap := p.activeOf[i]
		if ap == nil {
			if !p.waiting.Has(i) || p.maxActive != 0 && len(p.active) >= p.maxActive {
				continue
			}
			ap = p.activate(i)
		}
		if ap.free > 0 {
			dst = p.requestFree(peer, ps, ap, dst, limit)
		}
	}
	return dst
}
