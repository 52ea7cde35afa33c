package lsd

import "testing"

func BenchmarkParseAnnounce(b *testing.B) {
	pkt := AppendAnnounce(nil, "239.192.152.143:6771", 6881, [][20]byte{ihA, ihB}, "0123456789abcdef")
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseAnnounce(pkt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendAnnounce(b *testing.B) {
	buf := make([]byte, 0, maxSendSize)
	hashes := [][20]byte{ihA, ihB}
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendAnnounce(buf[:0], "239.192.152.143:6771", 6881, hashes, "0123456789abcdef")
	}
	b.SetBytes(int64(len(buf)))
}
