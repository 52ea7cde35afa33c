package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/piece"
	"github.com/spf13/cobra"
)

// errIncomplete is verify's failure when the data checks out but is not
// all there (exit code 1).
var errIncomplete = errors.New("incomplete")

// errTooLong is verify's failure when a file on disk runs past the length
// the torrent gives it (exit code 1): its pieces may all check out, but
// the file is not the torrent's. A download cuts it (piece/trim.go).
var errTooLong = errors.New("too long")

// VerifyOptions holds `aiotorrent verify`'s parsed command line.
type VerifyOptions struct {
	IO *Factory

	Torrent string // .torrent path, or "-" for standard input
	Dir     string // the download directory: the torrent's name is in it
}

// NewCmdVerify builds `aiotorrent verify`. runF, if not nil, replaces
// verifyRun.
func NewCmdVerify(f *Factory, runF func(*VerifyOptions) error) *cobra.Command {
	opts := &VerifyOptions{IO: f}
	cmd := &cobra.Command{
		Use:   "verify FILE.torrent DIR",
		Short: "Check downloaded data against a torrent's piece hashes",
		Long: `Check the data under DIR (the directory the torrent was downloaded
into) against the torrent's piece hashes, hashing on all cores, and
report each file's completeness.

A file longer than the torrent says is reported as TOO LONG, with its
size and the torrent's (a download into DIR cuts it to its length once its
last piece checks out).

The exit code is 0 only when every piece is good and every file present
with its length.`,
		Example: `  aiotorrent verify ubuntu.torrent ~/Downloads`,
		Args:    exactArgs(2, "FILE.torrent and the DIR that holds the data"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Torrent, opts.Dir = args[0], args[1]
			if runF != nil {
				return runF(opts)
			}
			return verifyRun(opts)
		},
	}
	return cmd
}

// verifyRun hashes every piece on the executor and prints the result.
func verifyRun(opts *VerifyOptions) error {
	m, err := loadMetainfo(opts.IO, opts.Torrent)
	if err != nil {
		return err
	}
	if st, err := os.Stat(opts.Dir); err != nil {
		return fmt.Errorf("verify: %w", err)
	} else if !st.IsDir() {
		return fmt.Errorf("verify: %s is not a directory", opts.Dir)
	}
	if _, err := os.Stat(filepath.Join(opts.Dir, m.Name)); err != nil {
		// Every file would be reported missing, as seed's check says why.
		if where := misplacedData(opts.Dir, m); where != "" {
			return fmt.Errorf("verify: %s", where)
		}
	}
	layout := m.Layout()
	s, err := piece.OpenStorage(opts.Dir, layout, piece.StorageOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	defer s.Close()
	progress, finish := newPieceBar(opts.IO, "checking")
	type checked struct {
		have *piece.Bitfield
		over []piece.Oversize
	}
	r, err := aio.Run(func(t *aio.Task) (checked, error) {
		var r checked
		err := interruptible(t, func(t *aio.Task) (err error) {
			if r.have, err = piece.Check(t, s, progress); err != nil {
				return err
			}
			// The piece hashes never read past a file's length, so a
			// file with bytes after its end checks out: stat each one.
			r.over, err = aio.Blocking(t, s.Oversized)
			return err
		}, nil)
		return r, err
	})
	finish()
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	have := r.have
	missing := printFileStatus(opts.IO.Out, opts.Dir, &layout, have, r.over)
	fmt.Fprintf(opts.IO.Out, "%d/%d pieces good\n", have.Count(), have.Len())
	switch {
	case len(r.over) == 1:
		o := r.over[0]
		return fmt.Errorf("%w: %s is %d bytes, the torrent says %d", errTooLong, printable(o.Path), o.Size, o.Length)
	case len(r.over) > 1:
		return fmt.Errorf("%w: %d files are longer than the torrent says", errTooLong, len(r.over))
	case !have.Full():
		return fmt.Errorf("%w: %d of %d pieces missing or bad", errIncomplete, have.Len()-have.Count(), have.Len())
	case missing > 0:
		if missing == 1 {
			return fmt.Errorf("%w: an empty file is missing", errIncomplete)
		}
		return fmt.Errorf("%w: %d empty files are missing", errIncomplete, missing)
	}
	return nil
}

// fileStatus is how much of one file checked out.
type fileStatus struct {
	good, total int  // pieces the file overlaps, and how many of them are good
	present     bool // for an empty file, which no piece covers
}

// complete reports whether the file is all there.
func (f fileStatus) complete() bool {
	if f.total == 0 {
		return f.present
	}
	return f.good == f.total
}

// fileStatusOf counts the good pieces among those file i overlaps. A
// piece that straddles two files counts for both: it is the unit that is
// checked, so a bad byte in one file can mark its neighbour incomplete.
func fileStatusOf(dir string, l *piece.Layout, have *piece.Bitfield, i int) fileStatus {
	f := l.Files[i]
	if f.Length == 0 {
		_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f.Path)))
		return fileStatus{present: err == nil}
	}
	first := int(f.Offset / l.PieceLength)
	last := int((f.Offset + f.Length - 1) / l.PieceLength)
	st := fileStatus{total: last - first + 1}
	for p := first; p <= last; p++ {
		if have.Has(p) {
			st.good++
		}
	}
	return st
}

// printFileStatus writes one line per file (padding files left out:
// nothing is stored for them) and returns how many empty files are
// missing, which the piece count cannot show.
// A file in over is TOO LONG (unless it is INCOMPLETE too), with its size
// and the torrent's after its path.
func printFileStatus(out io.Writer, dir string, l *piece.Layout, have *piece.Bitfield, over []piece.Oversize) (missingEmpty int) {
	width := len(fmt.Sprint(have.Len()))
	tooLong := map[int]piece.Oversize{}
	for _, o := range over {
		tooLong[o.File] = o
	}
	for i, f := range l.Files {
		if f.Padding {
			continue
		}
		st := fileStatusOf(dir, l, have, i)
		state, note := "ok", ""
		if !st.complete() {
			state = "INCOMPLETE"
		}
		if o, ok := tooLong[i]; ok {
			note = fmt.Sprintf(" (%d bytes, the torrent says %d)", o.Size, o.Length)
			if st.complete() {
				state = "TOO LONG"
			}
		}
		if st.total == 0 {
			if !st.present {
				state, missingEmpty = "MISSING", missingEmpty+1
			}
			fmt.Fprintf(out, "%-10s  %6s  %*s  %s%s\n", state, "", 2*width+1, "empty", printable(f.Path), note)
			continue
		}
		pct := 100 * float64(st.good) / float64(st.total)
		fmt.Fprintf(out, "%-10s  %5.1f%%  %*d/%-*d  %s%s\n", state, pct, width, st.good, width, st.total, printable(f.Path), note)
	}
	return missingEmpty
}
