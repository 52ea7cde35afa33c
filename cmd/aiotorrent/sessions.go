package main

import (
	"errors"
	"fmt"
	"net/netip"
	"runtime/debug"
	"slices"
	"syscall"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/metainfo"
	"github.com/aiotorrent/aiotorrent/torrent"
)

// sessionsPlan is what download and seed share: torrents to run in one
// client, on one loop, with one listener.
type sessionsPlan struct {
	metas              []*metainfo.Torrent
	magnets            []*metainfo.Magnet // fetched first (BEP 9), then run like metas
	runtime            runtimeFlags
	dir                string
	port               int
	maxPeers, maxConns int
	noLSD              bool
	encryption         string // --encryption, checked by listen
	dht                dhtFlags
	maxDown, maxUp     int64 // bytes per second, 0: no limit
	peers              []netip.AddrPort
	seed               bool
	seedRatio          float64
	seedTime           time.Duration
	skips              [][]bool // per torrent, see selectFiles
	sequential         bool
	webSeeds           []string // BEP 19, besides each torrent's url-list
	noWebSeeds         bool
	requireComplete    bool
	onComplete         string // --on-complete: run with each complete torrent's path
	quiet, verbose     bool
	display            displayFlags // --log-file, --summary-interval
	ready              func(addr netip.AddrPort, interrupt func())

	// started is called with each session as it starts, checked is called
	// once its data on disk has been checked and accepted (runSessions
	// sets both).
	started func(*torrent.Session)
	checked func()
}

// runSessions runs every torrent of the plan to completion (or until
// Ctrl-C when seeding), drawing progress, and prints a summary per torrent.
func runSessions(f *Factory, plan sessionsPlan) error {
	d, err := planDisplay(f, plan)
	if err != nil {
		return err
	}
	return plan.runtime.loopRun(f, func(t *aio.Task) (err error) {
		stop := d.start(t)
		defer func() {
			if serr := stop(t); err == nil {
				err = serr
			}
		}()
		client, err := listen(t, f, plan, d)
		if err != nil {
			return err
		}
		defer client.Close()
		aio.Spawn(t, "listener", func(t *aio.Task) (struct{}, error) { return struct{}{}, client.Run(t) })
		var sessions []*torrent.Session
		plan.started = func(s *torrent.Session) { sessions = append(sessions, s) }
		said := false
		plan.checked = func() {
			// Not before: data that is refused was never served.
			if plan.seed && !said {
				d.sayTo(f.Err, "listening for peers on %s", client.Addr())
			}
			said = true
		}
		plan.checked = startupDone(plan.checked, len(plan.metas))
		err = interruptible(t, func(t *aio.Task) error {
			return runAll(t, d, client, plan)
		}, func(interrupt func()) {
			if plan.ready != nil {
				plan.ready(client.Addr(), interrupt)
			}
		})
		if errors.As(err, new(interruption)) && len(sessions) == len(plan.metas)+len(plan.magnets) && allComplete(sessions) {
			// Seeding complete data has no end of its own: a signal is
			// how it ends, and the work was done.
			d.sayTo(f.Err, "seeding stopped (%v)", err)
			return nil
		}
		return err
	})
}

func allComplete(sessions []*torrent.Session) bool {
	for _, s := range sessions {
		if !s.Progress().Complete {
			return false
		}
	}
	return true
}

// listen opens the client's listener on the given port, or the next free
// one (up to ten further), and says so when it moved.
func listen(t *aio.Task, f *Factory, plan sessionsPlan, d *display) (*torrent.Client, error) {
	cfg := torrent.ClientConfig{
		MaxPeers: plan.maxPeers, MaxConns: plan.maxConns,
		MaxDownloadRate: plan.maxDown, MaxUploadRate: plan.maxUp,
		LSD: !plan.noLSD, NoUTP: noUTP, MaxOpenFiles: maxOpenFiles,
		DHT: !plan.dht.Off, DHTConfig: plan.dht.config(),
	}
	enc, err := torrent.ParseEncryption(plan.encryption)
	if err != nil {
		return nil, err
	}
	cfg.Encryption = enc
	if d.logging() {
		cfg.Logf = d.logf
	}
	var firstErr error
	for port := plan.port; port <= plan.port+10 && port < 65536; port++ {
		// [::] takes IPv6 and IPv4 peers alike (see peerListenAddrs); on a
		// machine without IPv6, 0.0.0.0 takes the IPv4 ones.
		cfg.ListenAddr, cfg.ExtraListenAddrs = peerListenAddrs(uint16(port))
		cfg.DHTConfig.ListenAddr = dhtListenAddr(uint16(port))
		c, err := torrent.NewClient(t, cfg)
		if err != nil && !errors.Is(err, syscall.EADDRINUSE) {
			cfg.ListenAddr = netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(port))
			cfg.ExtraListenAddrs = nil
			c, err = torrent.NewClient(t, cfg)
		}
		if err == nil {
			if port != plan.port {
				d.sayTo(f.Err, "port %d is busy; listening on %d", plan.port, port)
			}
			return c, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if plan.port == 0 {
			break
		}
	}
	return nil, firstErr
}

