package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/aiotorrent/aiotorrent/metainfo"
	"github.com/aiotorrent/aiotorrent/torrent"
)

// What download and seed check before the loop starts: a command line
// that cannot work is refused before anyone is contacted, not after a
// tracker has been told we are here.

// peerFlags are the values of addPeerFlags.
type peerFlags struct {
	port, maxPeers, maxConns int
	encryption               string
}

// check reports the first flag out of its range as a usage error that
// names the range. It checks the command line only: in options built in
// code, zero means the default.
func (p peerFlags) check() error {
	switch {
	case p.port < 0 || p.port > 65535:
		return usageError{fmt.Errorf("--port %d: want 1-65535 (or 0 for any free port)", p.port)}
	case p.maxPeers <= 0:
		return usageError{fmt.Errorf("--max-peers %d: want at least 1", p.maxPeers)}
	case p.maxConns <= 0:
		return usageError{fmt.Errorf("--max-conns %d: want at least 1", p.maxConns)}
	case maxOpenFiles <= 0:
		return usageError{fmt.Errorf("--max-open-files %d: want at least 1", maxOpenFiles)}
	}
	if _, err := torrent.ParseEncryption(p.encryption); err != nil || p.encryption == "" {
		return usageError{fmt.Errorf("--encryption %q: want prefer, require or disable", p.encryption)}
	}
	return nil
}

// checkOutDir refuses a download directory that cannot be written: a path
// that is a file, one without write permission, or one whose parent does
// not exist (a missing directory is created, but only one level: a typo
// in the middle of a path should not become a tree of directories).
// Errors name the path as the user gave it.
func checkOutDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		parent := filepath.Dir(filepath.Clean(dir))
		pfi, perr := os.Stat(parent)
		if perr != nil || !pfi.IsDir() {
			return fmt.Errorf("download directory %s: its parent %s does not exist", dir, parent)
		}
		if err := unix.Access(parent, unix.W_OK|unix.X_OK); err != nil {
			return fmt.Errorf("download directory %s: cannot be created in %s: %w", dir, parent, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("download directory %s: %w", dir, err)
	case !fi.IsDir():
		return fmt.Errorf("download directory %s: is a file, not a directory", dir)
	}
	// access(2) also says EROFS for a read-only mount.
	if err := unix.Access(dir, unix.W_OK|unix.X_OK); err != nil {
		return fmt.Errorf("download directory %s: cannot write there: %w", dir, err)
	}
	return nil
}

// errSeedDir is wrapped by checkSeedDir's errors.
var errSeedDir = errors.New("use --partial to seed what is there and download the rest")

// checkSeedDir looks for m's data where seed expects it, dir/NAME, and
// when nothing is there says what the user most likely meant: a missing
// or empty dir, the torrent's own folder given instead of its parent (one
// level too deep), or a folder holding the torrent's folder one level
// further down (too shallow).
func checkSeedDir(dir string, m *metainfo.Torrent) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s does not exist: no data to seed (%w)", dir, errSeedDir)
	case err != nil:
		return err
	case !fi.IsDir() && filepath.Base(filepath.Clean(dir)) == m.Name:
		return fmt.Errorf("%s is the torrent's file itself: give the directory it is in, %s (not --partial)", dir, filepath.Dir(filepath.Clean(dir)))
	case !fi.IsDir():
		return fmt.Errorf("%s is a file, not a directory", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, m.Name)); err == nil {
		return nil // there; the hash check says whether it is complete
	}
	if where := misplacedData(dir, m); where != "" {
		return fmt.Errorf("%s (--partial here would download it all again into %s)", where, filepath.Join(dir, m.Name))
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return fmt.Errorf("%s is empty: no data to seed (%w)", dir, errSeedDir)
	}
	return fmt.Errorf("%s holds no %q, the torrent's %s (%w)", dir, m.Name, map[bool]string{true: "folder", false: "file"}[m.MultiFile], errSeedDir)
}

// misplacedData says where m's data is when dir, which lacks dir/NAME,
// is one level off: the torrent's folder itself (too deep), or a
// directory whose subdirectory holds NAME (too shallow); "" otherwise.
func misplacedData(dir string, m *metainfo.Torrent) string {
	if filepath.Base(filepath.Clean(dir)) == m.Name && m.MultiFile && anyFileIn(dir, m) {
		return fmt.Sprintf("%s looks like the torrent's folder %q itself (its files are directly inside): give its parent, %s",
			dir, m.Name, filepath.Dir(filepath.Clean(dir)))
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.IsDir() {
			if _, err := os.Stat(filepath.Join(dir, e.Name(), m.Name)); err == nil {
				return fmt.Sprintf("%s holds no %q, but %s does: give that directory", dir, m.Name, filepath.Join(dir, e.Name()))
			}
		}
	}
	return ""
}

// anyFileIn reports whether one of m's files (not a padding file) is
// directly in dir, at its path inside the torrent's folder.
func anyFileIn(dir string, m *metainfo.Torrent) bool {
	for _, f := range m.Files {
		if f.Padding || len(f.Path) == 0 {
			continue
		}
		if _, err := os.Stat(filepath.Join(append([]string{dir}, f.Path...)...)); err == nil {
			return true
		}
	}
	return false
}
