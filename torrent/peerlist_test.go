package torrent

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// nextOf is next's answer as one string, for step-by-step checks.
func nextOf(l *peerList, now time.Time, seeding bool) string {
	addr, wake, ok := l.next(now, seeding)
	if ok {
		return addr.String()
	}
	if wake.IsZero() {
		return "none"
	}
	return fmt.Sprintf("wait %v", wake.Sub(now))
}

func TestPeerListRedialsWithBackoff(t *testing.T) {
	l := newPeerList(10)
	a := ap("10.0.0.1:6881")
	if !l.add(a, fromTracker) || l.add(a, fromPEX) {
		t.Fatal("add: want new the first time only")
	}
	now := t0
	steps := []struct {
		do   func()
		want string
	}{
		{func() {}, "10.0.0.1:6881"},
		{func() { l.dialing(a, now) }, "none"}, // busy while dialling
		{func() { l.ended(a, now, false) }, "wait 2s"},
		{func() { now = now.Add(2 * time.Second) }, "10.0.0.1:6881"},
		{func() { l.dialing(a, now); l.ended(a, now, false) }, "wait 4s"},
		{func() { l.dialing(a, now); l.ended(a, now, false) }, "wait 8s"},
		// A connection that moved data starts the back-off over: a peer
		// that restarts is back within seconds.
		{func() { l.dialing(a, now); l.ended(a, now, true) }, "wait 2s"},
	}
	for i, s := range steps {
		s.do()
		if got := nextOf(l, now, false); got != s.want {
			t.Fatalf("step %d: next = %s, want %s", i, got, s.want)
		}
	}
}

func TestPeerListForgetsDeadAddressesButNotTheUsers(t *testing.T) {
	l := newPeerList(10)
	dead, named := ap("10.0.0.1:1"), ap("10.0.0.2:2")
	l.add(dead, fromTracker)
	l.add(named, fromUser)
	now := t0
	for range maxPeerFailures + 1 {
		for _, a := range []netip.AddrPort{dead, named} {
			l.dialing(a, now)
			l.ended(a, now, false)
		}
		now = now.Add(peerRetryMax)
	}
	if l.entries[dead] != nil {
		t.Errorf("%s failed %d times and is still listed", dead, maxPeerFailures+1)
	}
	if e := l.entries[named]; e == nil || e.retryAt.Sub(e.lastTry) != retryAfter(maxPeerFailures+1) {
		t.Errorf("the user's peer: %+v, want kept, backing off", e)
	}
	if got, want := retryAfter(20), peerRetryMax; got != want {
		t.Errorf("retryAfter(20) = %v, want the cap %v", got, want)
	}
}

func TestPeerListPrefersFreshAddresses(t *testing.T) {
	l := newPeerList(10)
	old, fresh := ap("10.0.0.1:1"), ap("10.0.0.2:2")
	l.add(old, fromTracker)
	l.dialing(old, t0)
	l.ended(old, t0, false)
	l.add(fresh, fromPEX)
	if got := nextOf(l, t0.Add(time.Hour), false); got != fresh.String() {
		t.Fatalf("next = %s, want the never-failed %s first", got, fresh)
	}
}

func TestPeerListBoundedEvictsTheLeastUseful(t *testing.T) {
	l := newPeerList(3)
	named, good, bad := ap("10.0.0.1:1"), ap("10.0.0.2:2"), ap("10.0.0.3:3")
	l.add(named, fromUser)
	l.add(good, fromTracker)
	l.add(bad, fromTracker)
	l.dialing(bad, t0)
	l.ended(bad, t0, false)
	if !l.add(ap("10.0.0.4:4"), fromLSD) {
		t.Fatal("a full list refused a new address although one had failed")
	}
	if l.len() != 3 || l.entries[bad] != nil || l.entries[named] == nil || l.entries[good] == nil {
		t.Fatalf("after eviction: %v, want the failed one gone", listed(l))
	}
	// Everything left is busy or the user's: a stranger is turned away.
	for _, a := range []netip.AddrPort{good, ap("10.0.0.4:4")} {
		l.dialing(a, t0)
	}
	if l.add(ap("10.0.0.5:5"), fromPEX) || l.len() != 3 {
		t.Fatalf("added a stranger over busy entries: %v", listed(l))
	}
}

func TestPeerListBansAndSeeds(t *testing.T) {
	l := newPeerList(10)
	liar, seed := ap("10.0.0.1:1"), ap("10.0.0.2:2")
	l.ban(liar)
	l.add(liar, fromPEX) // PEX cannot bring it back
	l.add(seed, fromTracker)
	l.setSeed(seed, true)
	if got := nextOf(l, t0, true); got != "none" {
		t.Errorf("seeding: next = %s, want none (a liar and a seed)", got)
	}
	if got := nextOf(l, t0, false); got != seed.String() {
		t.Errorf("downloading: next = %s, want the seed", got)
	}
	if l.connected(liar, fromIncoming) {
		t.Error("connected(banned) = true, want false")
	}
}

func TestPeerListIgnoresUndialable(t *testing.T) {
	l := newPeerList(10)
	for _, s := range []string{"0.0.0.0:6881", "10.0.0.1:0", "[::]:1", "224.0.0.1:6881"} {
		if l.add(ap(s), fromPEX) {
			t.Errorf("added %s", s)
		}
	}
	if !l.add(ap("[::ffff:10.0.0.1]:5"), fromPEX) || l.entries[ap("10.0.0.1:5")] == nil {
		t.Error("an IPv4-mapped address is not stored unmapped")
	}
}

func listed(l *peerList) []string {
	var out []string
	for a := range l.entries {
		out = append(out, a.String())
	}
	return out
}
