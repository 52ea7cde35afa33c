package tracker

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// loggedTracker answers after delay with resp or err, and writes what
// happens to a log shared by the trackers of a test, so that a test reads
// the order of events, not the clock.
type loggedTracker struct {
	url   string
	delay time.Duration
	resp  *AnnounceResponse
	err   error
	log   *[]string
	onAsk func(t *aio.Task) // if set, called with the asking task
}

func (f *loggedTracker) URL() string { return f.url }

func (f *loggedTracker) Announce(t *aio.Task, req AnnounceRequest) (*AnnounceResponse, error) {
	*f.log = append(*f.log, "ask "+f.url)
	if f.onAsk != nil {
		f.onAsk(t)
	}
	if err := aio.Sleep(t, f.delay); err != nil {
		*f.log = append(*f.log, "cancel "+f.url)
		return nil, err
	}
	if f.err != nil {
		*f.log = append(*f.log, "fail "+f.url)
		return nil, f.err
	}
	*f.log = append(*f.log, "answer "+f.url)
	return f.resp, nil
}

// TestTiersDoNotWaitForASilentTracker: a tracker that does not answer gets
// a head start, then the next one (in its tier or the next) is asked as
// well, and the first answer wins while the silent one is still out. They
// used to be asked one after another, so a dead first tracker held back
// the working second for its whole timeout, with no peers all that while.
func TestTiersDoNotWaitForASilentTracker(t *testing.T) {
	const never = time.Hour // a dead tracker: longer than any timeout
	s := time.Second
	answer := &AnnounceResponse{Interval: time.Minute, Peers: []netip.AddrPort{ap("10.0.0.1:1")}}
	down := errors.New("connection refused")
	type spec struct {
		url   string
		delay time.Duration
		err   error
	}
	tests := []struct {
		name     string
		tiers    [][]spec
		wantLog  []string
		wantFrom string // whose answer Announce returns; "" for an error
		wantList [][]string
	}{
		{
			name:     "dead first tier, working second",
			tiers:    [][]spec{{{"dead", never, nil}}, {{"b", s, nil}}},
			wantLog:  []string{"ask dead", "ask b", "answer b", "cancel dead"},
			wantFrom: "b", wantList: [][]string{{"dead"}, {"b"}},
		},
		{
			name:     "dead first in the tier, working second",
			tiers:    [][]spec{{{"dead", never, nil}, {"a2", s, nil}}, {{"b", s, nil}}},
			wantLog:  []string{"ask dead", "ask a2", "answer a2", "cancel dead"},
			wantFrom: "a2", wantList: [][]string{{"a2", "dead"}, {"b"}},
		},
		{
			name:     "two dead before a working one",
			tiers:    [][]spec{{{"dead1", never, nil}, {"dead2", never, nil}}, {{"b", s, nil}}},
			wantLog:  []string{"ask dead1", "ask dead2", "ask b", "answer b", "cancel dead1", "cancel dead2"},
			wantFrom: "b", wantList: [][]string{{"dead1", "dead2"}, {"b"}},
		},
		{
			name:     "a working first tracker is the only one asked",
			tiers:    [][]spec{{{"a1", s, nil}, {"a2", s, nil}}, {{"b", s, nil}}},
			wantLog:  []string{"ask a1", "answer a1"},
			wantFrom: "a1", wantList: [][]string{{"a1", "a2"}, {"b"}},
		},
		{
			name:     "a failure passes the turn at once",
			tiers:    [][]spec{{{"refused", 0, down}}, {{"b", s, nil}}},
			wantLog:  []string{"ask refused", "fail refused", "ask b", "answer b"},
			wantFrom: "b", wantList: [][]string{{"refused"}, {"b"}},
		},
		{
			name:     "a slow first tracker that answers first still wins",
			tiers:    [][]spec{{{"slow", 5 * s, nil}}, {{"slower", 10 * s, nil}}},
			wantLog:  []string{"ask slow", "ask slower", "answer slow", "cancel slower"},
			wantFrom: "slow", wantList: [][]string{{"slow"}, {"slower"}},
		},
		{
			name:    "all fail",
			tiers:   [][]spec{{{"x", s, down}}, {{"y", 5 * s, down}}},
			wantLog: []string{"ask x", "fail x", "ask y", "fail y"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log []string
			var tiers [][]Tracker
			for _, tier := range tt.tiers {
				var trs []Tracker
				for _, sp := range tier {
					r := *answer
					r.Complete = len(sp.url) // tells the answers apart
					trs = append(trs, &loggedTracker{url: sp.url, delay: sp.delay, resp: &r, err: sp.err, log: &log})
				}
				tiers = append(tiers, trs)
			}
			ts := NewTiersOf(tiers...)
			var resp *AnnounceResponse
			var err error
			_, runErr := aio.Run(func(at *aio.Task) (struct{}, error) {
				resp, err = ts.Announce(at, AnnounceRequest{})
				return struct{}{}, nil
			}, aio.WithVirtualTime())
			if runErr != nil {
				t.Fatal(runErr)
			}
			if !slices.Equal(log, tt.wantLog) {
				t.Errorf("events %q, want %q", log, tt.wantLog)
			}
			switch {
			case tt.wantFrom == "" && err == nil:
				t.Errorf("Announce answered %+v, want an error", resp)
			case tt.wantFrom != "" && (err != nil || resp.Complete != len(tt.wantFrom)):
				t.Errorf("Announce = %+v, %v; want %s's answer", resp, err, tt.wantFrom)
			}
			if tt.wantList != nil && fmt.Sprint(ts.List()) != fmt.Sprint(tt.wantList) {
				t.Errorf("order after: %v, want %v", ts.List(), tt.wantList)
			}
			for _, st := range ts.Status() {
				if slices.Contains(log, "cancel "+st.URL) && !errors.Is(st.Err, ErrAnotherAnswered) {
					t.Errorf("%s was cut short, status error %v; want ErrAnotherAnswered", st.URL, st.Err)
				}
				if !st.Trying.IsZero() {
					t.Errorf("%s still trying after Announce returned", st.URL)
				}
			}
		})
	}
}

