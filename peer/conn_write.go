package peer

import (
	"errors"
	"fmt"

	"github.com/aiotorrent/aiotorrent/aio"
)

// The write side batches. The session queues the frames one decision
// produces (every request of a pipeline refill, the blocks of several
// requests) and flushes once, so they leave in one writev: small frames
// are copied into one buffer, blocks are not copied at all but sent from
// the caller's memory behind their 13-byte header.

// batch is the frames queued for one Flush.
type batch struct {
	frames []byte  // every frame byte except the blocks of piece messages
	blocks []block // the blocks, in order, and where each goes in frames
}

// block is a piece message's block, sent from the caller's buffer right
// after frames[:at], which ends with its header.
type block struct {
	at   int
	data []byte
}

// maxIOV bounds the buffers of one writev: the kernel refuses more than
// IOV_MAX (1024 on Linux and the BSDs) with EINVAL.
const maxIOV = 1024

// errFlushing: two tasks flushed one Conn at once. aio would refuse the
// second writer only once it parked; refusing here keeps the batches whole.
var errFlushing = errors.New("peer: Flush while another Flush is in progress")

// Queue appends frame, one or more whole encoded frames (see the Append
// functions), to the output queue; it is copied, so the caller may reuse
// it at once. Nothing is sent until Flush.
func (c *Conn) Queue(frame []byte) { c.out.frames = append(c.out.frames, frame...) }

// QueueMessage encodes m onto the output queue (see AppendMessage). A
// piece message's Payload is queued as by QueuePiece, not copied. It
// fails only for an ID with no encoder, a bug in the caller.
func (c *Conn) QueueMessage(m Message) error {
	if m.ID == Piece {
		c.QueuePiece(m.Index, m.Begin, m.Payload)
		return nil
	}
	frames, err := AppendMessage(c.out.frames, m)
	if err != nil {
		return fmt.Errorf("peer %s: %w", c.addr, err)
	}
	c.out.frames = frames
	return nil
}

// QueuePiece queues a piece message carrying data, the block at begin in
// piece index. data is not copied: it must stay unchanged until the Flush
// that sends it returns. The caller has checked the block against the
// request it answers (ValidateRequest); its length is at most BlockSize.
func (c *Conn) QueuePiece(index, begin uint32, data []byte) {
	c.out.frames = AppendPieceHeader(c.out.frames, index, begin, uint32(len(data)))
	c.out.blocks = append(c.out.blocks, block{at: len(c.out.frames), data: data})
}

// Queued returns how many bytes are waiting for the next Flush.
func (c *Conn) Queued() int {
	n := len(c.out.frames)
	for _, b := range c.out.blocks {
		n += len(b.data)
	}
	return n
}

// Flush writes everything queued, in order, in as few writev calls as the
// kernel takes, and parks t while the send buffer is full. Frames queued
// while it is parked go with the next Flush. An error (wrapping
// aio.ErrTimeout, aio.ErrClosed, ...) leaves an unknown part written: the
// connection is done.
func (c *Conn) Flush(t *aio.Task) error {
	if err := c.flush(t); err != nil {
		return fmt.Errorf("peer %s: %w", c.addr, err)
	}
	return nil
}

// flush is Flush with errors that do not name the peer.
func (c *Conn) flush(t *aio.Task) error {
	if len(c.out.frames) == 0 {
		return nil // a piece message has a header, so blocks imply frames
	}
	if c.flushing {
		return errFlushing
	}
	c.flushing = true
	b := c.out
	c.out, c.spare = c.spare, batch{}
	err := c.write(t, b)
	clear(b.blocks) // drop the references to the caller's blocks
	c.spare = batch{frames: b.frames[:0], blocks: b.blocks[:0]}
	c.flushing = false
	if err != nil {
		return fmt.Errorf("write: %w", err)
	}
	c.stats.LastWrite = t.Loop().Now()
	return nil
}

// write sends b as writev buffers: the frames, split after each piece
// header so that its block follows from the caller's memory.
func (c *Conn) write(t *aio.Task, b batch) error {
	iov := c.iov[:0]
	prev := 0
	var uploaded uint64
	for _, blk := range b.blocks {
		iov = append(iov, b.frames[prev:blk.at], blk.data)
		prev = blk.at
		uploaded += uint64(len(blk.data))
	}
	if prev < len(b.frames) {
		iov = append(iov, b.frames[prev:])
	}
	defer func() { clear(iov); c.iov = iov[:0] }()
	for rest := iov; len(rest) > 0; {
		chunk := rest[:min(len(rest), maxIOV)]
		rest = rest[len(chunk):]
		n, err := c.s.Writev(t, chunk)
		c.stats.BytesWritten += uint64(n)
		if err != nil {
			return err
		}
	}
	c.stats.Uploaded += uploaded
	return nil
}

// Send queues frame and flushes: for a lone message, such as a HAVE.
func (c *Conn) Send(t *aio.Task, frame []byte) error {
	c.Queue(frame)
	return c.Flush(t)
}

// SendPiece queues a piece message and flushes: header and block leave in
// one writev, the block uncopied.
func (c *Conn) SendPiece(t *aio.Task, index, begin uint32, data []byte) error {
	c.QueuePiece(index, begin, data)
	return c.Flush(t)
}
