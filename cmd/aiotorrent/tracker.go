package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/tracker"
	"github.com/spf13/cobra"
)

// TrackerOptions holds `aiotorrent tracker`'s parsed command line.
type TrackerOptions struct {
	IO *Factory

	// HTTPAddr and UDPAddr are where to listen; an invalid (zero) address
	// leaves that transport off.
	HTTPAddr, UDPAddr netip.AddrPort
	Interval          time.Duration
	// MaxPeers, MaxTorrents and MaxConns are tracker.ServerConfig's; 0
	// for MaxConns means as many as the open-file limit allows.
	MaxPeers, MaxTorrents, MaxConns int
	// Verbose prints every announce on Err as it is recorded.
	Verbose bool

	// ready, if set, is called on the loop thread once the tracker
	// listens, with a function that does what Ctrl-C does and may be
	// called from any goroutine. Tests use it to find the ports and to
	// stop the tracker without signalling the test process.
	ready func(s *tracker.Server, interrupt func())
}

// defaultTrackerAddr serves loopback only: exposing a tracker to the
// network is a decision the user makes with --http and --udp.
const defaultTrackerAddr = "127.0.0.1:6969"

// NewCmdTracker builds `aiotorrent tracker`. runF, if not nil, replaces
// trackerRun.
func NewCmdTracker(f *Factory, runF func(*TrackerOptions) error) *cobra.Command {
	opts := &TrackerOptions{IO: f}
	var httpAddr, udpAddr string
	cmd := &cobra.Command{
		Use:   "tracker [--http ADDR] [--udp ADDR]",
		Short: "Run a BitTorrent tracker (HTTP and UDP) until Ctrl-C",
		Long: `Run a small in-memory BitTorrent tracker: HTTP announce and scrape
(BEP 3, BEP 23, BEP 48) and UDP (BEP 15), on one event loop.

An empty address turns that transport off; port 0 picks a free port.

It runs until stopped: exit code 130 after Ctrl-C (SIGINT), 143 after
SIGTERM, as a shell reports a command it stopped; 1 when it cannot
listen, 2 for a usage error.`,
		Example: `  aiotorrent tracker
  aiotorrent tracker --http 0.0.0.0:6969 --udp ''`,
		Args: exactArgs(0, ""),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.HTTPAddr, err = parseListenAddr("--http", httpAddr); err != nil {
				return usageError{err}
			}
			if opts.UDPAddr, err = parseListenAddr("--udp", udpAddr); err != nil {
				return usageError{err}
			}
			if !opts.HTTPAddr.IsValid() && !opts.UDPAddr.IsValid() {
				return usageError{errors.New("--http and --udp are both empty: nothing to serve")}
			}
			if opts.Interval <= 0 {
				return usageError{fmt.Errorf("--interval %v: must be positive", opts.Interval)}
			}
			for _, f := range []struct {
				name string
				v    int
			}{{"--max-peers", opts.MaxPeers}, {"--max-torrents", opts.MaxTorrents}, {"--max-conns", opts.MaxConns}} {
				if f.v < 0 || (f.v == 0 && f.name != "--max-conns") {
					return usageError{fmt.Errorf("%s %d: must be positive", f.name, f.v)}
				}
			}
			if runF != nil {
				return runF(opts)
			}
			return trackerRun(opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&httpAddr, "http", defaultTrackerAddr, "HTTP listen address, IP:PORT ('' for no HTTP)")
	fl.StringVar(&udpAddr, "udp", defaultTrackerAddr, "UDP listen address, IP:PORT ('' for no UDP)")
	fl.DurationVar(&opts.Interval, "interval", 30*time.Minute, "announce interval handed to clients; silent peers expire after twice this")
	fl.IntVar(&opts.MaxPeers, "max-peers", tracker.DefaultMaxPeers,
		"peers kept in all torrents together (32 bytes each at most: the default is about 32 MiB); beyond it the stalest are evicted")
	fl.IntVar(&opts.MaxTorrents, "max-torrents", tracker.DefaultMaxTorrents,
		"torrents tracked; beyond it the one announced to least recently is forgotten")
	fl.IntVar(&opts.MaxConns, "max-conns", 0,
		"HTTP connections served at once, more are answered 503 (default: the open-file limit less a margin, at most 16384)")
	fl.BoolVarP(&opts.Verbose, "verbose", "v", false,
		"print every announce to stderr: time, info-hash, event, peer address")
	return cmd
}

// trackerRun serves until interrupted, which is the normal way to stop:
// it then returns errInterrupted (exit code 130; 143 for SIGTERM), as a
// shell expects.
func trackerRun(opts *TrackerOptions) error {
	cfg := tracker.ServerConfig{HTTPAddr: opts.HTTPAddr, UDPAddr: opts.UDPAddr, Interval: opts.Interval,
		MaxPeers: opts.MaxPeers, MaxTorrents: opts.MaxTorrents, MaxConns: opts.MaxConns}
	if cfg.MaxConns == 0 {
		cfg.MaxConns = connsForOpenFiles(openFilesLimit())
	}
	if opts.Verbose {
		cfg.OnAnnounce = func(req tracker.AnnounceRequest, peer netip.AddrPort) {
			logAnnounce(opts.IO.Err, time.Now(), req, peer)
		}
	}
	if os.Getenv("GOGC") == "" {
		// The tracker's heap is nearly all live swarms and it allocates
		// next to nothing per announce, so collecting at 25% growth
		// instead of 100% costs little CPU and keeps RSS near the data.
		debug.SetGCPercent(25)
	}
	var interrupt func()
	ready := func(s *tracker.Server) {
		printListening(opts.IO.Out, s)
		if opts.ready != nil {
			opts.ready(s, interrupt)
		}
	}
	_, err := aio.Run(func(t *aio.Task) (struct{}, error) {
		return struct{}{}, interruptible(t, func(t *aio.Task) error {
			return tracker.ListenAndServe(t, cfg, ready)
		}, func(i func()) { interrupt = i })
	})
	return err
}

// logAnnounce is one line of --verbose, in a form a script can split on
// spaces (aiotorrent-bench many reads it to time clients' announces):
//
//	announce 2026-12-02T00:23:01.250Z <info-hash hex> <event> <peer>
//
// where event is "none" for a regular re-announce.
func logAnnounce(w io.Writer, now time.Time, req tracker.AnnounceRequest, peer netip.AddrPort) {
	ev := req.Event.String()
	if ev == "" {
		ev = "none"
	}
	fmt.Fprintf(w, "announce %s %x %s %s\n", now.UTC().Format("2006-01-02T15:04:05.000Z"), req.InfoHash, ev, peer)
}

// openFilesLimit is the soft open-file limit (0 if unknown). Go's
// syscall package has already raised it to the hard limit at start-up on
// every Unix (go.dev/issue/46279); setting it again here would only stop
// Go from restoring the original limit in child processes.
func openFilesLimit() uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	return uint64(lim.Cur)
}

