package tracker

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// fakeTracker answers from a script and records what it was sent and when
// (relative to the loop's start, on the virtual clock).
type fakeTracker struct {
	url    string
	start  time.Time
	loop   *aio.Loop
	script []fakeAnswer // consumed in order; the last one repeats
	calls  []fakeCall
}

type fakeAnswer struct {
	resp  *AnnounceResponse
	err   error
	delay time.Duration // the round trip; the call is recorded when it ends
}

type fakeCall struct {
	at    time.Duration
	event Event
}

func (f *fakeTracker) URL() string { return f.url }

func (f *fakeTracker) Announce(t *aio.Task, req AnnounceRequest) (*AnnounceResponse, error) {
	a := f.script[min(len(f.calls)+1, len(f.script))-1]
	if err := aio.Sleep(t, a.delay); err != nil {
		return nil, err // cut short: the tracker never heard it
	}
	f.calls = append(f.calls, fakeCall{t.Loop().Now().Sub(f.start).Round(time.Millisecond), req.Event})
	return a.resp, a.err
}

// slow makes an answer take d to arrive.
func slow(d time.Duration, a fakeAnswer) fakeAnswer {
	a.delay = d
	return a
}

func ok(interval time.Duration, peers ...string) fakeAnswer {
	r := &AnnounceResponse{Interval: interval, Complete: 1}
	for _, p := range peers {
		r.Peers = append(r.Peers, ap(p))
	}
	return fakeAnswer{resp: r}
}

// runAnnouncer runs an Announcer on a virtual clock for `run`, calling
// during(at) (if set) at `mid`, then cancels it and returns the calls.
func runAnnouncer(t *testing.T, script []fakeAnswer, cfg AnnouncerConfig, mid time.Duration,
	during func(*Announcer), run time.Duration) ([]fakeCall, *aio.Queue[netip.AddrPort], *Announcer) {
	t.Helper()
	return runAnnouncerAs(t, false, script, cfg, mid, during, run)
}

// runAnnouncerAs is runAnnouncer, driving the Announcer with Start and
// Close (a task group standing for a session's) if scheduled, else Run.
func runAnnouncerAs(t *testing.T, scheduled bool, script []fakeAnswer, cfg AnnouncerConfig, mid time.Duration,
	during func(*Announcer), run time.Duration) ([]fakeCall, *aio.Queue[netip.AddrPort], *Announcer) {
	t.Helper()
	ft := &fakeTracker{url: "fake", script: script}
	q := aio.NewQueue[netip.AddrPort](4)
	var an *Announcer
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		ft.start, ft.loop = at.Loop().Now(), at.Loop()
		cfg.Tracker, cfg.Peers = ft, q
		cfg.Request = func() AnnounceRequest { return AnnounceRequest{Port: 6881} }
		an = NewAnnouncer(cfg)
		wait := func() {
			if during != nil {
				aio.Sleep(at, mid)
				during(an)
				aio.Sleep(at, run-mid)
			} else {
				aio.Sleep(at, run)
			}
		}
		if scheduled {
			g := aio.NewGroup(at)
			an.Start(at.Loop(), 0, func(fn func(*aio.Task) error) { g.Go("announce", fn) })
			wait()
			an.Close()
			g.Cancel()
			return struct{}{}, g.Wait(at)
		}
		h := aio.Spawn(at, "announcer", func(t *aio.Task) (struct{}, error) { return struct{}{}, an.Run(t) })
		wait()
		h.Cancel()
		_, err := aio.Await(at, h)
		if !errors.Is(err, aio.ErrCanceled) {
			return struct{}{}, fmt.Errorf("announcer ended with %v, want ErrCanceled", err)
		}
		return struct{}{}, nil
	}, aio.WithVirtualTime())
	if err != nil {
		t.Fatal(err)
	}
	return ft.calls, q, an
}

