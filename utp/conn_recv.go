package utp

import "time"

// The receive path: Socket.Receive hands each datagram for c to handle,
// which checks it against the connection's windows, takes the acks it
// carries, and files its payload in order. Replies wait for Flush.

// handle processes one decoded packet for c. Packets whose ack_nr or
// seq_nr fall outside what c could have sent or could accept are dropped
// whole: a peer that lies about either has nothing else worth reading.
func (c *Conn) handle(h *header, payload []byte) {
	s := c.s
	if h.typ == stReset {
		s.stats.ResetsRecved++
		c.fail(ErrReset)
		return
	}
	if c.state == stateSynSent {
		if h.typ != stState || h.ack != c.seqAcked {
			s.stats.Invalid++
			return
		}
		c.state = stateConnected
		c.ackNr = h.seq - 1 // a STATE carries the seq its sender's next DATA will have
		c.connected.Set()
	}
	if !c.ackInRange(h.ack) || ((h.typ == stData || h.typ == stFin) && !c.seqInRange(h.seq)) {
		s.stats.Invalid++
		return
	}
	if c.state == stateSynRecv {
		s.established(c)
		if c.err != nil {
			return
		}
	}
	now := s.now()
	c.lastRecv = now
	c.replyMicro = s.nowMicro() - h.timestamp
	c.peerWnd = int(h.wnd)
	var queueDelay time.Duration
	if h.tsDiff != 0 { // 0: the peer has no sample yet (BEP 29)
		queueDelay = c.cc.history.add(h.tsDiff, now)
	}
	c.processAcks(h, now, queueDelay)
	if h.typ == stData || h.typ == stFin {
		c.receiveData(h, payload)
	}
	if c.closed && c.finQueued && c.seqAcked == c.seqNext {
		s.remove(c) // our FIN is acked: nothing is left to do
		return
	}
	s.markFlush(c)
}

// ackInRange: an ack may not be for a packet not yet sent; it may be old
// (reordered), within a ring's worth.
func (c *Conn) ackInRange(ack uint16) bool {
	return uint16(c.seqSent-1-ack) < 2*ringSize
}

// seqInRange: DATA may be old (a duplicate, to ack again) or ahead by less
// than the reorder window.
func (c *Conn) seqInRange(seq uint16) bool {
	off := seq - c.ackNr
	return off < ringSize || uint16(-off) < 2*ringSize
}

// outstanding reports whether seq was sent and is not yet cumulatively
// acked.
func (c *Conn) outstanding(seq uint16) bool {
	return seq-c.seqAcked < c.seqSent-c.seqAcked
}

// processAcks takes the cumulative ack, then the selective one, tells
// the congestion controller, and detects loss: three duplicate acks, or
// a packet with three later ones selectively acked (the TCP rule).
func (c *Conn) processAcks(h *header, now, queueDelay time.Duration) {
	flightBefore := c.flight
	acked := 0
	progressed := false
	for c.seqAcked != c.seqSent && int16(h.ack-c.seqAcked) >= 0 {
		p := c.out[c.seqAcked&ringMask]
		acked += c.ackPacket(p, now)
		c.out[c.seqAcked&ringMask] = nil
		c.queued -= p.size
		c.s.putOut(p)
		c.seqAcked++
		progressed = true
	}
	if len(h.sack) > 0 {
		acked += c.applySACK(h, now)
	}
	switch {
	case progressed:
		c.timeouts, c.dupAcks = 0, 0
		c.rtoAt = 0
		if c.seqAcked != c.seqSent {
			c.rtoAt = now + c.rtt.timeout()
		}
		c.writable.Set()
	case h.typ == stState && h.ack == c.lastAck && c.seqAcked != c.seqSent:
		c.dupAcks++
		if c.dupAcks == 3 {
			if p := c.out[c.seqAcked&ringMask]; !p.lost && !p.sacked {
				c.markLost(p)
				c.cc.onLoss(now, c.rtt.roundTrip())
			}
		}
	}
	c.lastAck = h.ack
	c.cc.onAck(acked, flightBefore, queueDelay)
}

