package piece_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/aiotorrent/aiotorrent/piece"
)

// A peer with every piece connects; the picker asks it for blocks, they
// arrive, and each completed piece is hashed and marked verified.
func ExamplePicker() {
	p, err := piece.NewPicker(32*1024, 3*32*1024-1000, rand.New(rand.NewPCG(1, 1)), piece.PickerOptions{})
	if err != nil {
		panic(err)
	}
	seed := piece.NewBitfield(p.NumPieces())
	seed.SetAll()
	if err := p.PeerBitfield(7, seed); err != nil {
		panic(err)
	}
	for !p.Complete() {
		reqs := p.Pick(7, 4, nil)
		fmt.Println("request", reqs)
		for _, b := range reqs {
			if p.BlockReceived(7, b).PieceDone {
				// The session hashes and writes the piece on the executor.
				p.PieceVerified(b.Piece)
			}
		}
	}
	fmt.Println("have", p.Bitfield())
	// Output:
	// request [2:0+16384 2:16384+15384 0:0+16384 0:16384+16384]
	// request [1:0+16384 1:16384+16384]
	// have 111
}

// Decoding a peer's BITFIELD message: the spare bits past the last piece
// must be zero.
func ExampleFromBytes() {
	bf, err := piece.FromBytes([]byte{0xa0}, 3)
	fmt.Println(bf, bf.Count(), err)
	_, err = piece.FromBytes([]byte{0xa1}, 3)
	fmt.Println(err)
	// Output:
	// 101 2 <nil>
	// invalid bitfield: spare bits set past piece 2
}
