package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aiotorrent/aiotorrent/cmd/internal/payload"
)

const (
	seederReady = 5 * time.Minute  // aria2c -V hashes the whole payload first
	leechLimit  = 30 * time.Minute // one download, at worst
)

// result is one leecher run.
type result struct {
	leecher, seeder string
	bytes           int64
	wall            time.Duration
	cpu             time.Duration // user + system of the leecher
	maxRSS          int64         // bytes
	xfer            time.Duration // from the client's start to its last piece, by its own account
	seederCPU       time.Duration // the seeder's user + system during the transfer
	seederRSS       int64         // the seeder's peak RSS over its life, bytes
}

func (r result) mibps() float64 { return float64(r.bytes) / (1 << 20) / r.wall.Seconds() }

// xferMibps is the rate over the transfer alone (0 if unknown).
func (r result) xferMibps() float64 {
	if r.xfer <= 0 {
		return 0
	}
	return float64(r.bytes) / (1 << 20) / r.xfer.Seconds()
}

func (r result) row() string {
	return fmt.Sprintf("%-10s %7.2fs %7.1f %7.2fs %7.1f %8.2fs %7.1f %8.2fs %7.1f",
		name(r.leecher), r.wall.Seconds(), r.mibps(), r.xfer.Seconds(), r.xferMibps(),
		r.cpu.Seconds(), float64(r.maxRSS)/(1<<20), r.seederCPU.Seconds(), float64(r.seederRSS)/(1<<20))
}

func name(client string) string {
	if client == "aria2" {
		return "aria2c"
	}
	return client
}

// measure runs one leecher against a fresh seeder and returns what it
// cost both.
func (e *env) measure(o *options, leecher, dst string) (result, error) {
	r := result{leecher: leecher, seeder: o.seeder, bytes: e.meta.Length}
	if o.dropCaches && e.dropNote == "" {
		if note := dropCaches(); note != "" {
			return r, errors.New(note)
		}
	}
	seed, err := startChild(e.seederCmd(o.seeder))
	if err != nil {
		return r, err
	}
	defer seed.stop()
	if err := e.waitSeeders(1, seederReady); err != nil {
		return r, fmt.Errorf("seeder %s: %w\n%s", o.seeder, err, seed.output())
	}
	cpu0, err := procCPU(seed.cmd.Process.Pid)
	if err != nil {
		return r, err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return r, err
	}
	aria2Log := dst + ".aria2.log"
	leech, err := startChild(e.leecherCmd(leecher, dst, aria2Log))
	if err != nil {
		return r, err
	}
	start := time.Now()
	err = leech.wait()
	r.wall = time.Since(start)
	if err != nil {
		return r, fmt.Errorf("%s: %w\n%s", leecher, err, leech.output())
	}
	cpu1, err := procCPU(seed.cmd.Process.Pid)
	if err != nil {
		return r, err
	}
	r.seederCPU = cpu1 - cpu0
	if leecher == "aria2" {
		r.xfer = aria2Transfer(aria2Log)
	} else {
		r.xfer = summaryTime(leech.output())
	}
	r.seederRSS, _ = procPeakRSS(seed.cmd.Process.Pid)
	ru := leech.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	r.maxRSS = ru.Maxrss << 10 // KiB on Linux
	if !o.noVerify {
		if err := payload.SameTree(filepath.Join(e.src, "payload"), filepath.Join(dst, "payload")); err != nil {
			return r, fmt.Errorf("%s: %w", leecher, err)
		}
	}
	if !o.keep {
		os.RemoveAll(dst)
	}
	return r, nil
}

// aria2Common keeps aria2c on loopback and quiet, and ties it to us.
func aria2Common() []string {
	port := freePort()
	return []string{
		"--no-conf", "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false",
		"--enable-peer-exchange=false", "--disable-ipv6=true",
		fmt.Sprintf("--listen-port=%d-%d", port, port+9),
		"--bt-tracker-connect-timeout=5", "--bt-tracker-timeout=5", "--bt-tracker-interval=1",
		"--summary-interval=0", "--show-console-readout=false", "--console-log-level=warn",
		fmt.Sprintf("--stop-with-process=%d", os.Getpid()),
	}
}

