package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// interrupt sends Ctrl-C to the terminal's process and waits for it to
// exit with 130.
func (p *ptyProc) interrupt(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(waitTimeout):
		t.Fatal("still running after Ctrl-C")
	}
	p.cmd.Wait()
	if code := p.cmd.ProcessState.ExitCode(); code != exitInterrupt {
		t.Errorf("exit %d, want %d", code, exitInterrupt)
	}
}

// rows are the screen's lines that are a torrent's row (the name, two
// spaces), not a line said above them ("share: ...").
func rows(screen, name string) []string {
	var out []string
	for _, l := range strings.Split(screen, "\n") {
		if strings.HasPrefix(l, name+"  ") {
			out = append(out, l)
		}
	}
	return out
}

// TestNarrowTerminalAndResize: a download drawn at 120 columns shows
// every field; the terminal shrinks to 50 and the row drops the sizes,
// the ETA and the reason, keeping a bar, the percentage, the rate and
// the peers, within the width. Rows used to come from progressbar, which
// wrapped on a narrow terminal and stacked a copy of the row at every
// redraw. Lines said above the rows (the summary) may wrap: they are
// written once.
func TestNarrowTerminalAndResize(t *testing.T) {
	bin := buildCLI(t)
	tp, port := stalledSwarm(t, bin)
	d := startPty(t, 120, bin, "download", tp, "-o", t.TempDir(), "--port", "0", "--no-dht", "--no-lsd", "--peer", "127.0.0.1:"+port)
	d.waitFor(t, "(44.2%)  ")
	d.waitFor(t, "  1 peer  ETA ")
	fresh := d.resize(t, 50)
	var from int
	waitUntil(t, "a row drawn at 50 columns", func() bool {
		from = fresh()
		return from >= 0 && regexp.MustCompile(`\]  44\.2%  +\S+ \S*B/s  1 peer`).MatchString(d.output()[from:])
	})
	live := d.output()
	d.interrupt(t)
	out := d.output()

	mark := strings.Index(out, resizeMark)
	term := newVT(120)
	term.write(out[:mark])
	wide := rows(term.screen(), "share")
	term.write(out[mark:from])
	if len(term.overflows) > 0 {
		t.Errorf("at 120 columns, lines past the edge: %q", term.overflows)
	}
	term.width = 50
	term.write(live[from:])
	narrow := rows(term.screen(), "share")
	term.write(out[len(live):])
	for _, l := range term.overflows {
		if !strings.HasPrefix(l, "share: ") {
			t.Errorf("at 50 columns, a row past the edge: %q", l)
		}
	}
	screen := term.screen()
	t.Logf("the screen:\n%s", screen)

	wideRow := regexp.MustCompile(`^share  \[(█+)(░+)\]  160\.0 KiB / 361\.3 KiB \(44\.2%\)  +\S+ \S*B/s  1 peer  ETA \S+ *$`)
	if len(wide) != 1 || !wideRow.MatchString(wide[0]) {
		t.Errorf("rows at 120 columns %q, want one matching %v", wide, wideRow)
	} else {
		m := wideRow.FindStringSubmatch(wide[0])
		full, empty := len([]rune(m[1])), len([]rune(m[2]))
		if got := float64(full) / float64(full+empty); got < 0.40 || got > 0.442 {
			t.Errorf("the bar is %d of %d full, want 44%%", full, full+empty)
		}
	}
	narrowRow := regexp.MustCompile(`^share  \[█+░+\]  44\.2%  +\S+ \S*B/s  1 peer$`)
	if len(narrow) != 1 || !narrowRow.MatchString(narrow[0]) || cols(narrow[0]) > 49 {
		t.Errorf("rows at 50 columns %q, want one matching %v within 49 columns", narrow, narrowRow)
	}
	// Stopped, the row says how far it got; the summary is below it.
	want := "share  160.0 KiB / 361.3 KiB (44.2%)  stopped\nshare: stopped at 44.2% (160.0 KiB of 361.3 KiB;"
	if !strings.Contains(screen, want) {
		t.Errorf("the screen lacks %q", want)
	}
}