// ackPacket accounts for p being acknowledged and returns the bytes it
// newly acks. Only packets sent once give an RTT sample (Karn).
func (c *Conn) ackPacket(p *outPacket, now time.Duration) int {
	if p.sacked {
		return 0
	}
	if p.lost {
		p.lost = false
		c.lostCount--
	} else {
		c.flight -= p.size
	}
	if p.transmissions == 1 {
		c.rtt.sample(now - p.sentAt)
	}
	return p.size
}

func (c *Conn) markLost(p *outPacket) {
	p.lost = true
	c.lostCount++
	c.flight -= p.size
	c.s.stats.FastResends++
}

// applySACK marks the packets the bitmask acks (bits for packets never
// sent are ignored) and returns their bytes; then it marks lost each
// packet that three selectively acked packets sent after it overtook.
func (c *Conn) applySACK(h *header, now time.Duration) int {
	acked := 0
	for i := range len(h.sack) * 8 {
		if h.sack[i/8]&(1<<(i%8)) == 0 {
			continue
		}
		seq := h.ack + 2 + uint16(i)
		if !c.outstanding(seq) {
			continue
		}
		p := c.out[seq&ringMask]
		acked += c.ackPacket(p, now)
		p.sacked = true
	}
	above := 0
	var newest time.Duration
	lost := false
	for seq := c.seqSent - 1; seq != c.seqAcked-1; seq-- {
		p := c.out[seq&ringMask]
		switch {
		case p.sacked:
			above++
			newest = max(newest, p.sentAt)
		case above >= 3 && !p.lost && p.sentAt < newest:
			c.markLost(p)
			lost = true
		}
	}
	if lost {
		c.cc.onLoss(now, c.rtt.roundTrip())
	}
	return acked
}

// receiveData files a DATA or FIN packet's payload: in order into the
// read buffer (then whatever out-of-order packets it joins up with), or
// into the reorder buffer. An ack is owed either way, also for a
// duplicate: the peer may not have seen the last one.
func (c *Conn) receiveData(h *header, payload []byte) {
	c.needAck = true
	off := h.seq - c.ackNr
	if int16(off) <= 0 || c.eof || (c.finSeen && h.seq != c.finSeq && !seqLess(h.seq, c.finSeq)) {
		return // a duplicate, or past the end of the stream
	}
	if h.typ == stFin {
		c.finSeen, c.finSeq = true, h.seq
	}
	if off == 1 {
		if !c.deliver(payload, h.typ == stFin) {
			return
		}
		c.ackNr++
		for !c.eof {
			p := c.ooo[(c.ackNr+1)&ringMask]
			if p == nil {
				break
			}
			c.ooo[(c.ackNr+1)&ringMask] = nil
			c.oooCount--
			c.oooBytes -= p.n
			c.deliver(p.buf[:p.n], p.fin)
			c.s.putIn(p)
			c.ackNr++
		}
		c.readable.Set()
		return
	}
	slot := h.seq & ringMask
	if c.ooo[slot] != nil || len(payload) > maxOOOPayload || len(payload) > c.recvRoom() {
		return
	}
	p := c.s.getIn()
	p.n = copy(p.buf[:], payload)
	p.fin = h.typ == stFin
	c.ooo[slot] = p
	c.oooCount++
	c.oooBytes += p.n
}

// deliver appends in-order bytes for Read. It refuses a payload that
// does not fit the window we advertised (the sender will resend it); after
// Close the bytes are acked and dropped.
func (c *Conn) deliver(payload []byte, fin bool) bool {
	if !c.closed {
		if len(payload) > c.recvRoom() {
			return false
		}
		c.recv.write(payload)
	}
	if fin {
		c.eof = true
	}
	return true
}