// connsForOpenFiles leaves 64 descriptors for the listeners, the poller
// and the runtime, and stops at 16,384 connections (about 200 MiB of
// buffers and task stacks if all were busy at once).
func connsForOpenFiles(limit uint64) int {
	if limit == 0 {
		return tracker.DefaultMaxConns
	}
	if limit <= 64+256 {
		return 256
	}
	return int(min(limit-64, 16384))
}

// printListening tells the user the announce URLs to put in torrents.
func printListening(w io.Writer, s *tracker.Server) {
	fmt.Fprintln(w, "tracker listening; announce URLs:")
	if a := s.HTTPAddr(); a.IsValid() {
		fmt.Fprintf(w, "  http://%s/announce\n", a)
	}
	if u := s.UDPAnnounceURL(); u != "" {
		fmt.Fprintf(w, "  %s\n", u)
	}
	for _, a := range []netip.AddrPort{s.HTTPAddr(), s.UDPAddr()} {
		if a.IsValid() && a.Addr().IsUnspecified() {
			fmt.Fprintln(w, "(listening on all interfaces: put this host's address in the URLs)")
			break
		}
	}
	fmt.Fprintln(w, "press Ctrl-C to stop")
}

// parseListenAddr reads IP:PORT. An empty string means off; an empty host
// (":6969") means all IPv4 interfaces, and "localhost" means 127.0.0.1.
// Other host names are refused: which address a name resolves to is not
// something to guess when choosing what to expose.
func parseListenAddr(flag, s string) (netip.AddrPort, error) {
	if s == "" {
		return netip.AddrPort{}, nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%s %q: want IP:PORT: %w", flag, s, err)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%s %q: bad port %q", flag, s, port)
	}
	var ip netip.Addr
	switch host {
	case "":
		ip = netip.IPv4Unspecified()
	case "localhost":
		ip = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	default:
		if ip, err = netip.ParseAddr(host); err != nil || ip.Zone() != "" {
			return netip.AddrPort{}, fmt.Errorf("%s %q: %q is not an IP address", flag, s, host)
		}
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(p)), nil
}

// interruptible runs fn as a task of its own and cancels it when SIGINT
// or SIGTERM arrives (Ctrl-C, kill); it then waits for fn to clean up and
// returns errInterrupted (errTerminated for SIGTERM). expose, if not nil,
// is handed at once a function that does what Ctrl-C does and is safe to
// call from any goroutine.
//
// Cancelling is all a signal does: fn's deferred clean-up (closing
// sockets, telling trackers "stopped") runs on the loop as usual, which a
// process killed by the default SIGINT action would skip.
func interruptible(t *aio.Task, fn func(t *aio.Task) error, expose func(interrupt func())) error {
	var by os.Signal // the first signal, which decides the exit code
	h := aio.Spawn(t, "interruptible", func(t *aio.Task) (struct{}, error) { return struct{}{}, fn(t) })
	onSignal := func(sig os.Signal) {
		if by == nil {
			by = sig
		}
		h.Cancel()
	}
	stop := aio.OnSignal(t.Loop(), onSignal, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if expose != nil {
		l := t.Loop()
		// Post fails only once the loop has closed, when there is
		// nothing left to interrupt.
		expose(func() { _ = l.Post(func() { onSignal(os.Interrupt) }) })
	}
	_, err := aio.Await(t, h)
	if by != nil {
		// Whatever fn returned (a tracker returns nil when cancelled), the
		// user stopped it.
		return interruptionBy(by)
	}
	return err
}
