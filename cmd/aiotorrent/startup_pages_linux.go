package main

import (
	"bufio"
	"bytes"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// releaseStartupPages unmaps the pages of the binary and its shared
// libraries that the process has touched so far, so that those only
// start-up needed stop counting in its RSS; the ones serving needs come
// back on their next use, as minor faults from the page cache.
//
// Why it matters for `aiotorrent tracker`: the binary carries the whole
// client (15 MiB), and every package's init and cobra's start-up touch
// code and tables scattered across it. Linux (6.x on ext4 and others)
// caches files in large folios and maps a whole folio on a fault, so
// those few touches leave about 10 MiB of the binary mapped, most of it
// never used again: more than the tracker's data for 100,000 peers.
//
// Only read-only mappings of files that hold no page of the process's
// own are dropped: a written page of a private mapping (a binary's .data,
// a library's relocated RELRO, read-only again after relocation) is an
// anonymous copy, and MADV_DONTNEED would turn it back into the file's
// bytes.
func releaseStartupPages() {
	smaps, err := os.Open("/proc/self/smaps")
	if err != nil {
		return
	}
	defer smaps.Close()
	var start, end uint64 // the mapping being read; end 0: not a candidate
	sc := bufio.NewScanner(smaps)
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		switch {
		case len(f) >= 2 && string(f[0]) == "Anonymous:":
			if end != 0 && string(f[1]) == "0" {
				// Best effort: nothing is lost if the call fails.
				unix.Syscall(unix.SYS_MADVISE, uintptr(start), uintptr(end-start), unix.MADV_DONTNEED)
			}
			end = 0
		case len(f) >= 5 && bytes.IndexByte(f[0], '-') > 0 && !bytes.HasSuffix(f[0], []byte{':'}):
			// 00400000-008fd000 r-xp 00000000 fd:00 1234   /path/to/file
			start, end = mappingToDrop(f)
		}
	}
}

// mappingToDrop returns the range of an smaps header line's mapping if it
// maps a file read-only, else 0, 0.
func mappingToDrop(f [][]byte) (start, end uint64) {
	if len(f) < 6 || f[5][0] != '/' || len(f[1]) < 2 || f[1][1] == 'w' {
		return 0, 0
	}
	lo, hi, _ := bytes.Cut(f[0], []byte{'-'})
	start, err1 := strconv.ParseUint(string(lo), 16, 64)
	end, err2 := strconv.ParseUint(string(hi), 16, 64)
	if err1 != nil || err2 != nil || end <= start {
		return 0, 0
	}
	return start, end
}