// runAll runs one session per torrent in one task group, each with its
// own progress view; the first to fail stops the others.
func runAll(t *aio.Task, d *display, client *torrent.Client, plan sessionsPlan) error {
	g := aio.NewGroup(t)
	for k, m := range plan.metas {
		var skip []bool
		if k < len(plan.skips) {
			skip = plan.skips[k]
		}
		if err := startSession(g, d, client, plan, m, skip); err != nil {
			return err
		}
	}
	for _, mag := range plan.magnets {
		g.Go("magnet "+mag.Name, func(t *aio.Task) error {
			if len(mag.Trackers) == 0 && len(mag.PeerAddrs()) == 0 && len(plan.peers) == 0 && client.DHTLookup() == nil {
				// The fetch gave up at once with "no peer sent the
				// metadata", as if peers had been asked.
				return fmt.Errorf("magnet %x: no source of peers: the link names no tracker (tr=) and no peer (x.pe=), and the DHT is off; drop --no-dht or give --peer", mag.InfoHash)
			}
			d.sayTo(d.f.Err, "fetching the metadata of %x from peers", mag.InfoHash)
			m, err := torrent.FetchMetadata(t, mag, torrent.FetchConfig{
				PeerID: client.PeerID(), Port: client.Addr().Port(), Peers: plan.peers,
				DHT: client.DHTLookup(), Logf: client.Logf(), Encryption: client.Encryption(),
			})
			if err != nil {
				return fmt.Errorf("magnet %x: %w", mag.InfoHash, err)
			}
			// The magnet's own peers (x.pe) and web seeds (ws) are the
			// download's too.
			withPeers := plan
			withPeers.peers = append(slices.Clone(plan.peers), mag.PeerAddrs()...)
			if !plan.noWebSeeds {
				withPeers.webSeeds = append(slices.Clone(plan.webSeeds), mag.WebSeeds...)
			}
			return startSession(g, d, client, withPeers, m, nil)
		})
	}
	return g.Wait(t)
}

// startSession adds m to the client and runs it as a child of g, with its
// progress view and final summary.
func startSession(g *aio.Group, d *display, client *torrent.Client, plan sessionsPlan, m *metainfo.Torrent, skip []bool) error {
	s, err := client.Add(m, torrent.SessionOptions{
		Dir: plan.dir, Seed: plan.seed, Peers: plan.peers,
		SeedRatio: plan.seedRatio, SeedTime: plan.seedTime, ProgressInterval: progressInterval(plan.quiet),
		Sequential:      plan.sequential,
		RequireComplete: plan.requireComplete,
		SkipFiles:       skip,
		WebSeeds:        plan.webSeeds,
		NoWebSeeds:      plan.noWebSeeds,
	})
	if err != nil {
		return err
	}
	plan.started(s)
	view := d.add(m.Name)
	hook := onCompleteHook(g, d.warn, plan.onComplete, plan.dir, m)
	// The first report comes once the data on disk has been checked.
	showErr := resourceErrors(d.warn, m.Name)
	first := true
	s.SetOnProgress(func(p torrent.Progress) {
		showErr(p.Err)
		if first && p.Err == nil { // a check that waits on a resource error is not done
			first = false
			plan.checked()
		}
		hook(p)
		view.update(p)
	})
	g.Go(m.Name, func(t *aio.Task) error {
		err := s.Run(t)
		p := s.Progress()
		checked := view.seen
		view.finish(p)
		if err != nil {
			if errors.Is(err, aio.ErrCanceled) {
				if !checked {
					d.say("%s: stopped while checking the data on disk; run the same command to check it again", m.Name)
				} else if !p.Complete {
					d.say("%s", stoppedSummary(m.Name, p))
				} else if plan.seed {
					d.say("%s", seedSummary(m.Name, p, view.seedingFor(), d.savePath(m.Name)))
				}
				return err
			}
			if errors.Is(err, torrent.ErrIncomplete) {
				return fmt.Errorf("%s: %w (%w)", m.Name, err, errSeedDir)
			}
			return fmt.Errorf("%s: %w", m.Name, err)
		}
		if plan.seed {
			d.say("%s", seedSummary(m.Name, p, view.seedingFor(), d.savePath(m.Name)))
		} else {
			d.say("%s", summary(m.Name, p, d.savePath(m.Name)))
		}
		return nil
	})
	return nil
}

// startupDone wraps checked (called once a session, at its first report) to
// hand the start-up's garbage back to the OS once all n torrents are
// checked. Checking a thousand torrents allocates far more than seeding
// them keeps, and the heap would otherwise hold its start-up peak (the
// next GC, and the scavenger after it, may be minutes away when idle).
func startupDone(checked func(), n int) func() {
	seen := 0
	return func() {
		checked()
		if seen++; seen == n && n > 1 {
			debug.FreeOSMemory()
		}
	}
}

// progressInterval is the session's: --quiet draws nothing, so it asks
// only for the reports on events (checked, complete, the end).
func progressInterval(quiet bool) time.Duration {
	if quiet {
		return -1
	}
	return 0 // the session's default
}

// completeEvery is how often a complete (seeding) torrent's line is
// printed on a pipe, when it changed: every 2 s is a flood while
// seeding for hours.
const completeEvery = 10 * time.Second
