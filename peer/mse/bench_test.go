package mse

import (
	"fmt"
	"testing"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/peer"
)

// BenchmarkKeyExchange is the CPU one side spends on Diffie-Hellman: a
// key pair and the shared secret, two 160-bit exponents mod the 768-bit
// prime. It is why the handshake runs them on the executor.
func BenchmarkKeyExchange(b *testing.B) {
	peerKey, err := newKeyPair()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		k, err := newKeyPair()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := k.secret(peerKey.public[:]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHandshake is a whole handshake over loopback, both sides on
// one loop, DH on the executor: the latency a connection pays for MSE.
func BenchmarkHandshake(b *testing.B) {
	lookup := LookupList(testHash(1))
	runLoop(b, func(task *aio.Task) error {
		for b.Loop() {
			s, _, acc, err := handshakePair(task, testHash(1), RC4, nil, lookup, RC4)
			if err != nil {
				return err
			}
			s.Close()
			acc.Stream.Close()
		}
		return nil
	})
}

// BenchmarkConnPieces is peer's benchmark of the same name over MSE:
// 16 KiB piece messages through peer.Conn on loopback, one task writing
// and one reading on the loop thread, without MSE, over plaintext-in-MSE
// and over RC4. Both ends' cipher work is on the one thread, so the RC4
// figure is the cost of encrypting and decrypting each byte once.
func BenchmarkConnPieces(b *testing.B) {
	for _, m := range []Method{0, Plaintext, RC4} {
		b.Run(m.String(), func(b *testing.B) { benchConnPieces(b, m, 4) })
	}
}

func benchConnPieces(b *testing.B, m Method, batch int) {
	block := randBytes(1, peer.BlockSize)
	b.SetBytes(peer.BlockSize)
	b.ReportAllocs()
	runLoop(b, func(task *aio.Task) error {
		sender, receiver, err := connsOverMSE(task, m, Plaintext|RC4)
		if err != nil {
			return err
		}
		defer sender.Close()
		defer receiver.Close()
		n := b.N
		b.ResetTimer()
		w := aio.Spawn(task, "sender", func(task *aio.Task) (struct{}, error) {
			for i := 0; i < n; i++ {
				sender.QueuePiece(uint32(i%1000), 0, block)
				if (i+1)%batch == 0 {
					if err := sender.Flush(task); err != nil {
						return struct{}{}, err
					}
				}
			}
			return struct{}{}, sender.Flush(task)
		})
		for i := 0; i < n; i++ {
			msg, err := receiver.ReadMessage(task)
			if err != nil {
				return err
			}
			if msg.ID != peer.Piece || len(msg.Payload) != peer.BlockSize {
				return fmt.Errorf("message %d: got %v", i, msg.ID)
			}
		}
		b.StopTimer()
		_, err = aio.Await(task, w)
		return err
	})
}

// BenchmarkRC4Writev is the RC4 stream's write side alone: the copy into
// scratch and the keystream, without a socket.
func BenchmarkRC4Writev(b *testing.B) {
	var secret [keyLen]byte
	enc, dec := ciphers(&secret, testHash(1))
	m := &memStream{}
	s := newRC4Stream(m, dec, enc)
	block := randBytes(1, peer.BlockSize)
	hdr := make([]byte, 13)
	b.SetBytes(4 * (peer.BlockSize + 13))
	b.ReportAllocs()
	runLoop(b, func(task *aio.Task) error {
		for b.Loop() {
			m.written = m.written[:0]
			if _, err := s.Writev(task, [][]byte{hdr, block, hdr, block, hdr, block, hdr, block}); err != nil {
				return err
			}
		}
		return nil
	})
}
