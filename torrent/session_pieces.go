package torrent

import (
	"crypto/sha1"
	"errors"
	"fmt"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/peer"
	"github.com/aiotorrent/aiotorrent/piece"
)

// pieceBuf is a piece being downloaded: its bytes, and who sent each block
// (to find the liar if the hash fails).
type pieceBuf struct {
	data []byte
	from []piece.PeerID // per block
}

// blockRecord remembers one block of a piece that failed its hash: who
// sent it and the SHA-1 of what they sent. When the piece later passes,
// every record whose hash differs from the good block is evidence against
// its sender (libtorrent calls this smart ban).
type blockRecord struct {
	peer   piece.PeerID
	peerID [20]byte
	addr   string
	block  int
	sum    [20]byte
}

// Piece buffers. Every piece being downloaded, hashed or written holds a
// buffer of PieceLength bytes. Making one zero-fills it, which for large
// pieces is milliseconds the loop thread must not spend, so buffers are
// allocated on the executor, one at a time as the pieces in progress catch
// up with them (growBuffers), and reused from s.pool afterwards. The
// picker may have no more pieces in progress than there are buffers
// (SetMaxActivePieces), so a piece's first block always finds one.

// firstBuffer allocates the first piece buffer before any peer runs.
func (s *Session) firstBuffer(t *aio.Task) error {
	buf, err := aio.Blocking(t, s.newBuffer)
	if err != nil {
		return fmt.Errorf("piece buffer: %w", err)
	}
	s.addBuffer(buf)
	return nil
}

// growBuffers allocates one more piece buffer, on the executor, when every
// buffer is spoken for and the in-flight budget allows another.
func (s *Session) growBuffers() {
	if !s.wantsBuffer() {
		return
	}
	s.growing = true
	s.group.Go("piece buffer", func(t *aio.Task) error {
		defer func() { s.growing = false }()
		buf, err := aio.Blocking(t, s.newBuffer)
		if err != nil {
			return err // cancelled: the session is ending
		}
		s.addBuffer(buf)
		s.refillAll() // one more piece may start
		return nil
	})
}

// wantsBuffer reports whether to allocate another piece buffer: none is
// being allocated, every one is spoken for, and the budget allows one more.
func (s *Session) wantsBuffer() bool {
	return !s.growing && s.picker.ActivePieces() >= s.bufs && s.bufs < s.maxBufs
}

// inFlightBytes is the memory held by piece buffers, in use or spare.
func (s *Session) inFlightBytes() int64 { return int64(s.bufs) * s.meta.PieceLength }

// newBuffer makes a piece buffer; it runs on the executor.
func (s *Session) newBuffer() ([]byte, error) { return make([]byte, 0, s.meta.PieceLength), nil }

func (s *Session) addBuffer(buf []byte) {
	s.pool = append(s.pool, buf)
	s.bufs++
	s.picker.SetMaxActivePieces(s.bufs)
}

func (s *Session) pieceBuf(i int) *pieceBuf {
	if b := s.pieces[i]; b != nil {
		return b
	}
	size := s.picker.PieceSize(i)
	var data []byte
	if n := len(s.pool); n > 0 {
		data, s.pool = s.pool[n-1][:size], s.pool[:n-1]
	} else {
		// Not reached while pieces in progress ≤ buffers (see above);
		// should that ever break, a zero-fill here beats a lost block.
		data = make([]byte, size, s.meta.PieceLength)
		s.bufs++
	}
	b := &pieceBuf{data: data, from: make([]piece.PeerID, (size+piece.BlockSize-1)/piece.BlockSize)}
	s.pieces[i] = b
	aio.TraceCounter(s.loop, s.traceNames[0], float64(len(s.pieces)))
	return b
}

func (s *Session) releaseBuf(i int) {
	if b := s.pieces[i]; b != nil {
		delete(s.pieces, i)
		s.pool = append(s.pool, b.data[:0])
		aio.TraceCounter(s.loop, s.traceNames[0], float64(len(s.pieces)))
	}
}

