package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/torrent"
)

// displayFlags are the output flags download and seed share besides -q
// and -v.
type displayFlags struct {
	// LogFile receives the -v stream, with times, with or without -v.
	LogFile string
	// SummaryInterval is aria2c's --summary-interval: when the output is
	// not a terminal, a line on all torrents every this many seconds.
	SummaryInterval int
}

func (fl *displayFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&fl.LogFile, "log-file", "", "write what --verbose shows (tracker announces, peers, failed pieces) to this file, with times, with or without -v")
	fs.IntVar(&fl.SummaryInterval, "summary-interval", 60, "when the output is not a terminal, print a summary line every this many seconds (0: never)")
}

func (fl displayFlags) check() error {
	if fl.SummaryInterval < 0 {
		return usageError{fmt.Errorf("--summary-interval %d: want 0 (never) or more seconds", fl.SummaryInterval)}
	}
	return nil
}

// display is everything a run of sessions prints while it runs: one
// progressView per torrent, drawn as rows of a screen on a terminal (and
// a total row when there are several) or as plain lines on a pipe, the
// lines said between them, and the -v log. It runs on the loop thread,
// like the sessions that report to it.
type display struct {
	f              *Factory
	quiet, verbose bool
	screen         *screen // nil unless Out is a terminal (and not quiet)
	views          []*progressView
	interval       time.Duration // --summary-interval on a pipe; 0: none
	log            *logFile      // nil without --log-file

	// seed is whether complete torrents seed, and seedUntil says until
	// when (" until Ctrl-C"); dir is where the data is, absolute.
	seed      bool
	seedUntil string
	dir       string
	// givenPeers is whether --peer named peers: a torrent without a
	// tracker then has a source all the same.
	givenPeers bool
}

func newDisplay(f *Factory, fl displayFlags, quiet, verbose bool) *display {
	d := &display{f: f, quiet: quiet, verbose: verbose}
	switch {
	case quiet:
	case f.IsTerminal:
		d.screen = newScreen(f.Out)
	default:
		d.interval = time.Duration(fl.SummaryInterval) * time.Second
	}
	return d
}

