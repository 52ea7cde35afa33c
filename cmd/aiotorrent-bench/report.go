package main

import (
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"strings"
	"sync"
)

// header describes the setup above the table.
func (e *env) header(o *options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "payload %s in %d files, pieces of %s; seeder: %s (a fresh process per run); %d CPUs, %s/%s\n",
		human(float64(e.meta.Length)), len(e.meta.Files), human(float64(e.meta.PieceLength)),
		name(o.seeder), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	if e.dropNote == "" {
		b.WriteString("page cache dropped before each run\n")
	} else {
		b.WriteString(e.dropNote + "\n")
	}
	if v := aria2Version(e.aria2); v != "" {
		b.WriteString(v + "\n")
	}
	return b.String()
}

func aria2Version(bin string) string {
	if bin == "" {
		return ""
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return ""
	}
	first, _, _ := strings.Cut(string(out), "\n")
	return first
}

// The columns: wall time from exec to exit and its rate; the transfer
// alone (the client's own start to last piece) and its rate; the
// leecher's CPU and peak RSS; the seeder's CPU during the run and peak RSS.
const tableHead = "leecher       wall   MiB/s    xfer   MiB/s  CPU(u+s) RSS(MiB) seed CPU seed RSS\n"

// printTable prints every run (with several per leecher) or one row per
// leecher, then the ratios of the medians.
func printTable(w io.Writer, results []result, all bool) {
	fmt.Fprint(w, tableHead)
	if all {
		for _, r := range results {
			fmt.Fprintln(w, r.row())
		}
		fmt.Fprintln(w, "medians:")
	}
	ours, okO := median(results, "aiotorrent")
	aria, okA := median(results, "aria2")
	for _, r := range []struct {
		r  result
		ok bool
	}{{ours, okO}, {aria, okA}} {
		if r.ok {
			fmt.Fprintln(w, r.r.row())
		}
	}
	if okO && okA {
		fmt.Fprintf(w, "aiotorrent / aria2c: speed %.2fx (transfer alone %.2fx), CPU %.2fx, peak RSS %.2fx, seeder CPU %.2fx\n",
			ours.mibps()/aria.mibps(), ours.xferMibps()/max(aria.xferMibps(), 1e-9), ours.cpu.Seconds()/aria.cpu.Seconds(),
			float64(ours.maxRSS)/float64(aria.maxRSS), ours.seederCPU.Seconds()/max(aria.seederCPU.Seconds(), 0.01))
	}
}

// lockedBuffer is an output sink written by exec's copier and read by us.
type lockedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	if len(l.buf) > 1<<20 { // keep the tail only
		l.buf = append(l.buf[:0], l.buf[len(l.buf)-64<<10:]...)
	}
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buf
	if len(b) > 4096 {
		b = b[len(b)-4096:]
	}
	return string(b)
}