func TestAnnouncerSchedule(t *testing.T) {
	s := time.Second
	tests := []struct {
		name   string
		script []fakeAnswer
		cfg    AnnouncerConfig
		mid    time.Duration
		during func(*Announcer)
		run    time.Duration
		want   []fakeCall
	}{
		{"started, interval, stopped", []fakeAnswer{ok(100 * s)}, AnnouncerConfig{MinInterval: s}, 0, nil, 250 * s,
			[]fakeCall{{0, EventStarted}, {100 * s, EventNone}, {200 * s, EventNone}, {250 * s, EventStopped}}},
		{"min intervals floor the tracker's", []fakeAnswer{{resp: &AnnounceResponse{Interval: s, MinInterval: 30 * s}}},
			AnnouncerConfig{MinInterval: 10 * s}, 0, nil, 70 * s,
			[]fakeCall{{0, EventStarted}, {30 * s, EventNone}, {60 * s, EventNone}, {70 * s, EventStopped}}},
		{"completed once, at once", []fakeAnswer{ok(100 * s)}, AnnouncerConfig{MinInterval: s}, 30 * s,
			func(a *Announcer) { a.Completed() }, 200 * s,
			[]fakeCall{{0, EventStarted}, {30 * s, EventCompleted}, {130 * s, EventNone}, {200 * s, EventStopped}}},
		{"backoff doubles to the cap, started kept",
			[]fakeAnswer{{err: errors.New("down")}, {err: errors.New("down")}, {err: errors.New("down")},
				{err: errors.New("down")}, ok(1000 * s)},
			AnnouncerConfig{RetryMin: 10 * s, RetryMax: 25 * s}, 0, nil, 100 * s,
			[]fakeCall{{0, EventStarted}, {10 * s, EventStarted}, {30 * s, EventStarted}, {55 * s, EventStarted},
				{80 * s, EventStarted}, {100 * s, EventStopped}}},
		{"retry in from the tracker", []fakeAnswer{{err: &FailureError{Reason: "busy", RetryIn: 2 * time.Minute}}, ok(1000 * s)},
			AnnouncerConfig{RetryMin: s, RetryMax: time.Hour}, 0, nil, 150 * s,
			[]fakeCall{{0, EventStarted}, {120 * s, EventStarted}, {150 * s, EventStopped}}},
		// The announcer is cancelled with every announce taking a
		// second: "stopped" still completes, in a shield.
		{"stopped waits for its round trip", []fakeAnswer{slow(s, ok(100*s))}, AnnouncerConfig{MinInterval: s}, 0, nil, 50 * s,
			[]fakeCall{{s, EventStarted}, {51 * s, EventStopped}}},
		// A download that completes and exits at once: the group cancels
		// the "completed" announce in flight. It is sent before "stopped",
		// or the tracker never counts the download.
		{"completed owed at exit goes before stopped", []fakeAnswer{slow(s, ok(100*s))}, AnnouncerConfig{MinInterval: s}, 50 * s,
			func(a *Announcer) { a.Completed() }, 50 * s,
			[]fakeCall{{s, EventStarted}, {51 * s, EventCompleted}, {52 * s, EventStopped}}},
		{"no stopped if started never got through", []fakeAnswer{{err: errors.New("down")}},
			AnnouncerConfig{RetryMin: 100 * s}, 0, nil, 50 * s, []fakeCall{{0, EventStarted}}},
	}
	// Start and Close (a timer between announces, no task) must
	// announce exactly as Run does.
	for _, scheduled := range []bool{false, true} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/scheduled=%v", tt.name, scheduled), func(t *testing.T) {
				got, _, _ := runAnnouncerAs(t, scheduled, tt.script, tt.cfg, tt.mid, tt.during, tt.run)
				if !slices.Equal(got, tt.want) {
					t.Errorf("got  %v\nwant %v", got, tt.want)
				}
			})
		}
	}
}

