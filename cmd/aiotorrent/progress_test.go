package main

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/torrent"
	"github.com/aiotorrent/aiotorrent/tracker"
)

// TestSources: the progress line counts web seeds among the sources, says
// "1 peer", not "1 peers", counts seeds, and says why there are no peers
// when it knows.
func TestSources(t *testing.T) {
	refused := []tracker.TrackerStatus{
		{URL: "http://a/announce", Err: fmt.Errorf("announce http://a/announce: connect a:80: %w", syscall.ECONNREFUSED)},
		{URL: "wss://b/announce", Err: fmt.Errorf("%w: %q", tracker.ErrUnsupportedScheme, "wss://b/announce")},
	}
	answered := []tracker.TrackerStatus{{URL: "http://a/announce", LastOK: time.Unix(1, 0)}}
	for _, c := range []struct {
		p    torrent.Progress
		want string
	}{
		{torrent.Progress{DHT: true}, "0 peers"},
		{torrent.Progress{}, "no peers: no tracker, and DHT and LSD are off"},
		{torrent.Progress{Trackers: answered}, "0 peers"},
		{torrent.Progress{Trackers: refused, LSD: true}, "no peers: tracker http://a/announce: connection refused (and 1 more failing)"},
		{torrent.Progress{Trackers: refused[:1], DHT: true}, "no peers: tracker http://a/announce: connection refused; searching the DHT"},
		{torrent.Progress{Trackers: refused, Complete: true}, "0 peers"},
		{torrent.Progress{Peers: 1, Trackers: refused}, "1 peer"},
		{torrent.Progress{Peers: 3, Seeds: 2, WebSeeds: 1}, "3 peers (2 seeds), 1 web seed"},
		{torrent.Progress{Peers: 1, Seeds: 1}, "1 peer (1 seed)"},
		{torrent.Progress{WebSeeds: 2}, "0 peers, 2 web seeds"},
		{torrent.Progress{Given: 1}, "connecting to 1 given peer"},
		{torrent.Progress{Given: 2, DHT: true}, "connecting to 2 given peers"},
		{torrent.Progress{Given: 1, Trackers: refused[:1]}, "no peers: tracker http://a/announce: connection refused"},
	} {
		if got := sources(c.p); got != c.want {
			t.Errorf("sources(%+v) = %q, want %q", c.p, got, c.want)
		}
	}
	// Narrow, the reason shrinks to a few words, then to "no peers".
	for _, c := range []struct {
		p              torrent.Progress
		compact, short string
	}{
		{torrent.Progress{Trackers: refused, LSD: true}, "no peers: 2 trackers failing", "no peers"},
		{torrent.Progress{Trackers: refused[:1], DHT: true}, "no peers: 1 tracker failing", "no peers"},
		{torrent.Progress{}, "no peers: no tracker, DHT or LSD", "no peers"},
		{torrent.Progress{DHT: true}, "0 peers", "0 peers"},
		{torrent.Progress{Peers: 3, Seeds: 2, WebSeeds: 1}, "3 peers", "3 peers"},
		{torrent.Progress{WebSeeds: 2}, "2 web seeds", "2 web seeds"},
		{torrent.Progress{Given: 1}, "0 peers", "0 peers"},
	} {
		if got := compactSources(c.p); got != c.compact {
			t.Errorf("compactSources(%+v) = %q, want %q", c.p, got, c.compact)
		}
		if got := shortSources(c.p); got != c.short {
			t.Errorf("shortSources(%+v) = %q, want %q", c.p, got, c.short)
		}
	}
}

// TestPercentNeverRoundsUpTo100: 99.96% printed as "100.0%" once looked
// like a finished download.
func TestPercentNeverRoundsUpTo100(t *testing.T) {
	for _, c := range []struct {
		verified, total int64
		want            string
	}{
		{0, 1000, "0.0%"}, {352, 1000, "35.2%"}, {9999, 10000, "99.9%"}, {99996, 100000, "99.9%"},
		{1000, 1000, "100.0%"}, {0, 0, "100.0%"},
	} {
		if got := percent(torrent.Progress{Verified: c.verified, Total: c.total}); got != c.want {
			t.Errorf("percent(%d/%d) = %q, want %q", c.verified, c.total, got, c.want)
		}
	}
}

