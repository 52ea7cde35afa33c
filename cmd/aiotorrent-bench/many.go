package main

// `aiotorrent-bench many` measures what seeding many torrents costs while
// nothing happens: `aiotorrent download T... --seed` beside a libtorrent
// session (testdata/libtorrent/many.py) holding the same torrents, one
// after the other, over the same idle window. No peer, tracker, DHT or LSD
// is involved: the torrents have no announce URL and both sides have the
// DHT and LSD off, so what is measured is each client's own timers.

import (
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aiotorrent/aiotorrent/metainfo"
)

// manyOptions are `many`'s command line.
type manyOptions struct {
	torrents int
	seconds  int
	maxSize  int64
	dir, bin string
	script   string
	keep     bool
}

func parseManyFlags(args []string) (*manyOptions, error) {
	fs := flag.NewFlagSet("aiotorrent-bench many", flag.ContinueOnError)
	o := &manyOptions{}
	fs.IntVar(&o.torrents, "torrents", 1000, "number of torrents")
	fs.IntVar(&o.seconds, "seconds", 60, "length of the idle window measured")
	maxSize := fs.String("max-size", "256KiB", "largest torrent (sizes spread from 4 KiB up to this)")
	fs.StringVar(&o.dir, "dir", "", "work directory (default: a new one under $TMPDIR)")
	fs.StringVar(&o.bin, "bin", "", "aiotorrent binary to use (default: go build one)")
	fs.StringVar(&o.script, "script", "testdata/libtorrent/many.py", "the libtorrent side's script")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	var err error
	if o.maxSize, err = parseSize(*maxSize); err != nil {
		return nil, err
	}
	if o.torrents < 1 || o.seconds < 1 || o.maxSize < 4<<10 {
		return nil, fmt.Errorf("want --torrents ≥ 1, --seconds ≥ 1, --max-size ≥ 4KiB")
	}
	return o, nil
}

// idleCost is one client over the idle window.
type idleCost struct {
	client   string
	cpu      time.Duration // user + system over the window
	switches int64         // context switches of all its threads over the window
	window   time.Duration
	rss      int64 // VmRSS at the end of the window
	fds      int
	threads  int
	ready    time.Duration // from start to seeding every torrent
}

func (c idleCost) cpuPerMin() float64 { return c.cpu.Seconds() / c.window.Minutes() }
func (c idleCost) switchesPerSec() float64 {
	return float64(c.switches) / c.window.Seconds()
}

func runMany(o *manyOptions) error {
	work, cleanup, err := workDir(o.dir, o.keep)
	if err != nil {
		return err
	}
	defer cleanup()
	if o.bin == "" {
		if o.bin, err = buildBinary(work); err != nil {
			return err
		}
	}
	data, tdir := filepath.Join(work, "data"), filepath.Join(work, "torrents")
	paths, err := makeMany(data, tdir, o.torrents, o.maxSize)
	if err != nil {
		return err
	}
	window := time.Duration(o.seconds) * time.Second
	ours := exec.Command(o.bin, append([]string{"download", "--seed", "--no-dht", "--no-lsd", "-q",
		"--port", strconv.Itoa(freePort()), "--dir", data}, paths...)...)
	a, err := measureIdle("aiotorrent", ours, nil, window)
	if err != nil {
		return err
	}
	lt := exec.Command("/usr/bin/python3", o.script, "--torrents", tdir, "--dir", data,
		"--port", strconv.Itoa(freePort()))
	b, err := measureIdle("libtorrent", lt, readyLine, window)
	if err != nil {
		return err
	}
	fmt.Printf("\n%d torrents (4 KiB–%s, no trackers, DHT and LSD off), idle window %v\n\n",
		o.torrents, human(float64(o.maxSize)), window)
	printMany(os.Stdout, a, b)
	return nil
}

// workDir is dir, made, or a new temporary directory; cleanup removes it
// unless keep.
func workDir(dir string, keep bool) (string, func(), error) {
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "aiotorrent-bench-many"); err != nil {
			return "", nil, err
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	if keep {
		return dir, func() { fmt.Fprintf(os.Stderr, "kept %s\n", dir) }, nil
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

// makeMany writes n files into data, sizes spread geometrically from
// 4 KiB to maxSize, and a single-file torrent of each into tdir.
func makeMany(data, tdir string, n int, maxSize int64) ([]string, error) {
	for _, d := range []string{data, tdir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	paths := make([]string, n)
	buf := make([]byte, maxSize)
	for i := range paths {
		size := int64(4 << 10)
		if steps := int64(n); steps > 1 {
			// 4 KiB · (maxSize/4 KiB)^(i/n), in whole KiB.
			ratio := float64(maxSize) / float64(4<<10)
			size = int64(float64(4<<10)*math.Pow(ratio, float64(i)/float64(n-1))) &^ 1023
		}
		for j := range buf[:size] {
			buf[j] = byte(i*131 + j*7 + j>>9)
		}
		name := filepath.Join(data, fmt.Sprintf("t%05d.bin", i))
		if err := os.WriteFile(name, buf[:size], 0o644); err != nil {
			return nil, err
		}
		_, raw, err := metainfo.CreateSync(metainfo.CreateOptions{Path: name, NoCreationDate: true})
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", name, err)
		}
		paths[i] = filepath.Join(tdir, fmt.Sprintf("t%05d.torrent", i))
		if err := os.WriteFile(paths[i], raw, 0o644); err != nil {
			return nil, err
		}
	}
	return paths, nil
}
