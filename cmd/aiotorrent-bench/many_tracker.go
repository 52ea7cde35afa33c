package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// manyTracker is `aiotorrent tracker -v` on loopback for one client's
// run of `many`: every torrent names it, so the client re-announces each
// torrent every interval. It records when each announce arrived (the
// tracker's -v lines, timed as this process reads them: a pipe away).
type manyTracker struct {
	cmd *exec.Cmd
	url string

	mu        sync.Mutex
	announces []announceSeen
	done      chan struct{} // closed when the -v stream ends
}

// announceSeen is one -v line.
type announceSeen struct {
	at    time.Time
	hash  string
	event string // "started", "none" (a re-announce), "stopped", ...
}

// startManyTracker runs bin's tracker on a free loopback port (HTTP only:
// what seedboxes' private trackers speak) and waits until it listens.
func startManyTracker(bin string, interval time.Duration) (*manyTracker, error) {
	addr := "127.0.0.1:" + strconv.Itoa(freePort())
	m := &manyTracker{url: "http://" + addr + "/announce", done: make(chan struct{})}
	m.cmd = exec.Command(bin, "tracker", "-v", "--http", addr, "--udp", "", "--interval", interval.String())
	stdout, err := m.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := m.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := m.cmd.Start(); err != nil {
		return nil, fmt.Errorf("tracker: %w", err)
	}
	go m.read(stderr)
	listening := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "press Ctrl-C") {
				listening <- nil
				io.Copy(io.Discard, stdout)
				return
			}
		}
		listening <- fmt.Errorf("tracker exited before listening")
	}()
	select {
	case err = <-listening:
	case <-time.After(20 * time.Second):
		err = fmt.Errorf("tracker not listening after 20s")
	}
	if err != nil {
		m.stop()
		return nil, err
	}
	return m, nil
}

// read takes the -v lines until the tracker exits.
func (m *manyTracker) read(r io.Reader) {
	defer close(m.done)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 5 || f[0] != "announce" {
			continue
		}
		m.mu.Lock()
		m.announces = append(m.announces, announceSeen{at: time.Now(), hash: f[2], event: f[3]})
		m.mu.Unlock()
	}
}

// stop interrupts the tracker and waits for it (SIGKILL after 10 s).
func (m *manyTracker) stop() {
	m.cmd.Process.Signal(os.Interrupt)
	exited := make(chan struct{})
	go func() { m.cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		m.cmd.Process.Kill()
		<-exited
	}
}

// seen returns the announces so far.
func (m *manyTracker) seen() []announceSeen {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]announceSeen(nil), m.announces...)
}

// announceSpread is how a client's announces fell in a stretch of time.
type announceSpread struct {
	count    int     // announces
	torrents int     // distinct torrents among them
	events   string  // count by event, "none 998, started 2"
	maxSec   int     // most announces in one second (from the stretch's start)
	perSec   float64 // count over the stretch's length
	first    time.Duration
	last     time.Duration // of the first and last announce, from the start
}

// spreadOf summarises the announces in [from, to).
func spreadOf(all []announceSeen, from, to time.Time) announceSpread {
	var s announceSpread
	hashes, events, perSec := map[string]bool{}, map[string]int{}, map[int64]int{}
	for _, a := range all {
		if a.at.Before(from) || !a.at.Before(to) {
			continue
		}
		d := a.at.Sub(from)
		if s.count == 0 {
			s.first = d
		}
		s.last = d
		s.count++
		hashes[a.hash] = true
		events[a.event]++
		sec := int64(d / time.Second)
		perSec[sec]++
		s.maxSec = max(s.maxSec, perSec[sec])
	}
	s.torrents = len(hashes)
	if secs := to.Sub(from).Seconds(); secs > 0 {
		s.perSec = float64(s.count) / secs
	}
	for _, e := range []string{"started", "none", "completed", "stopped"} {
		if events[e] > 0 {
			if s.events != "" {
				s.events += ", "
			}
			s.events += fmt.Sprintf("%s %d", e, events[e])
		}
	}
	return s
}

func (s announceSpread) String() string {
	if s.count == 0 {
		return "none"
	}
	return fmt.Sprintf("%d (%d torrents; %s), %.1f/s, at most %d in one second, first at %.1fs, last at %.1fs",
		s.count, s.torrents, s.events, s.perSec, s.maxSec, s.first.Seconds(), s.last.Seconds())
}
