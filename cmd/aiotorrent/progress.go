package main

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/aiotorrent/aiotorrent/torrent"
)

// progressView shows one session's progress: a row of the display's
// live area on a terminal (see progressRow), a plain line on a pipe when
// it changed (at most every 2 s while downloading, every completeEvery
// while seeding), nothing with --quiet. Tracker failures and recoveries
// are said once each, above the rows or between the lines.
type progressView struct {
	d        *display
	row      int // in d.screen; -1 on a pipe
	name     string
	last     torrent.Progress
	seen     bool // last holds a report
	lastLine time.Time
	lastText string
	// lastComplete is whether lastText was said complete: completing is
	// said at once, not after the 2 s.
	lastComplete bool
	trackers     trackerWatch
	announce     trackerLog
	rate, up     windowRate
	seeding      time.Time // when the switch to seeding was said
	saidNoSource bool      // that it has no source of peers, above the rows
	ended        string    // "done" or "stopped": the row's last word
}

// seedingFor is how long the torrent has seeded.
func (v *progressView) seedingFor() time.Duration {
	if v.seeding.IsZero() {
		return 0
	}
	return time.Since(v.seeding)
}

// newProgressView is a display of one torrent, for commands that run one
// session (demo).
func newProgressView(f *Factory, name string, total int64, quiet bool) *progressView {
	return newDisplay(f, displayFlags{}, quiet, false).add(name)
}

// rateWindow is what the shown rate averages over. The session's own rate
// is smoothed exponentially, so when data stops it decays for a minute
// ("54 B/s", "ETA 1h03m") instead of saying that nothing arrives.
const rateWindow = 5 * time.Second

// windowRate is the download rate over the last rateWindow.
type windowRate struct {
	samples []rateSample
}

type rateSample struct {
	at time.Time
	n  int64
}

// add records n bytes downloaded by now and returns the bytes per second
// since the oldest sample in the window; -1 before a second has passed.
func (w *windowRate) add(now time.Time, n int64) float64 {
	w.samples = append(w.samples, rateSample{now, n})
	for len(w.samples) > 2 && now.Sub(w.samples[1].at) >= rateWindow {
		w.samples = w.samples[1:]
	}
	first := w.samples[0]
	if d := now.Sub(first.at); d >= time.Second {
		return float64(n-first.n) / d.Seconds()
	}
	return -1
}

func (v *progressView) update(p torrent.Progress) {
	d := v.d // with -q, d says nothing, but --log-file still logs
	now := time.Now()
	if r := v.rate.add(now, p.Downloaded); r >= 0 {
		p.DownRate = r
	}
	if r := v.up.add(now, p.Uploaded); r >= 0 {
		p.UpRate = r
	}
	v.last, v.seen = p, true
	for _, e := range v.announce.changes(p.Trackers) {
		d.logf("%s: %s", v.name, e)
	}
	for _, e := range v.trackers.changes(p.Trackers, now) {
		d.say("%s: %s", v.name, e)
	}
	if d.screen != nil && !v.saidNoSource && noSource(p) && !d.givenPeers {
		// A narrow row drops the reason to "no peers"; trackers that
		// fail are said above the rows, and so is this.
		v.saidNoSource = true
		d.say("%s: no source of peers: %s", v.name, noPeersReason(p))
	}
	if p.Complete && d.seed && v.seeding.IsZero() {
		v.seeding = now
		if p.Verified > p.Resumed {
			d.say("%s", summary(v.name, p, d.savePath(v.name)))
		}
		d.say("%s: seeding%s", v.name, d.seedUntil)
	}
	if d.screen != nil {
		// A seeding row changes slowly: once a second is enough.
		if !p.Complete || now.Sub(v.lastLine) >= time.Second {
			v.lastLine = now
			d.screen.redraw(false)
		}
		return
	}
	text := v.name + ": " + strings.Join(details(p), ", ")
	if p.Complete && d.seed {
		f := seedingFields(p)
		text = v.name + ": " + f[0] + " " + strings.Join(f[1:], ", ")
	}
	every := 2 * time.Second
	if p.Complete {
		every = completeEvery
	}
	changed := p.Complete != v.lastComplete
	if text == v.lastText || now.Sub(v.lastLine) < every && !changed {
		return
	}
	v.lastLine, v.lastText, v.lastComplete = now, text, p.Complete
	d.say("%s", text)
}

// finish ends the view: its row becomes an ordinary line, showing where
// it stood (never 100% unless the download completed).
func (v *progressView) finish(p torrent.Progress) {
	if !v.seen {
		// Stopped while checking: how much is there is not known, and
		// "0.0%" would say nothing is.
		v.ended = "stopped"
		if v.d.screen != nil && v.row >= 0 {
			v.d.screen.retire(v.row)
			v.d.retired()
		}
		return
	}
	p.DownRate, p.UpRate = v.last.DownRate, v.last.UpRate
	v.last, v.seen = p, true
	switch {
	case !p.Complete:
		// Its peers and rate are gone: the row says how far it got.
		v.ended = "stopped"
	case !v.d.seed:
		v.ended = "done"
	}
	if v.d.screen == nil || v.row < 0 {
		return
	}
	v.d.screen.retire(v.row)
	v.d.retired()
}

