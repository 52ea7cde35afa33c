package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/torrent"
)

// TestRowsFitEveryWidth: whatever the width, a row takes at most the
// columns it is given.
func TestRowsFitEveryWidth(t *testing.T) {
	downloading := torrent.Progress{Total: 10 << 20, Verified: 3 << 20, DownRate: 1.5 * (1 << 20), Peers: 3, Seeds: 2, WebSeeds: 1}
	seeding := torrent.Progress{Total: 10 << 20, Verified: 10 << 20, Complete: true, UpRate: 1.2 * (1 << 20), Uploaded: 45 << 20, Unchoked: 2}
	for w := 1; w <= 200; w++ {
		for _, name := range []string{"share", "ubuntu-24.04-desktop-amd64.iso", "日本語のファイル名"} {
			for _, c := range []struct {
				p    torrent.Progress
				seed bool
			}{{downloading, false}, {torrent.Progress{Total: 1}, false}, {seeding, true}} {
				if got := progressLine(w, name, c.p, c.seed); cols(got) > w {
					t.Fatalf("width %d: %q takes %d columns", w, got, cols(got))
				}
			}
		}
	}
}

// TestRowDropsFieldsInOrder: as the terminal narrows, the ETA goes
// first, then the seeds, then the bar shrinks and goes, then the sizes.
func TestRowDropsFieldsInOrder(t *testing.T) {
	p := torrent.Progress{Total: 10 << 20, Verified: 3 << 20, DownRate: 1.5 * (1 << 20), Peers: 3, Seeds: 2}
	for _, c := range []struct {
		width int
		want  string
	}{
		{119, "share  [███████████░░░░░░░░░░░░░░░░░░░░░░░░░░░░]  3.0 MiB / 10.0 MiB (30.0%)    1.5 MiB/s  3 peers (2 seeds)  ETA 5s   "},
		{79, "share  [███░░░░░░░]  3.0 MiB / 10.0 MiB (30.0%)    1.5 MiB/s  3 peers (2 seeds)"},
		{69, "share  [███░░░░░░░]  3.0 MiB / 10.0 MiB (30.0%)    1.5 MiB/s  3 peers"},
		{65, "share  [█░░░░░]  3.0 MiB / 10.0 MiB (30.0%)    1.5 MiB/s  3 peers"},
		{59, "share  3.0 MiB / 10.0 MiB (30.0%)    1.5 MiB/s  3 peers"},
		{49, "share  [███░░░░░░░░░░]  30.0%  1.5 MiB/s  3 peers"},
		{39, "share  30.0%  1.5 MiB/s  3 peers"},
		{29, "share  30.0%  1.5 MiB/s"},
		{19, "share  30.0%  1.5 …"},
	} {
		if got := progressLine(c.width, "share", p, false); got != c.want {
			t.Errorf("width %d:\ngot  %q\nwant %q", c.width, got, c.want)
		}
	}
}

// TestSeedingRow: "seeding: ↑ rate  uploaded  ratio  peers", the
// uploaded total and the ratio dropped when narrow.
func TestSeedingRow(t *testing.T) {
	p := torrent.Progress{Total: 100 << 20, Verified: 100 << 20, Complete: true, UpRate: 1.2 * (1 << 20), Uploaded: 37 << 20, Unchoked: 2, Peers: 5}
	for _, c := range []struct {
		width int
		want  string
	}{
		{119, "share  seeding:  ↑ 1.2 MiB/s  37.0 MiB uploaded  ratio 0.37  2 peers served"},
		{59, "share  seeding:  ↑ 1.2 MiB/s  ratio 0.37  2 peers served"},
		{45, "share  seeding:  ↑ 1.2 MiB/s  2 peers served"},
		{39, "share  ↑ 1.2 MiB/s  2 peers served"},
	} {
		if got := progressLine(c.width, "share", p, true); got != c.want {
			t.Errorf("width %d:\ngot  %q\nwant %q", c.width, got, c.want)
		}
	}
}

