package main

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/aiotorrent/aiotorrent/metainfo"
)

// selectFiles turns --files and --exclude into each torrent's
// SessionOptions.SkipFiles (nil: everything wanted). Indexes and paths
// are those of metainfo.Torrent.Layout, which `info` lists.
func selectFiles(metas []*metainfo.Torrent, files string, exclude []string) ([][]bool, error) {
	for _, g := range exclude {
		if _, err := path.Match(g, ""); err != nil {
			return nil, usageError{fmt.Errorf("--exclude %q: %w", g, err)}
		}
	}
	out := make([][]bool, len(metas))
	for k, m := range metas {
		layout := m.Layout().Files
		var keep map[int]bool
		if files != "" {
			var err error
			if keep, err = parseIndexes(files, len(layout)); err != nil {
				return nil, usageError{fmt.Errorf("--files: %w", err)}
			}
		}
		if keep == nil && len(exclude) == 0 {
			continue
		}
		skip := make([]bool, len(layout))
		left := 0
		for i, f := range layout {
			skip[i] = (keep != nil && !keep[i]) || excluded(m, f.Path, exclude)
			if !skip[i] && !f.Padding && f.Length > 0 {
				left++
			}
		}
		if left == 0 {
			return nil, usageError{fmt.Errorf("%s: --files and --exclude leave nothing to download", m.Name)}
		}
		out[k] = skip
	}
	return out, nil
}

// excluded reports whether a glob matches the file's full path, its path
// inside the torrent, or its base name.
func excluded(m *metainfo.Torrent, full string, globs []string) bool {
	inner := strings.TrimPrefix(full, m.Name+"/")
	for _, g := range globs {
		for _, p := range []string{full, inner, path.Base(full)} {
			if ok, _ := path.Match(g, p); ok {
				return true
			}
		}
	}
	return false
}

// parseIndexes reads "0,2,5-7" into a set of indexes below n.
func parseIndexes(s string, n int) (map[int]bool, error) {
	set := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		b := a
		if err == nil && isRange {
			b, err = strconv.Atoi(hi)
		}
		if err != nil || a < 0 || b < a {
			return nil, fmt.Errorf("%q: want indexes like 0,2,5-7", part)
		}
		if b >= n {
			return nil, fmt.Errorf("index %d: the torrent has %d files (0-%d)", b, n, n-1)
		}
		for i := a; i <= b; i++ {
			set[i] = true
		}
	}
	return set, nil
}
