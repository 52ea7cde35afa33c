package peer

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// Conn is a peer connection on a Stream (a TCP socket, or an encrypted
// stream on one): the read buffer the
// decoder works in, the output queue the encoders fill, and the counters
// the session chokes and reports by. Dial and Incoming.Accept return one
// once the handshake is done.
//
// A Conn belongs to the loop thread. One task reads (ReadMessage) while
// one task (the same or another) flushes (Flush, Send, SendPiece); Queue
// and its variants may be called from any task, even while a flush is
// parked. That is the most aio allows on one socket, and it needs no lock:
// only one task runs at a time.
type Conn struct {
	s    Stream
	addr netip.AddrPort
	lim  Limits
	idle time.Duration

	// Invariant: 0 <= r <= w <= len(rbuf). rbuf[r:w] holds bytes read but
	// not yet decoded; rbuf[:r] held the frames ReadMessage last returned,
	// whose payloads alias it until the next ReadMessage. len(rbuf) is at
	// least 4 + the largest frame lim allows, so a legal frame always fits.
	rbuf []byte
	r, w int

	// Invariant: out is the batch being queued; spare is the batch the
	// last Flush sent, kept for its memory. While a Flush is parked its
	// batch is neither, so frames queued meanwhile go into out and leave
	// with the next Flush.
	out, spare batch
	iov        [][]byte // Flush's scratch: the batch as writev buffers
	flushing   bool

	stats Stats
}

// Stats are a connection's counters, for transfer rates, choking and
// liveness.
type Stats struct {
	BytesRead    uint64 // every byte received, handshake and framing included
	BytesWritten uint64 // every byte sent, handshake and framing included
	Downloaded   uint64 // block bytes of the piece messages received
	Uploaded     uint64 // block bytes of the piece messages sent
	// LastRead and LastWrite are loop times (aio.Loop.Now) of the last
	// read that returned bytes and the last completed Flush; zero before
	// the first. A session sends a keep-alive when LastWrite gets old.
	LastRead  time.Time
	LastWrite time.Time
}

// Read buffer sizing. One read syscall takes up to defaultReadBuf bytes
// (eight 16 KiB blocks with their headers), and the unread tail is moved
// to the front only when less than compactBelow is free behind it, so
// compaction copies at most one partial frame per few reads while each
// read still has room for a whole block.
const (
	defaultReadBuf = 128 * 1024
	compactBelow   = BlockSize + 13
)

// errBufferFull would mean the read buffer is smaller than a frame that
// ParseMessage accepted: a bug in readBufSize, never the peer's doing.
var errBufferFull = errors.New("peer: read buffer full before a whole frame")

// NewConn wraps s, a connection whose handshake the caller has done (or
// is about to do through the Conn's buffer, as Dial and Accept do). lim
// bounds what the peer may send; see SetLimits.
func NewConn(s Stream, lim Limits) *Conn {
	return &Conn{
		s:    s,
		addr: s.RemoteAddr(),
		lim:  lim,
		rbuf: make([]byte, readBufSize(lim)),
	}
}

// readBufSize is the read buffer a Conn needs under lim: the default, or
// more when lim allows a larger frame (a bitfield of over a million pieces).
// lim is the session's configuration, not the peer's word.
func readBufSize(lim Limits) int {
	return max(defaultReadBuf, 4+int(lim.maxFrame()), HandshakeLen)
}

// SetLimits replaces the limits frames are checked against, for example
// once a magnet link's metadata has given the piece count. It may grow the
// read buffer, so call it from the reading task between reads: it ends the
// validity of the last message's payload.
func (c *Conn) SetLimits(lim Limits) {
	c.lim = lim
	if n := readBufSize(lim); n > len(c.rbuf) {
		buf := make([]byte, n)
		c.w = copy(buf, c.rbuf[c.r:c.w])
		c.r = 0
		c.rbuf = buf
	}
}

