package peer

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// The handshake on a socket. The dialler sends all 68 bytes at once and
// reads the peer's 68. The listener cannot answer before it knows which
// torrent is meant, so it reads the first 48 bytes (protocol, reserved,
// info hash: ReadIncoming), routes by the info hash, then answers and reads
// the peer ID (Incoming.Accept). Either way the bytes are read through the
// Conn's buffer, so messages a peer sends right behind its handshake are
// kept for ReadMessage rather than lost or read one syscall at a time.

var (
	// ErrInfoHashMismatch: the peer answered for another torrent.
	ErrInfoHashMismatch = errors.New("info hash mismatch")
	// ErrSelf: the peer sent our own peer ID; we connected to ourselves,
	// typically through our own address coming back from the tracker.
	ErrSelf = errors.New("connected to ourselves")
)

// handshakePrefix is what a listener reads before it answers: the
// handshake without the peer ID.
const handshakePrefix = HandshakeLen - 20

// maxPrefix bounds ReadIncomingPrefix's prefix: it must fit the read
// buffer with room for a frame behind it.
const maxPrefix = 64 * 1024

// Dial connects to addr and exchanges handshakes: it sends ours and reads
// theirs, which must name our info hash (else ErrInfoHashMismatch) and
// another peer ID (else ErrSelf). timeout bounds the connect and the
// handshake together. lim bounds the messages that follow (see SetLimits).
// On error the socket is closed.
func Dial(t *aio.Task, addr netip.AddrPort, ours Handshake, lim Limits, timeout time.Duration) (*Conn, Handshake, error) {
	deadline := t.Loop().Now().Add(timeout)
	tc, err := aio.DialTCP(t, addr, timeout)
	if err != nil {
		return nil, Handshake{}, fmt.Errorf("peer: %w", err) // aio names addr
	}
	return dialStream(t, tc, ours, lim, deadline, true)
}

// DialStream is Dial's handshake on a stream the caller opened, for
// example one that peer/mse has encrypted: it sends ours, reads theirs and
// checks it as Dial does, waiting at most timeout. On error s is closed.
func DialStream(t *aio.Task, s Stream, ours Handshake, lim Limits, timeout time.Duration) (*Conn, Handshake, error) {
	return dialStream(t, s, ours, lim, t.Loop().Now().Add(timeout), true)
}

// DialStreamSent is DialStream for a stream on which ours has gone out
// already, as the initial payload of an MSE handshake (mse.Initiate): it
// only reads and checks theirs.
func DialStreamSent(t *aio.Task, s Stream, ours Handshake, lim Limits, timeout time.Duration) (*Conn, Handshake, error) {
	return dialStream(t, s, ours, lim, t.Loop().Now().Add(timeout), false)
}

func dialStream(t *aio.Task, s Stream, ours Handshake, lim Limits, deadline time.Time, send bool) (*Conn, Handshake, error) {
	c := NewConn(s, lim)
	theirs, err := c.dialHandshake(t, ours, deadline, send)
	if err != nil {
		c.Close()
		return nil, Handshake{}, err
	}
	return c, theirs, nil
}

func (c *Conn) dialHandshake(t *aio.Task, ours Handshake, deadline time.Time, send bool) (Handshake, error) {
	c.s.SetDeadline(deadline)
	defer c.s.SetDeadline(time.Time{})
	if send {
		c.out.frames = AppendHandshake(c.out.frames, ours)
		if err := c.flush(t); err != nil {
			return Handshake{}, fmt.Errorf("peer %s: handshake: %w", c.addr, err)
		}
	}
	if err := c.fill(t, HandshakeLen); err != nil {
		return Handshake{}, fmt.Errorf("peer %s: handshake: %w", c.addr, err)
	}
	theirs, err := ParseHandshake(c.rbuf[c.r : c.r+HandshakeLen])
	if err != nil {
		return Handshake{}, fmt.Errorf("peer %s: %w", c.addr, err)
	}
	c.r += HandshakeLen
	if theirs.InfoHash != ours.InfoHash {
		return Handshake{}, fmt.Errorf("peer %s: handshake for %x, want %x: %w",
			c.addr, theirs.InfoHash, ours.InfoHash, ErrInfoHashMismatch)
	}
	if theirs.PeerID == ours.PeerID {
		return Handshake{}, fmt.Errorf("peer %s: %w", c.addr, ErrSelf)
	}
	return theirs, nil
}

// Incoming is an accepted connection whose peer has sent the first 48
// bytes of its handshake: enough to tell which torrent it wants, before
// we answer.
type Incoming struct {
	c      *Conn
	theirs Handshake // Reserved and InfoHash; the PeerID comes in Accept
}