// line is the view's row at width columns.
func (v *progressView) line(width int) string {
	name := v.d.padName(v.name, width-1)
	switch {
	case !v.seen && v.ended != "":
		return fitLine(width-1, name, [][]string{{"checking stopped"}})
	case !v.seen:
		return fitLine(width-1, name, [][]string{{"checking the data on disk"}, {"checking"}})
	case v.ended != "":
		return fitBar(width-1, name, fraction(v.last), endedLayouts(v.last, v.ended))
	}
	return progressLine(width-1, name, v.last, v.d.seed)
}

// details are the fields of the progress line: "1.2 MiB / 10.0 MiB
// (12.0%)", "1.5 MiB/s", "3 peers (2 seeds)" or why there are none, and
// "ETA 6s"; once complete, the size and "complete" (the summary follows
// with the rate and peers of the whole run).
func details(p torrent.Progress) []string {
	size := fmt.Sprintf("%s / %s (%s)", humanBytes(float64(p.Verified)), humanBytes(float64(p.Total)), percent(p))
	if p.Complete {
		return []string{size, "complete"}
	}
	return []string{
		size,
		humanBytes(p.DownRate) + "/s",
		sources(p),
		"ETA " + eta(p),
	}
}

// seedingFields are the seeding line's: "seeding:", "↑ 1.2 MiB/s", "45.0
// MiB uploaded", "ratio 0.37", "2 peers served" (unchoked: "served", as the
// summary's "3 peers connected" counts every connection).
func seedingFields(p torrent.Progress) []string {
	return []string{"seeding:", "↑ " + humanBytes(p.UpRate) + "/s",
		humanBytes(float64(p.Uploaded)) + " uploaded", "ratio " + ratio(p), plural(p.Unchoked, "peer") + " served"}
}

// ratio is uploaded over the torrent's wanted size, as --seed-ratio
// counts it (a seed that downloaded nothing has a ratio too).
func ratio(p torrent.Progress) string {
	if p.Total <= 0 {
		return "0.00"
	}
	return fmt.Sprintf("%.2f", float64(p.Uploaded)/float64(p.Total))
}

// percent is rounded down, so that 100% means every wanted byte is
// verified (99.96% would print as 100.0%).
func percent(p torrent.Progress) string {
	if p.Total <= 0 || p.Verified >= p.Total {
		return "100.0%"
	}
	pct := math.Floor(1000*float64(p.Verified)/float64(p.Total)) / 10
	return fmt.Sprintf("%.1f%%", min(pct, 99.9))
}

// eta is how long the rest takes at the current rate, "–" when unknown.
func eta(p torrent.Progress) string {
	left := p.Total - p.Verified
	switch {
	case left <= 0 || p.Complete:
		return "0s"
	case p.DownRate < 1:
		return "–"
	}
	return shortDuration(time.Duration(float64(left) / p.DownRate * float64(time.Second)))
}

// shortDuration is "45s", "3m05s", "2h07m", "3d04h".
func shortDuration(d time.Duration) string {
	s := int64(math.Ceil(d.Seconds()))
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	}
	return fmt.Sprintf("%dd%02dh", s/86400, s%86400/3600)
}

// sources says where the data comes from: "3 peers (2 seeds)", "1 peer,
// 1 web seed", or why there is nobody: "no peers: tracker URL: connection
// refused".
func sources(p torrent.Progress) string {
	if p.Peers == 0 && p.WebSeeds == 0 && !p.Complete {
		if why := noPeersReason(p); why != "" {
			return "no peers: " + why
		}
		if p.Given > 0 {
			return connectingGiven(p)
		}
	}
	s := plural(p.Peers, "peer")
	if p.Seeds > 0 {
		s += " (" + plural(p.Seeds, "seed") + ")"
	}
	if p.WebSeeds > 0 {
		s += ", " + plural(p.WebSeeds, "web seed")
	}
	return s
}

// shortSources is sources without the seeds, web seeds and reasons, for
// a narrow terminal (the reasons were printed above the rows): "3
// peers", "no peers".
func shortSources(p torrent.Progress) string {
	switch {
	case p.Peers == 0 && p.WebSeeds > 0:
		return plural(p.WebSeeds, "web seed")
	case p.Peers == 0 && !p.Complete && noPeersReason(p) != "":
		return "no peers"
	}
	return plural(p.Peers, "peer")
}

// connectingGiven is what a torrent that was given peers (--peer, a
// magnet's x.pe) is doing before one connects: nothing is wrong yet, so
// the line does not say "no peers" (narrow, it is "0 peers").
func connectingGiven(p torrent.Progress) string {
	return "connecting to " + plural(p.Given, "given peer")
}

// compactSources is sources with the reason there are no peers in a few
// words: "no peers: 3 trackers failing".
func compactSources(p torrent.Progress) string {
	s := shortSources(p)
	if s != "no peers" {
		return s
	}
	failing := 0
	for _, st := range p.Trackers {
		if st.Err != nil {
			failing++
		}
	}
	if failing == 0 {
		return "no peers: no tracker, DHT or LSD"
	}
	return "no peers: " + plural(failing, "tracker") + " failing"
}

// plural is "1 peer", "2 peers".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
