package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/aiotorrent/aiotorrent/torrent"
)

// progressView shows a session's progress: a bar on a terminal, a plain
// line on a pipe when it changed (at most every 2 s), nothing with
// --quiet. Tracker failures and recoveries are said once each, above the
// bar or between the lines.
type progressView struct {
	out      io.Writer
	bar      *progressbar.ProgressBar
	plain    bool
	lastLine time.Time
	lastText string
	name     string
	trackers trackerWatch
	rate     windowRate
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

func newProgressView(f *Factory, name string, total int64, quiet bool) *progressView {
	v := &progressView{out: f.Out, name: name}
	switch {
	case quiet:
	case f.IsTerminal:
		// The bar shows only itself and the percentage: the sizes, our
		// rate (one unit family, IEC) and the ETA are in the description,
		// since progressbar's own rate is in SI units and its estimate
		// comes from another average than ours.
		v.bar = progressbar.NewOptions64(max(total, 1),
			progressbar.OptionSetWriter(f.Out),
			progressbar.OptionSetDescription(name),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionSetElapsedTime(false),
			progressbar.OptionFullWidth(),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(f.Out) }),
		)
	default:
		v.plain = true
	}
	return v
}

func (v *progressView) update(p torrent.Progress) {
	if v.bar == nil && !v.plain {
		return
	}
	now := time.Now()
	if r := v.rate.add(now, p.Downloaded); r >= 0 {
		p.DownRate = r
	}
	events := v.trackers.changes(p.Trackers, now)
	if v.bar != nil {
		if len(events) > 0 {
			v.bar.Clear()
			for _, e := range events {
				fmt.Fprintf(v.out, "%s: %s\n", v.name, e)
			}
		}
		v.bar.Describe(v.name + "  " + strings.Join(details(p), "  "))
		v.bar.Set64(p.Verified)
		return
	}
	for _, e := range events {
		fmt.Fprintf(v.out, "%s: %s\n", v.name, e)
	}
	text := v.name + ": " + strings.Join(details(p), ", ")
	if text == v.lastText || time.Since(v.lastLine) < 2*time.Second && !p.Complete {
		return
	}
	v.lastLine, v.lastText = time.Now(), text
	fmt.Fprintln(v.out, text)
}

// details are the fields of the progress line: "1.2 MiB / 10.0 MiB
// (12.0%)", "1.5 MiB/s", "3 peers (2 seeds)" or why there are none, and
// "ETA 6s".
func details(p torrent.Progress) []string {
	return []string{
		fmt.Sprintf("%s / %s (%s)", humanBytes(float64(p.Verified)), humanBytes(float64(p.Total)), percent(p)),
		humanBytes(p.DownRate) + "/s",
		sources(p),
		"ETA " + eta(p),
	}
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

// plural is "1 peer", "2 peers".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// finish ends the bar: filled only if the download completed (Finish
// fills it whatever the count, which drew 100% on Ctrl-C at 35% and on a
// full disk), left where it stood otherwise.
func (v *progressView) finish(p torrent.Progress) {
	switch {
	case v.bar == nil:
	case p.Complete:
		v.bar.Finish()
	default:
		v.bar.Exit()
	}
}
