package peer

import "testing"

// BenchmarkParseMessage decodes a 16 KiB piece message, the frame that
// carries almost every byte of a download.
func BenchmarkParseMessage(b *testing.B) {
	wire := AppendPiece(nil, 1, 0, make([]byte, BlockSize))
	lim := Limits{NumPieces: 1000}
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		msg, n, err := ParseMessage(wire, lim)
		if err != nil || n != len(wire) || len(msg.Payload) != BlockSize {
			b.Fatalf("got %v, n = %d, %v", msg, n, err)
		}
	}
}

// BenchmarkParseMessageRequest decodes a request, the common small frame.
func BenchmarkParseMessageRequest(b *testing.B) {
	wire := AppendRequest(nil, 1, 0, BlockSize)
	lim := Limits{NumPieces: 1000}
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		if _, n, err := ParseMessage(wire, lim); err != nil || n != len(wire) {
			b.Fatalf("got n = %d, %v", n, err)
		}
	}
}

func BenchmarkAppendRequest(b *testing.B) {
	buf := make([]byte, 0, 64)
	b.SetBytes(17)
	b.ReportAllocs()
	for i := uint32(0); b.Loop(); i++ {
		buf = AppendRequest(buf[:0], i, i*BlockSize, BlockSize)
	}
}

func BenchmarkAppendPieceHeader(b *testing.B) {
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for i := uint32(0); b.Loop(); i++ {
		buf = AppendPieceHeader(buf[:0], i, 0, BlockSize)
	}
}
