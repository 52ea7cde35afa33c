package tracker

import (
	"net/netip"
	"runtime"
	"testing"
	"time"
)

func benchPeers(n int) []netip.AddrPort {
	out := make([]netip.AddrPort, n)
	for i := range out {
		out[i] = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 6881)
	}
	return out
}

func BenchmarkParseHTTPAnnounce(b *testing.B) {
	var compact []byte
	for _, p := range benchPeers(200) {
		compact = appendCompact(compact, p)
	}
	raw := []byte(okHTTP("d8:intervali1800e5:peers" + itoa(len(compact)) + ":" + string(compact) + "e"))
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseHTTPAnnounce(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseUDPAnnounceReply(b *testing.B) {
	pkt := appendAnnounceReply(nil, 1, time.Minute, 1, 2, benchPeers(200), false)
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseUDPReply(pkt, false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkServerUDPAnnounce is the server's cost per UDP announce in a
// swarm of 1000 peers: decode, connection id check, swarm update, sample,
// encode.
func BenchmarkServerUDPAnnounce(b *testing.B) {
	st := newTestServerState()
	now := time.Unix(600, 0)
	for i, p := range benchPeers(1000) {
		req := testRequest()
		req.Port = p.Port()
		req.PeerID[0] = byte(i)
		st.swarms.announce(req, p, now)
	}
	from := ap("127.0.0.1:9999")
	pkt := appendAnnounceRequest(nil, st.connID(from, now.Unix()/60), 1, testRequest())
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	var out []byte
	for b.Loop() {
		if out = st.appendUDP(out[:0], pkt, from, now); out == nil {
			b.Fatal("no reply")
		}
	}
}

func BenchmarkServerHTTPAnnounce(b *testing.B) {
	st := newTestServerState()
	now := time.Unix(600, 0)
	for _, p := range benchPeers(1000) {
		st.swarms.announce(AnnounceRequest{InfoHash: [20]byte([]byte(rawIH)), Port: p.Port()}, p, now)
	}
	raw := getReq("/announce?info_hash=" + ihA + "&peer_id=" + pidA + "&port=6881&left=0")
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	var out []byte
	for b.Loop() {
		out = st.appendHTTP(out[:0], raw, ap("127.0.0.1:1"), now)
	}
}

// BenchmarkSwarmMemory fills 10,000 torrents with 10 peers each and
// reports the live heap per peer after a GC (the goal: 100,000 peers in
// 16 MiB of process RSS, runtime and binary included).
func BenchmarkSwarmMemory(b *testing.B) {
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s := newSwarms(time.Hour, 0, 0, nil)
		now := time.Unix(0, 0)
		for i := range 100_000 {
			t := i % 10000
			req := AnnounceRequest{InfoHash: [20]byte{byte(t), byte(t >> 8)}, Left: 1}
			s.announce(req, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 1), now)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if len(s.torrents) != 10000 || s.total != 100_000 {
			b.Fatalf("%d torrents, %d peers", len(s.torrents), s.total)
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/100_000, "heap-B/peer")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MiB")
		runtime.KeepAlive(s)
	}
}

// BenchmarkAnnounceAtCap is an announce by a new peer into a full tracker
// (100,000 peers, the cap), each of which evicts one: against
// BenchmarkAnnounceKnownPeer, what eviction adds.
func BenchmarkAnnounceAtCap(b *testing.B) {
	s, now := fullSwarms(b)
	i := 100_000
	for b.Loop() {
		t := i % 10000
		s.announce(AnnounceRequest{InfoHash: [20]byte{byte(t), byte(t >> 8)}, Left: 1},
			netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 2), now)
		i++
	}
	if s.total > 100_000 {
		b.Fatalf("%d peers over the cap", s.total)
	}
}

// BenchmarkAnnounceKnownPeer is a re-announce in the same full tracker.
func BenchmarkAnnounceKnownPeer(b *testing.B) {
	s, now := fullSwarms(b)
	i := 0
	for b.Loop() {
		k := i % 100_000
		t := k % 10000
		s.announce(AnnounceRequest{InfoHash: [20]byte{byte(t), byte(t >> 8)}, Left: 1},
			netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(k >> 16), byte(k >> 8), byte(k)}), 1), now)
		i++
	}
}

func fullSwarms(b *testing.B) (*swarms, time.Time) {
	s := newSwarms(time.Hour, 0, 100_000, nil)
	now := time.Unix(0, 0)
	for i := range 100_000 {
		t := i % 10000
		s.announce(AnnounceRequest{InfoHash: [20]byte{byte(t), byte(t >> 8)}, Left: 1},
			netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 1), now)
	}
	return s, now.Add(time.Minute)
}
