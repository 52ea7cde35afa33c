package main

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/aiotorrent/aiotorrent/torrent"
	"github.com/aiotorrent/aiotorrent/tracker"
)

// noAnswerAfter is how long an announce may go unanswered before the user
// is told: a UDP tracker that never answers retransmits for minutes, and
// an HTTP one may take the whole timeout.
const noAnswerAfter = 5 * time.Second

// trackerWatch remembers what was last said of each tracker, so that each
// change is said once.
type trackerWatch struct {
	said map[string]string // URL: its state as last printed
}

// changes returns a line for every tracker whose state changed since the
// last call: a failure with its reason, an announce left unanswered, and a
// recovery ("tracker URL ok, 12 peers"). A first success is not news.
func (w *trackerWatch) changes(trackers []tracker.TrackerStatus, now time.Time) []string {
	if w.said == nil {
		w.said = make(map[string]string)
	}
	var out []string
	for _, st := range trackers {
		state := trackerState(st, now)
		prev, known := w.said[st.URL]
		if state == "" || state == prev || state == "ok" && !known {
			if state == "ok" {
				w.said[st.URL] = state
			}
			continue
		}
		w.said[st.URL] = state
		if state == "ok" {
			out = append(out, fmt.Sprintf("tracker %s ok, %s", st.URL, plural(st.Peers, "peer")))
		} else {
			out = append(out, fmt.Sprintf("tracker %s: %s", st.URL, state))
		}
	}
	return out
}

// trackerState is "ok", why it failed, that it does not answer, or ""
// (not asked yet, or asked only just now).
func trackerState(st tracker.TrackerStatus, now time.Time) string {
	switch {
	case st.Err != nil:
		return trackerReason(st.Err)
	case !st.LastOK.IsZero():
		return "ok"
	case !st.Trying.IsZero() && now.Sub(st.Trying) >= noAnswerAfter:
		return fmt.Sprintf("no answer after %v", noAnswerAfter)
	}
	return ""
}

var httpStatusRE = regexp.MustCompile(`HTTP status (\d+)`)

// trackerReason says in a few words why an announce failed; the tracker's
// URL is said beside it, so the error's own copy of it is dropped.
func trackerReason(err error) string {
	var fe *tracker.FailureError
	var dns *net.DNSError
	switch {
	case errors.As(err, &fe):
		return fmt.Sprintf("refused: %q", fe.Reason)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.As(err, &dns):
		if dns.IsNotFound {
			return "no such host " + dns.Name
		}
		return "cannot resolve " + dns.Name
	case errors.Is(err, tracker.ErrTimeout):
		return "timed out"
	case errors.Is(err, tracker.ErrUnsupportedScheme):
		return "unsupported scheme (http, https and udp work)"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "unreachable"
	}
	if m := httpStatusRE.FindStringSubmatch(err.Error()); m != nil {
		return "HTTP error " + m[1]
	}
	msg := err.Error()
	if _, rest, ok := strings.Cut(msg, "announce "); ok {
		if _, after, ok := strings.Cut(rest, ": "); ok {
			msg = after // "announce URL: why": the URL is said already
		}
	}
	return msg
}

// noSource reports whether nothing can find p's torrent a peer: no
// tracker, no DHT, no LSD, no web seed.
func noSource(p torrent.Progress) bool {
	return !p.Complete && p.Peers == 0 && p.WebSeeds == 0 && len(p.Trackers) == 0 && !p.DHT && !p.LSD && p.Given == 0
}

// noPeersReason says why a torrent has no peers, or "" when it may just
// be waiting for them: a tracker answered, or the DHT or LSD look.
func noPeersReason(p torrent.Progress) string {
	var failed []tracker.TrackerStatus
	for _, st := range p.Trackers {
		if st.Err == nil && !st.LastOK.IsZero() {
			return ""
		}
		if st.Err != nil {
			failed = append(failed, st)
		}
	}
	if len(failed) == 0 {
		if noSource(p) {
			return "no tracker, and DHT and LSD are off"
		}
		return ""
	}
	why := fmt.Sprintf("tracker %s: %s", failed[0].URL, trackerReason(failed[0].Err))
	if len(failed) > 1 {
		why += fmt.Sprintf(" (and %d more failing)", len(failed)-1)
	}
	if p.DHT {
		why += "; searching the DHT"
	}
	return why
}

// trackerLog tells, for -v and --log-file, each announce as it is
// answered or fails, which trackerWatch (news for everyone) leaves out.
type trackerLog struct {
	last map[string]tracker.TrackerStatus
}

// changes returns a line for each announce done since the last call:
// "tracker URL: announced, 12 peers" or "tracker URL: announce failed: why".
func (l *trackerLog) changes(trackers []tracker.TrackerStatus) []string {
	if l.last == nil {
		l.last = make(map[string]tracker.TrackerStatus)
	}
	var out []string
	for _, st := range trackers {
		prev := l.last[st.URL]
		l.last[st.URL] = st
		// An announce that ended between two reports is seen by its
		// result only; one that fails as the last did is said again if
		// it was seen in flight.
		switch {
		case !st.Trying.IsZero():
			if prev.Trying.IsZero() {
				out = append(out, fmt.Sprintf("tracker %s: announcing", st.URL))
			}
		case st.Err != nil:
			if prev.Err == nil || prev.Err.Error() != st.Err.Error() || !prev.Trying.IsZero() {
				out = append(out, fmt.Sprintf("tracker %s: announce failed: %s", st.URL, trackerReason(st.Err)))
			}
		case !st.LastOK.IsZero() && !st.LastOK.Equal(prev.LastOK):
			out = append(out, fmt.Sprintf("tracker %s: announced, %s", st.URL, plural(st.Peers, "peer")))
		}
	}
	return out
}
