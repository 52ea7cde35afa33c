package utp

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// batchShim is a lossy path that takes datagrams in batches, as sendmmsg
// does, and delivers what it was given each delay as one batch of reads
// (Receive each, then one Flush), as recvmmsg does. It refuses some: every refuseEvery-th
// datagram alone (a bad address), and every fullEvery-th batch from its
// middle on (a full buffer).
type batchShim struct {
	*shim
	batches, largest       int
	refuseEvery, fullEvery int
	seen                   int
	twins                  int // batches holding two identical datagrams
	queue                  [][]byte
	armed                  bool
}

var errRefused = errors.New("refused")

func (b *batchShim) SendBatch(msgs []aio.Message) (int, error) {
	b.batches++
	b.largest = max(b.largest, len(msgs))
	for i := range msgs {
		for j := range i {
			if bytes.Equal(msgs[i].Buf, msgs[j].Buf) {
				b.twins++
			}
		}
	}
	var err error
	if b.batches%b.fullEvery == 0 && len(msgs) > 1 {
		msgs, err = msgs[:len(msgs)/2], aio.ErrWouldBlock
	}
	for i, m := range msgs {
		b.seen++
		if b.seen%b.refuseEvery == 0 {
			msgs, err = msgs[:i], errRefused
			break
		}
		b.sent++
		if b.rng.Float64() >= b.path.loss {
			b.queue = append(b.queue, append([]byte(nil), m.Buf...))
		}
	}
	if !b.armed {
		b.armed = true
		b.loop.AfterFunc(b.path.delay, b.deliver)
	}
	return len(msgs), err
}

// deliver hands over everything sent in the last delay at once, so that
// the connections' datagrams share batches.
func (b *batchShim) deliver() {
	b.armed = false
	for _, p := range b.queue {
		b.to.Receive(p, b.from)
	}
	b.queue = b.queue[:0]
	b.to.Flush()
}

// Datagrams queued for a batch are copies: control packets are all built
// in one scratch buffer, so two connections' acks in one batch would
// otherwise both be the last one built. And no call of the application
// returns with datagrams still waiting in the batch, or they would go out
// only at the next tick.
func TestBatchedSendsDeliverEveryByteAndLeaveNothingWaiting(t *testing.T) {
	runLoop(t, func(t *aio.Task) error {
		sa, sb, ab, ba := shimPair(t.Loop(), path{loss: 0.01, delay: 20 * time.Millisecond}, 11)
		bab := &batchShim{shim: ab, refuseEvery: 97, fullEvery: 13}
		bba := &batchShim{shim: ba, refuseEvery: 89, fullEvery: 17}
		sa.batch.tr, sb.batch.tr = bab, bba
		defer sa.Close()
		defer sb.Close()
		pending := func(when string) error {
			if n, m := len(sa.batch.msgs), len(sb.batch.msgs); n+m > 0 {
				return fmt.Errorf("%s: %d and %d datagrams left in the batches", when, n, m)
			}
			return nil
		}
		return aio.Timeout(t, time.Hour, func(t *aio.Task) error {
			acc := aio.Spawn(t, "accept", func(t *aio.Task) (*Conn, error) { return sb.Accept(t) })
			a, err := sa.Dial(t, addrB)
			if err != nil {
				return err
			}
			if err := pending("after Dial"); err != nil {
				return err
			}
			if _, err := a.Write(t, []byte("hi")); err != nil {
				return err
			}
			if err := pending("after Write"); err != nil {
				return err
			}
			b, err := aio.Await(t, acc)
			if err != nil {
				return err
			}
			if got, err := readUntil(t, b, 2); err != nil || string(got) != "hi" {
				return fmt.Errorf("first bytes: got %q, %v", got, err)
			}
			// A second connection, and data one way only, so that one Flush
			// on b owes two bare acks.
			a2, b2, err := dialAccept(t, sa, sb, addrB)
			if err != nil {
				return err
			}
			g := aio.NewGroup(t)
			for i, c := range [][2]*Conn{{a, b}, {a2, b2}} {
				want := pattern(1<<20, uint64(i))
				g.Go("write", func(t *aio.Task) error { return writeAll(t, c[0], want) })
				g.Go("read", func(t *aio.Task) error {
					got, err := readUntil(t, c[1], len(want))
					if err == nil && !bytes.Equal(got, want) {
						err = fmt.Errorf("connection %d: first difference at %d", i, firstDiff(got, want))
					}
					return err
				})
			}
			if err := g.Wait(t); err != nil {
				return err
			}
			if err := pending("after the transfers"); err != nil {
				return err
			}
			a.Close()
			if err := pending("after Close"); err != nil {
				return err
			}
			if bab.twins+bba.twins > 0 {
				return fmt.Errorf("%d times a batch held the same datagram twice", bab.twins+bba.twins)
			}
			if bab.largest < 2 || bba.largest < 2 {
				return fmt.Errorf("largest batches %d and %d: nothing was batched", bab.largest, bba.largest)
			}
			if sa.Stats().SendErrors == 0 || sb.Stats().SendErrors == 0 {
				return fmt.Errorf("no send errors (%d, %d): the refusals were not exercised", sa.Stats().SendErrors, sb.Stats().SendErrors)
			}
			return nil
		})
	}, aio.WithVirtualTime())
}
