package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/metainfo"
	"github.com/aiotorrent/aiotorrent/tracker"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
)

// CreateOptions holds `aiotorrent create`'s parsed command line.
type CreateOptions struct {
	IO *Factory

	Path string
	// Announce holds the tracker tiers: one per -a, split at commas.
	Announce    [][]string
	PieceLength int64 // 0 picks one
	Private     bool
	Comment     string
	WebSeeds    []string
	Source      string
	Name        string
	// Output is the .torrent to write; it defaults to NAME.torrent.
	Output string
	Force  bool
	// NoTracker says a torrent without -a is meant that way: no warning.
	NoTracker bool
	// NoDate leaves the creation date out, so the same input gives the
	// same bytes.
	NoDate bool
}

// NewCmdCreate builds `aiotorrent create`. runF, if not nil, replaces
// createRun (tests use it to check flag parsing alone).
func NewCmdCreate(f *Factory, runF func(*CreateOptions) error) *cobra.Command {
	opts := &CreateOptions{IO: f}
	var announce []string
	var pieceLength string
	var webSeeds []string
	cmd := &cobra.Command{
		Use:   "create PATH [-a URL]... [-o OUT.torrent]",
		Short: "Make a .torrent of a file or directory",
		Long: `Make a .torrent of a file or directory, hashing on all cores.

Each -a adds a tracker tier; URLs joined by commas in one -a share a tier
(BEP 12): "-a u1,u2 -a u3" gives the tiers [u1 u2] and [u3]. Trackers
must be http://, https:// or udp:// URLs. Without -a the torrent has no
tracker, and a warning says so unless --no-tracker is given.

The short flags are mktorrent's: -a -c -d -l -n -o -p -s -w mean what
they mean there, so a mktorrent command line works unchanged. In
particular -l 18 (or --piece-length 18) is mktorrent's exponent: 2^18
bytes = 256 KiB. A plain number from 14 to 28 is read that way, since a
piece length in bytes is at least 16384; anything else is a size in
bytes ("262144", "256K", "4MiB"). As in mktorrent, commas in -w separate
web seeds.`,
		Example: `  aiotorrent create ./photos -a http://tracker.example/announce -o photos.torrent
  aiotorrent create big.iso -a udp://t1:6969,udp://t2:6969 -a http://t3/announce --piece-length 4M`,
		Args: exactArgs(1, "one PATH: the file or directory to make a torrent of"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Path = args[0]
			var err error
			if opts.Announce, err = parseTiers(announce); err != nil {
				return usageError{err}
			}
			if opts.PieceLength, err = parsePieceLength(pieceLength); err != nil {
				return usageError{err}
			}
			if opts.WebSeeds, err = parseWebSeeds(webSeeds); err != nil {
				return usageError{err}
			}
			if opts.Private && len(opts.Announce) == 0 {
				return usageError{errors.New("--private needs a tracker (-a): its peers can come from nowhere else")}
			}
			if opts.Output == "" {
				opts.Output = defaultOutput(opts.Path, opts.Name)
			}
			if runF != nil {
				return runF(opts)
			}
			return createRun(opts)
		},
	}
	fl := cmd.Flags()
	// StringArray, not StringSlice: a slice flag would split at the
	// commas itself and lose the tiers.
	fl.StringArrayVarP(&announce, "announce", "a", nil, "tracker URL; repeat for more tiers, commas join a tier")
	fl.StringVarP(&pieceLength, "piece-length", "l", "", "piece length: a power of two from 16K to 256M in bytes (K and M suffixes allowed), or its exponent 14-28 as in mktorrent (18 = 256 KiB); default: automatic")
	fl.BoolVarP(&opts.Private, "private", "p", false, "private torrent (BEP 27): peers from the trackers only")
	fl.StringVarP(&opts.Comment, "comment", "c", "", "free-text comment")
	fl.StringArrayVarP(&webSeeds, "web-seed", "w", nil, "web seed URL (BEP 19); repeat or join with commas for more")
	fl.StringVarP(&opts.Source, "source", "s", "", "source tag in the info dict (changes the info-hash)")
	fl.StringVarP(&opts.Name, "name", "n", "", "torrent name (default: base name of PATH)")
	fl.StringVarP(&opts.Output, "output", "o", "", "file to write (default: NAME.torrent)")
	fl.BoolVarP(&opts.Force, "force", "f", false, "overwrite the output file if it exists")
	fl.BoolVarP(&opts.NoDate, "no-date", "d", false, "leave out the creation date (reproducible output)")
	fl.BoolVar(&opts.NoTracker, "no-tracker", false, "no tracker is intended: do not warn about it")
	return cmd
}

