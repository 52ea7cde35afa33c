package piece

import (
	"math/rand/v2"
	"testing"
	"time"
)

// benchPicker builds a picker for 100,000 pieces of 256 KiB (16 blocks
// each) with 200 peers, each having a random half of the pieces.
func benchPicker(b *testing.B, density float64) *Picker {
	const n, peers = 100000, 200
	p, err := NewPicker(256*kib, n*256*kib, rand.New(rand.NewPCG(1, 2)), PickerOptions{})
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for id := range peers {
		bf := NewBitfield(n)
		for i := range n {
			if r.Float64() < density {
				bf.Set(i)
			}
		}
		if err := p.PeerBitfield(PeerID(id), bf); err != nil {
			b.Fatal(err)
		}
	}
	return p
}

// BenchmarkPick measures one request cycle: pick 16 blocks (one piece) for
// the next of 200 peers by rarest first, receive them, and fail the piece
// so that it goes back to wait and the state stays the same from one
// iteration to the next. The pick alone is reported as pick-ns/op.
func BenchmarkPick(b *testing.B) {
	p := benchPicker(b, 0.5)
	for i := range 10 {
		p.PieceVerified(i) // past random-first
	}
	dst := make([]Block, 0, 16)
	var picking time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		peer := PeerID(i % 200)
		t0 := time.Now()
		dst = p.Pick(peer, 16, dst[:0])
		picking += time.Since(t0)
		if len(dst) != 16 {
			b.Fatalf("picked %d blocks, want 16", len(dst))
		}
		for _, blk := range dst {
			if p.BlockReceived(peer, blk).PieceDone {
				p.PieceFailed(blk.Piece)
			}
		}
	}
	b.ReportMetric(float64(picking.Nanoseconds())/float64(b.N), "pick-ns/op")
}

// BenchmarkPickSparsePeer picks for a peer that has 0.5% of the pieces, the
// case where walking the buckets finds little and the bitfield scan takes
// over; the requests are rejected again so the state stays the same.
func BenchmarkPickSparsePeer(b *testing.B) {
	p := benchPicker(b, 0.5)
	for i := range 10 {
		p.PieceVerified(i) // past random-first
	}
	r := rand.New(rand.NewPCG(5, 6))
	sparse := NewBitfield(p.NumPieces())
	for range p.NumPieces() / 200 {
		sparse.Set(r.IntN(p.NumPieces()))
	}
	if err := p.PeerBitfield(999, sparse); err != nil {
		b.Fatal(err)
	}
	dst := make([]Block, 0, 16)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dst = p.Pick(999, 16, dst[:0])
		for _, blk := range dst {
			p.RequestCanceled(999, blk)
		}
	}
}
