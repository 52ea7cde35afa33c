package torrent

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/dht"
)

// The client's DHT node (BEP 5), wired as dht/doc.go describes: on the
// client's UDP socket (shared with uTP, client_udp.go), one dht.Node run by Client.Run, which
// first reads the saved state (on the executor), then joins through the
// saved nodes and the configured ones, and saves the state again when it
// stops. Sessions (session_dht.go) and magnet fetches wait for the node
// to exist, then look their info-hash up. A socket that cannot be opened
// is logged and the client runs without a DHT, as with LSD.

// DHTConfig configures the client's DHT node. Zero values take the
// defaults.
type DHTConfig struct {
	// ListenAddr is the node's UDP address (default: the TCP listener's
	// IP and port; if that UDP port is taken, any free port on that IP).
	ListenAddr netip.AddrPort
	// Bootstrap are nodes to join through, "host:port" (the well-known
	// routers, --dht-node); names are resolved on the executor. The saved
	// state's nodes are asked first.
	Bootstrap []string
	// StateFile keeps the node id and routing table between runs, so a
	// restart needs no router ("": nothing is kept).
	StateFile string
	// AnnounceInterval is how often each torrent that is not private is
	// announced (default 15 minutes, BEP 5's re-announce).
	AnnounceInterval time.Duration
	// RetryInterval is the first pause before looking again when a lookup
	// reached no node (the table is still filling); it doubles up to
	// AnnounceInterval (default 2 s).
	RetryInterval time.Duration
	// Node tunes the node; its ID comes from StateFile when there is one.
	Node dht.Config
}

// ErrNoDHT is returned by a DHT lookup on a client that has none.
var ErrNoDHT = errors.New("dht: off or unavailable")

// stateSaveTimeout bounds the state write when the client stops.
const stateSaveTimeout = 3 * time.Second

// clientDHT is the client's DHT: the socket from NewClient on, the node
// once Run has read the saved state.
type clientDHT struct {
	cfg  DHTConfig
	conn *aio.UDPConn
	// Invariant: node is nil until ready is set, and set once.
	node  *dht.Node
	ready *aio.Event
	// booted is set once the table holds dht.K nodes or the first
	// bootstrap has ended, well or not: a lookup before it would search
	// an empty table and find nothing, and one held until the bootstrap
	// ends waits on every dead node near our id (a second each, and the
	// DHT is full of them).
	booted *aio.Event
	logf   func(format string, args ...any)
}

func (c *DHTConfig) setDefaults() {
	if c.AnnounceInterval <= 0 {
		c.AnnounceInterval = 15 * time.Minute
	}
	if c.RetryInterval <= 0 {
		c.RetryInterval = 2 * time.Second
	}
}

// dhtListenAddr is where the shared UDP socket is asked for when the DHT
// is on and names one (invalid: the TCP listener's address).
func (c *Client) dhtListenAddr() netip.AddrPort {
	if c.cfg.DHT {
		return c.cfg.DHTConfig.ListenAddr
	}
	return netip.AddrPort{}
}

// openDHT makes the DHT on the client's UDP socket (client_udp.go).
func (c *Client) openDHT() {
	cfg := c.cfg.DHTConfig
	cfg.setDefaults()
	c.dht = &clientDHT{cfg: cfg, conn: c.udp.conn, ready: aio.NewEvent(), booted: aio.NewEvent(), logf: c.cfg.Logf}
}

// DHTAddr is the DHT node's UDP address (invalid when the client has no
// DHT): what a PORT message tells peers, and where other nodes reach us.
func (c *Client) DHTAddr() netip.AddrPort {
	if c.dht == nil {
		return netip.AddrPort{}
	}
	return c.dht.conn.LocalAddr()
}

// DHT returns the client's node, nil until Run has started it (or with
// no DHT). Read it on the loop thread.
func (c *Client) DHT() *dht.Node {
	if c.dht == nil {
		return nil
	}
	return c.dht.node
}

// DHTLookup returns a function that looks an info-hash up in the DHT,
// calling found with each peer as it is named (FetchConfig.DHT), or nil
// when the client has no DHT.
func (c *Client) DHTLookup() func(t *aio.Task, infoHash [20]byte, found func(netip.AddrPort)) error {
	if c.dht == nil {
		return nil
	}
	return func(t *aio.Task, infoHash [20]byte, found func(netip.AddrPort)) error {
		node, err := c.dht.wait(t)
		if err != nil {
			return err
		}
		_, err = node.GetPeers(t, dht.ID(infoHash), found)
		return err
	}
}