// TestSummary: the line at the end of a download says what this run
// fetched, not the torrent's size when most of it was on disk.
func TestSummary(t *testing.T) {
	for _, c := range []struct {
		p    torrent.Progress
		want string
	}{
		{torrent.Progress{Total: 1000 << 10, Verified: 1000 << 10, Elapsed: 2e9, PeersSeen: 3, Uploaded: 250 << 10},
			"share: 1000.0 KiB in 2.0s (500.0 KiB/s) from 3 peers; saved in /d/share; 250.0 KiB uploaded, ratio 0.25"},
		{torrent.Progress{Total: 1000 << 10, Verified: 1000 << 10, Resumed: 700 << 10, Elapsed: 1e9, PeersSeen: 1, WebSeeds: 1},
			"share: 300.0 KiB in 1.0s (300.0 KiB/s) from 1 peer and 1 web seed, 30.0% of 1000.0 KiB (the rest was on disk); saved in /d/share; 0 B uploaded, ratio 0.00"},
		{torrent.Progress{Total: 1000 << 10, Verified: 1000 << 10, Resumed: 1000 << 10, Elapsed: 1e8},
			"share: complete on disk already (1000.0 KiB, checked in 100ms); saved in /d/share; 0 B uploaded, ratio 0.00"},
	} {
		if got := summary("share", c.p, "/d/share"); got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
	}
}

