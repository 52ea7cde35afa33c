package torrent

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/metainfo"
	"github.com/aiotorrent/aiotorrent/tracker"
)

// idleTorrents writes n small files into dir and makes a torrent of each,
// announcing to announce (none if empty).
func idleTorrents(t testing.TB, dir string, n int, announce string) []*metainfo.Torrent {
	t.Helper()
	metas := make([]*metainfo.Torrent, n)
	for i := range metas {
		path := filepath.Join(dir, fmt.Sprintf("t%04d.bin", i))
		data := make([]byte, 3000+i%7*1000)
		for j := range data {
			data[j] = byte(i*31 + j)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		opts := metainfo.CreateOptions{Path: path, PieceLength: 16 << 10, NoCreationDate: true}
		if announce != "" {
			opts.Announce = [][]string{{announce}}
		}
		m, _, err := metainfo.CreateSync(opts)
		if err != nil {
			t.Fatal(err)
		}
		metas[i] = m
	}
	return metas
}

// TestThousandIdleTorrentsDoNotWake: a client seeding 1,000 torrents that
// no peer wants does nothing while nothing is due. Over ten minutes of
// virtual time after start-up, the loop runs no task step but the test's
// own wake-up, fires no timer but its own, and no session reports
// progress: the cost of idling does not grow with the number of torrents
// (it used to: a ticker per session, four steps a second each, and a
// seed loop polling every second).
func TestThousandIdleTorrentsDoNotWake(t *testing.T) {
	const n = 1000
	dataDir := t.TempDir()
	metas := idleTorrents(t, dataDir, n, "")
	var before, after aio.Stats
	checked, reports, quiet := 0, 0, 0
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		c, err := NewClient(at, ClientConfig{ListenAddr: loopback})
		if err != nil {
			return struct{}{}, err
		}
		defer c.Close()
		aio.Spawn(at, "listener", func(t *aio.Task) (struct{}, error) { return struct{}{}, c.Run(t) })
		g := aio.NewGroup(at)
		defer g.Wait(at)
		defer g.Cancel()
		for _, m := range metas {
			s, err := c.Add(m, SessionOptions{
				Dir: dataDir, Seed: true, RequireComplete: true, NoTrackers: true,
				ProgressInterval: -1,
				OnProgress: func(Progress) {
					if reports++; reports <= n {
						checked++
					}
				},
			})
			if err != nil {
				return struct{}{}, err
			}
			g.Go(m.Name, s.Run)
		}
		for checked < n {
			if err := aio.Sleep(at, time.Second); err != nil {
				return struct{}{}, err
			}
		}
		// A quiet minute for whatever start-up left behind, then the
		// window that is measured.
		if err := aio.Sleep(at, time.Minute); err != nil {
			return struct{}{}, err
		}
		before, reports = at.Loop().Stats(), 0
		if err := aio.Sleep(at, 10*time.Minute); err != nil {
			return struct{}{}, err
		}
		after, quiet = at.Loop().Stats(), reports
		return struct{}{}, nil
	}, aio.WithVirtualTime())
	if err != nil {
		t.Fatal(err)
	}
	steps, switches, timers := after.Steps-before.Steps, after.Switches-before.Switches, after.Timers-before.Timers
	t.Logf("over 10 idle minutes with %d torrents: %d loop steps, %d task steps, %d timers, %d reports", n, steps, switches, timers, quiet)
	if switches > 1 || timers > 1 || quiet > 0 {
		t.Errorf("%d task steps, %d timers, %d progress reports over 10 idle minutes; want at most the test's own wake-up (1, 1) and no report",
			switches, timers, quiet)
	}
	if steps > 4 {
		t.Errorf("%d loop steps over 10 idle minutes; want a handful, whatever the number of torrents", steps)
	}
}

// BenchmarkThousandIdleTorrentsMemory reports what 1,000 idle seeding
// sessions hold: heap and goroutine stacks per torrent, after a GC.
func BenchmarkThousandIdleTorrentsMemory(b *testing.B) {
	const n = 1000
	dataDir := b.TempDir()
	metas := idleTorrents(b, dataDir, n, "")
	if os.Getenv("IDLE_HEAP_PROFILE") != "" {
		runtime.MemProfileRate = 1
	}
	for range b.N {
		var before, idle runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
			c, err := NewClient(at, ClientConfig{ListenAddr: loopback})
			if err != nil {
				return struct{}{}, err
			}
			defer c.Close()
			g := aio.NewGroup(at)
			defer g.Wait(at)
			defer g.Cancel()
			checked := 0
			for _, m := range metas {
				s, err := c.Add(m, SessionOptions{Dir: dataDir, Seed: true, NoTrackers: true, ProgressInterval: -1,
					OnProgress: func(Progress) { checked++ }})
				if err != nil {
					return struct{}{}, err
				}
				g.Go(m.Name, s.Run)
			}
			for checked < n {
				if err := aio.Sleep(at, 10*time.Millisecond); err != nil {
					return struct{}{}, err
				}
			}
			runtime.GC()
			runtime.ReadMemStats(&idle)
			if p := os.Getenv("IDLE_HEAP_PROFILE"); p != "" { // every allocation: go tool pprof
				f, _ := os.Create(p)
				pprof.WriteHeapProfile(f)
				f.Close()
			}
			return struct{}{}, nil
		})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(idle.HeapInuse-before.HeapInuse)/n, "heap-B/torrent")
		b.ReportMetric(float64(idle.StackInuse-before.StackInuse)/n, "stack-B/torrent")
	}
}

