package piece

import (
	"crypto/sha1"
	"errors"
	"fmt"
	"runtime"

	"github.com/aiotorrent/aiotorrent/aio"
)

// ErrNoHashes is returned when verifying a layout that carries no hashes.
var ErrNoHashes = errors.New("layout has no piece hashes")

// HashPiece reads piece i into buf and compares its SHA-1 with the
// layout's. It is synchronous: call it on an executor thread. buf must
// hold at least the piece (PieceLength bytes serves every piece). A piece
// whose data is missing is not ok, and not an error.
func HashPiece(s *Storage, i int, buf []byte) (ok bool, err error) {
	l := s.Layout()
	if len(l.Hashes) == 0 {
		return false, ErrNoHashes
	}
	if err := s.ReadPiece(i, buf); err != nil {
		if errors.Is(err, ErrMissing) {
			return false, nil
		}
		return false, fmt.Errorf("hash piece %d: %w", i, err)
	}
	return sha1.Sum(buf[:l.PieceSize(i)]) == l.Hashes[i], nil
}

// checkChunkBytes is about how much data one executor job hashes: large
// enough that the job's overhead (a wake-up of the loop) is noise, small
// enough that progress moves and the work spreads over the workers.
const checkChunkBytes = 4 << 20

// checkSlot is one job's reusable state. A worker writes it while the job
// runs; the loop reads it after the job's future resolves, which orders
// the two (the result is handed over through the loop's post queue).
type checkSlot struct {
	buf   []byte
	first int    // first piece of the chunk
	ok    []bool // ok[k] is piece first+k
}

// Check verifies every piece of s and returns the ones whose data is on
// disk and matches its hash, for resuming a download. It runs on the loop
// as part of task t and hashes on the executor: chunks of pieces go out as
// jobs, a few more in flight than the executor has workers so that none
// waits for the loop, each with its own buffer that is reused for the next
// chunk. progress, if not nil, is called on the loop after each chunk with
// the pieces checked so far and the total.
func Check(t *aio.Task, s *Storage, progress func(done, total int)) (*Bitfield, error) {
	return check(t, s, progress, max(2, runtime.NumCPU())+1)
}

func check(t *aio.Task, s *Storage, progress func(done, total int), inFlight int) (*Bitfield, error) {
	l := s.Layout()
	n := l.NumPieces()
	if len(l.Hashes) == 0 && n > 0 {
		return nil, ErrNoHashes
	}
	per := int(max(1, checkChunkBytes/l.PieceLength))
	have := NewBitfield(n)
	var (
		queue []*aio.Future[*checkSlot] // in flight, oldest first
		spare []*checkSlot
		next  int // first piece not yet sent out
		done  int
	)
	for next < n || len(queue) > 0 {
		for next < n && len(queue) < inFlight {
			var slot *checkSlot
			if k := len(spare); k > 0 {
				slot, spare = spare[k-1], spare[:k-1]
			} else {
				slot = &checkSlot{buf: make([]byte, l.PieceLength), ok: make([]bool, per)}
			}
			slot.first = next
			count := min(per, n-next)
			next += count
			queue = append(queue, aio.Submit(t, func() (*checkSlot, error) {
				return slot, hashChunk(s, slot, count)
			}))
		}
		slot, err := aio.Await(t, queue[0])
		if err != nil {
			return nil, fmt.Errorf("check: %w", err)
		}
		queue = queue[1:]
		count := min(per, n-slot.first)
		for k, ok := range slot.ok[:count] {
			if ok {
				have.Set(slot.first + k)
			}
		}
		done += count
		spare = append(spare, slot)
		if progress != nil {
			progress(done, n)
		}
	}
	return have, nil
}

// hashChunk hashes count pieces from slot.first on an executor thread.
func hashChunk(s *Storage, slot *checkSlot, count int) error {
	for k := range count {
		ok, err := HashPiece(s, slot.first+k, slot.buf)
		if err != nil {
			return err
		}
		slot.ok[k] = ok
	}
	return nil
}
