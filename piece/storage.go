package piece

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/aiotorrent/aiotorrent/aio"
)

// Errors Storage returns that callers branch on.
var (
	// ErrMissing means a file the piece lies in does not exist or is too
	// short: the piece is absent, not broken. Verification counts it as
	// not had.
	ErrMissing = errors.New("data missing")
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("storage closed")
	// ErrReadOnly is returned by WritePiece on a read-only Storage.
	ErrReadOnly = errors.New("storage is read-only")
	// ErrOutside means a file path would resolve outside the download
	// directory, lexically or through a symlink.
	ErrOutside = errors.New("path outside the download directory")
)

// DefaultMaxOpenFiles is the handle cache size when StorageOptions or
// NewFileCache leave it zero: a few hundred, well under the usual 1,024
// descriptor limit, which sockets need too.
const DefaultMaxOpenFiles = 256

// StorageOptions tunes OpenStorage. The zero value is ready to use.
type StorageOptions struct {
	// Files is the cache of open files to share with other Storages (one
	// for the process bounds its descriptors whatever the number of
	// torrents); nil gives this Storage a cache of its own.
	Files *FileCache
	// MaxOpenFiles bounds the Storage's own cache of open file handles
	// when Files is nil; 0 means DefaultMaxOpenFiles.
	MaxOpenFiles int
	// ReadOnly opens files for reading only (seeding, verifying);
	// WritePiece fails with ErrReadOnly.
	ReadOnly bool
}

// Storage maps pieces onto the files of a torrent under one directory.
//
// It is executor-side code and the one type in piece/ that is safe for
// concurrent use: its methods block in file system calls, so they run on
// executor threads, several at once, never on the loop thread. Reads and
// writes are pread/pwrite (os.File.ReadAt/WriteAt), which need no lock;
// only the handle cache is shared (between threads, and with other
// Storages through StorageOptions.Files), and a sync.Mutex guards it.
//
// Its entry points call aio.CheckBlocking, so that in debug mode a call
// made on the loop thread by mistake is reported.
//
// Files and their directories are created on the first write, sparse and
// without preallocation; padding files are never created. Every path is
// resolved under the directory, and a symlink that leads out of it is
// refused when a file is opened (see beneath for the limits of that check).
type Storage struct {
	root     string // absolute and clean
	realRoot string // root with symlinks resolved, for the containment check
	layout   Layout
	paths    []string // absolute path of each file, "" for padding
	readOnly bool
	cache    *handleCache
	closed   atomic.Bool
}

// OpenStorage prepares storage for layout under dir. It validates the
// layout and every path but touches the disk only to resolve dir: nothing
// is created until the first write.
func OpenStorage(dir string, layout Layout, opts StorageOptions) (*Storage, error) {
	aio.CheckBlocking("piece: OpenStorage (symlink resolution)")
	if err := layout.Validate(); err != nil {
		return nil, err
	}
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("storage %q: %w", dir, err)
	}
	realRoot, err := resolveExisting(root)
	if err != nil {
		return nil, fmt.Errorf("storage %q: %w", dir, err)
	}
	s := &Storage{
		root:     root,
		realRoot: realRoot,
		layout:   layout,
		paths:    make([]string, len(layout.Files)),
		readOnly: opts.ReadOnly,
	}
	files := opts.Files
	if files == nil {
		files = NewFileCache(opts.MaxOpenFiles)
	}
	s.cache = newHandleCache(files)
	for i, f := range layout.Files {
		if f.Padding {
			continue
		}
		p := filepath.Join(root, filepath.FromSlash(f.Path))
		if !within(root, p) {
			return nil, fmt.Errorf("storage: file %q: %w", f.Path, ErrOutside)
		}
		s.paths[i] = p
	}
	return s, nil
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// Layout returns the layout the storage was opened with; callers must
// not modify it.
func (s *Storage) Layout() *Layout { return &s.layout }