// createRun hashes opts.Path on the executor and writes the .torrent.
func createRun(opts *CreateOptions) error {
	// Fail before hashing gigabytes, not after; writeNew checks again
	// atomically.
	if !opts.Force {
		if _, err := os.Lstat(opts.Output); err == nil {
			return fmt.Errorf("%s exists (use --force to overwrite)", opts.Output)
		}
	}
	if len(opts.Announce) == 0 && !opts.NoTracker {
		fmt.Fprintln(opts.IO.Err, "warning: no tracker: peers can find it only through the DHT, PEX, LSD or --peer (--no-tracker silences this)")
	}
	copts := metainfo.CreateOptions{
		Path: opts.Path, Announce: opts.Announce, PieceLength: opts.PieceLength,
		Private: opts.Private, Comment: opts.Comment, Source: opts.Source,
		WebSeeds: opts.WebSeeds, Name: opts.Name, NoCreationDate: opts.NoDate,
	}
	progress, finish := newPieceBar(opts.IO, "hashing")
	type made struct {
		m    *metainfo.Torrent
		data []byte
	}
	r, err := aio.Run(func(t *aio.Task) (made, error) {
		var r made
		err := interruptible(t, func(t *aio.Task) (err error) {
			r.m, r.data, err = metainfo.Create(t, copts, progress)
			return err
		}, nil)
		return r, err
	})
	finish()
	if err != nil {
		return err
	}
	if err := writeTorrent(opts.Output, r.data, opts.Force); err != nil {
		return err
	}
	m := r.m
	fmt.Fprintf(opts.IO.Out, "info-hash %s\n", m.HexInfoHash())
	fmt.Fprintf(opts.IO.Out, "wrote %s (%s in %d pieces of %s)\n",
		opts.Output, humanBytes(float64(m.Length)), m.NumPieces(), humanBytes(float64(m.PieceLength)))
	return nil
}

// parseTiers turns the -a values into tiers: each value is a tier, its
// comma-separated URLs the tier's members.
func parseTiers(values []string) ([][]string, error) {
	var tiers [][]string
	for _, v := range values {
		var tier []string
		for u := range strings.SplitSeq(v, ",") {
			u = strings.TrimSpace(u)
			if u == "" {
				return nil, fmt.Errorf("-a %q: empty tracker URL", v)
			}
			if err := checkTrackerURL(u); err != nil {
				return nil, fmt.Errorf("-a %q: %w", v, err)
			}
			tier = append(tier, u)
		}
		tiers = append(tiers, tier)
	}
	return tiers, nil
}

// checkTrackerURL accepts what the tracker client can announce to:
// http, https and udp URLs with a host (and a port for udp). A torrent
// naming anything else would announce to nothing, here or elsewhere.
func checkTrackerURL(u string) error {
	if !strings.Contains(u, "://") {
		return fmt.Errorf("%q is not a URL (want http://, https:// or udp://)", u)
	}
	if _, err := tracker.New(u, tracker.Config{}); err != nil {
		return fmt.Errorf("%w (want http://, https:// or udp://)", err)
	}
	return nil
}

