package peer

import (
	"fmt"
	"net/netip"
	"testing"
)

// pexStep is one call to Update: the peers connected at that moment, and
// the message wanted (nil for none).
type pexStep struct {
	name    string
	current map[netip.AddrPort]PexFlags
	want    *PexMsg
}

func runPexSteps(t *testing.T, s *PexState, steps []pexStep) {
	t.Helper()
	for i, st := range steps {
		got, ok := s.Update(st.current)
		switch {
		case st.want == nil && ok:
			t.Fatalf("step %d (%s): got %+v, want no message", i, st.name, got)
		case st.want != nil && !ok:
			t.Fatalf("step %d (%s): got no message, want %+v", i, st.name, *st.want)
		case st.want != nil && !equalPex(got, *st.want):
			t.Fatalf("step %d (%s):\ngot  %+v\nwant %+v", i, st.name, got, *st.want)
		}
	}
}

func peers(flags PexFlags, addrs ...string) map[netip.AddrPort]PexFlags {
	m := make(map[netip.AddrPort]PexFlags)
	for _, a := range addrs {
		m[ap(a)] = flags
	}
	return m
}

func addrs(ss ...string) []netip.AddrPort {
	var out []netip.AddrPort
	for _, s := range ss {
		out = append(out, ap(s))
	}
	return out
}

func TestPexStateDiffs(t *testing.T) {
	var s PexState
	runPexSteps(t, &s, []pexStep{
		{"no peers yet: nothing to say", peers(0), nil},
		{"first message: everyone, in address order", map[netip.AddrPort]PexFlags{
			ap("10.0.0.3:3"): PexSeed, ap("10.0.0.1:1"): PexReachable, ap("[2001:db8::1]:5"): PexUTP,
		}, &PexMsg{
			Added: addrs("10.0.0.1:1", "10.0.0.3:3", "[2001:db8::1]:5"),
			Flags: []PexFlags{PexReachable, PexSeed, PexUTP},
		}},
		{"nothing changed", peers(0, "10.0.0.1:1", "10.0.0.3:3", "[2001:db8::1]:5"), nil},
		{"one left, one came", peers(PexSeed, "10.0.0.1:1", "[2001:db8::1]:5", "10.0.0.9:9"), &PexMsg{
			Added: addrs("10.0.0.9:9"), Flags: []PexFlags{PexSeed}, Dropped: addrs("10.0.0.3:3"),
		}},
		{"a flag changed: not announced again", peers(PexSeed|PexUTP, "10.0.0.1:1", "[2001:db8::1]:5", "10.0.0.9:9"), nil},
		{"the dropped one is back: added again", peers(0, "10.0.0.1:1", "[2001:db8::1]:5", "10.0.0.9:9", "10.0.0.3:3"), &PexMsg{
			Added: addrs("10.0.0.3:3"), Flags: []PexFlags{0},
		}},
		{"everyone left", peers(0), &PexMsg{
			Dropped: addrs("10.0.0.1:1", "10.0.0.3:3", "10.0.0.9:9", "[2001:db8::1]:5"),
		}},
		{"and stays gone", peers(0), nil},
	})
}

func TestPexStateTransientPeerNeverMentioned(t *testing.T) {
	var s PexState
	runPexSteps(t, &s, []pexStep{
		{"first", peers(0, "10.0.0.1:1"), &PexMsg{Added: addrs("10.0.0.1:1"), Flags: []PexFlags{0}}},
		// 10.0.0.2 connected and left between the two calls; 10.0.0.1 left
		// and came back. Neither is news.
		{"after churn", peers(0, "10.0.0.1:1"), nil},
	})
}

// manyPeers returns n peers 10.1.x.y:6881 in address order.
func manyPeers(from, n int) []string {
	var out []string
	for i := from; i < from+n; i++ {
		out = append(out, fmt.Sprintf("10.1.%d.%d:6881", i>>8, i&0xFF))
	}
	return out
}

