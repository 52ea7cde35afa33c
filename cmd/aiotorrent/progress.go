package main

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/aiotorrent/aiotorrent/torrent"
)

// progressView shows a session's progress: a bar on a terminal, a plain
// line every few seconds on a pipe, nothing with --quiet.
type progressView struct {
	out      io.Writer
	bar      *progressbar.ProgressBar
	plain    bool
	lastLine time.Time
	name     string
}

func newProgressView(f *Factory, name string, total int64, quiet bool) *progressView {
	v := &progressView{out: f.Out, name: name}
	switch {
	case quiet:
	case f.IsTerminal:
		v.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(f.Out),
			progressbar.OptionSetDescription(name),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
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
	switch {
	case v.bar != nil:
		v.bar.Describe(fmt.Sprintf("%s  %s  %s/s", v.name, sources(p), humanBytes(p.DownRate)))
		v.bar.Set64(p.Verified)
	case v.plain:
		if time.Since(v.lastLine) < 2*time.Second && !p.Complete {
			return
		}
		v.lastLine = time.Now()
		pct := 100.0
		if p.Total > 0 {
			pct = 100 * float64(p.Verified) / float64(p.Total)
		}
		fmt.Fprintf(v.out, "%s: %s / %s (%.1f%%), %s/s, %s\n", v.name,
			humanBytes(float64(p.Verified)), humanBytes(float64(p.Total)), pct, humanBytes(p.DownRate), sources(p))
	}
}

// sources says where the data comes from: "3 peers", "1 peer, 1 web seed".
func sources(p torrent.Progress) string {
	s := plural(p.Peers, "peer")
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

func (v *progressView) finish() {
	if v.bar != nil {
		v.bar.Finish()
	}
}
