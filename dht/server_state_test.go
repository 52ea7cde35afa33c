package dht

import (
	"net/netip"
	"reflect"
	"testing"
	"time"
)

func TestTokensRotateEveryFiveMinutesAndTheLastOneStillCounts(t *testing.T) {
	k := newTokens(t0)
	ip, ih := netip.MustParseAddr("10.0.0.1"), RandomID()
	tok := k.token(ip, ih)
	steps := []struct {
		at   time.Duration
		want bool
	}{
		{0, true},
		{4 * time.Minute, true},
		{5 * time.Minute, true},   // rotated once: the previous secret is still good
		{9 * time.Minute, true},   // no second rotation yet
		{10 * time.Minute, false}, // rotated twice: gone
	}
	for _, s := range steps {
		k.rotate(t0.Add(s.at))
		if got := k.valid(tok, ip, ih); got != s.want {
			t.Errorf("at %v: valid = %v, want %v", s.at, got, s.want)
		}
	}
	fresh := k.token(ip, ih)
	if k.valid(fresh, netip.MustParseAddr("10.0.0.2"), ih) || k.valid(fresh, ip, RandomID()) {
		t.Error("a token is valid for another IP or info-hash")
	}
	// A long silence (the maintenance task did not run) leaves both
	// secrets new.
	k.rotate(t0.Add(2 * time.Hour))
	if k.valid(fresh, ip, ih) {
		t.Error("a token survived two hours")
	}
}

func TestLimiterTokenBucket(t *testing.T) {
	l := newLimiter(2, 3, 2)
	a, b, c := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.3")
	var got []bool
	for range 4 {
		got = append(got, l.allow(a, t0))
	}
	if want := []bool{true, true, true, false}; !reflect.DeepEqual(got, want) {
		t.Errorf("burst: %v, want %v", got, want)
	}
	if !l.allow(a, t0.Add(500*time.Millisecond)) || l.allow(a, t0.Add(500*time.Millisecond)) {
		t.Error("half a second at 2/s should allow exactly one more")
	}
	l.allow(b, t0)
	if l.allow(c, t0) {
		t.Error("a third address was tracked beyond the limit")
	}
	// Two seconds later both buckets have refilled: they are forgotten
	// to make room.
	if !l.allow(c, t0.Add(2*time.Second)) || len(l.ips) > 2 {
		t.Errorf("after refill: %d addresses tracked", len(l.ips))
	}
}

func TestPeerStoreBoundsAndExpiry(t *testing.T) {
	s := newPeerStore(2, 3)
	ih1, ih2, ih3 := ID{1}, ID{2}, ID{3}
	for i := range 5 {
		s.add(ih1, addr(i), t0.Add(time.Duration(i)*time.Minute))
	}
	if got := len(s.get(ih1, t0.Add(5*time.Minute), 10)); got != 3 || s.peers != 3 {
		t.Errorf("peers of ih1 = %d (count %d), want 3: the oldest give way", got, s.peers)
	}
	if _, ok := s.torrents[ih1][addr(0)]; ok {
		t.Error("the oldest announce was kept")
	}
	s.add(ih2, addr(9), t0)
	if s.add(ih3, addr(9), t0) {
		t.Error("a third info-hash was stored in a store for two")
	}
	if got := s.get(ih1, t0.Add(5*time.Minute), 2); len(got) != 2 {
		t.Errorf("get with max 2 returned %d", len(got))
	}
	s.expire(t0.Add(PeerTTL + 3*time.Minute))
	if len(s.torrents) != 1 || s.peers != 1 {
		t.Errorf("after expiry: %d torrents, %d peers; want the last announce of ih1 only", len(s.torrents), s.peers)
	}
}

func TestStateRoundTrip(t *testing.T) {
	s := State{ID: idA, Nodes: []NodeInfo{
		{idM, netip.MustParseAddrPort("1.2.3.4:6881")},
		{idA, netip.MustParseAddrPort("[2001:db8::7]:25401")},
	}}
	got, err := DecodeState(s.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Errorf("got %+v, want %+v", got, s)
	}
	for _, bad := range []string{"", "de", "d2:id3:abce", "d2:id20:abcdefghij01234567895:nodes3:abce"} {
		if _, err := DecodeState([]byte(bad)); err == nil {
			t.Errorf("DecodeState(%q) accepted it", bad)
		}
	}
}