// onBlock stores a PIECE message's block, as the picker judges it. A late
// block (its request taken back by a CANCEL, a CHOKE or a timeout) is
// dropped quietly; a block never asked of this peer is a protocol
// violation that ends the connection, with the reason logged. Both count
// as wasted bytes.
//
// There is no allowance for "a few" unrequested blocks: that existed while
// the session kept its own copy of the requests, which lost track of some
// (a request answered twice across a choke and a re-request). The picker
// is now the one record, and it remembers requests voided by a choke or a
// CANCEL (piece.maxVoided of them per peer), so every block an honest
// peer can send is either requested or late.
func (p *peerConn) onBlock(m peer.Message) error {
	s := p.s
	b := piece.Block{Piece: int(m.Index), Begin: int(m.Begin), Length: len(m.Payload)}
	arr := s.picker.BlockReceived(p.id, b)
	if !arr.Wanted {
		s.wasted += int64(b.Length)
		if arr.Late {
			return nil
		}
		return fmt.Errorf("peer %s: sent block %v, which we never requested from it", p.conn.RemoteAddr(), b)
	}
	p.reqSince, p.snubbed = s.loop.Now(), false
	s.downloaded += int64(b.Length)
	if p.peerChoking {
		s.fastCounts.blocksWhileChoked++ // an allowed fast piece (BEP 6)
	}
	for _, other := range arr.Cancel {
		if o := s.peers[other]; o != nil {
			o.cancel(b)
		}
	}
	buf := s.pieceBuf(b.Piece)
	copy(buf.data[b.Begin:], m.Payload)
	buf.from[b.Begin/piece.BlockSize] = p.id
	if arr.PieceDone {
		s.verify(b.Piece)
	}
	p.refill()
	return nil
}

// verdict is what the executor found of a complete piece.
type verdict struct {
	ok bool
	// sums holds the SHA-1 of each block, for smart ban: computed when the
	// piece failed, or passed after failing before (it has suspects).
	sums [][20]byte
}

// verify hashes a complete piece and writes it, both on the executor, as
// are the per-block hashes smart ban compares: the loop thread hashes
// nothing. Only a verified piece reaches the disk.
func (s *Session) verify(i int) {
	buf := s.pieces[i]
	want := s.meta.Pieces[i]
	suspects := len(s.suspect[i]) > 0
	s.group.Go(fmt.Sprintf("verify piece %d", i), func(t *aio.Task) error {
		// Shielded: a check under way when the session is cancelled still
		// finishes and its piece is kept (and a cancel is no disk error).
		// The job is bounded, so the shield needs no deadline of its own.
		if s.onVerify != nil {
			s.onVerify(i)
		}
		var v verdict
		err := aio.Shield(t, 0, func(t *aio.Task) error {
			var err error
			v, err = aio.Blocking(t, func() (verdict, error) {
				var v verdict
				v.ok = sha1.Sum(buf.data) == want
				if !v.ok || suspects {
					v.sums = blockSums(buf.data)
				}
				if !v.ok {
					return v, nil
				}
				return v, s.writePiece(i, buf.data)
			})
			return err
		})
		if isResourceError(err) {
			// A full disk, say: the piece is good; keep it and write it
			// again after the back-off (session_resource.go).
			err = s.retryAfter(t, fmt.Sprintf("write piece %d", i), err, func(t *aio.Task) error {
				return aio.Shield(t, 0, func(t *aio.Task) error {
					_, err := aio.Blocking(t, func() (struct{}, error) { return struct{}{}, s.writePiece(i, buf.data) })
					return err
				})
			})
		}
		if errors.Is(err, aio.ErrCanceled) || errors.Is(err, aio.ErrClosed) {
			return err // the loop is closing under us: the job may still be reading buf
		}
		if err != nil {
			s.fail(fmt.Errorf("piece %d: %w", i, err))
			return nil
		}
		if v.ok {
			s.pieceVerified(i, v.sums)
		} else {
			s.pieceFailed(i, buf, v.sums)
		}
		s.releaseBuf(i)
		s.refillAll() // a piece slot is free again
		return nil
	})
}

// writePiece writes a verified piece; it runs on the executor.
func (s *Session) writePiece(i int, data []byte) error {
	if s.writeHook != nil {
		return s.writeHook(i, data)
	}
	return s.storage.WritePiece(i, data)
}