// wait parks t until the node exists and has been bootstrapped.
func (d *clientDHT) wait(t *aio.Task) (*dht.Node, error) {
	if d == nil {
		return nil, ErrNoDHT
	}
	if err := d.booted.Wait(t); err != nil {
		return nil, err
	}
	return d.node, nil
}

// run starts the node with the saved state, bootstraps it, and serves
// until t is cancelled; then it saves the state.
func (d *clientDHT) run(t *aio.Task) error {
	saved := d.loadState(t)
	cfg := d.cfg.Node
	if saved.ID != (dht.ID{}) {
		cfg.ID = saved.ID
	}
	if cfg.Logf == nil {
		cfg.Logf = d.logf
	}
	d.node = dht.New(t.Loop(), cfg)
	d.ready.Set()
	defer d.saveState(t)
	g := aio.NewGroup(t)
	g.Go("dht node", func(t *aio.Task) error {
		// The client's reader (readUDP) hands the node its datagrams.
		err := d.node.Serve(t, d.conn)
		if err != nil && !errors.Is(err, aio.ErrCanceled) && !errors.Is(err, aio.ErrClosed) {
			d.logf("%v", err) // it says dht
		}
		return nil
	})
	g.Go("dht bootstrap", func(t *aio.Task) error {
		defer d.booted.Set()
		d.bootstrap(t, saved.Addrs())
		return nil
	})
	g.Go("dht warm", d.awaitWarm)
	return g.Wait(t)
}

// warmPoll is how often awaitWarm looks at the table's size.
const warmPoll = 10 * time.Millisecond

// awaitWarm sets booted as soon as the table holds dht.K nodes, enough
// for a lookup to start from, rather than when the bootstrap ends.
func (d *clientDHT) awaitWarm(t *aio.Task) error {
	for !d.booted.IsSet() {
		if d.node.Table().Len() >= dht.K {
			d.booted.Set()
			return nil
		}
		if err := aio.Sleep(t, warmPoll); err != nil {
			return nil // the client is stopping
		}
	}
	return nil
}

// bootstrap joins through the saved nodes, then the configured ones, each
// name resolved on the executor. A name that does not resolve is logged
// and skipped.
func (d *clientDHT) bootstrap(t *aio.Task, saved []netip.AddrPort) {
	if len(saved) > 0 {
		if n, err := d.node.Bootstrap(t, saved); err == nil && n > 0 {
			d.logf("dht: %d nodes from the saved state", n)
		}
	}
	var addrs []netip.AddrPort
	for _, hp := range d.cfg.Bootstrap {
		as, err := aio.Resolve(t, hp)
		if errors.Is(err, aio.ErrCanceled) {
			return
		}
		if err != nil {
			d.logf("dht bootstrap: %v", err)
			continue
		}
		addrs = append(addrs, as...)
	}
	if len(addrs) == 0 {
		return
	}
	n, err := d.node.Bootstrap(t, addrs)
	if err != nil && !errors.Is(err, aio.ErrCanceled) {
		d.logf("dht bootstrap: %v", err)
	}
	d.logf("dht: %d nodes in the table after the bootstrap", n)
}

// loadState reads the state file on the executor. A missing file is a
// first run; a bad one is logged and ignored.
func (d *clientDHT) loadState(t *aio.Task) dht.State {
	path := d.cfg.StateFile
	if path == "" {
		return dht.State{}
	}
	st, err := aio.Blocking(t, func() (dht.State, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return dht.State{}, err
		}
		return dht.DecodeState(b)
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		d.logf("dht state %s: %v", path, err)
	}
	return st
}

// saveState writes the state file on the executor, shielded from the
// cancel that stops the client, through a temporary file so that a crash
// leaves the old state whole.
func (d *clientDHT) saveState(t *aio.Task) {
	path := d.cfg.StateFile
	if path == "" || d.node == nil {
		return
	}
	b := d.node.State().Encode()
	err := aio.Shield(t, stateSaveTimeout, func(t *aio.Task) error {
		_, err := aio.Blocking(t, func() (struct{}, error) { return struct{}{}, writeFileAtomic(path, b) })
		return err
	})
	if err != nil {
		d.logf("dht state %s: %v", path, err)
	}
}

func writeFileAtomic(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	return nil
}
