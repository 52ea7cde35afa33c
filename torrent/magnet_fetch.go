package torrent

import (
	"crypto/sha1"
	"errors"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/metainfo"
	"github.com/aiotorrent/aiotorrent/peer"
	"github.com/aiotorrent/aiotorrent/tracker"
)

// FetchConfig configures FetchMetadata.
type FetchConfig struct {
	// PeerID and Port (where we listen; 6881 if zero: trackers refuse
	// port 0) are announced to the magnet's trackers.
	PeerID [20]byte
	Port   uint16
	// Peers are tried besides the magnet's x.pe peers and the trackers'.
	Peers []netip.AddrPort
	// Timeout bounds the whole fetch (default 2 minutes).
	Timeout time.Duration
	// Parallel is how many peers are asked at once (default 8).
	Parallel int
	// Tracker tunes the tracker clients; AnnounceMinInterval floors how
	// often they are asked again (default 15 s: a magnet link with no
	// peers yet is worth asking about often).
	Tracker             tracker.Config
	AnnounceMinInterval time.Duration
	// Encryption is how peers are dialled (see Encryption).
	Encryption Encryption
	// DHT, when set, looks the info-hash up (Client.DHTLookup): it calls
	// found with each peer as a lookup names it and returns when the
	// lookup ends; the fetch runs it again every DHTInterval (default
	// 10 s). With a DHT the fetch never runs out of peers to wait for:
	// it gives up only at Timeout.
	DHT         func(t *aio.Task, infoHash [20]byte, found func(netip.AddrPort)) error
	DHTInterval time.Duration
	Logf        func(format string, args ...any)

	retryBase time.Duration // half the first retry backoff (250 ms; tests set more)
}

// errWrongMetadata: a peer sent an info dictionary that is not the one the
// info-hash names.
var errWrongMetadata = errors.New("metadata does not match the info-hash")

// ErrNoMetadata is returned when no peer gave us the torrent's metadata in
// time.
var ErrNoMetadata = errors.New("no peer sent the metadata")

// FetchMetadata turns a magnet link into a metainfo.Torrent (BEP 9): it
// finds peers (the link's x.pe, its trackers, cfg.Peers), connects with
// the extension protocol, downloads the info dictionary in 16 KiB pieces
// with ut_metadata, and keeps it only if its SHA-1 is the link's
// info-hash. The result has the magnet's trackers as its announce list.
func FetchMetadata(t *aio.Task, mag *metainfo.Magnet, cfg FetchConfig) (*metainfo.Torrent, error) {
	cfg = cfg.withDefaults()
	return aio.WaitFor(t, cfg.Timeout, func(t *aio.Task) (*metainfo.Torrent, error) {
		return fetchMetadata(t, mag, cfg)
	})
}

func (cfg FetchConfig) withDefaults() FetchConfig {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Minute
	}
	cfg.Parallel = defaultInt(cfg.Parallel, 8)
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.Port == 0 {
		cfg.Port = 6881
	}
	if cfg.AnnounceMinInterval <= 0 {
		cfg.AnnounceMinInterval = 15 * time.Second
	}
	if cfg.PeerID == ([20]byte{}) {
		cfg.PeerID = peer.NewPeerID()
	}
	if cfg.DHTInterval <= 0 {
		cfg.DHTInterval = 10 * time.Second
	}
	if cfg.retryBase <= 0 {
		cfg.retryBase = 250 * time.Millisecond
	}
	return cfg
}

// maxMetadataTries is how often one peer is asked before it is given up.
const maxMetadataTries = 5

// errMetadataFound ends the fetch's task group once an attempt has the
// metadata, which cancels the other attempts.
var errMetadataFound = errors.New("metadata found")

