package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

const (
	manyReady  = 10 * time.Minute // start-up: every torrent checked and seeding
	settleStep = time.Second
	// A client has settled once it used less than settleCPU in each of
	// settleSteps consecutive seconds: its start-up work (checking the
	// data) is over, whatever it prints.
	settleCPU   = 50 * time.Millisecond
	settleSteps = 3
)

// readyLine waits for many.py's "READY" line on r (its stdout).
func readyLine(r io.Reader) error {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "READY ") {
			go io.Copy(io.Discard, r) // what comes after, until it exits
			return nil
		}
		if strings.HasPrefix(line, "ERROR ") {
			return fmt.Errorf("%s", line)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return fmt.Errorf("exited before READY")
}

// measureIdle starts cmd, waits for it to be ready (ready on its stdout,
// if given) and to settle, then measures it over window and stops it: an
// interrupt, and its stdin closed (many.py exits on that).
func measureIdle(client string, cmd *exec.Cmd, ready func(io.Reader) error, window time.Duration) (idleCost, error) {
	c := idleCost{client: client, window: window}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return c, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return c, err
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return c, fmt.Errorf("%s: %w", client, err)
	}
	pid := cmd.Process.Pid
	c.start = start
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	fmt.Fprintf(os.Stderr, "%s: starting (pid %d)\n", client, pid)
	if ready != nil {
		errc := make(chan error, 1)
		go func() { errc <- ready(stdout) }()
		select {
		case err := <-errc:
			if err != nil {
				return c, fmt.Errorf("%s: %w\n%s", client, err, stderr.String())
			}
		case <-time.After(manyReady):
			return c, fmt.Errorf("%s: not ready after %v\n%s", client, manyReady, stderr.String())
		}
	} else {
		go io.Copy(io.Discard, stdout)
	}
	if err := settle(pid, start.Add(manyReady)); err != nil {
		return c, fmt.Errorf("%s: %w\n%s", client, err, stderr.String())
	}
	c.ready = time.Since(start)
	fmt.Fprintf(os.Stderr, "%s: settled after %.1fs; measuring %v\n", client, c.ready.Seconds(), window)
	cpu0, cs0, err := cpuAndSwitches(pid)
	if err != nil {
		return c, err
	}
	c.from = time.Now()
	time.Sleep(window)
	cpu1, cs1, err := cpuAndSwitches(pid)
	if err != nil {
		return c, fmt.Errorf("%s: %w\n%s", client, err, stderr.String())
	}
	c.to = time.Now()
	c.window = c.to.Sub(c.from)
	c.cpu, c.switches = cpu1-cpu0, switchesSince(cs0, cs1)
	if c.rss, err = procRSS(pid); err != nil {
		return c, err
	}
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	c.fds, c.threads = len(fds), len(tasks)
	return c, nil
}

// settle waits until pid has used less than settleCPU a second for
// settleSteps seconds in a row.
func settle(pid int, deadline time.Time) error {
	quiet := 0
	last, err := procCPU(pid)
	if err != nil {
		return err
	}
	for quiet < settleSteps {
		if time.Now().After(deadline) {
			return fmt.Errorf("still busy after %v", manyReady)
		}
		time.Sleep(settleStep)
		now, err := procCPU(pid)
		if err != nil {
			return err
		}
		if now-last < settleCPU {
			quiet++
		} else {
			quiet = 0
		}
		last = now
	}
	return nil
}

// cpuAndSwitches is pid's user + system time and the context switches,
// voluntary and not, of each of its threads, by thread id.
func cpuAndSwitches(pid int) (time.Duration, map[string]int64, error) {
	cpu, err := procCPU(pid)
	if err != nil {
		return 0, nil, err
	}
	dirs, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
	if err != nil {
		return 0, nil, err
	}
	n := map[string]int64{}
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "status"))
		if err != nil {
			continue // the thread ended
		}
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if ok && (k == "voluntary_ctxt_switches" || k == "nonvoluntary_ctxt_switches") {
				x, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				n[filepath.Base(d)] += x
			}
		}
	}
	return cpu, n, nil
}

// switchesSince adds up each thread's switches from before to after: a
// thread that started meanwhile counts all of its own, one that ended
// counts none (libtorrent ends threads as it goes idle; summing the
// threads alive at each end went negative).
func switchesSince(before, after map[string]int64) int64 {
	var n int64
	for tid, x := range after {
		n += x - before[tid]
	}
	return n
}

// printMany writes the table: each client, and ours over theirs.
func printMany(w io.Writer, a, b idleCost) {
	ratio := func(x, y float64) string {
		if y == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2fx", x/y)
	}
	fmt.Fprintf(w, "| | %s | %s | ratio |\n|---|---:|---:|---:|\n", a.client, b.client)
	fmt.Fprintf(w, "| CPU-s per idle minute (ticks of 10 ms) | %.3f | %.3f | %s |\n", a.cpuPerMin(), b.cpuPerMin(), ratio(a.cpuPerMin(), b.cpuPerMin()))
	fmt.Fprintf(w, "| context switches/s (all threads) | %.2f (%d) | %.2f (%d) | %s |\n", a.switchesPerSec(), a.switches,
		b.switchesPerSec(), b.switches, ratio(a.switchesPerSec(), b.switchesPerSec()))
	fmt.Fprintf(w, "| RSS, MiB | %.1f | %.1f | %s |\n", mib(a.rss), mib(b.rss), ratio(mib(a.rss), mib(b.rss)))
	fmt.Fprintf(w, "| open fds | %d | %d | %s |\n", a.fds, b.fds, ratio(float64(a.fds), float64(b.fds)))
	fmt.Fprintf(w, "| threads | %d | %d | |\n", a.threads, b.threads)
	fmt.Fprintf(w, "| start to settled, s | %.1f | %.1f | |\n", a.ready.Seconds(), b.ready.Seconds())
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
