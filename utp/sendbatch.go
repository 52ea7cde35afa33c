package utp

import (
	"errors"
	"net/netip"

	"github.com/aiotorrent/aiotorrent/aio"
)

// BatchTransport is a Transport that can send many datagrams in one call
// (sendmmsg on Linux). A Socket over one gathers its datagrams and hands
// them over at the end of each Flush, when a batch is full, and before a
// call from the application returns, so a window's worth of DATA, or one
// ack per connection after a batch of reads, costs one system call.
type BatchTransport interface {
	Transport
	// SendBatch sends msgs in order, without parking, and returns how
	// many went out, as aio.UDPConn.TryWriteBatch does: when fewer than
	// all, err is aio.ErrWouldBlock for a full buffer (the rest are lost
	// too), or the reason msgs[n] alone was refused. It keeps nothing.
	SendBatch(msgs []aio.Message) (int, error)
}

// sendBatch is the datagrams waiting for the next writeOut. Each is
// copied: control packets are built in one scratch buffer, and a data
// packet's buffer can go back to the pool, and be refilled, before the
// batch goes out (an ack for it later in the same batch of reads).
type sendBatch struct {
	tr    BatchTransport // nil: send each datagram at once
	msgs  []aio.Message
	arena []byte // aio.MaxBatch slots of maxDatagram bytes
}

// maxDatagram is the largest packet a Socket sends.
const maxDatagram = hdrRoom + packetSize

// send puts one datagram on the wire, or in the batch.
func (s *Socket) send(p []byte, to netip.AddrPort) {
	b := &s.batch
	if b.tr == nil {
		if err := s.tr.SendTo(p, to); err != nil {
			s.stats.SendErrors++
			return
		}
		s.stats.Sent++
		return
	}
	if b.arena == nil {
		b.arena = make([]byte, aio.MaxBatch*maxDatagram)
		b.msgs = make([]aio.Message, 0, aio.MaxBatch)
	}
	i := len(b.msgs)
	slot := b.arena[i*maxDatagram : (i+1)*maxDatagram]
	b.msgs = append(b.msgs, aio.Message{Buf: slot[:copy(slot, p)], Addr: to})
	if len(b.msgs) == aio.MaxBatch {
		s.writeOut()
	}
}

// writeOut sends the batch. A refused datagram is skipped and counted; a
// full socket buffer loses the rest, as a failed SendTo loses one, and
// retransmission repairs it.
func (s *Socket) writeOut() {
	b := &s.batch
	msgs := b.msgs
	for len(msgs) > 0 {
		n, err := b.tr.SendBatch(msgs)
		s.stats.Sent += uint64(n)
		msgs = msgs[n:]
		if err == nil {
			break
		}
		if errors.Is(err, aio.ErrWouldBlock) || errors.Is(err, aio.ErrClosed) {
			s.stats.SendErrors += uint64(len(msgs))
			break
		}
		s.stats.SendErrors++
		msgs = msgs[1:]
	}
	clear(b.msgs) // drop the addresses' references; the arena stays
	b.msgs = b.msgs[:0]
}