// ReadIncoming reads the start of the handshake a connecting peer sends,
// waiting at most timeout, so the listener can look up InfoHash among its
// torrents. It then calls Accept, or closes the stream to refuse. On error
// the stream is closed.
func ReadIncoming(t *aio.Task, s Stream, timeout time.Duration) (*Incoming, error) {
	return ReadIncomingPrefix(t, s, nil, timeout)
}

// ReadIncomingPrefix is ReadIncoming for a stream from which the caller
// has read prefix already: the first bytes a listener peeked at to tell a
// plaintext handshake from MSE (mse.IsPlaintext), or the initial payload
// of an MSE handshake (mse.Accepted.InitialPayload), which carries the
// peer's handshake. prefix is copied; it must be shorter than 64 KiB.
func ReadIncomingPrefix(t *aio.Task, s Stream, prefix []byte, timeout time.Duration) (*Incoming, error) {
	c := NewConn(s, Limits{})
	if len(prefix) > maxPrefix {
		c.Close()
		return nil, fmt.Errorf("peer %s: %d bytes read before the handshake, more than %d", c.addr, len(prefix), maxPrefix)
	}
	c.w = copy(c.rbuf, prefix)
	c.stats.BytesRead += uint64(c.w)
	theirs, err := c.readHandshakePrefix(t, timeout)
	if err != nil {
		c.Close()
		return nil, err
	}
	return &Incoming{c: c, theirs: theirs}, nil
}

func (c *Conn) readHandshakePrefix(t *aio.Task, timeout time.Duration) (Handshake, error) {
	c.s.SetDeadline(t.Loop().Now().Add(timeout))
	defer c.s.SetDeadline(time.Time{})
	if err := c.fill(t, handshakePrefix); err != nil {
		return Handshake{}, fmt.Errorf("peer %s: handshake: %w", c.addr, err)
	}
	// ParseHandshake wants all 68 bytes; the zero peer ID it is given
	// here is not kept.
	var full [HandshakeLen]byte
	copy(full[:], c.rbuf[c.r:c.r+handshakePrefix])
	theirs, err := ParseHandshake(full[:])
	if err != nil {
		return Handshake{}, fmt.Errorf("peer %s: %w", c.addr, err)
	}
	c.r += handshakePrefix
	return theirs, nil
}

// InfoHash is the torrent the peer asks for.
func (in *Incoming) InfoHash() [20]byte { return in.theirs.InfoHash }

// RemoteAddr is the peer's address.
func (in *Incoming) RemoteAddr() netip.AddrPort { return in.c.addr }

// Accept completes the handshake: it sends ours, whose info hash must be
// the one the peer asked for (else ErrInfoHashMismatch), and reads the
// peer's ID (ErrSelf if it is ours), waiting at most timeout. lim bounds
// the messages that follow. It returns the peer's whole handshake. On error
// the socket is closed.
func (in *Incoming) Accept(t *aio.Task, ours Handshake, lim Limits, timeout time.Duration) (*Conn, Handshake, error) {
	c := in.c
	if ours.InfoHash != in.theirs.InfoHash {
		c.Close()
		return nil, Handshake{}, fmt.Errorf("peer %s: accepting for %x, asked for %x: %w",
			c.addr, ours.InfoHash, in.theirs.InfoHash, ErrInfoHashMismatch)
	}
	c.SetLimits(lim)
	theirs, err := c.acceptHandshake(t, ours, in.theirs, timeout)
	if err != nil {
		c.Close()
		return nil, Handshake{}, err
	}
	return c, theirs, nil
}

func (c *Conn) acceptHandshake(t *aio.Task, ours, theirs Handshake, timeout time.Duration) (Handshake, error) {
	c.s.SetDeadline(t.Loop().Now().Add(timeout))
	defer c.s.SetDeadline(time.Time{})
	c.out.frames = AppendHandshake(c.out.frames, ours)
	if err := c.flush(t); err != nil {
		return Handshake{}, fmt.Errorf("peer %s: handshake: %w", c.addr, err)
	}
	if err := c.fill(t, 20); err != nil {
		return Handshake{}, fmt.Errorf("peer %s: handshake: %w", c.addr, err)
	}
	copy(theirs.PeerID[:], c.rbuf[c.r:c.r+20])
	c.r += 20
	if theirs.PeerID == ours.PeerID {
		return Handshake{}, fmt.Errorf("peer %s: %w", c.addr, ErrSelf)
	}
	return theirs, nil
}
