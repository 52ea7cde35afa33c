package main

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// `aiotorrent-bench tracker` measures `aiotorrent tracker` and opentracker
// in the same run, each as its own process on loopback, under the same
// load from this process (tracker_load.go):
//
//  1. fill: every peer of every torrent announces once (UDP); RSS after;
//  2. http and udp: clients announce random known peers for --duration
//     each, --rounds times, alternating between the servers:
//     announces/s, p50/p99 latency, server CPU per announce
//     (/proc/PID/stat utime+stime), RSS; the summary takes medians;
//  3. churn (--churn > 0): peers never seen before announce for that long
//     (3x the population); RSS is sampled every second. Our tracker runs
//     with --max-peers at the population, so this shows the cap holding.

type trackerOptions struct {
	clients  int
	torrents int
	peers    int
	duration time.Duration
	rounds   int
	churn    time.Duration
	limit    int64
	bin      string
	ot       string
	servers  []string
	dir      string
}

func parseTrackerFlags(args []string) (*trackerOptions, error) {
	fs := flag.NewFlagSet("aiotorrent-bench tracker", flag.ContinueOnError)
	o := &trackerOptions{}
	fs.IntVar(&o.clients, "clients", 64, "concurrent clients")
	fs.IntVar(&o.torrents, "torrents", 1000, "torrents")
	fs.IntVar(&o.peers, "peers", 100, "peers per torrent")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "length of each load phase (http, udp)")
	fs.IntVar(&o.rounds, "rounds", 3, "rounds of load phases, alternating between the servers")
	fs.DurationVar(&o.churn, "churn", 0, "length of the churn phase (new peers; 0: none)")
	fs.Int64Var(&o.limit, "max-announces", 2_000_000, "announces per phase at most")
	fs.StringVar(&o.bin, "bin", "", "aiotorrent binary (default: go build one)")
	fs.StringVar(&o.ot, "opentracker", "/usr/bin/opentracker", "opentracker binary")
	servers := fs.String("servers", "aiotorrent,opentracker", "trackers to measure, in this order")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.clients < 1 || o.torrents < 1 || o.peers < 1 || o.duration <= 0 || o.limit < 1 || o.rounds < 1 {
		return nil, errors.New("--clients, --torrents, --peers, --duration, --rounds and --max-announces must be positive")
	}
	for _, s := range strings.Split(*servers, ",") {
		if s != "aiotorrent" && s != "opentracker" {
			return nil, fmt.Errorf("--servers: %q is not aiotorrent or opentracker", s)
		}
		o.servers = append(o.servers, s)
	}
	return o, nil
}

// trackerRow is one phase against one server.
type trackerRow struct {
	server, phase string
	load          *loadResult
	cpu           time.Duration
	rss, anon     int64 // VmRSS, and its anonymous part (RssAnon: not the binary's pages)
	note          string
}

func runTrackerBench(args []string) error {
	o, err := parseTrackerFlags(args)
	if err != nil {
		return err
	}
	if o.dir, err = os.MkdirTemp("", "aiotorrent-bench-tracker"); err != nil {
		return err
	}
	defer os.RemoveAll(o.dir)
	if o.bin == "" {
		if o.bin, err = buildBinary(o.dir); err != nil {
			return err
		}
	}
	pop := newPopulation(o.torrents, o.peers)
	var targets []*benchTarget
	defer func() {
		for _, b := range targets {
			b.c.stop()
		}
	}()
	var rows []trackerRow
	for _, s := range o.servers {
		b, err := startTarget(o, pop, s)
		if err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
		targets = append(targets, b)
		// Each client spends one count on finding its list done.
		r, err := b.phase("fill", 10*time.Minute, int64(o.torrents*o.peers+o.clients), b.newUDP, b.sequential)
		if err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
		rows = append(rows, r)
	}
	// The phases alternate between the servers, round after round, so
	// that other work on the machine weighs on both alike.
	for range o.rounds {
		for _, ph := range []string{"http", "udp"} {
			for _, b := range targets {
				newClient := b.newUDP
				if ph == "http" {
					newClient = b.newHTTP
				}
				r, err := b.phase(ph, o.duration, o.limit, newClient, b.random)
				if err != nil {
					return fmt.Errorf("%s: %w", b.server, err)
				}
				rows = append(rows, r)
			}
		}
	}
	if o.churn > 0 {
		for _, b := range targets {
			r, err := churn(o, pop, b.server, b.pid, b.udpAddr)
			if err != nil {
				return fmt.Errorf("%s: %w", b.server, err)
			}
			rows = append(rows, r)
		}
	}
	fmt.Printf("\n%d clients, %d torrents x %d peers = %d peers, %d rounds of %v per phase, loopback\n",
		o.clients, o.torrents, o.peers, o.torrents*o.peers, o.rounds, o.duration)
	printTrackerTable(os.Stdout, rows)
	return nil
}

