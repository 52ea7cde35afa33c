package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/metainfo"
)

// TestMakeManySpreadsSizes: the torrents `many` seeds go from 4 KiB to
// --max-size, each naming its own file in the data directory with the
// size written there.
func TestMakeManySpreadsSizes(t *testing.T) {
	dir := t.TempDir()
	data, tdir := filepath.Join(dir, "data"), filepath.Join(dir, "torrents")
	files, err := makeManyData(data, 5, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	const url = "http://127.0.0.1:1/announce"
	paths, err := makeManyTorrents(files, tdir, url)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 5 {
		t.Fatalf("%d torrents, want 5", len(paths))
	}
	var sizes []int64
	for _, p := range paths {
		m, err := metainfo.Load(p)
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(filepath.Join(data, m.Name))
		if err != nil {
			t.Fatal(err)
		}
		if m.Announce != url {
			t.Errorf("%s: announce %q, want %q", m.Name, m.Announce, url)
		}
		if st.Size() != m.Length {
			t.Errorf("%s: file of %d bytes, torrent says %d", m.Name, st.Size(), m.Length)
		}
		sizes = append(sizes, m.Length)
	}
	if sizes[0] != 4<<10 || sizes[4] != 64<<10 {
		t.Errorf("sizes %v, want from 4 KiB to 64 KiB", sizes)
	}
	for i := 1; i < len(sizes); i++ {
		if sizes[i] <= sizes[i-1] {
			t.Errorf("sizes %v, want increasing", sizes)
		}
	}
}

func TestParseManyFlags(t *testing.T) {
	o, err := parseManyFlags(nil)
	if err != nil || o.torrents != 1000 || o.seconds != 60 || o.maxSize != 256<<10 || !o.tracker || o.interval != time.Minute {
		t.Errorf("defaults: %+v, %v", o, err)
	}
	if _, err := parseManyFlags([]string{"--torrents", "0"}); err == nil {
		t.Error("--torrents 0: no error")
	}
}

// TestSpreadOfCountsOnlyTheWindow: announces before the window and at its
// end are not counted; the busiest second and the events are.
func TestSpreadOfCountsOnlyTheWindow(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int, hash, event string) announceSeen {
		return announceSeen{at: t0.Add(time.Duration(ms) * time.Millisecond), hash: hash, event: event}
	}
	all := []announceSeen{
		at(-1, "a", "started"), // before
		at(100, "a", "none"), at(900, "b", "none"), at(1200, "c", "none"),
		at(5500, "a", "none"), at(9999, "b", "started"),
		at(10000, "c", "none"), // at the end: after
	}
	got := spreadOf(all, t0, t0.Add(10*time.Second))
	want := announceSpread{count: 5, torrents: 3, events: "started 1, none 4", maxSec: 2, perSec: 0.5,
		first: 100 * time.Millisecond, last: 9999 * time.Millisecond}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if got := spreadOf(all, t0.Add(time.Hour), t0.Add(2*time.Hour)); got.count != 0 || got.String() != "none" {
		t.Errorf("empty window: got %+v (%q)", got, got.String())
	}
}

// TestSwitchesSinceNeverNegative: a thread that ended in the window takes
// its count away with it; the threads that stayed and those that came
// are what the window's switches are.
func TestSwitchesSinceNeverNegative(t *testing.T) {
	before := map[string]int64{"1": 100, "2": 5000}
	after := map[string]int64{"1": 130, "3": 7}
	if got := switchesSince(before, after); got != 37 {
		t.Errorf("got %d switches, want 30 + 7", got)
	}
}
