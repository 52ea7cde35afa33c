package tracker

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"
)

func newTestSwarms(maxTorrents, maxPeers int) *swarms {
	return newSwarms(10*time.Second, maxTorrents, maxPeers, rand.New(rand.NewPCG(1, 2)))
}

func peerReq(ih byte, id byte, left int64, ev Event) AnnounceRequest {
	return AnnounceRequest{InfoHash: [20]byte{ih}, PeerID: [20]byte{id}, Left: left, Event: ev}
}

func addrs(ps []peerRec) []netip.AddrPort {
	out := make([]netip.AddrPort, len(ps))
	for i := range ps {
		out[i] = ps[i].addrPort()
	}
	slices.SortFunc(out, func(a, b netip.AddrPort) int { return a.Compare(b) })
	return out
}

func TestSwarmScenario(t *testing.T) {
	s := newTestSwarms(0, 0)
	t0 := time.Unix(1000, 0)
	a, b, c := ap("10.0.0.1:1"), ap("10.0.0.2:2"), ap("[::ffff:10.0.0.3]:3")
	steps := []struct {
		name       string
		req        AnnounceRequest
		from       netip.AddrPort
		at         time.Duration
		wantPeers  []netip.AddrPort
		complete   int
		incomplete int
	}{
		{"a starts alone", peerReq(1, 'a', 10, EventStarted), a, 0, nil, 0, 1},
		{"b gets a, never itself", peerReq(1, 'b', 0, EventStarted), b, 0, []netip.AddrPort{a}, 1, 1},
		{"c (4in6) gets a and b", peerReq(1, 'c', 5, EventStarted), c, 0, []netip.AddrPort{a, b}, 1, 2},
		{"a completes", peerReq(1, 'a', 0, EventCompleted), a, time.Second, []netip.AddrPort{b, ap("10.0.0.3:3")}, 2, 1},
		{"b stops", peerReq(1, 'b', 0, EventStopped), b, time.Second, nil, 1, 1},
		{"after 2·interval only the fresh one is handed out", peerReq(1, 'c', 5, EventNone), ap("10.0.0.3:3"),
			21 * time.Second, nil, 0, 1},
	}
	for _, st := range steps {
		res, err := s.announce(st.req, st.from, t0.Add(st.at))
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := addrs(res.peers); !slices.Equal(got, st.wantPeers) {
			t.Errorf("%s: got peers %v, want %v", st.name, got, st.wantPeers)
		}
		if res.complete != st.complete || res.incomplete != st.incomplete {
			t.Errorf("%s: got %d/%d complete/incomplete, want %d/%d", st.name, res.complete, res.incomplete, st.complete, st.incomplete)
		}
	}
	if got, want := s.scrape([20]byte{1}), (ScrapeStats{Complete: 0, Downloaded: 1, Incomplete: 1}); got != want {
		t.Errorf("scrape: got %+v, want %+v", got, want)
	}
	s.expire(t0.Add(time.Hour))
	if len(s.torrents) != 0 {
		t.Errorf("after expiry: got %d torrents, want 0", len(s.torrents))
	}
}

func TestSwarmNumWant(t *testing.T) {
	s := newTestSwarms(0, 0)
	now := time.Unix(0, 0)
	for i := range MaxNumWant + 20 {
		from := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 1)
		s.announce(peerReq(1, 0, 1, EventStarted), from, now)
	}
	for _, tt := range []struct{ numWant, want int32 }{{0, DefaultNumWant}, {-1, DefaultNumWant}, {5, 5}, {10000, MaxNumWant}} {
		req := peerReq(1, 0, 1, EventNone)
		req.NumWant = tt.numWant
		res, _ := s.announce(req, ap("10.9.9.9:9"), now)
		if len(res.peers) != int(tt.want) {
			t.Errorf("numwant %d: got %d peers, want %d", tt.numWant, len(res.peers), tt.want)
		}
	}
}
