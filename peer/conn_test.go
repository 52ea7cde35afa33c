package peer

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// randomMessages returns n valid messages under testLimits, with a mix
// close to a download's: mostly pieces and requests, every other type too.
func randomMessages(rng *rand.Rand, n int) []Message {
	ids := []ID{Piece, Piece, Piece, Request, Request, Have, Cancel, Reject, KeepAlive, Choke,
		Unchoke, Interested, NotInterested, HaveAll, HaveNone, Suggest, AllowedFast, Port,
		Bitfield, Extended}
	payload := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	msgs := make([]Message, n)
	for i := range msgs {
		m := Message{ID: ids[rng.IntN(len(ids))]}
		switch m.ID {
		case Have, Suggest, AllowedFast:
			m.Index = rng.Uint32N(1000)
		case Request, Cancel, Reject:
			m.Index, m.Begin, m.Length = rng.Uint32N(1000), rng.Uint32(), 1+rng.Uint32N(BlockSize)
		case Piece:
			size := BlockSize
			if rng.IntN(4) == 0 {
				size = 1 + rng.IntN(BlockSize) // the last block of a torrent
			}
			m.Index, m.Begin, m.Payload = rng.Uint32N(1000), rng.Uint32(), payload(size)
			m.Length = uint32(size)
		case Bitfield:
			m.Payload = payload(125)
		case Port:
			m.Port = uint16(rng.Uint32())
		case Extended:
			m.ExtID, m.Payload = uint8(rng.Uint32()), payload(rng.IntN(DefaultMaxExtended))
		}
		msgs[i] = m
	}
	return msgs
}

// sendAll writes msgs through every write path: queued and flushed in
// random batches, or sent alone with Send and SendPiece.
func sendAll(t *aio.Task, c *Conn, msgs []Message, rng *rand.Rand) error {
	var scratch []byte
	for i, m := range msgs {
		var err error
		switch rng.IntN(4) {
		case 0: // alone
			if m.ID == Piece {
				err = c.SendPiece(t, m.Index, m.Begin, m.Payload)
			} else {
				scratch, _ = AppendMessage(scratch[:0], m)
				err = c.Send(t, scratch)
			}
		default:
			if err = c.QueueMessage(m); err == nil && rng.IntN(16) == 0 {
				err = c.Flush(t)
			}
		}
		if err != nil {
			return err
		}
		if m.ID == Piece && i%3 == 0 {
			// A sender may reuse a block's memory once Flush has
			// returned, and only then.
			if err := c.Flush(t); err != nil {
				return err
			}
		}
	}
	return c.Flush(t)
}

// TestConnStream sends 10,000 mixed messages through a real socket and
// checks each decodes as sent, byte for byte, then a clean EOF.
func TestConnStream(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	msgs := randomMessages(rng, 10_000)
	var blockBytes uint64
	for _, m := range msgs {
		if m.ID == Piece {
			blockBytes += uint64(len(m.Payload))
		}
	}
	runLoop(t, func(task *aio.Task) error {
		sender, receiver, err := connPair(task, testLimits)
		if err != nil {
			return err
		}
		defer receiver.Close()
		w := aio.Spawn(task, "sender", func(task *aio.Task) (Stats, error) {
			defer sender.Close()
			err := sendAll(task, sender, msgs, rand.New(rand.NewPCG(3, 4)))
			return sender.Stats(), err
		})
		for i, want := range msgs {
			got, err := receiver.ReadMessage(task)
			if err != nil {
				return err
			}
			if !equalMessage(got, want) {
				t.Fatalf("message %d: got %v, want %v", i, got, want)
			}
		}
		if _, err := receiver.ReadMessage(task); !errors.Is(err, io.EOF) {
			t.Errorf("after the stream: got error %v, want EOF", err)
		}
		sent, err := aio.Await(task, w)
		if err != nil {
			return err
		}
		got := receiver.Stats()
		if got.BytesRead != sent.BytesWritten {
			t.Errorf("got %d bytes read, want the %d written", got.BytesRead, sent.BytesWritten)
		}
		if got.Downloaded != blockBytes || sent.Uploaded != blockBytes {
			t.Errorf("got %d block bytes downloaded, %d uploaded, want %d",
				got.Downloaded, sent.Uploaded, blockBytes)
		}
		if got.LastRead.IsZero() || sent.LastWrite.IsZero() {
			t.Errorf("got LastRead %v, LastWrite %v, want both set", got.LastRead, sent.LastWrite)
		}
		return nil
	})
}

