package piece

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/aiotorrent/aiotorrent/aio"
)

// Files longer than the torrent says. A file already in the download
// directory (an older or a newer version, a preallocated one) may run past
// the length the torrent gives it. Nothing reads those bytes, so they pass
// every piece check; but the download is not the torrent's data until
// they are gone. A writable Storage cuts a file to its length once the
// piece holding its last byte is verified, and only then: before that the
// file may not be the torrent's at all (a wrong directory), and the bytes
// are the user's. Verification reports them.

// Oversize is a file on disk that is longer than the torrent says.
type Oversize struct {
	File   int    // index into Layout.Files
	Path   string // the torrent's path, with slashes
	Size   int64  // on disk
	Length int64  // in the torrent
}

func (o Oversize) String() string {
	return fmt.Sprintf("%s: %d bytes on disk, the torrent says %d", o.Path, o.Size, o.Length)
}

// Oversized stats each file of the torrent and returns those longer than
// their length, in file order. A missing file is not one. Call it on an
// executor thread.
func (s *Storage) Oversized() ([]Oversize, error) {
	aio.CheckBlocking("piece: Storage.Oversized (stat of every file)")
	if s.closed.Load() {
		return nil, ErrClosed
	}
	var over []Oversize
	for i, f := range s.layout.Files {
		if s.paths[i] == "" {
			continue
		}
		if err := s.beneath(s.paths[i]); err != nil {
			return nil, fmt.Errorf("stat %s: %w", f.Path, err)
		}
		st, err := os.Stat(s.paths[i])
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("stat %s: %w", f.Path, err)
		}
		if st.Mode().IsRegular() && st.Size() > f.Length {
			over = append(over, Oversize{File: i, Path: f.Path, Size: st.Size(), Length: f.Length})
		}
	}
	return over, nil
}

// TrimVerified cuts each file longer than the torrent says to its length,
// if have holds the piece with the file's last byte (an empty file has no
// such piece: it is cut when have is complete). It returns the files it
// cut. Call it on an executor thread, on a writable Storage.
func (s *Storage) TrimVerified(have *Bitfield) ([]Oversize, error) {
	if s.readOnly {
		return nil, ErrReadOnly
	}
	over, err := s.Oversized()
	if err != nil {
		return nil, err
	}
	var cut []Oversize
	for _, o := range over {
		if !s.lastPieceIn(o.File, have) {
			continue
		}
		if err := s.trimFile(o.File); err != nil {
			return cut, err
		}
		cut = append(cut, o)
	}
	return cut, nil
}

// lastPieceIn reports whether have holds the piece with file i's last
// byte; for an empty file, whether have is complete.
func (s *Storage) lastPieceIn(i int, have *Bitfield) bool {
	f := s.layout.Files[i]
	if f.Length == 0 {
		return have.Full()
	}
	return have.Has(int((f.Offset + f.Length - 1) / s.layout.PieceLength))
}

// trimFile truncates file i to its length if it is longer, through the
// handle cache (WritePiece calls it with the handle it wrote through still
// cached, so this costs an fstat).
func (s *Storage) trimFile(i int) error {
	length := s.layout.Files[i].Length
	h, err := s.cache.acquire(i, true, func() (*os.File, error) { return s.openFile(i, true) })
	if err != nil {
		return err
	}
	defer s.cache.release(h)
	st, err := h.f.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", s.layout.Files[i].Path, err)
	}
	if st.Size() <= length {
		return nil
	}
	if err := h.f.Truncate(length); err != nil {
		return fmt.Errorf("cut %s to %d bytes: %w", s.layout.Files[i].Path, length, err)
	}
	return nil
}
