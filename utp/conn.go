package utp

import (
	"errors"
	"io"
	"net/netip"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

var (
	// ErrReset is what a connection's calls return after the peer sent
	// RESET (or the Socket was closed under it).
	ErrReset = errors.New("utp: connection reset")
	// ErrTimedOut is what they return after the peer stopped answering:
	// the oldest packet was retransmitted with back-off too many times.
	ErrTimedOut = errors.New("utp: connection timed out")
)

type connState uint8

const (
	stateSynSent   connState = iota // dialled, SYN not yet answered
	stateSynRecv                    // SYN answered, nothing heard since (half-open)
	stateConnected                  // data may flow (also after FINs, until removal)
)

const (
	// ringSize is how many sequence numbers a connection tracks at once,
	// sent or received: outstanding packets, and the reorder window.
	ringSize = 1024
	ringMask = ringSize - 1

	// hdrRoom is where an outgoing packet's payload starts in its buffer:
	// the header (with the largest SACK) is written just before it, so
	// the datagram is one slice and the payload is never copied again.
	hdrRoom = headerLen + 2 + maxSACKLen

	keepAlive       = 29 * time.Second // under the usual 30 s NAT UDP timeout
	maxTimeouts     = 6                // RTOs in a row, with back-off: about a minute
	maxSynTimeouts  = 4                // 1+2+4+8 s, as libutp
	halfOpenTimeout = 10 * time.Second
	lingerTimeout   = 2 * time.Minute // a closed connection gives up on its FIN

	// maxOOOPayload is the largest payload the reorder buffer keeps; peers
	// send at most an Ethernet MTU's worth. A larger one is taken only in
	// order.
	maxOOOPayload = 1500
)

// outPacket is a sent-or-queued packet, kept until cumulatively acked.
type outPacket struct {
	buf           [hdrRoom + packetSize]byte
	size          int // payload bytes at buf[hdrRoom:]
	typ           packetType
	seq           uint16
	sentAt        time.Duration
	transmissions int
	lost          bool // needs sending again; not counted in flight
	sacked        bool // selectively acked; not counted in flight
}

// inPacket is an out-of-order DATA or FIN waiting for the gap before it.
type inPacket struct {
	buf [maxOOOPayload]byte
	n   int
	fin bool
}

// Conn is one uTP connection. It satisfies peer.Stream: the wire protocol
// runs over it as over a TCP socket. All methods run on the loop thread;
// one task may Read while another Writes.
type Conn struct {
	s              *Socket
	remote         netip.AddrPort
	recvID, sendID uint16
	state          connState
	openedAt       time.Duration

	// Send side. Invariant: seqAcked ≤ seqSent ≤ seqNext (wrapping);
	// out[seq&ringMask] holds every packet in [seqAcked, seqNext):
	// [seqAcked, seqSent) sent at least once, [seqSent, seqNext) queued.
	out                        [ringSize]*outPacket
	seqAcked, seqSent, seqNext uint16
	queued                     int // payload bytes in out
	flight                     int // bytes sent and not acked, sacked or lost
	lostCount                  int
	peerWnd                    int
	cc                         ledbat
	rtt                        rttEstimator
	rtoAt                      time.Duration // 0: nothing outstanding
	timeouts                   int
	dupAcks                    int
	lastAck                    uint16
	lastSend, lastRecv         time.Duration
	finQueued                  bool

	// Receive side. ackNr is the last seq received in order; ooo holds
	// what came after a gap, at seq&ringMask.
	ackNr      uint16
	ooo        [ringSize]*inPacket
	oooCount   int
	oooBytes   int
	recv       byteRing
	eof        bool // the peer's FIN and everything before it arrived
	finSeen    bool // a FIN arrived, maybe out of order, at finSeq
	finSeq     uint16
	replyMicro uint32
	needAck    bool
	advertised int // the wnd_size we last sent
	sack       [maxSACKLen]byte

	flushQueued bool
	closed      bool  // Close was called
	err         error // terminal: reset or timed out
	connected   aio.Event
	readable    aio.Event
	writable    aio.Event

	readDeadline, writeDeadline time.Time
}

// RemoteAddr is the peer's address.
func (c *Conn) RemoteAddr() netip.AddrPort { return c.remote }

// SetDeadline makes a parked Read or Writev fail with aio.ErrTimeout once
// at passes; the zero time removes the deadline.
func (c *Conn) SetDeadline(at time.Time) { c.readDeadline, c.writeDeadline = at, at }

// SetReadDeadline is SetDeadline for Read alone.
func (c *Conn) SetReadDeadline(at time.Time) { c.readDeadline = at }

// SetWriteDeadline is SetDeadline for Writev alone.
func (c *Conn) SetWriteDeadline(at time.Time) { c.writeDeadline = at }

// Read copies what has arrived in order into p, waiting until something
// has: at least one byte, or io.EOF after the peer's FIN.
func (c *Conn) Read(t *aio.Task, p []byte) (int, error) {
	for {
		if c.closed {
			return 0, aio.ErrClosed
		}
		if c.recv.n > 0 {
			n := c.recv.read(p)
			c.windowOpened()
			c.s.writeOut()
			return n, nil
		}
		if c.eof {
			return 0, io.EOF
		}
		if c.err != nil {
			return 0, c.err
		}
		if len(p) == 0 {
			return 0, nil
		}
		if err := c.wait(t, &c.readable, c.readDeadline); err != nil {
			return 0, err
		}
	}
}

// Writev queues every buffer in order and returns once all of it is in
// the send buffer (not acked: as with TCP, a write is done when the
// transport has the bytes). It may modify bufs.
func (c *Conn) Writev(t *aio.Task, bufs [][]byte) (int, error) {
	total := 0
	for i := range bufs {
		for len(bufs[i]) > 0 {
			if err := c.writeErr(); err != nil {
				return total, err
			}
			n := c.queueData(bufs[i])
			total += n
			bufs[i] = bufs[i][n:]
			if n > 0 {
				continue
			}
			c.trySend()
			c.s.writeOut()
			if err := c.wait(t, &c.writable, c.writeDeadline); err != nil {
				return total, err
			}
		}
	}
	c.trySend()
	c.s.writeOut()
	return total, nil
}

// Write is Writev of one buffer.
func (c *Conn) Write(t *aio.Task, p []byte) (int, error) {
	return c.Writev(t, [][]byte{p})
}

func (c *Conn) writeErr() error {
	switch {
	case c.closed:
		return aio.ErrClosed
	case c.err != nil:
		return c.err
	}
	return nil
}

// wait parks t on ev until it is set or the deadline passes.
func (c *Conn) wait(t *aio.Task, ev *aio.Event, deadline time.Time) error {
	ev.Clear()
	if deadline.IsZero() {
		return ev.Wait(t)
	}
	d := deadline.Sub(c.s.loop.Now())
	if d <= 0 {
		return aio.ErrTimeout
	}
	return aio.Timeout(t, d, ev.Wait)
}

// Close ends the connection for the application: parked and later calls
// return aio.ErrClosed. What was written is still delivered, then a FIN;
// the connection leaves its Socket when the FIN is acked, or when the
// peer stops answering.
func (c *Conn) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	c.wakeAll()
	c.recv.release()
	if c.err != nil || c.state != stateConnected {
		c.reset()
		c.s.writeOut()
		return nil
	}
	c.queueControl(stFin)
	c.finQueued = true
	c.trySend()
	c.s.writeOut()
	return nil
}

