package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/aiotorrent/aiotorrent/metainfo"
)

// TestMakeManySpreadsSizes: the torrents `many` seeds go from 4 KiB to
// --max-size, each naming its own file in the data directory with the
// size written there.
func TestMakeManySpreadsSizes(t *testing.T) {
	dir := t.TempDir()
	data, tdir := filepath.Join(dir, "data"), filepath.Join(dir, "torrents")
	paths, err := makeMany(data, tdir, 5, 64<<10)
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
	if err != nil || o.torrents != 1000 || o.seconds != 60 || o.maxSize != 256<<10 {
		t.Errorf("defaults: %+v, %v", o, err)
	}
	if _, err := parseManyFlags([]string{"--torrents", "0"}); err == nil {
		t.Error("--torrents 0: no error")
	}
}
