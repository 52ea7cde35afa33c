package lsd

import (
	"reflect"
	"testing"
	"time"
)

var t0 = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

func register(s *schedule, private bool, ihs ...[20]byte) {
	for _, ih := range ihs {
		s.torrents[ih] = &torrent{ih: ih, private: private}
	}
}

// step is one call of take and what it must answer.
type step struct {
	at   time.Duration // since t0
	want [][20]byte
	wait time.Duration
}

func runSteps(t *testing.T, s *schedule, steps []step) {
	t.Helper()
	for _, st := range steps {
		got, wait := s.take(t0.Add(st.at), nil)
		if !reflect.DeepEqual(got, st.want) || wait != st.wait {
			t.Fatalf("at %v: got %x, wait %v; want %x, wait %v", st.at, got, wait, st.want, st.wait)
		}
	}
}

func TestScheduleIntervalAndGap(t *testing.T) {
	s := newSchedule(5*time.Minute, time.Minute)
	register(s, false, ihA)
	runSteps(t, s, []step{
		{0, [][20]byte{ihA}, 0},             // registered: due at once
		{0, nil, time.Minute},               // the gap holds everything back
		{time.Minute, nil, 4 * time.Minute}, // gap over, ihA due at 5 min
		{5 * time.Minute, [][20]byte{ihA}, 0},
	})
	// A torrent registered inside the gap waits for the gap to end, then
	// goes out alone: ihA is not due again until 10 min.
	register(s, false, ihB)
	runSteps(t, s, []step{
		{5*time.Minute + time.Second, nil, 59 * time.Second},
		{6 * time.Minute, [][20]byte{ihB}, 0},
		{7 * time.Minute, nil, 3 * time.Minute},
	})
}

func TestSchedulePrivateNeverDue(t *testing.T) {
	s := newSchedule(5*time.Minute, time.Minute)
	register(s, true, ihA)
	runSteps(t, s, []step{{0, nil, -1}, {time.Hour, nil, -1}})
	register(s, false, ihB)
	runSteps(t, s, []step{{time.Hour, [][20]byte{ihB}, 0}})
}

// TestScheduleRoundRobin registers more torrents than one datagram holds:
// the first announce carries MaxInfohashes of them, the rest go out after
// the gap, and each keeps its own interval from then on.
func TestScheduleRoundRobin(t *testing.T) {
	s := newSchedule(5*time.Minute, time.Minute)
	var all [][20]byte
	for i := range MaxInfohashes + 3 {
		all = append(all, [20]byte{0: byte(i)})
	}
	register(s, false, all...)
	runSteps(t, s, []step{
		{0, all[:MaxInfohashes], 0},
		{time.Minute, all[MaxInfohashes:], 0},
		{2 * time.Minute, nil, 3 * time.Minute},
		{5 * time.Minute, all[:MaxInfohashes], 0},
		{6 * time.Minute, all[MaxInfohashes:], 0},
	})
}