// planDisplay makes the display of a run of sessions, opening the
// --log-file before anything starts.
func planDisplay(f *Factory, plan sessionsPlan) (*display, error) {
	if err := plan.display.check(); err != nil {
		return nil, err
	}
	d := newDisplay(f, plan.display, plan.quiet, plan.verbose)
	d.seed, d.seedUntil = plan.seed, seedUntilText(plan.seedRatio, plan.seedTime)
	d.givenPeers = len(plan.peers) > 0
	dir, err := filepath.Abs(plan.dir)
	if err != nil {
		dir = plan.dir
	}
	d.dir = dir
	if plan.display.LogFile != "" {
		if d.log, err = openLogFile(plan.display.LogFile); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// start runs what the display does on its own: follow terminal resizes
// (SIGWINCH; each redraw reads the size anyway, but a seeding row is
// redrawn only every few seconds), write the log file, print the
// --summary-interval lines. stop ends them and closes the log file.
func (d *display) start(t *aio.Task) (stop func(t *aio.Task) error) {
	var stops []func()
	if d.screen != nil {
		stops = append(stops, aio.OnSignal(t.Loop(), func(os.Signal) { d.screen.redraw(true) }, unix.SIGWINCH))
	}
	if d.interval > 0 {
		h := aio.Spawn(t, "summary lines", func(t *aio.Task) (struct{}, error) { return struct{}{}, d.summaries(t) })
		stops = append(stops, h.Cancel)
	}
	var logTask *aio.Handle[struct{}]
	if d.log != nil {
		logTask = aio.Spawn(t, "log file", func(t *aio.Task) (struct{}, error) { return struct{}{}, d.log.run(t) })
		stops = append(stops, logTask.Cancel)
	}
	return func(t *aio.Task) error {
		for _, s := range stops {
			s()
		}
		if logTask == nil {
			return nil
		}
		return aio.Shield(t, 5*time.Second, func(t *aio.Task) error {
			aio.Await(t, logTask) // its write done before the last
			return d.log.close(t)
		})
	}
}

// add makes the view of one torrent.
func (d *display) add(name string) *progressView {
	v := &progressView{d: d, name: name, row: -1}
	d.views = append(d.views, v)
	if d.screen != nil {
		v.row = d.screen.add(v.line)
		if len(d.views) == 2 {
			d.screen.footer = d.totalLine
		}
		d.screen.redraw(true)
	}
	return v
}

// retired is called when a view's row is gone: the total row goes with
// the last.
func (d *display) retired() {
	for _, v := range d.views {
		if d.screen.rows[v.row] != nil {
			return
		}
	}
	if d.screen.footer != nil {
		d.screen.footer = nil
		d.screen.redraw(true)
	}
}

// say prints a line on Out, above the rows on a terminal; nothing when
// quiet.
func (d *display) say(format string, args ...any) { d.sayTo(d.f.Out, format, args...) }

// sayTo is say on w (Out or Err).
func (d *display) sayTo(w io.Writer, format string, args ...any) {
	if d.quiet {
		return
	}
	d.write(w, fmt.Sprintf(format, args...)+"\n")
}

// warn writes text on Err, above the rows on a terminal, even when quiet:
// it says why a torrent stands still or what a command it ran printed.
func (d *display) warn(text string) { d.write(d.f.Err, text) }

func (d *display) write(w io.Writer, text string) {
	if d.screen != nil {
		d.screen.above(w, text)
		return
	}
	io.WriteString(w, text)
}

// logf is the -v stream: on Err with -v (above the rows), and in the
// --log-file.
func (d *display) logf(format string, args ...any) {
	if d.log != nil {
		d.log.printf(format, args...)
	}
	if d.verbose {
		d.sayTo(d.f.Err, format, args...)
	}
}

// logging reports whether logf goes anywhere, so that the client's
// log hook is set only then.
func (d *display) logging() bool { return d.verbose && !d.quiet || d.log != nil }

// savePath is where a torrent's data is.
func (d *display) savePath(name string) string { return filepath.Join(d.dir, name) }

// totals adds up every torrent's progress.
func (d *display) totals() torrent.Progress {
	t := torrent.Progress{Complete: true}
	for _, v := range d.views {
		p := v.last
		t.Total += p.Total
		t.Verified += p.Verified
		t.Downloaded += p.Downloaded
		t.Uploaded += p.Uploaded
		t.Complete = t.Complete && v.seen && p.Complete
		if v.ended != "" {
			// Its last rate and peers are kept for its own row; the
			// total counted them after it ended ("1.1 MiB/s" beside one
			// torrent at 580 KiB/s).
			continue
		}
		t.DownRate += p.DownRate
		t.UpRate += p.UpRate
		t.Peers += p.Peers
		t.Seeds += p.Seeds
		t.Unchoked += p.Unchoked
		t.WebSeeds += p.WebSeeds
	}
	return t
}

// padName pads name to the widest of the rows' names, so that their bars
// start in one column (names are cut to a quarter of the width).
func (d *display) padName(name string, width int) string {
	n := 0
	for _, v := range d.views {
		n = max(n, cols(v.name))
	}
	if len(d.views) > 1 {
		n = max(n, cols(d.totalName()))
	}
	n = min(n, max(width/4, 8))
	name = cut(name, n)
	return name + strings.Repeat(" ", n-cols(name))
}

func (d *display) totalName() string { return fmt.Sprintf("total (%d)", len(d.views)) }

// totalLine is the last row when several torrents run: their sums.
func (d *display) totalLine(width int) string {
	name := d.padName(d.totalName(), width-1)
	if n := d.checking(); n > 0 {
		// Their sizes are not in the sum yet: it said "0 B / 0 B
		// (100.0%)" while every torrent was checked.
		return fitLine(width-1, name, [][]string{{fmt.Sprintf("checking the data on disk (%d of %d)", n, len(d.views))}, {"checking"}})
	}
	p := d.totals()
	if p.Complete && d.seed {
		return fitBar(width-1, name, -1, seedingLayouts(p))
	}
	return fitBar(width-1, name, fraction(p), downloadLayouts(p, shortSources(p)))
}

// checking counts the torrents whose data is still being checked (not
// reported on yet).
func (d *display) checking() int {
	n := 0
	for _, v := range d.views {
		if !v.seen {
			n++
		}
	}
	return n
}

// summaryLine is --summary-interval's line: "summary: 2 torrents, 1.2 MiB
// / 10.0 MiB (12.0%), ↓ 1.5 MiB/s, ↑ 0 B/s, 3 peers, ETA 6s".
func (d *display) summaryLine() string {
	p := d.totals()
	what := plural(len(d.views), "torrent")
	if len(d.views) == 1 {
		what = d.views[0].name
	}
	if n := d.checking(); n > 0 {
		return fmt.Sprintf("summary: %s, checking the data on disk (%d of %d)", what, n, len(d.views))
	}
	return fmt.Sprintf("summary: %s, %s / %s (%s), ↓ %s/s, ↑ %s/s, %s, ETA %s", what,
		humanBytes(float64(p.Verified)), humanBytes(float64(p.Total)), percent(p),
		humanBytes(p.DownRate), humanBytes(p.UpRate), shortSources(p), eta(p))
}

// summaries prints summaryLine every interval until t is cancelled.
func (d *display) summaries(t *aio.Task) error {
	if d.interval <= 0 {
		return nil
	}
	for {
		if err := aio.Sleep(t, d.interval); err != nil {
			return err
		}
		if len(d.views) > 0 {
			d.say("%s", d.summaryLine())
		}
	}
}

// seedUntilText says how seeding ends: " until Ctrl-C", " for 30m0s or
// until ratio 2.00 (or Ctrl-C)" (it said "until after 30m0s").
func seedUntilText(ratio float64, d time.Duration) string {
	var until []string
	if d > 0 {
		until = append(until, "for "+d.String())
	}
	if ratio > 0 {
		until = append(until, fmt.Sprintf("until ratio %.2f", ratio))
	}
	if len(until) == 0 {
		return " until Ctrl-C"
	}
	return " " + strings.Join(until, " or ") + " (or Ctrl-C)"
}
