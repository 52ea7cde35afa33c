package torrent

import (
	"fmt"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/peer"
)

// queueUpload accepts a REQUEST. Requests from a peer we choke are dropped
// (BEP 3), as are the queued ones when we choke it (setChoking); a request outside the piece, or for a piece we do not have, is
// a protocol error.
func (p *peerConn) queueUpload(m peer.Message) error {
	s := p.s
	if err := peer.ValidateRequest(m.Index, m.Begin, m.Length, func(i int) int64 { return int64(s.picker.PieceSize(i)) }); err != nil {
		return err
	}
	if !s.picker.Have(int(m.Index)) {
		return fmt.Errorf("requested piece %d, which we do not have", m.Index)
	}
	if p.amChoking {
		return nil
	}
	if len(p.uploads) >= maxUploads {
		return fmt.Errorf("more than %d requests outstanding", maxUploads)
	}
	p.uploads = append(p.uploads, peer.Message{ID: peer.Request, Index: m.Index, Begin: m.Begin, Length: m.Length})
	p.wake.Set()
	return nil
}

func (p *peerConn) cancelUpload(m peer.Message) {
	for i, u := range p.uploads {
		if u.Index == m.Index && u.Begin == m.Begin && u.Length == m.Length {
			p.uploads = append(p.uploads[:i], p.uploads[i+1:]...)
			return
		}
	}
}

// serveUploads queues a PIECE for every pending request. Blocks come from
// the read cache (session_cache.go): a piece is read once, on the
// executor, and then serves all of its 16 KiB requests.
func (p *peerConn) serveUploads(t *aio.Task) error {
	s := p.s
	for len(p.uploads) > 0 && !p.amChoking {
		// Taken off the queue before the read, which may suspend: a
		// CANCEL or CHOKE handled meanwhile changes p.uploads.
		u := p.uploads[0]
		p.uploads = p.uploads[1:]
		block, err := s.readBlock(t, int(u.Index), int(u.Begin), int(u.Length))
		if err != nil {
			return err
		}
		if err := p.throttleUpload(t, int(u.Length)); err != nil {
			return err
		}
		if p.amChoking {
			return nil // choked while we read or waited: the request is void
		}
		if s.corruptUploads {
			block = append([]byte(nil), block...)
			block[0] ^= 0xff // a lying seeder, for tests of the ban logic
		}
		p.conn.QueuePiece(u.Index, u.Begin, block)
		s.uploaded += int64(u.Length)
	}
	return nil
}

// throttleUpload waits, when the upload limit says so, before a block of
// n bytes is queued. What is queued already goes out first, so the peer
// is not kept waiting for blocks it was owed before the limit hit.
func (p *peerConn) throttleUpload(t *aio.Task, n int) error {
	b := p.s.client.up
	if b == nil {
		return nil
	}
	now := t.Loop().Now()
	wait := b.reserve(now, n)
	if wait <= 0 {
		return nil
	}
	if err := p.conn.Flush(t); err != nil {
		return err
	}
	if left := now.Add(wait).Sub(t.Loop().Now()); left > 0 {
		return aio.Sleep(t, left)
	}
	return nil
}
