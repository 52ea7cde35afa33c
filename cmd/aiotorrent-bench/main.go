// Command aiotorrent-bench measures `aiotorrent download` against aria2c
// leeching the same torrent over loopback from one local seeder: wall
// time, MiB/s, CPU seconds and peak RSS of each leecher, and the seeder's
// CPU during each transfer.
//
//	go run ./cmd/aiotorrent-bench --size 1GiB
//	go run ./cmd/aiotorrent-bench --size 1GiB --seeder aria2
//	go run ./cmd/aiotorrent-bench many --torrents 1000 --seconds 60
//
// The many subcommand (many.go) measures something else: the idle cost of
// seeding many small torrents, beside a libtorrent session.
//
// `aiotorrent-bench tracker` measures `aiotorrent tracker` beside
// opentracker instead (tracker.go).
//
// It builds the aiotorrent binary, writes a random multi-file payload in a
// temporary directory (on the disk the downloads go to), makes a torrent
// with `aiotorrent create`, and runs our tracker in this process. Each
// leecher run gets a fresh seeder process (so the seeder's numbers are its
// own), a fresh target directory and, when this process may, a dropped page
// cache. It is a tool, not a protocol package: goroutines are fine here.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// options are the command line.
type options struct {
	size       int64
	seeder     string // "aiotorrent" or "aria2"
	leechers   []string
	runs       int
	dir        string
	bin        string
	pieceLen   string
	keep       bool
	dropCaches bool
	noVerify   bool
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "tracker" {
		if err := runTrackerBench(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "aiotorrent-bench tracker:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "many" {
		mainMany(os.Args[2:])
		return
	}
	opts, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "aiotorrent-bench:", err)
		os.Exit(2)
	}
	if err := run(opts); err != nil {
		fmt.Fprintln(os.Stderr, "aiotorrent-bench:", err)
		os.Exit(1)
	}
}

// mainMany is `aiotorrent-bench many` (many.go).
func mainMany(args []string) {
	opts, err := parseManyFlags(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "aiotorrent-bench many:", err)
		os.Exit(2)
	}
	if err := runMany(opts); err != nil {
		fmt.Fprintln(os.Stderr, "aiotorrent-bench many:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (*options, error) {
	fs := flag.NewFlagSet("aiotorrent-bench", flag.ContinueOnError)
	o := &options{}
	size := fs.String("size", "1GiB", "payload size (e.g. 256MiB, 1GiB)")
	seeder := fs.String("seeder", "aiotorrent", "who seeds: aiotorrent or aria2")
	leechers := fs.String("leechers", "aiotorrent,aria2", "who leeches, in this order (comma-separated)")
	fs.IntVar(&o.runs, "runs", 1, "runs per leecher; the table shows each and the median")
	fs.StringVar(&o.dir, "dir", "", "work directory (default: a new one under $TMPDIR)")
	fs.StringVar(&o.bin, "bin", "", "aiotorrent binary to use (default: go build one)")
	fs.StringVar(&o.pieceLen, "piece-length", "", "piece length for aiotorrent create (default: its choice)")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory (payload, torrent, downloads)")
	fs.BoolVar(&o.dropCaches, "drop-caches", true, "drop the page cache before each run (needs root)")
	fs.BoolVar(&o.noVerify, "no-verify", false, "skip comparing the downloaded bytes with the payload")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if o.size, err = parseSize(*size); err != nil {
		return nil, err
	}
	if o.size < 1<<20 {
		return nil, fmt.Errorf("--size %s: want at least 1 MiB", *size)
	}
	o.seeder = canonical(*seeder)
	if o.seeder == "" {
		return nil, fmt.Errorf("--seeder %q: want aiotorrent or aria2", *seeder)
	}
	for _, l := range strings.Split(*leechers, ",") {
		c := canonical(strings.TrimSpace(l))
		if c == "" {
			return nil, fmt.Errorf("--leechers: %q is not aiotorrent or aria2", l)
		}
		o.leechers = append(o.leechers, c)
	}
	if o.runs < 1 {
		return nil, fmt.Errorf("--runs %d: want at least 1", o.runs)
	}
	return o, nil
}

// canonical maps the accepted client names to "aiotorrent" or "aria2"
// ("" if unknown).
func canonical(name string) string {
	switch strings.ToLower(name) {
	case "aiotorrent", "ours", "ai":
		return "aiotorrent"
	case "aria2", "aria2c":
		return "aria2"
	}
	return ""
}

func run(o *options) error {
	work := o.dir
	if work == "" {
		var err error
		if work, err = os.MkdirTemp("", "aiotorrent-bench"); err != nil {
			return err
		}
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(work)
	} else {
		defer fmt.Fprintf(os.Stderr, "kept %s\n", work)
	}
	env, err := setup(o, work)
	if err != nil {
		return err
	}
	defer env.close()
	var results []result
	for _, leecher := range o.leechers {
		for i := range o.runs {
			r, err := env.measure(o, leecher, filepath.Join(work, fmt.Sprintf("dl-%s-%d", leecher, i)))
			if err != nil {
				return fmt.Errorf("%s run %d: %w", leecher, i+1, err)
			}
			fmt.Fprintf(os.Stderr, "  %s\n", r.row())
			results = append(results, r)
		}
	}
	fmt.Println()
	fmt.Print(env.header(o))
	printTable(os.Stdout, results, o.runs > 1)
	return nil
}

// median returns the run with the median wall time of those by leecher.
func median(results []result, leecher string) (result, bool) {
	var rs []result
	for _, r := range results {
		if r.leecher == leecher {
			rs = append(rs, r)
		}
	}
	if len(rs) == 0 {
		return result{}, false
	}
	slices.SortFunc(rs, func(a, b result) int { return int(a.wall - b.wall) })
	return rs[len(rs)/2], true
}
