package peer

import (
	"fmt"
	"testing"

	"github.com/aiotorrent/aiotorrent/aio"
)

// BenchmarkConnPieces moves 16 KiB piece messages over loopback, one task
// writing and one reading on the same loop thread: the upload path
// (header and block in one writev, the block uncopied) against the
// download path (one large read, frames decoded in place). batch is how
// many blocks one Flush sends.
func BenchmarkConnPieces(b *testing.B) {
	for _, batch := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			benchConnPieces(b, batch)
		})
	}
}

func benchConnPieces(b *testing.B, batch int) {
	block := make([]byte, BlockSize)
	for i := range block {
		block[i] = byte(i)
	}
	b.SetBytes(BlockSize)
	b.ReportAllocs()
	_, err := aio.Run(func(task *aio.Task) (struct{}, error) {
		sender, receiver, err := connPair(task, testLimits)
		if err != nil {
			return struct{}{}, err
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
				return struct{}{}, err
			}
			if msg.ID != Piece || len(msg.Payload) != BlockSize {
				return struct{}{}, fmt.Errorf("message %d: got %v", i, msg)
			}
		}
		b.StopTimer()
		_, err = aio.Await(task, w)
		return struct{}{}, err
	})
	if err != nil {
		b.Fatal(err)
	}
}
