package torrent

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/tracker"
)

// TestTrackerHearsCompletedFromTheDownloaderOnly: a download that
// completes and exits sends "completed" before "stopped" (its group used
// to cancel that announce, and trackers counted no download), and a
// seeder whose data was complete at start never sends "completed" (BEP 3;
// it used to on every start).
func TestTrackerHearsCompletedFromTheDownloaderOnly(t *testing.T) {
	events := map[uint16][]tracker.Event{} // by listen port
	var seedPort, leechPort uint16
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		sw, err := newSwarmWith(t, at, payloadSizes, 32<<10, tracker.ServerConfig{
			OnAnnounce: func(req tracker.AnnounceRequest, _ netip.AddrPort) {
				events[req.Port] = append(events[req.Port], req.Event)
			},
		})
		if err != nil {
			return struct{}{}, err
		}
		seeder, _, err := sw.node(at, "seeder", sw.src, true, nil)
		if err != nil {
			return struct{}{}, err
		}
		leecher, h, err := sw.node(at, "leecher", t.TempDir(), false, nil)
		if err != nil {
			return struct{}{}, err
		}
		seedPort, leechPort = seeder.client.Addr().Port(), leecher.client.Addr().Port()
		if _, err := aio.AwaitTimeout(at, h, 60*time.Second); err != nil {
			return struct{}{}, fmt.Errorf("leecher: %w", err)
		}
		// Let the seeder re-announce a few times (every 200 ms here).
		return struct{}{}, aio.Sleep(at, time.Second)
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []tracker.Event{tracker.EventStarted, tracker.EventCompleted, tracker.EventStopped}
	if got := events[leechPort]; !slices.Equal(got, want) {
		t.Errorf("leecher sent %v, want %v", got, want)
	}
	if got := events[seedPort]; len(got) < 2 || got[0] != tracker.EventStarted || slices.Contains(got, tracker.EventCompleted) {
		t.Errorf("seeder sent %v, want started, re-announces, and no completed", got)
	}
}

// TestProgressTellsSeedsAndTrackers: a leecher's progress counts the
// seeder among its peers as a seed and says the tracker answered, with
// its URL; the seeder counts the leecher as no seed.
func TestProgressTellsSeedsAndTrackers(t *testing.T) {
	var leechSeeds, seedSeeds int
	var answered []string
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		sw, err := newSwarmWith(t, at, payloadSizes, 32<<10, tracker.ServerConfig{})
		if err != nil {
			return struct{}{}, err
		}
		_, _, err = sw.node(at, "seeder", sw.src, true, func(s *Session) {
			s.SetOnProgress(func(p Progress) { seedSeeds = max(seedSeeds, p.Seeds) })
		})
		if err != nil {
			return struct{}{}, err
		}
		// Slowed down so that progress is reported while connected.
		_, h, err := sw.nodeWith(at, "leecher", t.TempDir(), false, ClientConfig{MaxDownloadRate: 1 << 20}, SessionOptions{
			AnnounceMinInterval: 200 * time.Millisecond,
			OnProgress: func(p Progress) {
				leechSeeds = max(leechSeeds, p.Seeds)
				for _, st := range p.Trackers {
					if st.Err == nil && !st.LastOK.IsZero() && !slices.Contains(answered, st.URL) {
						answered = append(answered, st.URL)
					}
				}
			},
		})
		if err != nil {
			return struct{}{}, err
		}
		_, err = aio.AwaitTimeout(at, h, 60*time.Second)
		return struct{}{}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if leechSeeds != 1 || seedSeeds != 0 {
		t.Errorf("seeds seen: leecher %d, seeder %d; want 1 and 0", leechSeeds, seedSeeds)
	}
	if len(answered) != 1 {
		t.Errorf("trackers that answered the leecher: %q, want the swarm's one", answered)
	}
}
