package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ptyProc is the binary run with a pseudo-terminal as stdout and stderr,
// so that it draws its bar, at the given width.
type ptyProc struct {
	cmd    *exec.Cmd
	master *os.File
	pts    string // the terminal's path, /dev/pts/N
	mu     sync.Mutex
	out    bytes.Buffer
	done   chan struct{} // the master reads EOF or EIO: the child is gone
}

func startPty(t *testing.T, cols int, bin string, args ...string) *ptyProc {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	pts := fmt.Sprintf("/dev/pts/%d", n)
	slave, err := os.OpenFile(pts, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: uint16(cols)}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	p := &ptyProc{cmd: exec.CommandContext(ctx, bin, args...), master: master, pts: pts, done: make(chan struct{})}
	p.cmd.Stdin, p.cmd.Stdout, p.cmd.Stderr = slave, slave, slave
	// The terminal is the child's controlling terminal, so that a resize
	// sends it SIGWINCH.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := p.cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	slave.Close()
	go func() {
		defer close(p.done)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		p.cmd.Wait()
		<-p.done
		master.Close()
		if t.Failed() {
			t.Logf("aiotorrent %s (terminal):\n%q", strings.Join(args, " "), p.output())
		}
	})
	return p
}

func (p *ptyProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// resize sets the terminal's width, as a user dragging the window's
// edge, and returns the output's length from which the display has
// surely seen it: a redraw that read the old width before the resize may
// still be written after it, but the one after that read the new width.
// The mark written to the terminal after the resize (an OSC sequence the
// test terminal skips) tells the output before the resize from that
// after; from the second erase after it, every line must fit the new
// width.
func (p *ptyProc) resize(t *testing.T, cols int) (fresh func() int) {
	t.Helper()
	if err := unix.IoctlSetWinsize(int(p.master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: uint16(cols)}); err != nil {
		t.Fatal(err)
	}
	tty, err := os.OpenFile(p.pts, os.O_WRONLY|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	if _, err := tty.WriteString(resizeMark); err != nil {
		t.Fatal(err)
	}
	p.waitFor(t, resizeMark)
	return func() int {
		out := p.output()
		at := strings.Index(out, resizeMark)
		for range 2 {
			k := strings.Index(out[at+1:], eraseLast)
			if k < 0 {
				return -1
			}
			at += 1 + k
		}
		return at
	}
}

const (
	resizeMark = "\x1b]resized\a"
	eraseLast  = "\r\x1b[2K" // how every redraw begins
)

func (p *ptyProc) waitFor(t *testing.T, s string) {
	t.Helper()
	waitUntil(t, fmt.Sprintf("%q on the terminal", s), func() bool { return strings.Contains(p.output(), s) })
}

// TestCtrlCMidDownloadBarNotFull: the only seeder has 5 of the 12 pieces;
// Ctrl-C stops the download there. The bar used to jump to 100% (the view
// called progressbar's Finish, which fills the bar whatever the count);
// now it stays at 44%, and the summary says where it stopped and how to
// resume. The description carries our own rate in IEC units and an ETA
// that is unknown ("–") once nothing arrives.
func TestCtrlCMidDownloadBarNotFull(t *testing.T) {
	bin := buildCLI(t)
	tp, port := stalledSwarm(t, bin)
	d := startPty(t, 120, bin, "download", tp, "-o", t.TempDir(), "--port", "0", "--no-dht", "--no-lsd", "--peer", "127.0.0.1:"+port)
	d.waitFor(t, "160.0 KiB / 361.3 KiB (44.2%)")
	d.waitFor(t, "  1 peer  ") // the partial seeder is no seed
	d.waitFor(t, "ETA –")
	if err := d.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.done:
	case <-time.After(waitTimeout):
		t.Fatal("still running after Ctrl-C")
	}
	d.cmd.Wait()
	out := d.output()
	if code := d.cmd.ProcessState.ExitCode(); code != exitInterrupt {
		t.Errorf("exit %d, want %d", code, exitInterrupt)
	}
	if strings.Contains(out, "100%") {
		t.Errorf("the bar reached 100%% though 44.2%% was downloaded")
	}
	if testing.Verbose() {
		t.Logf("%q", out)
	}
	want := "share: stopped at 44.2% (160.0 KiB of 361.3 KiB; 160.0 KiB fetched in "
	if !strings.Contains(out, want) || !strings.Contains(out, "); run the same command to resume") {
		t.Errorf("no summary %q…; run the same command to resume", want)
	}
	for _, unit := range []string{"kB/s", "MB/s", " KB"} {
		if strings.Contains(out, unit) {
			t.Errorf("output has an SI unit %q", unit)
		}
	}
}