func (e *env) seederCmd(client string) *exec.Cmd {
	if client == "aria2" {
		// -V: aria2c seeds only what it checked; it does so before it
		// announces, so the transfer's numbers do not include it.
		args := append(aria2Common(), "-V", "--seed-ratio=0.0", "--dir="+e.src, e.torrentPath)
		return exec.Command(e.aria2, args...)
	}
	return exec.Command(e.bin, "seed", e.torrentPath, e.src, "--port", "0", "-q")
}

// leecherCmd downloads into dst. aria2c logs its milestones (notice
// level: a handful of lines) to logPath; ours prints a summary.
func (e *env) leecherCmd(client, dst, logPath string) *exec.Cmd {
	if client == "aria2" {
		// --file-allocation=none: sparse files, as ours; aria2c's default
		// (prealloc) writes every byte twice.
		args := append(aria2Common(), "--seed-time=0", "--file-allocation=none",
			"--log="+logPath, "--log-level=notice", "--dir="+dst, e.torrentPath)
		return exec.Command(e.aria2, args...)
	}
	return exec.Command(e.bin, "download", e.torrentPath, "-o", dst, "--port", "0")
}

// summaryTime reads the time in our summary line, "NAME: SIZE in TIME
// (RATE/s), N peers used": from the session's start to its last piece.
func summaryTime(out string) time.Duration {
	m := regexp.MustCompile(` in (\S+) \(`).FindStringSubmatch(out)
	if m == nil {
		return 0
	}
	d, _ := time.ParseDuration(m[1])
	return d
}

// aria2Transfer reads aria2c's log: from "Downloading 1 item(s)" (its
// start) to "Seeding is over." (its last piece, with --seed-time=0). Its
// exit comes later: it closes files and says "stopped" to the tracker.
func aria2Transfer(logPath string) time.Duration {
	b, err := os.ReadFile(logPath)
	if err != nil {
		return 0
	}
	var start, end time.Time
	for _, line := range strings.Split(string(b), "\n") {
		if len(line) < 26 {
			continue
		}
		ts, err := time.Parse("2006-01-02 15:04:05.000000", line[:26])
		if err != nil {
			continue
		}
		switch {
		case strings.Contains(line, "Downloading 1 item(s)"):
			start = ts
		case strings.Contains(line, "Seeding is over."):
			end = ts
		}
	}
	if start.IsZero() || end.IsZero() {
		return 0
	}
	return end.Sub(start)
}

// child is a running process with its output kept for error messages.
type child struct {
	cmd    *exec.Cmd
	out    lockedBuffer
	cancel context.CancelFunc
	done   chan error
}

func startChild(cmd *exec.Cmd) (*child, error) {
	ctx, cancel := context.WithTimeout(context.Background(), leechLimit+seederReady)
	c := &child{cancel: cancel, done: make(chan error, 1)}
	c.cmd = exec.CommandContext(ctx, cmd.Path, cmd.Args[1:]...)
	c.cmd.Dir, c.cmd.Env = cmd.Dir, cmd.Env
	c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.out
	c.cmd.Cancel = func() error { return c.cmd.Process.Signal(os.Interrupt) }
	c.cmd.WaitDelay = 10 * time.Second // then SIGKILL
	if err := c.cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	go func() { c.done <- c.cmd.Wait() }()
	return c, nil
}

func (c *child) wait() error {
	err := <-c.done
	c.done <- err // for stop
	c.cancel()
	return err
}

// stop interrupts the child (SIGINT, then SIGKILL after WaitDelay) and
// waits for it.
func (c *child) stop() {
	c.cancel()
	err := <-c.done
	c.done <- err
}

func (c *child) output() string { return c.out.String() }

// procCPU is a running process's user + system time (/proc/PID/stat,
// fields 14 and 15, in clock ticks of 1/100 s).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; it ends at the last ')'.
	fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(fields))
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// procPeakRSS is a running process's peak resident set (VmHWM).
func procPeakRSS(pid int) (int64, error) { return procStatus(pid, "VmHWM") }

// freePort is a TCP port free on loopback a moment ago.
func freePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 6881
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
