package main

import (
	"fmt"
	"os"
	"path/filepath"
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
	// A whole row at 120 columns: one followed by the next redraw.
	wideDrawn := regexp.MustCompile(`share  \[█+░+\]  160\.0 KiB / 361\.3 KiB \(44\.2%\)  +\S+ \S*B/s  1 peer  ETA \S+ *\r\x1b\[2K`)
	waitUntil(t, "a row at 120 columns", func() bool { return wideDrawn.MatchString(d.output()) })
	wideEnd := wideDrawn.FindStringIndex(d.output())[1] - len(eraseLast)
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
	term.write(out[:wideEnd])
	wide := rows(term.screen(), "share")
	// The resize sends SIGWINCH, and the redraw at 50 columns may come
	// before the mark.
	term.write(out[wideEnd:mark])
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

// TestSeveralTorrentsOneRowEach: two torrents downloading in one
// process get a row each, redrawn in place, and a total row below them
// while both run; at the end each row stays once, at 100%, with its
// summary, and the total row is gone.
func TestSeveralTorrentsOneRowEach(t *testing.T) {
	bin := buildCLI(t)
	root := t.TempDir()
	ta := makeShare(t, root, "alpha", map[string]int{"x.bin": 300_000})
	tb := makeShare(t, root, "beta", map[string]int{"y.bin": 150_000, "z/w.bin": 90_000})
	s := startProc(t, bin, "download", ta, tb, "-o", root, "--seed", "--port", "0", "--no-dht", "--no-lsd")
	line := s.waitLine(t, func(l string) bool { return strings.HasPrefix(l, "listening for peers on ") })
	port := line[strings.LastIndex(line, ":")+1:]

	d := startPty(t, 100, bin, "download", ta, tb, "-o", t.TempDir(), "--port", "0", "--no-dht", "--no-lsd", "--peer", "127.0.0.1:"+port)
	select {
	case <-d.done:
	case <-time.After(waitTimeout):
		t.Fatal("the download did not end")
	}
	d.cmd.Wait()
	if code := d.cmd.ProcessState.ExitCode(); code != exitOK {
		t.Fatalf("exit %d, want 0", code)
	}
	out := d.output()
	if !strings.Contains(out, "total (2)  [") {
		t.Errorf("no total row was drawn")
	}
	term := newVT(100)
	term.write(out)
	for _, l := range term.overflows {
		if !strings.HasPrefix(l, "alpha: ") && !strings.HasPrefix(l, "beta: ") {
			t.Errorf("a row past the edge: %q", l)
		}
	}
	screen := term.screen()
	t.Logf("the screen:\n%s", screen)
	for name, size := range map[string]string{"alpha": "293.0 KiB", "beta": "234.4 KiB"} {
		// The names are padded to "total (2)", so that the bars line up.
		rowRE := regexp.MustCompile(`^` + name + ` +\[█+\]  ` + size + ` / ` + size + ` \(100\.0%\)  done$`)
		if got := rows(screen, name); len(got) != 1 || !rowRE.MatchString(got[0]) {
			t.Errorf("%s rows %q, want one matching %v", name, got, rowRE)
		}
		if !strings.Contains(screen, "\n"+name+": "+size+" in ") {
			t.Errorf("no summary of %s", name)
		}
	}
	if strings.Contains(screen, "total (2)") {
		t.Errorf("the total row is still on the screen")
	}
}

// TestNoSourceOfPeersSaidOnNarrowTerminal: at 60 columns the row of a
// torrent with no tracker, DHT or LSD has room for "no peers" only; why
// was said nowhere. It is said once above the row.
func TestNoSourceOfPeersSaidOnNarrowTerminal(t *testing.T) {
	bin := buildCLI(t)
	tp := makeShare(t, t.TempDir(), "share", shareSizes)
	d := startPty(t, 60, bin, "download", tp, "-o", t.TempDir(), "--port", "0", "--no-dht", "--no-lsd")
	d.waitFor(t, "share: no source of peers: no tracker, and DHT and LSD are off")
	d.waitFor(t, "no peers")
	d.interrupt(t)
	if n := strings.Count(d.output(), "no source of peers"); n != 1 {
		t.Errorf("said %d times, want once", n)
	}
}

// TestCtrlCWhileCheckingSaysSo: Ctrl-C while the data on disk is checked
// said "stopped at 0.0% (0 B of 1.0 GiB; 0 B fetched …)" of data that
// may all be there, from seed too, which fetches nothing. The torrent is
// a 1 GiB sparse file with made-up hashes: checking it takes seconds.
func TestCtrlCWhileCheckingSaysSo(t *testing.T) {
	bin := buildCLI(t)
	dir := t.TempDir()
	const size, pieceLen = 1 << 30, 1 << 20
	f, err := os.Create(filepath.Join(dir, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	pieces := strings.Repeat("x", 20*size/pieceLen)
	raw := fmt.Sprintf("d4:infod6:lengthi%de4:name7:big.bin12:piece lengthi%de6:pieces%d:%see", size, pieceLen, len(pieces), pieces)
	tp := filepath.Join(t.TempDir(), "big.torrent")
	if err := os.WriteFile(tp, []byte(raw), 0o644); err != nil {
		t.Fatal(err)
	}
	d := startPty(t, 100, bin, "seed", tp, dir, "--port", "0", "--no-dht", "--no-lsd")
	d.waitFor(t, "big.bin  checking the data on disk")
	d.interrupt(t)
	screen, _ := render(d.output(), 100)
	want := "big.bin  checking stopped\nbig.bin: stopped while checking the data on disk; run the same command to check it again\naiotorrent: interrupted"
	if !strings.Contains(screen, want) || strings.Contains(screen, "0.0%") {
		t.Errorf("screen:\n%s\nwant it to end with:\n%s", screen, want)
	}
}