// reset ends the connection at once: RESET to the peer (unless it is the
// one that reset), every call fails, the Socket forgets it.
func (c *Conn) reset() {
	if c.err == nil {
		c.err = ErrReset
		c.sendControl(stReset)
	}
	c.wakeAll()
	c.s.remove(c)
}

// fail ends the connection with err, without telling the peer.
func (c *Conn) fail(err error) {
	if c.err == nil {
		c.err = err
	}
	c.wakeAll()
	c.s.remove(c)
}

func (c *Conn) wakeAll() {
	c.connected.Set()
	c.readable.Set()
	c.writable.Set()
}

// freeBuffers returns the packets to the Socket's pools.
func (c *Conn) freeBuffers() {
	for seq := c.seqAcked; seq != c.seqNext; seq++ {
		if p := c.out[seq&ringMask]; p != nil {
			c.out[seq&ringMask] = nil
			c.s.putOut(p)
		}
	}
	c.seqAcked, c.seqSent, c.queued, c.flight = c.seqNext, c.seqNext, 0, 0
	for i, p := range c.ooo {
		if p != nil {
			c.ooo[i] = nil
			c.s.putIn(p)
		}
	}
	c.oooCount, c.oooBytes = 0, 0
	c.recv.release()
}

// onTick runs the connection's timers: the retransmission timeout, the
// half-open and linger limits, and keep-alive.
func (c *Conn) onTick(now time.Duration) {
	switch {
	case c.state == stateSynRecv && now-c.openedAt > halfOpenTimeout:
		c.fail(ErrTimedOut)
		return
	case c.closed && now-c.lastRecv > lingerTimeout:
		c.fail(ErrTimedOut)
		return
	}
	if c.rtoAt != 0 && now >= c.rtoAt {
		c.onTimeout(now)
		return
	}
	if c.state == stateConnected && c.err == nil && now-c.lastSend >= keepAlive {
		c.needAck = true
		c.s.markFlush(c)
	}
}

// onTimeout is an RTO: everything in flight is presumed lost, the window
// starts over, the timeout doubles, and the oldest packet goes again.
func (c *Conn) onTimeout(now time.Duration) {
	c.s.stats.Timeouts++
	c.timeouts++
	limit := maxTimeouts
	if c.state == stateSynSent {
		limit = maxSynTimeouts
	}
	if c.timeouts >= limit {
		c.fail(ErrTimedOut)
		return
	}
	c.cc.onTimeout(now)
	c.rtt.backOff()
	for seq := c.seqAcked; seq != c.seqSent; seq++ {
		p := c.out[seq&ringMask]
		if !p.sacked && !p.lost {
			p.lost = true
			c.lostCount++
			c.flight -= p.size
		}
	}
	c.rtoAt = 0
	c.trySend()
}