// TestSummaryDuration: every summary says how long with one rule; they
// said "in 4.952s", "seeded for 3.9s" and "fetched in 2s".
func TestSummaryDuration(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{29 * time.Millisecond, "29ms"},
		{999*time.Millisecond + 600*time.Microsecond, "1.0s"},
		{2 * time.Second, "2.0s"},
		{4952 * time.Millisecond, "5.0s"},
		{3900 * time.Millisecond, "3.9s"},
		{59960 * time.Millisecond, "1m00s"},
		{3*time.Minute + 5*time.Second, "3m05s"},
		{time.Hour + 2*time.Minute + 40*time.Second, "1h02m"},
		{50 * time.Hour, "2d02h"},
	} {
		if got := summaryDuration(c.d); got != c.want {
			t.Errorf("summaryDuration(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

// TestTotalRow: with several torrents a terminal shows a row each and a
// total row below them, which goes with the last torrent's row.
func TestTotalRow(t *testing.T) {
	var out bytes.Buffer
	d := newDisplay(&Factory{Out: &out, Err: &out, IsTerminal: true}, displayFlags{}, false, false)
	a, b := d.add("alpha"), d.add("beta")
	a.update(torrent.Progress{Total: 300 << 10, Verified: 100 << 10, Peers: 2, DHT: true})
	b.update(torrent.Progress{Total: 100 << 10, Verified: 100 << 10, Peers: 1, Complete: true})
	d.screen.redraw(true)
	// The terminal driver turns "\n" into "\r\n" (ONLCR).
	screen, _ := render(strings.ReplaceAll(out.String(), "\n", "\r\n"), fixedWidth)
	want := strings.Join([]string{
		"alpha      [████░░░░░░░░░]  100.0 KiB / 300.0 KiB (33.3%)        0 B/s  2 peers",
		"beta       [█████████████]  100.0 KiB / 100.0 KiB (100.0%)        0 B/s  1 peer",
		"total (2)  [██████░░░░░░░]  200.0 KiB / 400.0 KiB (50.0%)        0 B/s  3 peers",
	}, "\n")
	if screen != want {
		t.Errorf("screen:\n%s\nwant:\n%s", screen, want)
	}
	a.finish(torrent.Progress{Total: 300 << 10, Verified: 300 << 10, Complete: true})
	b.finish(torrent.Progress{Total: 100 << 10, Verified: 100 << 10, Complete: true})
	screen, _ = render(strings.ReplaceAll(out.String(), "\n", "\r\n"), fixedWidth)
	if strings.Contains(screen, "total") || len(strings.Split(screen, "\n")) != 2 {
		t.Errorf("after both finished:\n%s\nwant their two rows, no total", screen)
	}
}

// TestTotalRowWhileChecking: a total of torrents not yet checked said
// "0 B / 0 B (100.0%)" with a full bar.
func TestTotalRowWhileChecking(t *testing.T) {
	var out bytes.Buffer
	d := newDisplay(&Factory{Out: &out, Err: &out, IsTerminal: true}, displayFlags{}, false, false)
	a, _ := d.add("alpha"), d.add("beta")
	a.update(torrent.Progress{Total: 300 << 10, Verified: 100 << 10, Peers: 2, DHT: true})
	d.screen.redraw(true)
	screen, _ := render(strings.ReplaceAll(out.String(), "\n", "\r\n"), fixedWidth)
	rows := strings.Split(screen, "\n")
	if want := "total (2)  checking the data on disk (1 of 2)"; rows[len(rows)-1] != want {
		t.Errorf("screen:\n%s\nwant the last row %q", screen, want)
	}
	if got, want := d.summaryLine(), "summary: 2 torrents, checking the data on disk (1 of 2)"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
}

// TestTotalLeavesOutEndedTorrents: a torrent that is done keeps its last
// rate on its row, but the total and the summary line counted it on
// after it ended.
func TestTotalLeavesOutEndedTorrents(t *testing.T) {
	for _, terminal := range []bool{true, false} {
		var out bytes.Buffer
		d := newDisplay(&Factory{Out: &out, Err: &out, IsTerminal: terminal}, displayFlags{}, false, false)
		a, b := d.add("alpha"), d.add("beta")
		a.update(torrent.Progress{Total: 300 << 10, Verified: 100 << 10, Peers: 2})
		b.update(torrent.Progress{Total: 100 << 10, Verified: 50 << 10, Peers: 1})
		a.last.DownRate, b.last.DownRate = 1<<20, 1<<20
		b.finish(torrent.Progress{Total: 100 << 10, Verified: 100 << 10, Complete: true})
		want := "summary: 2 torrents, 200.0 KiB / 400.0 KiB (50.0%), ↓ 1.0 MiB/s, ↑ 0 B/s, 2 peers, ETA 1s"
		if got := d.summaryLine(); got != want {
			t.Errorf("terminal %v: summary %q, want %q", terminal, got, want)
		}
	}
}

// TestSummaryIntervalOnPipesOnly: --summary-interval applies on a pipe,
// not on a terminal (the rows say it all) nor with -q, and 0 turns it
// off; its line adds up every torrent.
func TestSummaryIntervalOnPipesOnly(t *testing.T) {
	var out bytes.Buffer
	for _, c := range []struct {
		terminal, quiet bool
		secs            int
		want            time.Duration
	}{
		{false, false, 5, 5 * time.Second}, {false, false, 0, 0}, {true, false, 5, 0}, {false, true, 5, 0},
	} {
		d := newDisplay(&Factory{Out: &out, Err: &out, IsTerminal: c.terminal}, displayFlags{SummaryInterval: c.secs}, c.quiet, false)
		if d.interval != c.want {
			t.Errorf("terminal %v, quiet %v, --summary-interval %d: every %v, want %v", c.terminal, c.quiet, c.secs, d.interval, c.want)
		}
	}
	d := newDisplay(&Factory{Out: &out, Err: &out}, displayFlags{SummaryInterval: 5}, false, false)
	a, b := d.add("alpha"), d.add("beta")
	a.last, a.seen = torrent.Progress{Total: 300 << 10, Verified: 100 << 10, Peers: 2, DownRate: 10 << 10}, true
	b.last, b.seen = torrent.Progress{Total: 100 << 10, Verified: 100 << 10, Peers: 1, UpRate: 1 << 10, Complete: true}, true
	want := "summary: 2 torrents, 200.0 KiB / 400.0 KiB (50.0%), ↓ 10.0 KiB/s, ↑ 1.0 KiB/s, 3 peers, ETA 20s"
	if got := d.summaryLine(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
