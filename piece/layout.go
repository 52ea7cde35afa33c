package piece

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// FileEntry is one file of a torrent as it lies in the concatenated torrent
// data. metainfo.Torrent.Layout builds these; piece keeps its own type so
// that it does not depend on the layer above it.
type FileEntry struct {
	// Path is relative and slash-separated ("name/dir/file.txt"). The
	// metainfo layer has validated it already; Storage checks it again.
	Path string
	// Length is the file's size in bytes.
	Length int64
	// Offset is where the file starts in the concatenated torrent data.
	Offset int64
	// Padding marks a BEP 47 padding file: laid out, never created on disk,
	// and read as zeros.
	Padding bool
}

// Layout describes how a torrent's data is cut into pieces and files.
type Layout struct {
	// PieceLength is the nominal piece size; only the last piece is shorter.
	PieceLength int64
	// Length is the total size of the torrent data in bytes.
	Length int64
	// Files cover [0, Length) in order, without gaps or overlaps.
	Files []FileEntry
	// Hashes holds the SHA-1 of every piece. It may be empty for a layout
	// that is only read or written (creating a torrent), never verified.
	Hashes [][20]byte
}

// ErrLayout is wrapped by every error Layout.Validate returns.
var ErrLayout = errors.New("invalid layout")

// NumPieces is the number of pieces: Length divided by PieceLength,
// rounded up.
func (l *Layout) NumPieces() int {
	if l.PieceLength <= 0 {
		return 0
	}
	return int((l.Length + l.PieceLength - 1) / l.PieceLength)
}

// PieceSize is the size of piece i: PieceLength for every piece but the
// last, which holds the remainder. It is 0 for an index out of range.
func (l *Layout) PieceSize(i int) int64 {
	n := l.NumPieces()
	if i < 0 || i >= n {
		return 0
	}
	if i == n-1 {
		return l.Length - int64(i)*l.PieceLength
	}
	return l.PieceLength
}

// Validate checks that the layout is self-consistent: positive piece
// length, files contiguous from 0 to Length, one hash per piece (or none),
// and every path relative, without empty, "." or ".." components, NUL
// bytes or duplicates.
func (l *Layout) Validate() error {
	if l.PieceLength <= 0 {
		return fmt.Errorf("%w: piece length %d", ErrLayout, l.PieceLength)
	}
	if l.Length < 0 {
		return fmt.Errorf("%w: length %d", ErrLayout, l.Length)
	}
	if len(l.Hashes) != 0 && len(l.Hashes) != l.NumPieces() {
		return fmt.Errorf("%w: %d hashes for %d pieces", ErrLayout, len(l.Hashes), l.NumPieces())
	}
	seen := make(map[string]bool, len(l.Files))
	var off int64
	for i, f := range l.Files {
		if f.Length < 0 || f.Offset != off {
			return fmt.Errorf("%w: file %d (%q): offset %d length %d, want offset %d",
				ErrLayout, i, f.Path, f.Offset, f.Length, off)
		}
		off += f.Length
		if err := validPath(f.Path); err != nil {
			return fmt.Errorf("%w: file %d: %w", ErrLayout, i, err)
		}
		if !f.Padding {
			if seen[f.Path] {
				return fmt.Errorf("%w: file %d: duplicate path %q", ErrLayout, i, f.Path)
			}
			seen[f.Path] = true
		}
	}
	if off != l.Length {
		return fmt.Errorf("%w: files add up to %d bytes, length is %d", ErrLayout, off, l.Length)
	}
	return nil
}

// validPath refuses anything that could name a file outside the download
// directory or that different systems would read differently.
func validPath(p string) error {
	if p == "" {
		return errors.New("empty path")
	}
	if strings.HasPrefix(p, "/") {
		return fmt.Errorf("absolute path %q", p)
	}
	for _, c := range strings.Split(p, "/") {
		switch {
		case c == "" || c == "." || c == "..":
			return fmt.Errorf("path %q has component %q", p, c)
		case strings.ContainsRune(c, 0):
			return fmt.Errorf("path %q contains NUL", p)
		case strings.ContainsRune(c, '\\'):
			// A separator on Windows: "a\..\..\x" would climb out there.
			return fmt.Errorf("path %q contains a backslash", p)
		}
	}
	return nil
}

// span is the part of one file that a byte range of the torrent covers.
type span struct {
	file    int   // index into Layout.Files
	fileOff int64 // where in the file
	bufOff  int64 // where in the caller's buffer
	n       int64
}

// spans calls fn for each file that the torrent range [off, off+n) falls
// into, in order, skipping zero-length files. The caller has checked that
// the range lies within [0, Length).
func (l *Layout) spans(off, n int64, fn func(s span) error) error {
	files := l.Files
	i := sort.Search(len(files), func(i int) bool { return files[i].Offset+files[i].Length > off })
	var done int64
	for ; i < len(files) && done < n; i++ {
		f := &files[i]
		if f.Length == 0 {
			continue
		}
		start := off + done - f.Offset
		k := min(f.Length-start, n-done)
		if err := fn(span{file: i, fileOff: start, bufOff: done, n: k}); err != nil {
			return err
		}
		done += k
	}
	if done != n {
		return fmt.Errorf("%w: range [%d, %d) beyond the files", ErrLayout, off, off+n)
	}
	return nil
}

// WantedPieces returns the pieces that hold data of at least one wanted
// file: a skipped file's pieces are left out unless they straddle a wanted
// one. skip[i] says whether Files[i] is skipped; a short or nil skip wants
// the rest. Padding files are never wanted for their own sake.
func (l *Layout) WantedPieces(skip []bool) *Bitfield {
	bf := NewBitfield(l.NumPieces())
	for i, f := range l.Files {
		if f.Padding || f.Length == 0 || (i < len(skip) && skip[i]) {
			continue
		}
		first := int(f.Offset / l.PieceLength)
		last := int((f.Offset + f.Length - 1) / l.PieceLength)
		for p := first; p <= last; p++ {
			bf.Set(p)
		}
	}
	return bf
}
