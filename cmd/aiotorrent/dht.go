package main

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/dht"
	"github.com/aiotorrent/aiotorrent/torrent"
)

// defaultRouters are the well-known DHT routers (BEP 5) that a first run,
// with no saved table, joins through.
var defaultRouters = []string{
	"router.bittorrent.com:6881",
	"dht.transmissionbt.com:6881",
	"router.utorrent.com:6881",
	"dht.libtorrent.org:25401",
}

// dhtFlags are the DHT flags of download and seed. The routers and the
// state directory are set by register, the command line's defaults:
// options built in code (tests) reach no router and keep no state.
type dhtFlags struct {
	Off      bool     // --no-dht
	Nodes    []string // --dht-node HOST:PORT, joined through besides the routers
	StateDir string   // --state-dir: the DHT's table is kept in it
	Routers  []string
}

func (d *dhtFlags) register(fl *pflag.FlagSet) {
	d.Routers = defaultRouters
	fl.BoolVar(&d.Off, "no-dht", false, "do not use the DHT (BEP 5) to find peers")
	fl.StringArrayVar(&d.Nodes, "dht-node", nil, "join the DHT through this node too (host:port; repeatable)")
	fl.StringVar(&d.StateDir, "state-dir", defaultStateDir(), "where the DHT's node id and routing table are kept between runs")
}

// defaultStateDir is aiotorrent's directory under the user's cache
// directory ("" when there is none: nothing is kept).
func defaultStateDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "aiotorrent")
}

// config is the client's DHT configuration for these flags.
func (d dhtFlags) config() torrent.DHTConfig {
	cfg := torrent.DHTConfig{Bootstrap: append(append([]string(nil), d.Routers...), d.Nodes...)}
	if d.StateDir != "" {
		cfg.StateFile = filepath.Join(d.StateDir, "dht.state")
	}
	return cfg
}

// DHTOptions are the flags of `aiotorrent dht`.
type DHTOptions struct {
	Listen     netip.AddrPort
	Nodes      []string
	Stats      bool
	StatsEvery time.Duration
	RateLimit  float64

	ready func(addr netip.AddrPort, interrupt func()) // see DownloadOptions
}

