package main

import (
	"fmt"
	"strings"

	"github.com/aiotorrent/aiotorrent/torrent"
)

// A terminal row is "NAME  [█████░░░░░]  FIELD  FIELD  ...", cut to the
// width by dropping what matters least first: the ETA, then the seeds
// and the reason there are no peers (said above the rows already), then
// the bar shrinks, then goes, then the sizes give way to the percentage
// (with a bar again if there is room). The name takes at most a quarter
// of the width. Nothing wraps: a wrapped row would be drawn again below
// its own remains at each redraw.

const (
	comfortableBar = 10 // a bar narrower than this costs the ETA first
	smallestBar    = 6  // a bar narrower than this is not drawn
)

// layout is one way to draw a row: its fields, and the narrowest bar it
// takes (0: no bar).
type layout struct {
	fields []string
	minBar int
}

// progressLine is a torrent's row in width columns: its download, or
// once complete with --seed, its seeding.
func progressLine(width int, name string, p torrent.Progress, seed bool) string {
	if p.Complete && seed {
		return fitBar(width, name, -1, seedingLayouts(p))
	}
	return fitBar(width, name, fraction(p), downloadLayouts(p, sources(p)))
}

// downloadLayouts are a download's row, from the richest; src is the
// full sources field.
func downloadLayouts(p torrent.Progress, src string) []layout {
	sizes := fmt.Sprintf("%s / %s (%s)", humanBytes(float64(p.Verified)), humanBytes(float64(p.Total)), percent(p))
	// The rate and the ETA keep their width, so that the bar does not
	// change its length each time they change theirs.
	rate := fmt.Sprintf("%11s", humanBytes(p.DownRate)+"/s")
	full := []string{sizes, rate, src, fmt.Sprintf("%-9s", "ETA "+eta(p))}
	noETA := full[:3]
	short := []string{sizes, rate, shortSources(p)}
	bare := humanBytes(p.DownRate) + "/s" // where every column counts
	tiny := []string{percent(p), bare, shortSources(p)}
	mid := []string{sizes, rate, compactSources(p)}
	return []layout{
		{full, comfortableBar}, {noETA, comfortableBar}, {mid, comfortableBar}, {short, comfortableBar},
		{short, smallestBar}, {short, 0}, {tiny, smallestBar}, {tiny, 0}, {[]string{percent(p), bare}, 0},
	}
}

// endedLayouts are the last row of a download, done or stopped (the
// word): how far it got.
func endedLayouts(p torrent.Progress, word string) []layout {
	sizes := fmt.Sprintf("%s / %s (%s)", humanBytes(float64(p.Verified)), humanBytes(float64(p.Total)), percent(p))
	full, tiny := []string{sizes, word}, []string{percent(p), word}
	return []layout{{full, comfortableBar}, {full, smallestBar}, {full, 0}, {tiny, smallestBar}, {tiny, 0}}
}

func seedingLayouts(p torrent.Progress) []layout {
	f := seedingFields(p) // seeding, rate, uploaded, ratio, peers
	return []layout{
		{f, 0},
		{[]string{f[0], f[1], f[3], f[4]}, 0},
		{[]string{f[0], f[1], f[4]}, 0},
		{[]string{f[1], f[4]}, 0},
	}
}

// fraction is how much of the bar is filled: full only when complete.
func fraction(p torrent.Progress) float64 {
	switch {
	case p.Complete || p.Total <= 0:
		return 1
	case p.Verified >= p.Total:
		return 0.999
	}
	return float64(p.Verified) / float64(p.Total)
}

// fitLine is fitBar for rows with no bar.
func fitLine(width int, name string, fields [][]string) string {
	var ls []layout
	for _, f := range fields {
		ls = append(ls, layout{f, 0})
	}
	return fitBar(width, name, -1, ls)
}

// fitBar lays the row out in the first of layouts that fits width
// columns, the bar (filled to frac) taking the room the fields leave;
// if none fits, the last, cut.
func fitBar(width int, name string, frac float64, layouts []layout) string {
	name = cut(name, max(width/4, 8))
	for k, l := range layouts {
		text := strings.Join(l.fields, "  ")
		if l.minBar == 0 || frac < 0 {
			line := name + "  " + text
			if cols(line) <= width || k == len(layouts)-1 {
				return cut(line, width)
			}
			continue
		}
		room := width - cols(name) - cols(text) - 6 // "  [", "]  "
		if room >= l.minBar {
			return name + "  [" + bar(frac, room) + "]  " + text
		}
	}
	return cut(name, width) // unreachable: the last layout is cut to fit
}

// bar is n columns, filled to frac.
func bar(frac float64, n int) string {
	full := int(frac * float64(n))
	if frac < 1 {
		full = min(full, n-1)
	}
	return strings.Repeat("█", full) + strings.Repeat("░", n-full)
}
