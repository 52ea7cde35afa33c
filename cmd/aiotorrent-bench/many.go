package main

// `aiotorrent-bench many` measures what seeding many torrents costs while
// nothing happens: `aiotorrent download T... --seed` beside a libtorrent
// session (testdata/libtorrent/many.py) holding the same torrents, one
// after the other, over the same idle window. No peer, DHT or LSD is
// involved. With --tracker (the default) every torrent names a local
// `aiotorrent tracker` (a fresh one for each client) handing out a short
// interval, so what is measured is each client's own timers and its
// re-announces; with --tracker=false, only its timers.

import (
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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
	tracker  bool
	interval time.Duration // the tracker's announce interval
	clients  []string      // aiotorrent, libtorrent, or both
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
	fs.BoolVar(&o.tracker, "tracker", true, "put a local tracker's announce URL in every torrent")
	fs.DurationVar(&o.interval, "interval", time.Minute,
		"the tracker's announce interval (both clients floor it at 60 s)")
	clients := fs.String("clients", "aiotorrent,libtorrent", "clients to measure, in this order")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	for _, c := range strings.Split(*clients, ",") {
		if c != "aiotorrent" && c != "libtorrent" {
			return nil, fmt.Errorf("--clients: %q is not aiotorrent or libtorrent", c)
		}
		o.clients = append(o.clients, c)
	}
	var err error
	if o.maxSize, err = parseSize(*maxSize); err != nil {
		return nil, err
	}
	if o.torrents < 1 || o.seconds < 1 || o.maxSize < 4<<10 || o.interval < time.Second {
		return nil, fmt.Errorf("want --torrents ≥ 1, --seconds ≥ 1, --max-size ≥ 4KiB, --interval ≥ 1s")
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

	start, from, to time.Time // the process started; the idle window
	// startup and idle are the announces the tracker saw from start to
	// from, and over the window (with --tracker).
	startup, idle announceSpread
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
	data := filepath.Join(work, "data")
	files, err := makeManyData(data, o.torrents, o.maxSize)
	if err != nil {
		return err
	}
	window := time.Duration(o.seconds) * time.Second
	var costs []idleCost
	for _, client := range o.clients {
		c, err := measureMany(o, client, work, data, files, window)
		if err != nil {
			return err
		}
		costs = append(costs, c)
	}
	trackers := "no trackers"
	if o.tracker {
		trackers = fmt.Sprintf("a loopback HTTP tracker at a %v interval", o.interval)
	}
	fmt.Printf("\n%d torrents (4 KiB–%s, %s, DHT and LSD off), idle window %v\n\n",
		o.torrents, human(float64(o.maxSize)), trackers, window)
	if len(costs) == 2 {
		printMany(os.Stdout, costs[0], costs[1])
	} else {
		printMany(os.Stdout, costs[0], idleCost{client: "-", window: window})
	}
	if o.tracker {
		fmt.Println()
		for _, c := range costs {
			fmt.Printf("%s announces, start-up (%.1fs): %v\n", c.client, c.from.Sub(c.start).Seconds(), c.startup)
			fmt.Printf("%s announces, idle window: %v\n", c.client, c.idle)
		}
	}
	return nil
}

// measureMany makes client's torrents (naming a tracker of its own with
// --tracker) and measures it seeding them.
func measureMany(o *manyOptions, client, work, data string, files []string, window time.Duration) (idleCost, error) {
	var tr *manyTracker
	url := ""
	if o.tracker {
		var err error
		if tr, err = startManyTracker(o.bin, o.interval); err != nil {
			return idleCost{}, err
		}
		defer tr.stop()
		url = tr.url
	}
	tdir := filepath.Join(work, "torrents-"+client)
	paths, err := makeManyTorrents(files, tdir, url)
	if err != nil {
		return idleCost{}, err
	}
	var cmd *exec.Cmd
	ready := readyLine
	if client == "aiotorrent" {
		cmd = exec.Command(o.bin, append([]string{"download", "--seed", "--no-dht", "--no-lsd", "-q",
			"--port", strconv.Itoa(freePort()), "--dir", data}, paths...)...)
		ready = nil
	} else {
		cmd = exec.Command("/usr/bin/python3", o.script, "--torrents", tdir, "--dir", data,
			"--port", strconv.Itoa(freePort()), "--min-announce-interval", strconv.Itoa(int(o.interval.Seconds())))
	}
	c, err := measureIdle(client, cmd, ready, window)
	if err != nil || tr == nil {
		return c, err
	}
	seen := tr.seen()
	c.startup, c.idle = spreadOf(seen, c.start, c.from), spreadOf(seen, c.from, c.to)
	return c, nil
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

// makeManyData writes n files into data, sizes spread geometrically from
// 4 KiB to maxSize, and returns their paths.
func makeManyData(data string, n int, maxSize int64) ([]string, error) {
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	files := make([]string, n)
	buf := make([]byte, maxSize)
	for i := range files {
		size := int64(4 << 10)
		if steps := int64(n); steps > 1 {
			// 4 KiB · (maxSize/4 KiB)^(i/n), in whole KiB.
			ratio := float64(maxSize) / float64(4<<10)
			size = int64(float64(4<<10)*math.Pow(ratio, float64(i)/float64(n-1))) &^ 1023
		}
		for j := range buf[:size] {
			buf[j] = byte(i*131 + j*7 + j>>9)
		}
		files[i] = filepath.Join(data, fmt.Sprintf("t%05d.bin", i))
		if err := os.WriteFile(files[i], buf[:size], 0o644); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// makeManyTorrents writes a single-file torrent of each file into tdir,
// naming announce (if not empty) as its tracker, and returns their paths.
func makeManyTorrents(files []string, tdir, announce string) ([]string, error) {
	if err := os.MkdirAll(tdir, 0o755); err != nil {
		return nil, err
	}
	var tiers [][]string
	if announce != "" {
		tiers = [][]string{{announce}}
	}
	paths := make([]string, len(files))
	for i, name := range files {
		_, raw, err := metainfo.CreateSync(metainfo.CreateOptions{Path: name, Announce: tiers, NoCreationDate: true})
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
