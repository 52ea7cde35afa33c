package torrent

import (
	"crypto/sha1"
	"errors"
	"fmt"
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
	Logf                func(format string, args ...any)
}

// errWrongMetadata: a peer sent an info dictionary that is not the one the
// info-hash names.
var errWrongMetadata = errors.New("metadata does not match the info-hash")

// ErrNoMetadata is returned when no peer gave us the torrent's metadata in
// time.
var ErrNoMetadata = errors.New("no peer sent the metadata")

// FetchMetadata turns a magnet link into a metainfo.Torrent (BEP 9): it finds peers
// (the link's x.pe, its trackers, cfg.Peers), connects with the extension
// protocol, downloads the info dictionary in 16 KiB pieces with
// ut_metadata, and keeps it only if its SHA-1 is the link's info-hash. The
// result has the magnet's trackers as its announce list.
func FetchMetadata(t *aio.Task, mag *metainfo.Magnet, cfg FetchConfig) (*metainfo.Torrent, error) {
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
	return aio.WaitFor(t, cfg.Timeout, func(t *aio.Task) (*metainfo.Torrent, error) {
		return fetchMetadata(t, mag, cfg)
	})
}

func fetchMetadata(t *aio.Task, mag *metainfo.Magnet, cfg FetchConfig) (*metainfo.Torrent, error) {
	addrs := aio.NewQueue[netip.AddrPort](1024)
	for _, ap := range mag.PeerAddrs() {
		addrs.TryPut(ap)
	}
	for _, ap := range cfg.Peers {
		addrs.TryPut(ap)
	}
	var found *metainfo.Torrent
	done := errors.New("metadata found")
	g := aio.NewGroup(t)
	if len(mag.Trackers) > 0 {
		tiers, err := tracker.NewTiers([][]string{mag.Trackers}, cfg.Tracker, rand.New(rand.NewPCG(rand.Uint64(), 2)))
		if err == nil {
			ann := tracker.NewAnnouncer(tracker.AnnouncerConfig{
				Tracker: tiers, Peers: addrs, MinInterval: cfg.AnnounceMinInterval,
				Request: func() tracker.AnnounceRequest {
					return tracker.AnnounceRequest{InfoHash: mag.InfoHash, PeerID: cfg.PeerID, Port: cfg.Port, Left: 1, NumWant: 50}
				},
			})
			g.Go("announce (metadata)", func(t *aio.Task) error { ann.Run(t); return nil })
		}
	}
	// A peer that hangs up (it may still be checking its data) is asked
	// again with backoff; one that sent wrong metadata is not. Without
	// trackers, the fetch gives up once no peer is left to ask.
	const maxTries = 5
	tries := map[netip.AddrPort]int{}
	pending := 0 // attempts running or waiting to retry
	noMorePeers := func() {
		if pending == 0 && addrs.Len() == 0 && len(mag.Trackers) == 0 {
			addrs.Close()
		}
	}
	noMorePeers()
	slots := aio.NewSemaphore(cfg.Parallel)
	g.Go("metadata dialer", func(t *aio.Task) error {
		for {
			addr, err := addrs.Get(t)
			if errors.Is(err, aio.ErrClosed) {
				return nil // no more peers; the attempts under way finish
			}
			if err != nil {
				return err
			}
			if tries[addr] < 0 || tries[addr] >= maxTries {
				noMorePeers()
				continue // a liar, or tried enough
			}
			if err := slots.Acquire(t); err != nil {
				return err
			}
			tries[addr]++
			pending++
			g.Go("metadata from "+addr.String(), func(t *aio.Task) error {
				defer func() { pending--; noMorePeers() }()
				info, err := metadataFrom(t, addr, mag.InfoHash, cfg.PeerID)
				slots.Release()
				if err == nil {
					var m *metainfo.Torrent
					if m, err = metainfo.ParseInfo(info); err == nil {
						found = m
						return done // ends the group: the other attempts are cancelled
					}
				}
				cfg.Logf("metadata from %s: %v", addr, err)
				if errors.Is(err, errWrongMetadata) || errors.Is(err, peer.ErrInfoHashMismatch) {
					tries[addr] = -1
					return nil
				}
				if err := aio.Sleep(t, time.Duration(1<<tries[addr])*250*time.Millisecond); err != nil {
					return err
				}
				addrs.TryPut(addr)
				return nil
			})
		}
	})
	err := g.Wait(t)
	if found == nil {
		if err == nil || errors.Is(err, done) {
			err = ErrNoMetadata
		}
		return nil, err
	}
	if len(mag.Trackers) > 0 {
		found.AnnounceList = [][]string{mag.Trackers}
		found.Announce = mag.Trackers[0]
	}
	return found, nil
}