// SetIdleTimeout makes ReadMessage fail with aio.ErrTimeout when the peer
// has sent nothing for d (BEP 3 suggests two minutes; peers send a
// keep-alive at least that often). 0, the default, waits forever.
// It is a read deadline only: a Flush parked on a full send buffer is not
// cut short by it.
func (c *Conn) SetIdleTimeout(d time.Duration) {
	c.idle = d
	if d == 0 {
		c.s.SetReadDeadline(time.Time{})
	}
}

// RemoteAddr is the peer's address.
func (c *Conn) RemoteAddr() netip.AddrPort { return c.addr }

// Stats returns the connection's counters.
func (c *Conn) Stats() Stats { return c.stats }

// Close closes the stream. A task parked in ReadMessage or Flush on it
// returns an error wrapping aio.ErrClosed, so closing is also how the
// session stops a connection's tasks.
func (c *Conn) Close() error { return c.s.Close() }

// ReadMessage returns the next message from the peer, reading from the
// socket only when the buffer holds no whole frame. A keep-alive is
// returned as a Message with ID KeepAlive, so the session sees that the
// peer is alive.
//
// The message's Payload (a block, a bitfield, an extended message)
// aliases the Conn's read buffer: it is valid only until the next
// ReadMessage or SetLimits. Copy what must outlive that; a session copies
// a block into its piece buffer anyway.
//
// Errors say which peer and why, wrapping the codec's sentinels
// (ErrMessageTooLong, ...), io.EOF for a close between frames,
// io.ErrUnexpectedEOF for one inside a frame, aio.ErrTimeout,
// aio.ErrClosed or aio.ErrCanceled. Any error ends the connection.
func (c *Conn) ReadMessage(t *aio.Task) (Message, error) {
	for {
		msg, n, err := ParseMessage(c.rbuf[c.r:c.w], c.lim)
		if err != nil {
			return Message{}, fmt.Errorf("peer %s: %w", c.addr, err)
		}
		if n > 0 {
			c.r += n
			if msg.ID == Piece {
				c.stats.Downloaded += uint64(len(msg.Payload))
			}
			return msg, nil
		}
		if err := c.readMore(t, c.frameLen()); err != nil {
			return Message{}, fmt.Errorf("peer %s: %w", c.addr, err)
		}
	}
}

// frameLen is how many bytes the frame at rbuf[r:] needs in all, as far
// as its header, already checked by ParseMessage, tells.
func (c *Conn) frameLen() int {
	length, _, ok := FrameHeader(c.rbuf[c.r:c.w])
	if !ok {
		return 5
	}
	return 4 + int(length)
}

// fill reads until at least n bytes are buffered (n <= len(rbuf)).
func (c *Conn) fill(t *aio.Task, n int) error {
	for c.w-c.r < n {
		if err := c.readMore(t, n); err != nil {
			return err
		}
	}
	return nil
}

// readMore makes room for need bytes from rbuf[r:] and reads once, as
// much as the socket has and the buffer takes. Its errors, like fill's,
// do not name the peer: the caller says what it was reading.
func (c *Conn) readMore(t *aio.Task, need int) error {
	switch {
	case c.r == c.w:
		c.r, c.w = 0, 0
	case c.r+need > len(c.rbuf) || len(c.rbuf)-c.w < compactBelow:
		c.w = copy(c.rbuf, c.rbuf[c.r:c.w])
		c.r = 0
	}
	if c.w == len(c.rbuf) {
		return errBufferFull
	}
	if c.idle > 0 {
		if c.stats.LastRead.IsZero() {
			c.stats.LastRead = t.Loop().Now()
		}
		c.s.SetReadDeadline(c.stats.LastRead.Add(c.idle))
	}
	n, err := c.s.Read(t, c.rbuf[c.w:])
	if n > 0 {
		c.w += n
		c.stats.BytesRead += uint64(n)
		c.stats.LastRead = t.Loop().Now()
	}
	if err != nil {
		if err == io.EOF && c.w > c.r {
			err = io.ErrUnexpectedEOF // the peer left in the middle of a frame
		}
		return fmt.Errorf("read: %w", err)
	}
	return nil
}