// metadataFetch is one FetchMetadata under way: a queue of peer addresses
// that the trackers and failed attempts feed, and the attempts that take
// them off it. Its fields belong to the loop thread.
type metadataFetch struct {
	mag   *metainfo.Magnet
	cfg   FetchConfig
	addrs *aio.Queue[netip.AddrPort] // peers to ask; closed once none can come
	slots *aio.Semaphore             // cfg.Parallel attempts talk to peers at once
	// tries counts the attempts on each peer; -1 marks one that sent
	// metadata of another torrent and is never asked again.
	tries   map[netip.AddrPort]int
	pending int // attempts running or waiting to retry
	found   *metainfo.Torrent
}

// fetchMetadata is the fetch as a table of contents: queue the known
// peers, announce to the trackers for more, and let the dialer run one
// attempt per address until one brings verified metadata or no peer is
// left to ask.
func fetchMetadata(t *aio.Task, mag *metainfo.Magnet, cfg FetchConfig) (*metainfo.Torrent, error) {
	f := newMetadataFetch(mag, cfg)
	g := aio.NewGroup(t)
	f.startAnnouncer(g)
	f.startDHT(g)
	f.closeIfExhausted() // no peer known and no tracker: nothing to wait for
	g.Go("metadata dialer", func(t *aio.Task) error { return f.dialer(t, g) })
	return f.result(g.Wait(t))
}

// newMetadataFetch queues the magnet's x.pe peers and cfg.Peers.
func newMetadataFetch(mag *metainfo.Magnet, cfg FetchConfig) *metadataFetch {
	f := &metadataFetch{
		mag:   mag,
		cfg:   cfg,
		addrs: aio.NewQueue[netip.AddrPort](1024),
		slots: aio.NewSemaphore(cfg.Parallel),
		tries: map[netip.AddrPort]int{},
	}
	for _, ap := range append(mag.PeerAddrs(), cfg.Peers...) {
		f.tries[ap] = 0 // known, so the DHT does not queue it again
		f.addrs.TryPut(ap)
	}
	return f
}

// startAnnouncer asks the magnet's trackers for peers, as often as
// cfg.AnnounceMinInterval allows: a magnet link with no peers yet is worth
// asking about often.
func (f *metadataFetch) startAnnouncer(g *aio.Group) {
	if len(f.mag.Trackers) == 0 {
		return
	}
	tiers, err := tracker.NewTiers([][]string{f.mag.Trackers}, f.cfg.Tracker, rand.New(rand.NewPCG(rand.Uint64(), 2)))
	if err != nil {
		return
	}
	ann := tracker.NewAnnouncer(tracker.AnnouncerConfig{
		Tracker: tiers, Peers: f.addrs, MinInterval: f.cfg.AnnounceMinInterval,
		Request: func() tracker.AnnounceRequest {
			return tracker.AnnounceRequest{InfoHash: f.mag.InfoHash, PeerID: f.cfg.PeerID, Port: f.cfg.Port, Left: 1, NumWant: 50}
		},
	})
	g.Go("announce (metadata)", func(t *aio.Task) error { ann.Run(t); return nil })
}

// closeIfExhausted closes the address queue once no address can come any
// more: none queued, no attempt running or waiting to retry, and no
// tracker or DHT to ask. The dialer then returns and the fetch gives up.
func (f *metadataFetch) closeIfExhausted() {
	if f.pending == 0 && f.addrs.Len() == 0 && len(f.mag.Trackers) == 0 && f.cfg.DHT == nil {
		f.addrs.Close()
	}
}

// dialer takes addresses off the queue and starts an attempt on each peer
// still worth asking, cfg.Parallel at a time. It returns when the queue is
// closed; the attempts under way finish.
func (f *metadataFetch) dialer(t *aio.Task, g *aio.Group) error {
	for {
		addr, err := f.addrs.Get(t)
		if errors.Is(err, aio.ErrClosed) {
			return nil
		}
		if err != nil {
			return err
		}
		if n := f.tries[addr]; n < 0 || n >= maxMetadataTries {
			f.closeIfExhausted()
			continue // a liar, or tried enough
		}
		if err := f.slots.Acquire(t); err != nil {
			return err
		}
		f.tries[addr]++
		f.pending++
		g.Go("metadata from "+addr.String(), func(t *aio.Task) error { return f.attempt(t, addr) })
	}
}