// metadataFrom asks one peer for the metadata.
func metadataFrom(t *aio.Task, addr netip.AddrPort, infoHash, peerID [20]byte) ([]byte, error) {
	ours := peer.Handshake{InfoHash: infoHash, PeerID: peerID}
	ours.Reserved.Set(peer.ExtensionProtocolBit)
	c, theirs, err := peer.Dial(t, addr, ours, peer.Limits{MaxBlock: peer.BlockSize}, 10*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if !theirs.Reserved.Has(peer.ExtensionProtocolBit) {
		return nil, errors.New("peer does not speak the extension protocol")
	}
	c.SetIdleTimeout(30 * time.Second)
	if err := c.Send(t, peer.AppendExtHandshake(nil, ExtHandshakeOurs(0))); err != nil {
		return nil, err
	}
	var (
		info     []byte
		got      []bool
		received int
		theirID  uint8
	)
	for {
		msg, err := c.ReadMessage(t)
		if err != nil {
			return nil, err
		}
		if msg.ID != peer.Extended {
			continue // bitfields and haves: not what we came for
		}
		switch msg.ExtID {
		case peer.ExtHandshakeID:
			h, err := peer.ParseExtHandshake(msg.Payload)
			if err != nil {
				return nil, err
			}
			id, ok := h.M[peer.UTMetadata]
			if !ok || id == 0 || h.MetadataSize <= 0 {
				return nil, errors.New("peer does not serve metadata")
			}
			if info != nil {
				continue // a repeated handshake
			}
			theirID = uint8(id)
			info = make([]byte, h.MetadataSize)
			got = make([]bool, (h.MetadataSize+peer.MetadataPieceSize-1)/peer.MetadataPieceSize)
			var frames []byte
			for i := range got {
				frames = peer.AppendMetadataMsg(frames, theirID, peer.MetadataMsg{Type: peer.MetadataRequest, Piece: i})
			}
			if err := c.Send(t, frames); err != nil {
				return nil, err
			}
		case ourUTMetadataID:
			if info == nil {
				return nil, errors.New("ut_metadata message before the extension handshake")
			}
			m, err := peer.ParseMetadataMsg(msg.Payload)
			if err != nil {
				return nil, err
			}
			switch {
			case m.Type == peer.MetadataReject:
				return nil, fmt.Errorf("peer rejected metadata piece %d", m.Piece)
			case m.Type != peer.MetadataData:
				continue // requests to us: we have nothing to give yet
			case m.TotalSize != len(info) || m.Piece >= len(got):
				return nil, fmt.Errorf("metadata piece %d of a %d-byte total, want %d bytes", m.Piece, m.TotalSize, len(info))
			}
			begin := m.Piece * peer.MetadataPieceSize
			if want := min(peer.MetadataPieceSize, len(info)-begin); len(m.Data) != want {
				return nil, fmt.Errorf("metadata piece %d has %d bytes, want %d", m.Piece, len(m.Data), want)
			}
			if !got[m.Piece] {
				got[m.Piece] = true
				received++
				copy(info[begin:], m.Data)
			}
			if received == len(got) {
				if sha1.Sum(info) != infoHash {
					return nil, errWrongMetadata
				}
				return info, nil
			}
		}
	}
}

// ourUTMetadataID is the extended message id we ask peers to send
// ut_metadata messages under.
const ourUTMetadataID = 2

// ExtHandshakeOurs is the extension handshake we send: ut_metadata under
// ourUTMetadataID, and the size of our metadata when we have it (0 when
// we are the one fetching it).
func ExtHandshakeOurs(metadataSize int) peer.ExtHandshake {
	return peer.ExtHandshake{M: map[string]int{peer.UTMetadata: ourUTMetadataID}, V: "aiotorrent 0.1", MetadataSize: metadataSize}
}
