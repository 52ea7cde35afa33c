package dht

import (
	"net/netip"
	"testing"
)

func BenchmarkDecodeGetPeersResponse(b *testing.B) {
	m := Msg{T: []byte("aa"), Y: KindResponse, R: Return{ID: idA, Token: []byte("tok12345")}}
	for i := range 50 {
		m.R.Values = append(m.R.Values, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), 6881))
	}
	for i := range K {
		m.R.Nodes = append(m.R.Nodes, NodeInfo{ID: RandomID(), Addr: addr(i)})
	}
	wire := m.Encode()
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(wire); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTableClosest(b *testing.B) {
	tb := NewTable(RandomID(), t0)
	for i := range 5000 {
		tb.Replied(NodeInfo{ID: RandomID(), Addr: addr(i)}, t0)
	}
	target := RandomID()
	b.ReportAllocs()
	for b.Loop() {
		tb.Closest(target, K, t0)
	}
}