func TestAnnouncerPeers(t *testing.T) {
	script := []fakeAnswer{
		ok(10*time.Second, "10.0.0.1:1", "127.0.0.1:6881", "10.0.0.2:2"),
		ok(10*time.Second, "10.0.0.2:2", "10.0.0.3:3", "10.0.0.9:9", "10.0.0.4:4"),
	}
	cfg := AnnouncerConfig{MinInterval: time.Second, Self: []netip.AddrPort{ap("0.0.0.0:6881")}}
	_, q, an := runAnnouncer(t, script, cfg, 0, nil, 15*time.Second)
	var got []netip.AddrPort
	for range 10 {
		p, ok := q.TryGet()
		if !ok {
			break
		}
		got = append(got, p)
	}
	// Self is skipped, 10.0.0.2 is offered again (the reader dedups; an
	// address whose connection ended must come back, or it is lost for
	// the session), and the queue (4) took what fit.
	want := []netip.AddrPort{ap("10.0.0.1:1"), ap("10.0.0.2:2"), ap("10.0.0.2:2"), ap("10.0.0.3:3")}
	if !slices.Equal(got, want) {
		t.Errorf("queue: got %v, want %v", got, want)
	}
	if st := an.Status(); st.PeersFound != 3 || st.Announces != 3 || st.Complete != 1 {
		t.Errorf("status: got %+v, want 3 distinct peers found, 3 announces, 1 seeder", st)
	}
}

func TestTiers(t *testing.T) {
	down := fakeAnswer{err: errors.New("down")}
	a1 := &fakeTracker{url: "a1", script: []fakeAnswer{down}}
	a2 := &fakeTracker{url: "a2", script: []fakeAnswer{down, ok(time.Minute)}}
	b1 := &fakeTracker{url: "b1", script: []fakeAnswer{ok(time.Minute), down}}
	ts := NewTiersOf([]Tracker{a1, a2}, nil, []Tracker{b1})
	var got [][][]string
	var errs []error
	runLoop(t, func(at *aio.Task) error {
		for _, f := range []*fakeTracker{a1, a2, b1} {
			f.start = at.Loop().Now()
		}
		for range 3 {
			_, err := ts.Announce(at, AnnounceRequest{})
			errs = append(errs, err)
			got = append(got, ts.List())
		}
		return nil
	})
	// 1: a1, a2 fail, b1 answers. 2: a1 fails, a2 answers and moves to the
	// front. 3: a2 answers at once.
	want := [][][]string{{{"a1", "a2"}, {"b1"}}, {{"a2", "a1"}, {"b1"}}, {{"a2", "a1"}, {"b1"}}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("tier order: got %v, want %v", got, want)
	}
	if len(a1.calls) != 2 || len(a2.calls) != 3 || len(b1.calls) != 1 {
		t.Errorf("calls a1 %d a2 %d b1 %d, want 2 3 1", len(a1.calls), len(a2.calls), len(b1.calls))
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("announce %d: %v", i, err)
		}
	}
	// Status: a1 failed last, a2 answered last, b1 answered once then was
	// not asked again.
	var status []string
	for _, st := range ts.Status() {
		status = append(status, fmt.Sprintf("%s err=%v ok=%t peers=%d", st.URL, st.Err, !st.LastOK.IsZero(), st.Peers))
	}
	wantStatus := []string{"a1 err=down ok=false peers=0", "a2 err=<nil> ok=true peers=0", "b1 err=<nil> ok=true peers=0"}
	if fmt.Sprint(status) != fmt.Sprint(wantStatus) {
		t.Errorf("Status:\n got %q\nwant %q", status, wantStatus)
	}
	if _, err := NewTiers([][]string{{"wss://x"}, {"bogus"}}, Config{}, nil); err == nil {
		t.Errorf("NewTiers with nothing usable: got nil error")
	}
	ts2, err := NewTiers([][]string{{"wss://x", "udp://t:1", "http://t/announce"}, {}, {"https://u/announce"}}, Config{}, nil)
	if err != nil || len(ts2.List()) != 2 || len(ts2.List()[0]) != 2 {
		t.Errorf("NewTiers: got %v, %v; want 2 tiers, the first with 2 trackers", ts2.List(), err)
	}
	// The skipped URL is in the status, saying why it is never asked.
	if st := ts2.Status(); len(st) != 4 || st[0].URL != "wss://x" || !errors.Is(st[0].Err, ErrUnsupportedScheme) || st[1].Err != nil {
		t.Errorf("NewTiers status: got %+v, want wss://x with ErrUnsupportedScheme first, then 3 not tried", st)
	}
}