func TestETA(t *testing.T) {
	for _, c := range []struct {
		p    torrent.Progress
		want string
	}{
		{torrent.Progress{Total: 1 << 20}, "–"},
		{torrent.Progress{Total: 1 << 20, DownRate: 0.5}, "–"},
		{torrent.Progress{Total: 12 << 10, DownRate: 1 << 10}, "12s"},
		{torrent.Progress{Total: 185 << 10, DownRate: 1 << 10}, "3m05s"},
		{torrent.Progress{Total: 7500 << 10, DownRate: 1 << 10}, "2h05m"},
		{torrent.Progress{Total: 100 << 20, Verified: 100 << 20, Complete: true}, "0s"},
	} {
		if got := eta(c.p); got != c.want {
			t.Errorf("eta(%d of %d at %g/s) = %q, want %q", c.p.Verified, c.p.Total, c.p.DownRate, got, c.want)
		}
	}
}

// TestTrackerReason: each way an announce fails is said in a few words,
// without the URL the line already names.
func TestTrackerReason(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("announce http://x/a: connect x:80: dial: %w", syscall.ECONNREFUSED), "connection refused"},
		{fmt.Errorf("announce http://nohost.invalid/a: resolve %q: %w", "nohost.invalid", &net.DNSError{Err: "no such host", Name: "nohost.invalid", IsNotFound: true}), "no such host nohost.invalid"},
		{fmt.Errorf("announce udp://x:1: %w: no answer after 8 retransmissions", tracker.ErrTimeout), "timed out"},
		{fmt.Errorf("announce http://x/a: %w: HTTP status 404", tracker.ErrBadResponse), "HTTP error 404"},
		{fmt.Errorf("announce http://x/a: %w", &tracker.FailureError{Reason: "unregistered torrent"}), `refused: "unregistered torrent"`},
		{fmt.Errorf("%w: %q", tracker.ErrUnsupportedScheme, "wss://x"), "unsupported scheme (http, https and udp work)"},
		{errors.New("announce http://x/a: read response: boom"), "read response: boom"},
	} {
		if got := trackerReason(c.err); got != c.want {
			t.Errorf("trackerReason(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// TestTrackerWatchSaysEachChangeOnce: a failure is said once however
// often it repeats, a recovery is said, a first success is not news, and
// an announce in flight is said after noAnswerAfter.
func TestTrackerWatchSaysEachChangeOnce(t *testing.T) {
	now := time.Unix(1000, 0)
	refused := fmt.Errorf("announce u: %w", syscall.ECONNREFUSED)
	steps := []struct {
		st   tracker.TrackerStatus
		want []string
	}{
		{tracker.TrackerStatus{URL: "u"}, nil},
		{tracker.TrackerStatus{URL: "u", Trying: now.Add(-time.Second)}, nil},
		{tracker.TrackerStatus{URL: "u", Trying: now.Add(-noAnswerAfter)}, []string{"tracker u: no answer after 5s"}},
		{tracker.TrackerStatus{URL: "u", Err: refused}, []string{"tracker u: connection refused"}},
		{tracker.TrackerStatus{URL: "u", Err: refused}, nil},
		{tracker.TrackerStatus{URL: "u", LastOK: now, Peers: 12}, []string{"tracker u ok, 12 peers"}},
		{tracker.TrackerStatus{URL: "u", LastOK: now, Peers: 3}, nil},
		{tracker.TrackerStatus{URL: "v", LastOK: now, Peers: 1}, nil},
		{tracker.TrackerStatus{URL: "v", Err: refused}, []string{"tracker v: connection refused"}},
	}
	var w trackerWatch
	for i, s := range steps {
		got := w.changes([]tracker.TrackerStatus{s.st}, now)
		if fmt.Sprint(got) != fmt.Sprint(s.want) {
			t.Errorf("step %d: got %q, want %q", i, got, s.want)
		}
	}
}

// TestWindowRateDropsToZero: the rate shown is what arrived in the last
// rateWindow, so it is 0 once nothing arrives (the session's smoothed
// rate took a minute to decay, and the ETA grew to days meanwhile).
func TestWindowRateDropsToZero(t *testing.T) {
	var w windowRate
	t0 := time.Unix(1000, 0)
	steps := []struct {
		at   time.Duration
		n    int64
		want float64
	}{
		{0, 0, -1}, {500 * time.Millisecond, 512, -1},
		{time.Second, 1024, 1024}, {2 * time.Second, 2048, 1024},
		{4 * time.Second, 2048, 512}, {6 * time.Second, 2048, 204.8}, {7 * time.Second, 2048, 0}, {9 * time.Second, 2048, 0},
	}
	for _, s := range steps {
		if got := w.add(t0.Add(s.at), s.n); got != s.want {
			t.Errorf("at %v with %d bytes: rate %g, want %g", s.at, s.n, got, s.want)
		}
	}
}