// TestIdleTorrentsWakeOnlyToAnnounce: 300 idle torrents announcing to a
// local tracker every 10 minutes run task steps only for those
// announces (a bounded number each, whatever the number of torrents), and
// their first announces are spread announceSpread apart rather than all
// sent at once after the start-up check. Between announces each holds one
// task, its Run (the announcer used to be a second, parked in a sleep).
func TestIdleTorrentsWakeOnlyToAnnounce(t *testing.T) {
	// The test's and the runtime's own, the loop's, the executor's, the
	// tracker server's and the client's: not a number per torrent.
	const idleGoroutines = 50
	const n, perAnnounce = 300, 10
	dataDir := t.TempDir()
	var before, after aio.Stats
	var announces, reported uint64    // reports after the first: one per announce
	first := map[*Session]time.Time{} // each session's first announce
	var goroutines int
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		srv, err := tracker.Serve(at, tracker.ServerConfig{HTTPAddr: loopback, Interval: 10 * time.Minute})
		if err != nil {
			return struct{}{}, err
		}
		metas := idleTorrents(t, dataDir, n, srv.AnnounceURL())
		c, err := NewClient(at, ClientConfig{ListenAddr: loopback})
		if err != nil {
			return struct{}{}, err
		}
		defer c.Close()
		g := aio.NewGroup(at)
		defer g.Wait(at)
		defer g.Cancel()
		for _, m := range metas {
			var s *Session
			reports := 0
			s, err = c.Add(m, SessionOptions{
				Dir: dataDir, Seed: true, ProgressInterval: -1,
				OnProgress: func(Progress) {
					// The first report is the check's; the next, the
					// first announce's (reportingTracker).
					if reports++; reports == 2 {
						first[s] = at.Loop().Now()
					}
					if reports >= 2 {
						reported++
					}
				},
			})
			if err != nil {
				return struct{}{}, err
			}
			g.Go(m.Name, s.Run)
		}
		if err := aio.Sleep(at, 2*time.Minute); err != nil { // start-up and first announces
			return struct{}{}, err
		}
		before, announces = at.Loop().Stats(), reported
		// Each task is a goroutine (a coroutine of iter.Pull): between
		// announces a session holds its Run task and nothing else (the
		// announcer waits on a loop timer, not as a parked task).
		goroutines = runtime.NumGoroutine()
		if err := aio.Sleep(at, 30*time.Minute); err != nil {
			return struct{}{}, err
		}
		after, announces = at.Loop().Stats(), reported-announces
		return struct{}{}, nil
	}, aio.WithVirtualTime())
	if err != nil {
		t.Fatal(err)
	}
	switches := after.Switches - before.Switches
	t.Logf("%d torrents over 30 minutes: %d announces, %d task steps, %d loop steps; %d goroutines between announces",
		n, announces, switches, after.Steps-before.Steps, goroutines)
	if goroutines > n+idleGoroutines {
		t.Errorf("%d goroutines between announces with %d torrents; want at most one each and %d more", goroutines, n, idleGoroutines)
	}
	if announces < 2*n || announces > 4*n {
		t.Errorf("%d announces in 30 minutes at a 10-minute interval; want about %d", announces, 3*n)
	}
	if switches > perAnnounce*announces {
		t.Errorf("%d task steps for %d announces; want at most %d each", switches, announces, perAnnounce)
	}
	if len(first) != n {
		t.Fatalf("%d of %d torrents announced", len(first), n)
	}
	var lo, hi time.Time
	for _, at := range first {
		if lo.IsZero() || at.Before(lo) {
			lo = at
		}
		if at.After(hi) {
			hi = at
		}
	}
	if spread := hi.Sub(lo); spread < (n-1)*announceSpread {
		t.Errorf("first announces within %v; want them spread over at least %v", spread, (n-1)*announceSpread)
	}
}
