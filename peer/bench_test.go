package peer

import (
	"net/netip"
	"testing"
)

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

// benchPex is a PEX message as a busy swarm sends it each minute: BEP 11's
// 50 added peers (40 IPv4, 10 IPv6) and 20 dropped.
func benchPex() PexMsg {
	var m PexMsg
	for i := range 50 {
		a := netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})
		if i >= 40 {
			a = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i)})
		}
		m.Added = append(m.Added, netip.AddrPortFrom(a, uint16(6881+i)))
		m.Flags = append(m.Flags, PexReachable)
	}
	for i := range 20 {
		m.Dropped = append(m.Dropped, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 2, 0, byte(i)}), 6881))
	}
	return m
}

func BenchmarkParsePexMsg(b *testing.B) {
	m := benchPex()
	payload := AppendPexMsg(nil, 1, m)[6:]
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		got, err := ParsePexMsg(payload)
		if err != nil || len(got.Added) != len(m.Added) {
			b.Fatalf("got %d added, %v", len(got.Added), err)
		}
	}
}

func BenchmarkAppendPexMsg(b *testing.B) {
	m := benchPex()
	buf := AppendPexMsg(nil, 1, m)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendPexMsg(buf[:0], 1, m)
	}
}