// NewCmdDHT builds `aiotorrent dht`.
func NewCmdDHT(f *Factory, runF func(*DHTOptions) error) *cobra.Command {
	opts := &DHTOptions{}
	var listen string
	cmd := &cobra.Command{
		Use:   "dht --listen IP:PORT [--dht-node HOST:PORT ...]",
		Short: "Run a standalone DHT node (BEP 5) until Ctrl-C",
		Long: `Run a Mainline DHT node that answers other nodes and keeps a routing
table: a bootstrap node for a local DHT (tests, a LAN). It prints its
address and id, then with --stats its table size and counters now and
then. It joins through --dht-node if given, and reaches no router
otherwise.

It runs until stopped: exit code 130 after Ctrl-C (SIGINT), 143 after
SIGTERM, as a shell reports a command it stopped; 1 when it cannot
listen, 2 for a usage error.`,
		Example: `  aiotorrent dht --listen 127.0.0.1:6881
  aiotorrent dht --listen 0.0.0.0:6881 --dht-node router.bittorrent.com:6881 --stats`,
		Args: exactArgs(0, ""),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Listen, err = parseListenAddr("--listen", listen); err != nil {
				return usageError{err}
			}
			if !opts.Listen.IsValid() {
				return usageError{errors.New("--listen is empty: want IP:PORT")}
			}
			if opts.StatsEvery <= 0 {
				return usageError{fmt.Errorf("--stats-every %v: must be positive", opts.StatsEvery)}
			}
			if runF != nil {
				return runF(opts)
			}
			return dhtRun(f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&listen, "listen", "127.0.0.1:6881", "UDP address to serve on, IP:PORT (port 0: any)")
	fl.StringArrayVar(&opts.Nodes, "dht-node", nil, "join the DHT through this node (host:port; repeatable)")
	fl.BoolVar(&opts.Stats, "stats", false, "print the table size and counters periodically")
	fl.DurationVar(&opts.StatsEvery, "stats-every", 10*time.Second, "with --stats: how often")
	fl.Float64Var(&opts.RateLimit, "rate-limit", 0, "queries per second answered per source IP (0: 20; raise it for many nodes on one IP)")
	return cmd
}

// dhtRun serves until interrupted, which is the normal way to stop.
func dhtRun(f *Factory, opts *DHTOptions) error {
	_, err := aio.Run(func(t *aio.Task) (struct{}, error) {
		conn, err := aio.ListenUDP(t, opts.Listen)
		if err != nil {
			return struct{}{}, err
		}
		defer conn.Close()
		cfg := dht.Config{RateLimit: opts.RateLimit}
		if opts.RateLimit > 0 {
			cfg.RateBurst = int(min(opts.RateLimit*2, 1e6))
		}
		node := dht.New(t.Loop(), cfg)
		fmt.Fprintf(f.Out, "dht node listening on %s (id %s)\n", conn.LocalAddr(), node.ID())
		return struct{}{}, interruptible(t, func(t *aio.Task) error {
			g := aio.NewGroup(t)
			g.Go("dht node", func(t *aio.Task) error { return node.Run(t, conn) })
			g.Go("dht bootstrap", func(t *aio.Task) error { return dhtJoin(t, f, node, opts.Nodes) })
			if opts.Stats {
				g.Go("dht stats", func(t *aio.Task) error { return dhtStats(t, f, node, opts.StatsEvery) })
			}
			return g.Wait(t)
		}, func(interrupt func()) {
			if opts.ready != nil {
				opts.ready(conn.LocalAddr(), interrupt)
			}
		})
	})
	return err
}

// dhtJoin bootstraps through nodes (names resolved on the executor); one
// that does not resolve is reported and skipped.
func dhtJoin(t *aio.Task, f *Factory, node *dht.Node, nodes []string) error {
	var addrs []netip.AddrPort
	for _, hp := range nodes {
		as, err := aio.Resolve(t, hp)
		if errors.Is(err, aio.ErrCanceled) {
			return err
		}
		if err != nil {
			fmt.Fprintf(f.Err, "--dht-node: %v\n", err)
			continue
		}
		addrs = append(addrs, as...)
	}
	if len(addrs) == 0 {
		return nil
	}
	n, err := node.Bootstrap(t, addrs)
	if err != nil {
		return err
	}
	fmt.Fprintf(f.Err, "bootstrapped: %d nodes in the table\n", n)
	return nil
}

// dhtStats prints the table size and counters every d.
func dhtStats(t *aio.Task, f *Factory, node *dht.Node, d time.Duration) error {
	for {
		if err := aio.Sleep(t, d); err != nil {
			return err
		}
		s := node.Stats()
		torrents, peers := node.StoredPeers()
		fmt.Fprintf(f.Out, "table %d nodes; received %d, sent %d, malformed %d, rate-limited %d, timeouts %d; announces %d (%d peers of %d torrents stored); lookups %d\n",
			node.Table().Len(), s.Received, s.Sent, s.Malformed, s.Limited, s.Timeouts, s.Announces, peers, torrents, s.Lookups)
		printTable(f, node.Table().Nodes())
	}
}

// maxTableLines bounds the nodes --stats lists, each time.
const maxTableLines = 32

// printTable lists the table's nodes, one "  id address" line each.
func printTable(f *Factory, nodes []dht.NodeInfo) {
	for i, n := range nodes {
		if i == maxTableLines {
			fmt.Fprintf(f.Out, "  ... and %d more\n", len(nodes)-i)
			return
		}
		fmt.Fprintf(f.Out, "  %x %s\n", n.ID[:], n.Addr)
	}
}