// TestTiersSilentUDPTrackerThenOurs: on real loopback sockets, tier 1 is a
// UDP socket that never answers and tier 2 our tracker. The peers come
// from tier 2 while the UDP tracker is still waiting for its answer: its
// announce ends cut short by the other's answer, not by its own timeout.
func TestTiersSilentUDPTrackerThenOurs(t *testing.T) {
	runLoop(t, func(at *aio.Task) error {
		silent, err := aio.ListenUDP(at, loopback) // bound, never read
		if err != nil {
			return err
		}
		defer silent.Close()
		srv, err := Serve(at, ServerConfig{HTTPAddr: loopback, Interval: time.Minute})
		if err != nil {
			return err
		}
		defer srv.Close()
		other := ap("127.0.0.1:7201")
		if _, err := mustNew(t, srv.AnnounceURL()).Announce(at, clientReq('o', other.Port(), EventStarted)); err != nil {
			return err
		}
		udpURL := "udp://" + net.JoinHostPort("127.0.0.1", fmt.Sprint(silent.LocalAddr().Port()))
		// The UDP tracker would retransmit for the default minute; the
		// head start is cut to keep the test short, not to time anything.
		ts, err := NewTiers([][]string{{udpURL}, {srv.AnnounceURL()}}, Config{NextTrackerAfter: 50 * time.Millisecond}, nil)
		if err != nil {
			return err
		}
		resp, err := ts.Announce(at, clientReq('m', 7202, EventStarted))
		if err != nil {
			return fmt.Errorf("announce: %w", err)
		}
		if !slices.Equal(resp.Peers, []netip.AddrPort{other}) {
			t.Errorf("peers %v, want [%v] from the second tier", resp.Peers, other)
		}
		st := ts.Status()
		if st[0].URL != udpURL || !errors.Is(st[0].Err, ErrAnotherAnswered) {
			t.Errorf("UDP tracker status %+v: want it cut short by the other's answer", st[0])
		}
		if !strings.HasPrefix(st[1].URL, "http://") || st[1].Err != nil || st[1].Peers != 1 {
			t.Errorf("HTTP tracker status %+v: want an answer with 1 peer", st[1])
		}
		return nil
	})
}

func mustNew(t *testing.T, url string) Tracker {
	t.Helper()
	tr, err := New(url, Config{})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestTiersSingleTrackerInCallersTask: with one tracker, Announce asks it
// from the calling task (no task spawned per announce) and gives its answer,
// its error, or the caller's cancellation, with the status kept as before.
func TestTiersSingleTrackerInCallersTask(t *testing.T) {
	down := errors.New("connection refused")
	answer := &AnnounceResponse{Interval: time.Minute}
	for _, tc := range []struct {
		name   string
		err    error
		cancel bool
	}{{"answer", nil, false}, {"failure", down, false}, {"cancelled", nil, true}} {
		var log []string
		tr := &loggedTracker{url: "x", delay: time.Second, resp: answer, err: tc.err, log: &log}
		ts := NewTiersOf([]Tracker{tr})
		var caller, asked *aio.Task
		var resp *AnnounceResponse
		var err error
		_, runErr := aio.Run(func(at *aio.Task) (struct{}, error) {
			caller = at
			tr.onAsk = func(t *aio.Task) { asked = t }
			h := aio.Spawn(at, "announce", func(t *aio.Task) (struct{}, error) {
				caller = t
				resp, err = ts.Announce(t, AnnounceRequest{})
				return struct{}{}, nil
			})
			if tc.cancel {
				aio.Sleep(at, time.Millisecond)
				h.Cancel()
			}
			aio.Await(at, h)
			return struct{}{}, nil
		}, aio.WithVirtualTime())
		if runErr != nil {
			t.Fatal(runErr)
		}
		if asked != caller {
			t.Errorf("%s: the tracker was asked from another task", tc.name)
		}
		st := ts.Status()[0]
		switch {
		case tc.cancel:
			if !errors.Is(err, aio.ErrCanceled) || st.Err != nil {
				t.Errorf("%s: got %v, status %v; want ErrCanceled, no status error", tc.name, err, st.Err)
			}
		case tc.err != nil:
			if !errors.Is(err, down) || !errors.Is(st.Err, down) {
				t.Errorf("%s: got %v, status %v; want %v for both", tc.name, err, st.Err, down)
			}
		case resp != answer || err != nil || st.Err != nil || st.LastOK.IsZero():
			t.Errorf("%s: got %+v, %v, status %+v; want the answer", tc.name, resp, err, st)
		}
	}
}