func TestPexStateBacklogCarried(t *testing.T) {
	var s PexState
	all := manyPeers(0, MaxPexPeers+MaxPexAdded+20)
	zeros := func(n int) []PexFlags { return make([]PexFlags, n) }
	runPexSteps(t, &s, []pexStep{
		{"first message: up to MaxPexPeers", peers(0, all...), &PexMsg{
			Added: addrs(all[:MaxPexPeers]...), Flags: zeros(MaxPexPeers)}},
		{"then MaxPexAdded", peers(0, all...), &PexMsg{
			Added: addrs(all[MaxPexPeers : MaxPexPeers+MaxPexAdded]...), Flags: zeros(MaxPexAdded)}},
		{"then the rest", peers(0, all...), &PexMsg{
			Added: addrs(all[MaxPexPeers+MaxPexAdded:]...), Flags: zeros(20)}},
		{"then nothing", peers(0, all...), nil},
		{"drops are bounded too", peers(0, all[MaxPexAdded+5:]...), &PexMsg{Dropped: addrs(all[:MaxPexAdded]...)}},
		{"and carried", peers(0, all[MaxPexAdded+5:]...), &PexMsg{Dropped: addrs(all[MaxPexAdded : MaxPexAdded+5]...)}},
		{"then nothing again", peers(0, all[MaxPexAdded+5:]...), nil},
	})
}

func TestPexStateLaterMessagesBounded(t *testing.T) {
	var s PexState
	first := manyPeers(0, 1)
	more := manyPeers(1, MaxPexAdded+1)
	runPexSteps(t, &s, []pexStep{
		{"first", peers(0, first...), &PexMsg{Added: addrs(first...), Flags: []PexFlags{0}}},
		{"a burst of arrivals", peers(0, append(first, more...)...), &PexMsg{
			Added: addrs(more[:MaxPexAdded]...), Flags: make([]PexFlags, MaxPexAdded)}},
	})
}

func TestPexStateFiltersAddresses(t *testing.T) {
	s := PexState{Peer: ap("[::ffff:10.0.0.7]:7")}
	current := peers(PexSeed,
		"10.0.0.7:7",          // the recipient itself, keyed unmapped
		"0.0.0.0:1", "[::]:1", // unspecified
		"10.0.0.2:0",                        // no port
		"[fe80::1%eth0]:1",                  // link-local with a zone
		"10.0.0.1:1", "[::ffff:10.0.0.1]:1", // one peer keyed both ways
	)
	runPexSteps(t, &s, []pexStep{
		{"only the one dialable peer, unmapped", current, &PexMsg{
			Added: addrs("10.0.0.1:1"), Flags: []PexFlags{PexSeed}}},
		{"still there under its mapped key alone", peers(0, "[::ffff:10.0.0.1]:1"), nil},
		{"gone", peers(0), &PexMsg{Dropped: addrs("10.0.0.1:1")}},
	})
}

// TestPexStateMessagesParse wants every message Update makes to encode
// within BEP 11's bounds and parse back unchanged.
func TestPexStateMessagesParse(t *testing.T) {
	var s PexState
	cur := peers(PexReachable, manyPeers(0, 300)...)
	for step := range 8 {
		m, ok := s.Update(cur)
		if !ok {
			break
		}
		if step > 0 && (len(m.Added) > MaxPexAdded || len(m.Dropped) > MaxPexAdded) {
			t.Fatalf("step %d: %d added, %d dropped", step, len(m.Added), len(m.Dropped))
		}
		frame := AppendPexMsg(nil, 1, m)
		got, err := ParsePexMsg(frame[6:])
		if err != nil || !equalPex(got, m) {
			t.Fatalf("step %d: parse(encode(%+v)) = %+v, %v", step, m, got, err)
		}
		if len(frame) > DefaultMaxExtended {
			t.Fatalf("step %d: frame of %d bytes over DefaultMaxExtended", step, len(frame))
		}
		for _, a := range manyPeers(step*40, 40) { // some leave before the next call
			delete(cur, ap(a))
		}
	}
}