// parseWebSeeds splits the -w values at commas, as mktorrent does.
func parseWebSeeds(values []string) ([]string, error) {
	var seeds []string
	for _, v := range values {
		for u := range strings.SplitSeq(v, ",") {
			u = strings.TrimSpace(u)
			if u == "" {
				return nil, fmt.Errorf("-w %q: empty web seed URL", v)
			}
			seeds = append(seeds, u)
		}
	}
	return seeds, nil
}

// Piece lengths accepted on the command line: powers of two, at least a
// 16 KiB block (peers request pieces in blocks of that size, and
// libtorrent rejects torrents with smaller pieces) and at most what the
// metainfo parser takes.
const (
	minPieceLength = 16 << 10
	maxPieceLength = metainfo.MaxPieceLength
)

// Exponents that mktorrent's -l takes, as far as we accept the piece
// length they give. Their range cannot be mistaken for a length in
// bytes, which is at least 16384.
const (
	minPieceExp = 14
	maxPieceExp = 28
)

// parsePieceLength reads a size as parseSize does ("262144", "256K",
// "4MiB"), mktorrent's exponent ("18" = 256 KiB), or "" for automatic
// (0), and insists on a power of two.
func parsePieceLength(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	if e, err := strconv.Atoi(s); err == nil && e >= minPieceExp && e <= maxPieceExp {
		return 1 << e, nil
	}
	n, err := parseSize(s)
	if err != nil {
		return 0, fmt.Errorf("--piece-length: %w", err)
	}
	if n&(n-1) != 0 || n < minPieceLength || n > maxPieceLength {
		return 0, fmt.Errorf("--piece-length %q: want a power of two from 16KiB to %dMiB, or its exponent %d-%d", s, maxPieceLength>>20, minPieceExp, maxPieceExp)
	}
	return n, nil
}

// defaultOutput is NAME.torrent in the current directory, NAME being the
// torrent's name.
func defaultOutput(path, name string) string {
	if name == "" {
		abs, err := filepath.Abs(path)
		if err != nil {
			abs = path
		}
		name = filepath.Base(abs)
	}
	return name + ".torrent"
}

// writeTorrent writes data to path. Without force it never replaces a
// file, even one created since createRun looked (O_EXCL); with force it
// writes a temporary file and renames it over path, so a failed write
// leaves the old file whole.
func writeTorrent(path string, data []byte, force bool) error {
	if !force {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s exists (use --force to overwrite)", path)
		}
		if err != nil {
			return fmt.Errorf("write torrent: %w", err)
		}
		_, err = f.Write(data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
			return fmt.Errorf("write torrent: %w", err)
		}
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".aiotorrent-*.torrent")
	if err != nil {
		return fmt.Errorf("write torrent: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644) // CreateTemp makes it 0600
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write torrent: %w", err)
	}
	return nil
}

// newPieceBar returns a progress callback that draws a bar of pieces on
// f.Err when f is a terminal, and finish, which erases it (the command
// prints its own summary, or an error, in its place). Off a
// terminal the callback is nil: a log file gains nothing from a bar.
// The callback runs on the loop thread; drawing is a small write,
// throttled to ten a second.
func newPieceBar(f *Factory, desc string) (progress func(done, total int), finish func()) {
	if !f.IsTerminal {
		return nil, func() {}
	}
	var bar *progressbar.ProgressBar
	progress = func(done, total int) {
		if bar == nil {
			// The total is only known once the files have been walked.
			bar = progressbar.NewOptions(total,
				progressbar.OptionSetWriter(f.Err),
				progressbar.OptionSetDescription(desc),
				progressbar.OptionShowCount(),
				progressbar.OptionSetItsString("pieces"),
				progressbar.OptionShowIts(),
				progressbar.OptionThrottle(100*time.Millisecond))
		}
		bar.Set(done)
	}
	finish = func() {
		if bar != nil {
			bar.Clear()
		}
	}
	return progress, finish
}