// ReadAt fills p with the bytes of piece at offset off. A range past the
// piece's end is an error; a missing or short file gives ErrMissing;
// padding reads as zeros.
func (s *Storage) ReadAt(p []byte, piece int, off int64) error {
	aio.CheckBlocking("piece: Storage.ReadAt")
	start, err := s.pieceRange(piece, off, int64(len(p)))
	if err != nil {
		return err
	}
	return s.layout.spans(start, int64(len(p)), func(sp span) error {
		buf := p[sp.bufOff : sp.bufOff+sp.n]
		if s.paths[sp.file] == "" {
			clear(buf)
			return nil
		}
		return s.readSpan(sp.file, buf, sp.fileOff)
	})
}

// ReadPiece reads all of piece into buf, which must be at least the
// piece's size, and returns nothing else: buf[:PieceSize(piece)] holds it.
func (s *Storage) ReadPiece(piece int, buf []byte) error {
	n := s.layout.PieceSize(piece)
	if int64(len(buf)) < n {
		return fmt.Errorf("read piece %d: buffer of %d bytes for %d", piece, len(buf), n)
	}
	return s.ReadAt(buf[:n], piece, 0)
}

// WritePiece writes a whole, verified piece. Writes to padding files are
// dropped; other files and their directories are created as needed. A
// file whose last byte the piece holds is cut to its length if it was
// longer (see trim.go).
func (s *Storage) WritePiece(piece int, data []byte) error {
	aio.CheckBlocking("piece: Storage.WritePiece")
	if s.readOnly {
		return fmt.Errorf("write piece %d: %w", piece, ErrReadOnly)
	}
	if n := s.layout.PieceSize(piece); int64(len(data)) != n || n == 0 {
		return fmt.Errorf("write piece %d: %d bytes, want %d", piece, len(data), n)
	}
	start := int64(piece) * s.layout.PieceLength
	return s.layout.spans(start, int64(len(data)), func(sp span) error {
		if s.paths[sp.file] == "" {
			return nil
		}
		if err := s.writeSpan(sp.file, data[sp.bufOff:sp.bufOff+sp.n], sp.fileOff); err != nil {
			return err
		}
		if sp.fileOff+sp.n == s.layout.Files[sp.file].Length {
			return s.trimFile(sp.file) // see trim.go
		}
		return nil
	})
}

// pieceRange checks that [off, off+n) lies inside piece and returns where
// it starts in the torrent data.
func (s *Storage) pieceRange(piece int, off, n int64) (int64, error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	size := s.layout.PieceSize(piece)
	if size == 0 || off < 0 || n < 0 || off > size || n > size-off {
		return 0, fmt.Errorf("piece %d: range [%d, %d) outside [0, %d)", piece, off, off+n, size)
	}
	return int64(piece)*s.layout.PieceLength + off, nil
}

func (s *Storage) readSpan(file int, buf []byte, off int64) error {
	h, err := s.cache.acquire(file, false, func() (*os.File, error) { return s.openFile(file, false) })
	if err != nil {
		return err
	}
	defer s.cache.release(h)
	if _, err := h.f.ReadAt(buf, off); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: short file: %w", s.layout.Files[file].Path, ErrMissing)
		}
		return fmt.Errorf("read %s: %w", s.layout.Files[file].Path, err)
	}
	return nil
}

func (s *Storage) writeSpan(file int, data []byte, off int64) error {
	h, err := s.cache.acquire(file, true, func() (*os.File, error) { return s.openFile(file, true) })
	if err != nil {
		return err
	}
	defer s.cache.release(h)
	// At most 1 MiB per pwrite: on Linux one 16 MiB pwrite into the page
	// cache costs several times the CPU of sixteen 1 MiB ones
	// (docs/performance.md), and large pieces are common.
	for len(data) > 0 {
		n := min(len(data), maxWrite)
		if _, err := h.f.WriteAt(data[:n], off); err != nil {
			return fmt.Errorf("write %s: %w", s.layout.Files[file].Path, err)
		}
		data, off = data[n:], off+int64(n)
	}
	return nil
}