// TestAnnouncerOnPeer: with OnPeer set, every foreign address is handed
// to it (no queue to fill, nothing skipped) and the queue gets none.
func TestAnnouncerOnPeer(t *testing.T) {
	script := []fakeAnswer{
		ok(10*time.Second, "10.0.0.1:1", "127.0.0.1:6881", "10.0.0.2:2"),
		ok(10*time.Second, "10.0.0.2:2", "10.0.0.3:3", "10.0.0.9:9", "10.0.0.4:4"),
	}
	var got []netip.AddrPort
	cfg := AnnouncerConfig{MinInterval: time.Second, Self: []netip.AddrPort{ap("0.0.0.0:6881")},
		OnPeer: func(a netip.AddrPort) { got = append(got, a) }}
	_, q, an := runAnnouncer(t, script, cfg, 0, nil, 15*time.Second)
	want := []netip.AddrPort{ap("10.0.0.1:1"), ap("10.0.0.2:2"), ap("10.0.0.2:2"), ap("10.0.0.3:3"), ap("10.0.0.9:9"), ap("10.0.0.4:4")}
	if len(got) < len(want) || !slices.Equal(got[:len(want)], want) {
		t.Errorf("OnPeer got %v, want %v first", got, want)
	}
	if q.Len() != 0 {
		t.Errorf("queue holds %d addresses, want none", q.Len())
	}
	if st := an.Status(); st.PeersFound != 5 {
		t.Errorf("status: got %+v, want 5 distinct peers found", st)
	}
}

// TestAnnouncerCoalesce: announcers started apart re-announce at the same
// instant, the next whole Coalesce after their interval, never before it.
func TestAnnouncerCoalesce(t *testing.T) {
	const interval, q = time.Minute, time.Second
	ft := &fakeTracker{url: "fake", script: []fakeAnswer{ok(interval)}}
	var started []time.Duration
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		ft.start, ft.loop = at.Loop().Now(), at.Loop()
		g := aio.NewGroup(at)
		var ans []*Announcer
		// From the next whole second: all three are due in the same one.
		now := at.Loop().Now()
		base := now.Truncate(q).Add(q).Sub(now)
		for i := range 3 {
			an := NewAnnouncer(AnnouncerConfig{Tracker: ft, Coalesce: q, OnPeer: func(netip.AddrPort) {},
				Request: func() AnnounceRequest { return AnnounceRequest{Port: 6881} }})
			first := base + time.Duration(1+3*i)*100*time.Millisecond
			started = append(started, first)
			an.Start(at.Loop(), first, func(fn func(*aio.Task) error) { g.Go("announce", fn) })
			ans = append(ans, an)
		}
		aio.Sleep(at, interval+3*q)
		for _, an := range ans {
			an.Close()
		}
		g.Cancel()
		return struct{}{}, g.Wait(at)
	}, aio.WithVirtualTime())
	if err != nil {
		t.Fatal(err)
	}
	var again []time.Duration
	for _, c := range ft.calls {
		if c.event == EventNone {
			again = append(again, c.at)
		}
	}
	if len(again) != 3 {
		t.Fatalf("calls %v: want one re-announce each", ft.calls)
	}
	for i, at := range again {
		if at != again[0] {
			t.Errorf("re-announces at %v, want one instant", again)
		}
		if latest := started[len(started)-1] + interval; at < started[i]+interval || at >= latest+q {
			t.Errorf("re-announce at %v: want at or after %v and before %v", at, started[i]+interval, latest+q)
		}
	}
}

func TestCoalesce(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 10, 250e6, time.UTC) // 10.25 s past a whole minute
	for _, tt := range []struct{ d, q, want time.Duration }{
		{time.Minute, time.Second, time.Minute + 750*time.Millisecond},
		{750 * time.Millisecond, time.Second, 750 * time.Millisecond}, // on a whole second already
		{time.Minute, 0, time.Minute},
		{0, time.Second, 0},                             // now stays now
		{5 * time.Second, time.Second, 5 * time.Second}, // too short to round
	} {
		if got := coalesce(now, tt.d, tt.q); got != tt.want {
			t.Errorf("coalesce(%v, %v) = %v, want %v", tt.d, tt.q, got, tt.want)
		}
	}
}