// attempt asks one peer for the metadata, and on success ends the group
// with errMetadataFound. A peer that hangs up (it may still be checking
// its data) is asked again after a backoff; one that sent wrong metadata
// never is.
func (f *metadataFetch) attempt(t *aio.Task, addr netip.AddrPort) error {
	defer func() { f.pending--; f.closeIfExhausted() }()
	info, err := metadataFrom(t, addr, f.mag.InfoHash, f.cfg.PeerID, f.cfg.Encryption)
	f.slots.Release() // checking the metadata needs no peer
	var m *metainfo.Torrent
	if err == nil {
		want := f.mag.InfoHash // a copy: the job must not touch loop state
		m, err = aio.Blocking(t, func() (*metainfo.Torrent, error) { return verifyMetadata(info, want) })
	}
	if err == nil {
		f.found = m
		return errMetadataFound
	}
	if errors.Is(err, aio.ErrCanceled) {
		return err // the fetch is over (another peer delivered): no failure
	}
	f.cfg.Logf("metadata from %s: %v", addr, err)
	if errors.Is(err, errWrongMetadata) || errors.Is(err, peer.ErrInfoHashMismatch) {
		f.tries[addr] = -1
		return nil
	}
	return f.retryLater(t, addr)
}

// verifyMetadata checks info against the info-hash, then parses it. Both
// take time in proportion to its size (up to peer.MaxMetadataSize), so it
// runs on the executor. The hash comes first: bytes that do not match
// mark their sender a liar, whatever they parse as.
func verifyMetadata(info []byte, infoHash [20]byte) (*metainfo.Torrent, error) {
	if sha1.Sum(info) != infoHash {
		return nil, errWrongMetadata
	}
	return metainfo.ParseInfo(info)
}

// retryLater puts addr back on the queue after a backoff that doubles
// with each try, from 500 ms. Once another attempt has found the metadata
// the group cancels this one, and the sleep ends at once.
func (f *metadataFetch) retryLater(t *aio.Task, addr netip.AddrPort) error {
	if err := aio.Sleep(t, f.cfg.retryBase<<f.tries[addr]); err != nil {
		return err
	}
	f.addrs.TryPut(addr)
	return nil
}

// result is the fetch's outcome once its group has ended: the metadata
// with the magnet's trackers as its announce list, or why there is none.
func (f *metadataFetch) result(err error) (*metainfo.Torrent, error) {
	if f.found == nil {
		if err == nil || errors.Is(err, errMetadataFound) {
			err = ErrNoMetadata
		}
		return nil, err
	}
	if len(f.mag.Trackers) > 0 {
		f.found.AnnounceList = [][]string{f.mag.Trackers}
		f.found.Announce = f.mag.Trackers[0]
	}
	return f.found, nil
}

// startDHT looks the info-hash up in the DHT every cfg.DHTInterval and
// queues each peer not asked yet (one asked before comes back through
// retryLater, if it is worth it).
func (f *metadataFetch) startDHT(g *aio.Group) {
	if f.cfg.DHT == nil {
		return
	}
	g.Go("dht (metadata)", func(t *aio.Task) error {
		found := func(a netip.AddrPort) {
			a = netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
			if _, asked := f.tries[a]; !asked {
				f.tries[a] = 0 // known: a later lookup does not queue it twice
				f.addrs.TryPut(a)
			}
		}
		for {
			err := f.cfg.DHT(t, f.mag.InfoHash, found)
			if errors.Is(err, aio.ErrCanceled) || errors.Is(err, ErrNoDHT) {
				return nil
			}
			if err != nil {
				f.cfg.Logf("metadata: dht lookup: %v", err)
			}
			if err := aio.Sleep(t, f.cfg.DHTInterval); err != nil {
				return nil
			}
		}
	})
}
