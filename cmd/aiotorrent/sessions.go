package main

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"syscall"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/torrent"
)

// sessionsPlan is what download and seed share: torrents to run in one
// client, on one loop, with one listener.
type sessionsPlan struct {
	metas           []*torrent.Metainfo
	dir             string
	port            int
	maxPeers        int
	peers           []netip.AddrPort
	seed            bool
	requireComplete bool
	quiet, verbose  bool
}

// runSessions runs every torrent of the plan to completion (or until
// Ctrl-C when seeding), drawing progress, and prints a summary per torrent.
func runSessions(f *Factory, plan sessionsPlan) error {
	_, err := aio.Run(func(t *aio.Task) (struct{}, error) {
		client, err := listen(t, f, plan)
		if err != nil {
			return struct{}{}, err
		}
		defer client.Close()
		aio.Spawn(t, "listener", func(t *aio.Task) (struct{}, error) { return struct{}{}, client.Run(t) })
		if plan.seed && !plan.quiet {
			fmt.Fprintf(f.Err, "listening for peers on %s\n", client.Addr())
		}
		work := aio.Spawn(t, "sessions", func(t *aio.Task) (struct{}, error) {
			return struct{}{}, runAll(t, f, client, plan)
		})
		interrupted := false
		stop := aio.OnSignal(t.Loop(), func(os.Signal) {
			interrupted = true
			work.Cancel()
		}, os.Interrupt, syscall.SIGTERM)
		defer stop()
		_, err = aio.Await(t, work)
		if interrupted {
			return struct{}{}, errInterrupted
		}
		return struct{}{}, err
	})
	return err
}

// listen opens the client's listener on the given port, or the next free
// one (up to ten further), and says so when it moved.
func listen(t *aio.Task, f *Factory, plan sessionsPlan) (*torrent.Client, error) {
	cfg := torrent.ClientConfig{MaxPeers: plan.maxPeers}
	if plan.verbose {
		cfg.Logf = func(format string, args ...any) { fmt.Fprintf(f.Err, format+"\n", args...) }
	}
	var firstErr error
	for port := plan.port; port <= plan.port+10 && port < 65536; port++ {
		cfg.ListenAddr = netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(port))
		c, err := torrent.NewClient(t, cfg)
		if err == nil {
			if port != plan.port {
				fmt.Fprintf(f.Err, "port %d is busy; listening on %d\n", plan.port, port)
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

func runAll(t *aio.Task, f *Factory, client *torrent.Client, plan sessionsPlan) error {
	g := aio.NewGroup(t)
	for _, m := range plan.metas {
		view := newProgressView(f, m.Name, m.Length, plan.quiet)
		s, err := client.Add(m, torrent.SessionOptions{
			Dir: plan.dir, Seed: plan.seed, Peers: plan.peers,
			RequireComplete: plan.requireComplete,
			OnProgress:      view.update,
		})
		if err != nil {
			return err
		}
		g.Go(m.Name, func(t *aio.Task) error {
			err := s.Run(t)
			view.finish()
			if err != nil {
				if errors.Is(err, aio.ErrCanceled) {
					return err
				}
				return fmt.Errorf("%s: %w", m.Name, err)
			}
			if !plan.quiet {
				fmt.Fprintln(f.Out, summary(m.Name, s.Progress()))
			}
			return nil
		})
	}
	return g.Wait(t)
}
