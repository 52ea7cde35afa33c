package torrent

import (
	"fmt"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/peer"
)

// The request queue: how many of a peer's REQUESTs we hold, and what
// they cost.
//
// We hold up to maxUploads requests per peer and say so in our extension
// handshake (BEP 10 "reqq", see extHandshakeFrame). libtorrent takes a
// peer's reqq as its own request limit towards that peer, replacing its
// max_out_request_queue setting, so advertising the limit is what keeps it
// under; a peer that goes over anyway is not dropped, its excess requests
// are (dropExcessRequest). Before reqq was sent, a libtorrent leecher set
// to max_out_request_queue 1500 ramped past 512 at about a quarter of the
// download and was disconnected, again and again.
//
// The count is cheap, what must stay bounded is memory. A queued request
// is 12 bytes of information (index, begin, length: its 13-byte frame less
// the id), held as a peer.Message of 48 bytes: 512 of them are 24 KiB a
// peer. Its data is not read until it is served, and serveUploads queues
// at most uploadBatch bytes of blocks for the socket before it flushes, so
// the blocks a peer pins (slices of read-cache lines, which QueuePiece does
// not copy) stay under uploadBatch plus one cache line whatever the count.
// A larger queue would only cost its 48 bytes an entry; 512 blocks of
// 16 KiB are 8 MiB in flight, which covers 80 MB/s at 100 ms round trip.

// uploadBatch bounds the block bytes queued for one flush to a peer.
const uploadBatch = 1 << 20

// queueUpload accepts a REQUEST. Requests from a peer we choke are dropped
// (BEP 3), as are the queued ones when we choke it (setChoking); a request
// outside the piece, or for a piece we do not have, is a protocol error.
func (p *peerConn) queueUpload(m peer.Message) error {
	s := p.s
	if err := peer.ValidateRequest(m.Index, m.Begin, m.Length, func(i int) int64 { return int64(s.picker.PieceSize(i)) }); err != nil {
		return err
	}
	if !s.picker.Have(int(m.Index)) {
		return fmt.Errorf("requested piece %d, which we do not have", m.Index)
	}
	if p.amChoking && !p.allowedWhileChoked(m.Index) {
		p.reject(m)
		return nil
	}
	if len(p.uploads) >= maxUploads {
		p.reject(m) // beyond our reqq: rejected (BEP 6) or dropped, never the peer
		return nil
	}
	p.uploads = append(p.uploads, peer.Message{ID: peer.Request, Index: m.Index, Begin: m.Begin, Length: m.Length})
	p.wake.Set()
	return nil
}

// A request beyond the maxUploads we hold for a peer is answered with a
// REJECT when the peer speaks the Fast extension (BEP 6), so that it asks
// again at once, and dropped otherwise (it asks again after its own
// request timeout). The peer is never disconnected for it: a queue longer
// than our advertised reqq is a client's tuning (libtorrent's high
// performance preset asks for 1500), not an attack, and costs us nothing
// we keep.

// cancelUpload takes a CANCEL: the request leaves the queue, and a fast
// peer is told so with a REJECT (BEP 6 has every request answered).
func (p *peerConn) cancelUpload(m peer.Message) {
	for i, u := range p.uploads {
		if u.Index == m.Index && u.Begin == m.Begin && u.Length == m.Length {
			p.uploads = append(p.uploads[:i], p.uploads[i+1:]...)
			p.reject(u)
			return
		}
	}
}

// serveUploads queues a PIECE for every pending request, flushing every
// uploadBatch bytes. Blocks come from the read cache (session_cache.go): a
// piece is read once, on the executor, and then serves all of its 16 KiB
// requests.
func (p *peerConn) serveUploads(t *aio.Task) error {
	s := p.s
	for len(p.uploads) > 0 && (!p.amChoking || p.allowedWhileChoked(p.uploads[0].Index)) {
		if p.conn.Queued() >= uploadBatch {
			if err := p.conn.Flush(t); err != nil {
				return err
			}
			continue // the flush may have parked: choked meanwhile?
		}
		// Taken off the queue before the read, which may suspend: a
		// CANCEL or CHOKE handled meanwhile changes p.uploads.
		u := p.uploads[0]
		p.uploads = p.uploads[1:]
		if s.readsPaused() {
			p.reject(u) // our disk failed a read: wait out its back-off
			continue
		}
		block, err := s.readBlock(t, int(u.Index), int(u.Begin), int(u.Length))
		if err != nil {
			if !isResourceError(err) {
				return err
			}
			s.readFailed(err) // the fault is ours, not the peer's
			p.reject(u)
			continue
		}
		if !s.res.readsUntil.IsZero() {
			s.resourceOK() // reads work again
		}
		if err := p.throttleUpload(t, int(u.Length)); err != nil {
			return err
		}
		if p.amChoking && !p.allowedWhileChoked(u.Index) {
			p.reject(u) // choked while we read or waited: the request is void
			return nil
		}
		if s.corruptUploads {
			block = append([]byte(nil), block...)
			block[0] ^= 0xff // a lying seeder, for tests of the ban logic
		}
		p.conn.QueuePiece(u.Index, u.Begin, block)
		s.countUpload(int(u.Length))
		if p.amChoking {
			s.fastCounts.servedChoked++ // an allowed fast piece (BEP 6)
		}
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
