package piece

// Web seeds (BEP 19) fetch whole pieces over HTTP, one range request per
// file slice, instead of 16 KiB blocks from a pipeline. To the picker such
// a source is a peer with every piece (register it with PeerBitfield and
// a full bitfield) that asks for a piece at a time: PickPiece starts a
// waiting piece and records all its blocks as requested from it. From
// then on the piece is like any other in progress: BlockReceived takes its
// blocks, PeerChoked or CancelRequests give them back if the fetch fails,
// PieceVerified and PieceFailed end it, so the session's verify path is
// the same for both kinds of source.
//
// Only waiting pieces are started, so a web seed never takes a piece that
// peers are already fetching; peers, in turn, see its blocks as requested
// and ask for them only in endgame, as duplicates, when whichever copy
// arrives first wins and the other is Late.

// PickPiece starts a new piece for peer, a source that fetches pieces
// whole, and returns its index, or -1 when there is none to start: peer is
// unknown or has no waiting piece, or MaxActivePieces are in progress.
// The choice follows the same order as Pick's new pieces (sequential,
// random first, rarest first).
func (p *Picker) PickPiece(peer PeerID) int {
	ps := p.peers[peer]
	if ps == nil || p.maxActive > 0 && len(p.active) >= p.maxActive {
		return -1
	}
	i := p.choose(ps)
	if i < 0 {
		return -1
	}
	ap := p.activate(i)
	for k := range ap.blocks {
		ap.blocks[k].peers = append(ap.blocks[k].peers, peer)
		ps.requests = append(ps.requests, p.block(i, k))
	}
	p.free -= ap.free
	ap.free, ap.firstFree = 0, len(ap.blocks)
	return i
}

// PieceBlocks appends the blocks of piece i to dst.
func (p *Picker) PieceBlocks(i int, dst []Block) []Block {
	if i < 0 || i >= p.numPieces {
		return dst
	}
	for k := range p.numBlocks(i) {
		dst = append(dst, p.block(i, k))
	}
	return dst
}