func (s *Session) pieceVerified(i int, sums [][20]byte) {
	s.picker.PieceVerified(i)
	s.countVerified(i)
	aio.TraceCounter(s.loop, s.traceNames[1], float64(s.verified)/(1<<20))
	s.cache.invalidate(i, s.picker.PieceSize(i))
	if records := s.suspect[i]; records != nil {
		delete(s.suspect, i)
		for _, r := range records {
			if sums[r.block] != r.sum {
				s.ban(r.peer, r.peerID, r.addr, fmt.Sprintf("sent bad data for piece %d", i))
			}
		}
	}
	have := peer.AppendHave(nil, uint32(i))
	for _, p := range s.peers {
		p.conn.Queue(have)
		p.wake.Set()
	}
	if s.picker.Complete() {
		s.onComplete()
	}
}

// countSenders is how many peers (or web seeds) sent a piece's blocks.
func countSenders(from []piece.PeerID) int {
	seen := map[piece.PeerID]bool{}
	for _, id := range from {
		seen[id] = true
	}
	return len(seen)
}

// pieceFailed puts the piece back to be downloaded again. Its senders are
// not struck yet: with several contributors, one liar would ban honest
// seeders too. Each block's hash is kept until the piece passes, and that
// comparison names the liar. A piece that came entirely from one peer
// names it at once.
func (s *Session) pieceFailed(i int, buf *pieceBuf, sums [][20]byte) {
	s.failed++
	s.picker.PieceFailed(i)
	who := "1 sender"
	if n := countSenders(buf.from); n != 1 {
		who = fmt.Sprintf("%d senders", n)
	}
	s.client.cfg.Logf("%s: piece %d failed its hash check (%s); downloading it again", s.meta.Name, i, who)
	s.strikeWebSeed(i, buf.from)
	senders := map[piece.PeerID]bool{}
	for blk, id := range buf.from {
		senders[id] = true
		p := s.peers[id]
		if p == nil {
			continue
		}
		s.suspect[i] = append(s.suspect[i], blockRecord{
			peer: id, peerID: p.peerID, addr: p.conn.RemoteAddr().String(), block: blk,
			sum: sums[blk],
		})
	}
	if len(senders) == 1 {
		for id := range senders {
			if p := s.peers[id]; p != nil {
				s.ban(id, p.peerID, p.conn.RemoteAddr().String(), fmt.Sprintf("sent piece %d, which failed its hash", i))
			}
		}
	}
}

// blockSums hashes each block of a piece; it runs on the executor.
func blockSums(data []byte) [][20]byte {
	sums := make([][20]byte, 0, (len(data)+piece.BlockSize-1)/piece.BlockSize)
	for begin := 0; begin < len(data); begin += piece.BlockSize {
		sums = append(sums, sha1.Sum(data[begin:min(len(data), begin+piece.BlockSize)]))
	}
	return sums
}

// ban disconnects a peer that sent bad data and refuses it from now on
// (by its address and its peer id).
func (s *Session) ban(id piece.PeerID, peerID [20]byte, addr, why string) {
	if s.bannedIDs[peerID] {
		return
	}
	s.bannedIDs[peerID] = true
	if p := s.peers[id]; p != nil {
		if p.addr.IsValid() {
			s.peerList.ban(p.addr)
		}
		p.conn.Close() // its tasks see ErrClosed and end
	}
	s.client.cfg.Logf("banned peer %s: %s", addr, why)
}

// trimVerified cuts the files that run past their length whose last piece
// the resume check found good (piece/trim.go); pieces written from then on
// are cut by WritePiece. It runs on the executor.
func (s *Session) trimVerified(t *aio.Task, have *piece.Bitfield) error {
	cut, err := aio.Blocking(t, func() ([]piece.Oversize, error) { return s.storage.TrimVerified(have) })
	if err != nil {
		return fmt.Errorf("check existing data: %w", err)
	}
	for _, o := range cut {
		s.client.cfg.Logf("%s: cut %v", s.meta.Name, o)
	}
	return nil
}
