package metainfo

import (
	"fmt"

	"github.com/aiotorrent/aiotorrent/aio"
)

// hashChunkPieces is how many pieces one executor job hashes: big enough
// that job overhead is noise, small enough that progress moves smoothly
// and a cancelled Create leaves little work running behind it.
const hashChunkPieces = 64

// Create makes a torrent of opts.Path and returns it parsed and as the
// bytes of the .torrent file. Walking the files, hashing and encoding run
// on the aio executor; t only awaits them, so the loop keeps serving other
// tasks. progress, if set, is called on the loop thread after each chunk
// of pieces with the number of pieces hashed so far and the total.
//
// If t is cancelled, Create returns aio.ErrCanceled at once; chunks
// already on the executor finish and their results are dropped.
func Create(t *aio.Task, opts CreateOptions, progress func(done, total int)) (*Torrent, []byte, error) {
	p, err := aio.Blocking(t, func() (*createPlan, error) { return planCreate(opts) })
	if err != nil {
		return nil, nil, err
	}
	hashes, err := hashParallel(t, p, progress)
	if err != nil {
		return nil, nil, fmt.Errorf("create: %w", err)
	}
	type result struct {
		m    *Torrent
		data []byte
	}
	// Encoding parses the output back and hashes the info dict: CPU work
	// that grows with the torrent, so it stays off the loop too.
	r, err := aio.Blocking(t, func() (result, error) {
		m, data, err := p.encode(hashes)
		return result{m, data}, err
	})
	if err != nil {
		return nil, nil, err
	}
	return r.m, r.data, nil
}

// hashParallel hashes all pieces in chunks of hashChunkPieces, keeping
// twice as many chunks in flight as there are executor workers so that no
// worker idles while the loop collects a result. Chunks are collected in
// order; each writes its own slice of the result.
func hashParallel(t *aio.Task, p *createPlan, progress func(done, total int)) ([][20]byte, error) {
	type chunk struct {
		first, count int
		fut          *aio.Future[[][20]byte]
	}
	maxInFlight := 2 * t.Loop().Workers()
	hashes := make([][20]byte, p.numPieces)
	var inFlight []chunk
	next, done := 0, 0
	for next < p.numPieces || len(inFlight) > 0 {
		for next < p.numPieces && len(inFlight) < maxInFlight {
			first, count := next, min(hashChunkPieces, p.numPieces-next)
			fut := aio.Submit(t, func() ([][20]byte, error) {
				return hashPieces(p.files, p.total, p.pieceLength, first, count)
			})
			inFlight = append(inFlight, chunk{first, count, fut})
			next += count
		}
		c := inFlight[0]
		inFlight = inFlight[1:]
		h, err := aio.Await(t, c.fut)
		if err != nil {
			return nil, err
		}
		if len(h) != c.count {
			return nil, fmt.Errorf("pieces %d..%d: got %d hashes, want %d", c.first, c.first+c.count-1, len(h), c.count)
		}
		copy(hashes[c.first:], h)
		done += c.count
		if progress != nil {
			progress(done, p.numPieces)
		}
	}
	return hashes, nil
}