// maxWrite is the largest single pwrite Storage makes.
const maxWrite = 1 << 20

// openFile opens file i, creating it and its directories for a write.
func (s *Storage) openFile(i int, write bool) (*os.File, error) {
	p := s.paths[i]
	if err := s.beneath(p); err != nil {
		return nil, fmt.Errorf("open %s: %w", s.layout.Files[i].Path, err)
	}
	if !write {
		f, err := os.Open(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", s.layout.Files[i].Path, ErrMissing)
		}
		return f, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
		return nil, fmt.Errorf("create %s: %w", s.layout.Files[i].Path, err)
	}
	return os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o666)
}

// beneath refuses a path whose existing part resolves, through symlinks,
// outside the download directory. Symlinks that stay inside are allowed
// (a user may link data in). This is defence in depth on top of the
// lexical check in OpenStorage and the metainfo's path rules: it runs once
// per file open, and it cannot close the race with someone who swaps a
// directory for a symlink between the check and the open, which needs
// write access to the download directory in the first place.
func (s *Storage) beneath(p string) error {
	real, err := resolveExisting(p)
	if err != nil {
		return err
	}
	if !within(s.realRoot, real) {
		return ErrOutside
	}
	return nil
}

// resolveExisting resolves symlinks in the longest existing prefix of the
// absolute path p and appends the rest unchanged.
func resolveExisting(p string) (string, error) {
	rest := ""
	for cur := p; ; {
		real, err := filepath.EvalSymlinks(cur)
		if err == nil {
			return filepath.Join(real, rest), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return p, nil
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

// within reports whether the clean path p is root or lies under it.
func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// CreateEmptyFiles creates the zero-length files of the torrent, which no
// piece write ever touches, and empties them if they held something. The session calls it when the download is done.
func (s *Storage) CreateEmptyFiles() error {
	aio.CheckBlocking("piece: Storage.CreateEmptyFiles")
	if s.readOnly {
		return ErrReadOnly
	}
	for i, f := range s.layout.Files {
		if f.Length != 0 || s.paths[i] == "" {
			continue
		}
		// The download is complete, so a file the torrent says is empty
		// is emptied if it held something (trim.go).
		if err := s.trimFile(i); err != nil {
			return err
		}
	}
	return nil
}

// Close closes every cached file. Operations still running finish; later
// ones fail with ErrClosed.
func (s *Storage) Close() error {
	aio.CheckBlocking("piece: Storage.Close")
	if s.closed.Swap(true) {
		return nil
	}
	return s.cache.closeAll()
}

// missingFiles reports, per file, whether it is absent from disk (padding
// and empty files never are). A short file is not missing: a download
// writes pieces out of order, so its verified pieces may lie before a
// hole. It stats each file once; call it on an executor thread.
func (s *Storage) missingFiles() []bool {
	aio.CheckBlocking("piece: stat of every file")
	missing := make([]bool, len(s.layout.Files))
	for i, f := range s.layout.Files {
		if s.paths[i] == "" || f.Length == 0 {
			continue
		}
		_, err := os.Stat(s.paths[i])
		missing[i] = errors.Is(err, fs.ErrNotExist)
	}
	return missing
}

// touchesMissing reports whether piece i lies partly in a file that
// missingFiles found absent.
func (s *Storage) touchesMissing(i int, missing []bool) bool {
	if missing == nil {
		return false
	}
	start, err := s.pieceRange(i, 0, s.layout.PieceSize(i))
	if err != nil {
		return false
	}
	found := false
	s.layout.spans(start, s.layout.PieceSize(i), func(sp span) error {
		if missing[sp.file] {
			found = true
		}
		return nil
	})
	return found
}