// TestReadMessageBadStream runs ReadMessage over hostile or broken byte
// streams that follow a good handshake.
func TestReadMessageBadStream(t *testing.T) {
	have := AppendHave(nil, 5)
	piece := AppendPiece(nil, 1, 0, bytes.Repeat([]byte{7}, BlockSize))
	tests := []struct {
		name   string
		stream []byte
		good   int // whole messages before the error
		want   error
	}{
		{"length prefix 4 GiB", []byte{0xFF, 0xFF, 0xFF, 0xFF}, 0, ErrMessageTooLong},
		{"length prefix one over the limit", []byte{0, 0, 0x44, 0x02}, 0, ErrMessageTooLong}, // 1+17 KiB+1
		{"piece one byte over a block", []byte{0, 0, 0x40, 0x0A, byte(Piece)}, 0, ErrBadLength},
		{"unknown id", append(bytes.Clone(have), 0, 0, 0, 1, 0xFF), 1, ErrUnknownID},
		{"index out of range", AppendHave(nil, 1000), 0, ErrIndexOutOfRange},
		{"end between frames", have, 1, io.EOF},
		{"end inside the length prefix", append(bytes.Clone(have), 0, 0), 1, io.ErrUnexpectedEOF},
		{"end inside a block", piece[:len(piece)-1], 0, io.ErrUnexpectedEOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runLoop(t, func(task *aio.Task) error {
				sender, receiver, err := connPair(task, testLimits)
				if err != nil {
					return err
				}
				defer receiver.Close()
				bufSize := len(receiver.rbuf)
				if err := sender.Send(task, tc.stream); err != nil {
					return err
				}
				sender.Close()
				for i := range tc.good {
					if _, err := receiver.ReadMessage(task); err != nil {
						t.Fatalf("message %d: got error %v", i, err)
					}
				}
				_, err = receiver.ReadMessage(task)
				if !errors.Is(err, tc.want) {
					t.Errorf("got error %v, want %v", err, tc.want)
				}
				if err != nil && !strings.Contains(err.Error(), sender.s.(*aio.TCPConn).LocalAddr().String()) {
					t.Errorf("error %q does not name the peer %s", err, sender.s.(*aio.TCPConn).LocalAddr())
				}
				if len(receiver.rbuf) != bufSize {
					t.Errorf("read buffer grew from %d to %d bytes", bufSize, len(receiver.rbuf))
				}
				return nil
			})
		})
	}
}

// TestIdleTimeout runs on virtual time: a peer that sends keep-alives at
// 60 s and 110 s stays up, then times out 120 s after the last one.
func TestIdleTimeout(t *testing.T) {
	runLoop(t, func(task *aio.Task) error {
		sender, receiver, err := connPair(task, testLimits)
		if err != nil {
			return err
		}
		defer sender.Close()
		defer receiver.Close()
		receiver.SetIdleTimeout(120 * time.Second)
		start := task.Loop().Now()
		aio.Spawn(task, "keep-alives", func(task *aio.Task) (struct{}, error) {
			for _, d := range []time.Duration{60 * time.Second, 50 * time.Second} {
				if err := aio.Sleep(task, d); err != nil {
					return struct{}{}, err
				}
				if err := sender.Send(task, AppendKeepAlive(nil)); err != nil {
					return struct{}{}, err
				}
			}
			return struct{}{}, aio.Sleep(task, time.Hour)
		})
		var got []time.Duration
		for range 3 {
			msg, err := receiver.ReadMessage(task)
			got = append(got, task.Loop().Now().Sub(start))
			if err != nil {
				if !errors.Is(err, aio.ErrTimeout) {
					t.Errorf("got error %v, want ErrTimeout", err)
				}
				break
			}
			if msg.ID != KeepAlive {
				t.Errorf("got %v, want a keep-alive", msg)
			}
		}
		want := []time.Duration{60 * time.Second, 110 * time.Second, 230 * time.Second}
		if len(got) != len(want) {
			t.Fatalf("got events at %v, want %v", got, want)
		}
		for i := range want {
			if d := got[i] - want[i]; d < -time.Second || d > time.Second {
				t.Errorf("got events at %v, want %v", got, want)
				break
			}
		}
		return nil
	}, aio.WithVirtualTime())
}

// TestQueueDuringFlush: frames queued while a Flush is parked go out, in
// order, with the next Flush; a second concurrent Flush is refused.
func TestQueueDuringFlush(t *testing.T) {
	const pieces = 4096 // 64 MiB: more than loopback buffers hold
	block := bytes.Repeat([]byte{0xAB}, BlockSize)
	runLoop(t, func(task *aio.Task) error {
		sender, receiver, err := connPair(task, testLimits)
		if err != nil {
			return err
		}
		defer sender.Close()
		defer receiver.Close()
		var sawFlushing bool
		var flushErr error
		flusher := aio.Spawn(task, "flusher", func(task *aio.Task) (struct{}, error) {
			for i := range pieces {
				sender.QueuePiece(uint32(i%1000), 0, block)
			}
			aio.Spawn(task, "queuer", func(task *aio.Task) (struct{}, error) {
				sawFlushing = sender.flushing
				sender.Queue(AppendHave(nil, 7))
				flushErr = sender.Flush(task)
				return struct{}{}, nil
			})
			if err := sender.Flush(task); err != nil {
				return struct{}{}, err
			}
			return struct{}{}, sender.Flush(task)
		})
		for i := range pieces {
			msg, err := receiver.ReadMessage(task)
			if err != nil {
				return err
			}
			if msg.ID != Piece || !bytes.Equal(msg.Payload, block) {
				t.Fatalf("message %d: got %v, want a piece of %d bytes", i, msg, BlockSize)
			}
		}
		msg, err := receiver.ReadMessage(task)
		if err != nil {
			return err
		}
		if want := (Message{ID: Have, Index: 7}); !equalMessage(msg, want) {
			t.Errorf("after the pieces: got %v, want %v", msg, want)
		}
		if _, err := aio.Await(task, flusher); err != nil {
			return err
		}
		if !sawFlushing {
			t.Error("the queuer did not run during the Flush: the test proves nothing")
		}
		if !errors.Is(flushErr, errFlushing) {
			t.Errorf("concurrent Flush: got error %v, want errFlushing", flushErr)
		}
		return nil
	})
}

func TestQueueMessageUnknownID(t *testing.T) {
	c := &Conn{}
	if err := c.QueueMessage(Message{ID: 0x42}); !errors.Is(err, ErrUnknownID) {
		t.Errorf("got error %v, want ErrUnknownID", err)
	}
	if c.Queued() != 0 {
		t.Errorf("got %d bytes queued, want 0", c.Queued())
	}
}