// startServer starts one tracker on free loopback ports and waits until
// it answers.
func startServer(o *trackerOptions, pop *population, server string) (*child, netip.AddrPort, netip.AddrPort, error) {
	port := freePort()
	addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
	var cmd *exec.Cmd
	if server == "aiotorrent" {
		cmd = exec.Command(o.bin, "tracker", "--http", addr.String(), "--udp", addr.String(),
			"--max-peers", strconv.Itoa(o.torrents*o.peers), "--max-torrents", strconv.Itoa(o.torrents))
	} else {
		// Debian's opentracker is built in whitelist mode (INTEROP.md).
		var wl strings.Builder
		for _, h := range pop.hashes {
			wl.WriteString(hex.EncodeToString(h[:]) + "\n")
		}
		list, conf := filepath.Join(o.dir, "whitelist.txt"), filepath.Join(o.dir, "ot.conf")
		if err := os.WriteFile(list, []byte(wl.String()), 0o644); err != nil {
			return nil, addr, addr, err
		}
		if err := os.WriteFile(conf, []byte("access.whitelist "+list+"\n"), 0o644); err != nil {
			return nil, addr, addr, err
		}
		// It drops to "nobody" before reading the whitelist (the
		// directory must be world-readable) and chroots to its working
		// directory (so "/", for the absolute paths).
		if err := os.Chmod(o.dir, 0o755); err != nil {
			return nil, addr, addr, err
		}
		cmd = exec.Command(o.ot, "-f", conf, "-i", "127.0.0.1", "-p", strconv.Itoa(port), "-P", strconv.Itoa(port))
		cmd.Dir = "/"
	}
	c, err := startChild(cmd)
	if err != nil {
		return nil, addr, addr, err
	}
	u := &udpAnnouncer{server: addr, socks: map[netip.Addr]*udpSock{}}
	defer u.close()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		h := &httpAnnouncer{server: addr}
		if err = h.announce(pop, 0, 0); err == nil {
			if err = u.announce(pop, 0, 0); err == nil {
				return c, addr, addr, nil
			}
		}
		if time.Now().After(deadline) {
			c.stop()
			return nil, addr, addr, fmt.Errorf("not answering: %w\n%s", err, c.output())
		}
	}
}

// benchTarget is one running tracker and the load aimed at it.
type benchTarget struct {
	server            string
	c                 *child
	pid               int
	httpAddr, udpAddr netip.AddrPort
	pop               *population
	clients           int
	own               [][]int // each client's peers
	next              []int   // the fill's place in each client's list
}

func startTarget(o *trackerOptions, pop *population, server string) (*benchTarget, error) {
	c, httpAddr, udpAddr, err := startServer(o, pop, server)
	if err != nil {
		return nil, err
	}
	b := &benchTarget{server: server, c: c, pid: c.cmd.Process.Pid, httpAddr: httpAddr, udpAddr: udpAddr,
		pop: pop, clients: o.clients, own: make([][]int, o.clients), next: make([]int, o.clients)}
	for k := range b.own {
		b.own[k] = owned(k, o.clients, 0, o.torrents*o.peers)
	}
	fmt.Fprintf(os.Stderr, "%s: pid %d\n", server, b.pid)
	return b, nil
}

func (b *benchTarget) newUDP(int) (announcer, error) {
	return &udpAnnouncer{server: b.udpAddr, socks: map[netip.Addr]*udpSock{}}, nil
}

func (b *benchTarget) newHTTP(int) (announcer, error) { return &httpAnnouncer{server: b.httpAddr}, nil }

func (b *benchTarget) sequential(k int, _ *rand.Rand) int {
	if b.next[k] >= len(b.own[k]) {
		return -1
	}
	b.next[k]++
	return b.own[k][b.next[k]-1]
}

func (b *benchTarget) random(k int, rng *rand.Rand) int { return pickOwned(b.own[k], rng) }

// phase runs one load phase and reads the server's CPU and RSS around it.
func (b *benchTarget) phase(name string, d time.Duration, limit int64, newClient func(int) (announcer, error),
	pick func(int, *rand.Rand) int) (trackerRow, error) {
	cpu0, err := procCPU(b.pid)
	if err != nil {
		return trackerRow{}, err
	}
	res, err := runLoad(b.clients, d, limit, newClient, pick, b.pop)
	if err != nil {
		return trackerRow{}, fmt.Errorf("%s phase: %w", name, err)
	}
	cpu1, err := procCPU(b.pid)
	if err != nil {
		return trackerRow{}, err
	}
	rss, err := procRSS(b.pid)
	if err != nil {
		return trackerRow{}, err
	}
	anon, _ := procStatus(b.pid, "RssAnon")
	r := trackerRow{server: b.server, phase: name, load: res, cpu: cpu1 - cpu0, rss: rss, anon: anon}
	fmt.Fprintf(os.Stderr, "  %s\n", r.line())
	return r, nil
}

