package utp

// The send path. Writev copies bytes into packets (appending to the last
// one while it is unsent, so small writes coalesce); trySend puts packets
// on the wire while the window lets it, from Writev, from ack handling and
// from the timers. Nothing here waits: a full window or socket buffer
// leaves the packet for the next ack or timeout.

// queueData copies as much of b as the send buffer has room for into
// packets and returns how much it took.
func (c *Conn) queueData(b []byte) int {
	room := c.s.cfg.SendBuffer - c.queued
	taken := 0
	for taken < len(b) && room > 0 {
		p := c.tail()
		if p == nil || p.typ != stData || p.size == packetSize {
			if uint16(c.seqNext-c.seqAcked) >= ringSize-1 {
				break
			}
			p = c.push(stData)
		}
		n := copy(p.buf[hdrRoom+p.size:hdrRoom+packetSize], b[taken:min(len(b), taken+room)])
		p.size += n
		taken += n
		room -= n
		c.queued += n
	}
	return taken
}

// tail is the last queued packet if it has not been sent yet.
func (c *Conn) tail() *outPacket {
	if c.seqSent == c.seqNext {
		return nil
	}
	return c.out[(c.seqNext-1)&ringMask]
}

// push appends a new packet of type typ with the next sequence number.
func (c *Conn) push(typ packetType) *outPacket {
	p := c.s.getOut()
	p.typ = typ
	p.seq = c.seqNext
	c.out[c.seqNext&ringMask] = p
	c.seqNext++
	return p
}

// queueControl queues a SYN or FIN: they take a sequence number and are
// retransmitted like data.
func (c *Conn) queueControl(typ packetType) { c.push(typ) }

// window is how many bytes may be in flight: the congestion window, and
// what the peer said it can take.
func (c *Conn) window() int { return min(c.cc.cwnd, c.peerWnd) }

// canSend says whether a packet of size bytes fits the window. With
// nothing in flight one packet always may go: it probes a zero window and
// keeps a minimum window from stalling on a large packet.
func (c *Conn) canSend(size int) bool {
	return c.flight == 0 || c.flight+size <= c.window()
}

// trySend resends lost packets, then sends queued ones, while the window
// allows.
func (c *Conn) trySend() {
	if c.err != nil {
		return
	}
	if c.lostCount > 0 {
		for seq := c.seqAcked; seq != c.seqSent && c.lostCount > 0; seq++ {
			p := c.out[seq&ringMask]
			if !p.lost {
				continue
			}
			if !c.canSend(p.size) {
				return
			}
			p.lost = false
			c.lostCount--
			c.s.stats.Retransmits++
			c.transmit(p)
		}
	}
	for c.seqSent != c.seqNext {
		p := c.out[c.seqSent&ringMask]
		if !c.canSend(p.size) {
			return
		}
		c.seqSent++
		c.transmit(p)
	}
}

// transmit sends p with a fresh header (the current ack, SACK, window and
// timestamp) and counts it in flight.
func (c *Conn) transmit(p *outPacket) {
	now := c.s.now()
	var h header
	c.fillHeader(&h, p.typ)
	h.seq = p.seq
	n := headerLen
	if len(h.sack) > 0 {
		n += 2 + len(h.sack)
	}
	encodeHeader(p.buf[hdrRoom-n:], &h)
	c.s.send(p.buf[hdrRoom-n:hdrRoom+p.size], c.remote)
	p.sentAt = now
	p.transmissions++
	c.flight += p.size
	c.lastSend = now
	c.needAck = false // this packet carried the ack
	if c.rtoAt == 0 {
		c.rtoAt = now + c.rtt.timeout()
	}
}

// fillHeader fills what every packet of c carries. A SYN carries the
// dialer's receive id; everything else the peer's receive id.
func (c *Conn) fillHeader(h *header, typ packetType) {
	h.typ = typ
	h.connID = c.sendID
	if typ == stSyn {
		h.connID = c.recvID
	}
	h.timestamp = c.s.nowMicro()
	h.tsDiff = c.replyMicro
	c.advertised = c.recvRoom()
	h.wnd = uint32(c.advertised)
	h.seq = c.seqNext
	h.ack = c.ackNr
	if c.oooCount > 0 && typ != stSyn {
		h.sack = c.buildSACK()
	}
}

// recvRoom is the receive window: buffer space not taken by unread or
// out-of-order bytes.
func (c *Conn) recvRoom() int {
	return max(c.s.cfg.RecvBuffer-c.recv.n-c.oooBytes, 0)
}

// buildSACK sets bit i for each seq ackNr+2+i held out of order, in as
// few 4-byte words as cover the last one.
func (c *Conn) buildSACK() []byte {
	clear(c.sack[:])
	last := -1
	for i := range maxSACKLen * 8 {
		if c.ooo[(c.ackNr+2+uint16(i))&ringMask] != nil {
			c.sack[i/8] |= 1 << (i % 8)
			last = i
		}
	}
	if last < 0 {
		return nil
	}
	return c.sack[:(last/32+1)*4]
}

// sendControl sends a STATE or RESET: no sequence number of its own, not
// retransmitted.
func (c *Conn) sendControl(typ packetType) {
	var h header
	c.fillHeader(&h, typ)
	n := encodeHeader(c.s.scratch[:], &h)
	c.s.send(c.s.scratch[:n], c.remote)
	c.lastSend = c.s.now()
	if typ == stState {
		c.needAck = false
	}
}

// flush runs at the end of a batch: data first (it carries the ack), a
// bare STATE if an ack is still owed.
func (c *Conn) flush() {
	if c.err != nil {
		return
	}
	c.trySend()
	if c.needAck {
		c.sendControl(stState)
	}
}

// windowOpened tells the peer at once when a Read made room in a window
// it had seen (nearly) shut; otherwise the next ack carries the news.
func (c *Conn) windowOpened() {
	if c.advertised < 2*packetSize && c.recvRoom() >= 4*packetSize && c.err == nil {
		c.sendControl(stState)
	}
}
