package main

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

// vt is as much of a terminal as the display uses: it follows "\r",
// "\n", erase-line ("\x1b[K", "\x1b[2K") and cursor-up ("\x1b[nA") to
// the screen a user would see, and notes every line written past the
// right edge (a real terminal would wrap it).
type vt struct {
	width     int
	lines     [][]rune
	row, col  int
	overflows []string // the lines that went past width
	wrapped   bool     // the row continues a line that overflowed
}

func newVT(width int) *vt { return &vt{width: width, lines: [][]rune{nil}} }

// write interprets s; setting width between writes is a resize.
func (v *vt) write(s string) {
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= 0x80 {
			rs := []rune(s[i:min(i+4, len(s))])
			r, size = rs[0], len(string(rs[0]))
		}
		switch {
		case r == '\x1b':
			i += v.escape(s[i:])
			continue
		case r == '\r':
			v.col = 0
		case r == '\n':
			v.row++
			v.wrapped = false
			v.grow()
		case r == '\a', r == '\b':
		default:
			if v.col >= v.width {
				if !v.wrapped {
					v.overflows = append(v.overflows, string(v.lines[v.row]))
				}
				v.wrapped = true
				v.row, v.col = v.row+1, 0
				v.grow()
			}
			line := v.lines[v.row]
			for len(line) <= v.col {
				line = append(line, ' ')
			}
			line[v.col] = r
			v.lines[v.row] = line
			v.col++
		}
		i += size
	}
}

func (v *vt) grow() {
	for len(v.lines) <= v.row {
		v.lines = append(v.lines, nil)
	}
}

// escape handles the sequence at the start of s and returns its length:
// CSI (ESC [ params final) and OSC (ESC ] ... BEL), others skipped.
func (v *vt) escape(s string) int {
	if len(s) < 2 {
		return len(s)
	}
	switch s[1] {
	case ']':
		if end := strings.IndexByte(s, '\a'); end >= 0 {
			return end + 1
		}
		return len(s)
	case '[':
	default:
		return 2
	}
	end := 2
	for end < len(s) && (s[end] < 0x40 || s[end] > 0x7e) {
		end++
	}
	if end == len(s) {
		return end
	}
	params := strings.TrimPrefix(s[2:end], "?")
	n, err := strconv.Atoi(params)
	if err != nil {
		n = 0
	}
	switch s[end] {
	case 'A':
		v.row = max(v.row-max(n, 1), 0)
	case 'K':
		line := v.lines[v.row]
		switch n {
		case 0:
			v.lines[v.row] = line[:min(v.col, len(line))]
		case 1:
			for k := 0; k < min(v.col+1, len(line)); k++ {
				line[k] = ' '
			}
		case 2:
			v.lines[v.row] = nil
		}
	}
	return end + 1
}

// screen is what the terminal shows: its lines, trailing blanks cut.
func (v *vt) screen() string {
	var out []string
	for _, l := range v.lines {
		out = append(out, strings.TrimRight(string(l), " "))
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return strings.Join(out, "\n")
}

// render is the screen after s on a terminal width columns wide.
func render(s string, width int) (screen string, overflows []string) {
	v := newVT(width)
	v.write(s)
	return v.screen(), v.overflows
}

// TestVT: the test terminal follows what the display writes, and notes
// a line past the width.
func TestVT(t *testing.T) {
	for _, c := range []struct {
		in, want string
		width    int
		over     []string
	}{
		{"abc\r\x1b[2Kxy", "xy", 10, nil},
		{"one\r\ntwo\r\x1b[2K\x1b[1A\x1b[2Knew\r\nrow", "new\nrow", 10, nil},
		{"abcdef\rxy\x1b[K", "xy", 10, nil},
		{"0123456789ab", "0123456789\nab", 10, []string{"0123456789"}},
		{"é█–\x1b]mark\aok", "é█–ok", 10, nil},
	} {
		got, over := render(c.in, c.width)
		if got != c.want || !slices.Equal(over, c.over) {
			t.Errorf("render(%q, %d) = %q, overflows %q; want %q, %q", c.in, c.width, got, over, c.want, c.over)
		}
	}
}
