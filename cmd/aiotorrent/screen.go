package main

import (
	"io"
	"strings"
	"time"

	"github.com/rivo/uniseg"
	"golang.org/x/sys/unix"
)

// screen is the live area at the bottom of a terminal: one line per
// torrent (and a total line), redrawn in place. Every line is cut to fit
// the terminal's width, read again at each redraw, so a resize is
// followed at the next redraw (and at once on SIGWINCH, see runSessions);
// a line that wrapped would leave a copy of itself above at every redraw,
// since only the rows drawn are erased.
//
// Lines printed while the area is up (tracker news, -v logs, summaries)
// go through above, which erases the area, prints, and draws it again
// below them.
type screen struct {
	out  io.Writer
	fd   int                      // the terminal's, for its size; -1: fixedWidth
	rows []func(width int) string // nil: retired
	// footer, if set, is drawn below the rows (the total of several).
	footer func(width int) string
	drawn  int // rows on the terminal now, the cursor on the last one
	last   time.Time
}

// fixedWidth is the width when the terminal cannot say (or Out is not a
// file, as in tests on buffers).
const fixedWidth = 80

// redrawEvery is the most often the area is redrawn: each session
// reports four times a second, and several torrents would flicker.
const redrawEvery = 200 * time.Millisecond

func newScreen(out io.Writer) *screen {
	s := &screen{out: out, fd: -1}
	if f, ok := out.(interface{ Fd() uintptr }); ok {
		s.fd = int(f.Fd())
	}
	return s
}

// width is the terminal's width now. The ioctl is as cheap as a write,
// and asking at each redraw needs no state shared with a signal handler.
func (s *screen) width() int {
	if s.fd < 0 {
		return fixedWidth
	}
	ws, err := unix.IoctlGetWinsize(s.fd, unix.TIOCGWINSZ)
	if err != nil || ws.Col == 0 {
		return fixedWidth
	}
	return int(ws.Col)
}

// add appends a row drawn by line and returns its index.
func (s *screen) add(line func(width int) string) int {
	s.rows = append(s.rows, line)
	return len(s.rows) - 1
}

// redraw draws the rows again, at most every redrawEvery unless force.
func (s *screen) redraw(force bool) {
	now := time.Now()
	if !force && now.Sub(s.last) < redrawEvery {
		return
	}
	s.last = now
	var b strings.Builder
	s.erase(&b)
	s.paint(&b)
	io.WriteString(s.out, b.String())
}

// above prints text (lines ending in "\n") on w above the live rows.
func (s *screen) above(w io.Writer, text string) {
	var b strings.Builder
	s.erase(&b)
	if w == s.out {
		b.WriteString(text)
	} else {
		io.WriteString(s.out, b.String())
		io.WriteString(w, text)
		b.Reset()
	}
	s.paint(&b)
	io.WriteString(s.out, b.String())
}

// retire prints row i's last state as an ordinary line and takes it out
// of the live area.
func (s *screen) retire(i int) {
	if s.rows[i] == nil {
		return
	}
	line := s.rows[i](s.width())
	s.rows[i] = nil
	s.above(s.out, line+"\n")
}

// erase clears the rows drawn and leaves the cursor at the start of the
// first: "\r" and erase-line ("\x1b[2K") on the last, then cursor-up
// ("\x1b[1A") and erase-line for each above it.
func (s *screen) erase(b *strings.Builder) {
	if s.drawn == 0 {
		return
	}
	b.WriteString("\r\x1b[2K")
	for range s.drawn - 1 {
		b.WriteString("\x1b[1A\x1b[2K")
	}
	s.drawn = 0
}

// paint draws the live rows, leaving the cursor at the end of the last
// (no newline, so that the next erase finds it there).
func (s *screen) paint(b *strings.Builder) {
	w := s.width()
	for _, row := range append(s.rows[:len(s.rows):len(s.rows)], s.footer) {
		if row == nil {
			continue
		}
		if s.drawn > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(cut(row(w), w-1))
		s.drawn++
	}
}

// cols is how many terminal columns s takes.
func cols(s string) int { return uniseg.StringWidth(s) }

// cut shortens s to at most n columns, ending it with "…" if it was
// longer. The last column of the terminal is left free: writing into it
// leaves some terminals waiting to wrap.
func cut(s string, n int) string {
	if cols(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	var b strings.Builder
	w := 0
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		if w+g.Width() > n-1 {
			break
		}
		w += g.Width()
		b.WriteString(g.Str())
	}
	return b.String() + "…"
}