// churn announces 3x the population of new peers (UDP) for o.churn and
// samples the server's RSS every second.
func churn(o *trackerOptions, pop *population, server string, pid int, udpAddr netip.AddrPort) (trackerRow, error) {
	n := o.torrents * o.peers
	own := make([][]int, o.clients)
	for k := range own {
		own[k] = owned(k, o.clients, n, 4*n)
	}
	rss0, err := procRSS(pid)
	if err != nil {
		return trackerRow{}, err
	}
	maxRSS, stop := rss0, make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
				if r, err := procRSS(pid); err == nil {
					maxRSS = max(maxRSS, r)
				}
			}
		}
	}()
	cpu0, _ := procCPU(pid)
	res, err := runLoad(o.clients, o.churn, 1<<62, func(int) (announcer, error) {
		return &udpAnnouncer{server: udpAddr, socks: map[netip.Addr]*udpSock{}}, nil
	}, func(k int, rng *rand.Rand) int { return pickOwned(own[k], rng) }, pop)
	close(stop)
	<-sampled
	if err != nil {
		return trackerRow{}, fmt.Errorf("churn: %w", err)
	}
	cpu1, _ := procCPU(pid)
	rss1, _ := procRSS(pid)
	anon, _ := procStatus(pid, "RssAnon")
	r := trackerRow{server: server, phase: "churn", load: res, cpu: cpu1 - cpu0, rss: rss1, anon: anon,
		note: fmt.Sprintf("RSS %.1f MiB at start, %.1f max", mib(rss0), mib(maxRSS))}
	fmt.Fprintf(os.Stderr, "  %s\n", r.line())
	return r, nil
}

// pickOwned is a random peer of a client's, -1 if it owns none (then it
// sits the phase out).
func pickOwned(own []int, rng *rand.Rand) int {
	if len(own) == 0 {
		return -1
	}
	return own[rng.IntN(len(own))]
}

func (r trackerRow) rate() float64 { return r.load.rate() }

// cpuPer is the server's CPU per answered announce, in microseconds.
func (r trackerRow) cpuPer() float64 {
	if r.load.ok == 0 {
		return 0
	}
	return float64(r.cpu.Microseconds()) / float64(r.load.ok)
}

func medianOf(rows []trackerRow, f func(trackerRow) float64) float64 {
	v := make([]float64, len(rows))
	for i, r := range rows {
		v[i] = f(r)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

func (r trackerRow) line() string {
	cpuPer := r.cpuPer()
	return fmt.Sprintf("%-11s %-5s %9d %6d %9.0f %8.0f %8.0f %8.1f %8.1f %8.1f  %s", r.server, r.phase, r.load.ok, r.load.failed,
		r.load.rate(), float64(r.load.percentile(0.5).Microseconds()), float64(r.load.percentile(0.99).Microseconds()),
		cpuPer, mib(r.rss), mib(r.anon), r.note)
}

func printTrackerTable(w io.Writer, rows []trackerRow) {
	fmt.Fprintln(w, "server      phase  announces failed  per sec  p50(us)  p99(us)  CPU(us) RSS(MiB)  anon")
	for _, r := range rows {
		fmt.Fprintln(w, r.line())
	}
	all := map[string][]trackerRow{}
	for _, r := range rows {
		all[r.server+"/"+r.phase] = append(all[r.server+"/"+r.phase], r)
	}
	by := map[string]trackerRow{}
	for k, rs := range all {
		by[k] = rs[0]
	}
	fmt.Fprintln(w, "medians of the rounds:")
	for _, ph := range []string{"http", "udp"} {
		a, b := all["aiotorrent/"+ph], all["opentracker/"+ph]
		if len(a) == 0 || len(b) == 0 {
			continue
		}
		ra, rb := medianOf(a, trackerRow.rate), medianOf(b, trackerRow.rate)
		ca, cb := medianOf(a, trackerRow.cpuPer), medianOf(b, trackerRow.cpuPer)
		fmt.Fprintf(w, "%-5s aiotorrent %.0f/s %.1f us, opentracker %.0f/s %.1f us: announces/s %.2fx, CPU per announce %.2fx\n",
			ph, ra, ca, rb, cb, ra/rb, ca/cb)
	}
	if a, ok := by["aiotorrent/fill"]; ok {
		if b, ok := by["opentracker/fill"]; ok {
			fmt.Fprintf(w, "RSS after the fill: aiotorrent %.1f MiB, opentracker %.1f MiB\n", mib(a.rss), mib(b.rss))
		}
	}
}

// procRSS is a running process's resident set now (VmRSS).
func procRSS(pid int) (int64, error) { return procStatus(pid, "VmRSS") }

// procStatus reads one kB field of /proc/PID/status, in bytes.
func procStatus(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kib, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kib << 10, err
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no %s", pid, field)
}
