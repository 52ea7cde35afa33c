package torrent

import (
	"crypto/sha1"
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

func (s *Session) pieceBuf(i int) *pieceBuf {
	if b := s.pieces[i]; b != nil {
		return b
	}
	size := s.picker.PieceSize(i)
	var data []byte
	if n := len(s.pool); n > 0 {
		data, s.pool = s.pool[n-1][:size], s.pool[:n-1]
	} else {
		data = make([]byte, size, s.meta.PieceLength)
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

// onBlock stores a PIECE message's block. A block we never asked for is a
// protocol violation; one we cancelled (endgame) is dropped quietly.
// maxUnrequested is how many blocks a peer may send us unasked before it
// is dropped.
const maxUnrequested = 16

func (p *peerConn) onBlock(m peer.Message) error {
	s := p.s
	b := piece.Block{Piece: int(m.Index), Begin: int(m.Begin), Length: len(m.Payload)}
	if _, ok := p.requested[b]; !ok {
		if _, ok := p.cancelled[b]; ok {
			delete(p.cancelled, b)
			return nil
		}
		// A few can be races we do not track (a request answered twice
		// across a choke and a re-request); many are a peer pushing data
		// at us.
		if p.unrequested++; p.unrequested > maxUnrequested {
			return fmt.Errorf("sent %d blocks we did not request (the last %v)", p.unrequested, b)
		}
		return nil
	}
	delete(p.requested, b)
	p.reqSince, p.snubbed = s.loop.Now(), false
	s.downloaded += int64(b.Length)
	arr := s.picker.BlockReceived(p.id, b)
	for _, other := range arr.Cancel {
		if o := s.peers[other]; o != nil {
			o.cancel(b)
		}
	}
	if arr.Wanted {
		buf := s.pieceBuf(b.Piece)
		copy(buf.data[b.Begin:], m.Payload)
		buf.from[b.Begin/piece.BlockSize] = p.id
	}
	if arr.PieceDone {
		s.verify(b.Piece)
	}
	p.refill()
	return nil
}

// verify hashes a complete piece and writes it, both on the executor: the
// loop thread never does either. Only a verified piece reaches the disk.
func (s *Session) verify(i int) {
	buf := s.pieces[i]
	want := s.meta.Pieces[i]
	s.group.Go(fmt.Sprintf("verify piece %d", i), func(t *aio.Task) error {
		// Shielded: a check under way when the session is cancelled still
		// finishes and its piece is kept (and a cancel is no disk error).
		// The job is bounded, so the shield needs no deadline of its own.
		if s.onVerify != nil {
			s.onVerify(i)
		}
		var ok bool
		err := aio.Shield(t, 0, func(t *aio.Task) error {
			var err error
			ok, err = aio.Blocking(t, func() (bool, error) {
				if sha1.Sum(buf.data) != want {
					return false, nil
				}
				return true, s.storage.WritePiece(i, buf.data)
			})
			return err
		})
		if err != nil {
			s.fail(fmt.Errorf("piece %d: %w", i, err))
			return nil
		}
		if ok {
			s.pieceVerified(i, buf)
		} else {
			s.pieceFailed(i, buf)
		}
		s.releaseBuf(i)
		s.refillAll() // a piece slot is free again
		return nil
	})
}

func (s *Session) pieceVerified(i int, buf *pieceBuf) {
	s.picker.PieceVerified(i)
	s.countVerified(i)
	aio.TraceCounter(s.loop, s.traceNames[1], float64(s.verified)/(1<<20))
	s.cache.invalidate(i, s.picker.PieceSize(i))
	if records := s.suspect[i]; records != nil {
		delete(s.suspect, i)
		for _, r := range records {
			if sha1.Sum(blockOf(buf.data, r.block)) != r.sum {
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

// pieceFailed puts the piece back to be downloaded again. Its senders are
// not struck yet: with several contributors, one liar would ban honest
// seeders too. Each block's hash is kept until the piece passes, and that
// comparison names the liar. A piece that came entirely from one peer
// names it at once.
func (s *Session) pieceFailed(i int, buf *pieceBuf) {
	s.failed++
	s.picker.PieceFailed(i)
	senders := map[piece.PeerID]bool{}
	for blk, id := range buf.from {
		senders[id] = true
		p := s.peers[id]
		if p == nil {
			continue
		}
		s.suspect[i] = append(s.suspect[i], blockRecord{
			peer: id, peerID: p.peerID, addr: p.conn.RemoteAddr().String(), block: blk,
			sum: sha1.Sum(blockOf(buf.data, blk)),
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

func blockOf(data []byte, blk int) []byte {
	begin := blk * piece.BlockSize
	return data[begin:min(len(data), begin+piece.BlockSize)]
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
			s.banned[p.addr] = true
		}
		p.conn.Close() // its tasks see ErrClosed and end
	}
	s.client.cfg.Logf("banned peer %s: %s", addr, why)
}
