package torrent

// A Session is one torrent in a Client. Its Run is the table of contents;
// each concern has its file:
//
//	session.go           options, Run, resume, completion, progress
//	client_tick.go       the periodic work, one client-wide tick that visits
//	                     only sessions with peers or web seeds
//	session_announce.go  the tracker announcer feeding the peer list
//	session_peer.go      dialling, adopting incoming peers, one peer's reader
//	                     and writer tasks, BEP 3 message handling, pipelining
//	session_pieces.go    piece buffers (made on the executor), blocks into
//	                     them, verify+write on the executor, smart ban
//	session_upload.go    serving REQUESTs, the upload rate limit
//	session_cache.go     the read cache (bounded in bytes, 1 MiB lines)
//	session_choke.go     choking rounds: measure, ask the choker, apply
//	session_select.go    selective download (wanted pieces and bytes)
//	session_seed.go      when Run ends: complete, seeding goals, failure
//	session_metadata.go  extension handshake, serving ut_metadata (BEP 9/10)
//	session_dht.go       DHT announces feeding the peer list, PORT (BEP 5)
//	session_webseed.go   web seeds (BEP 19): HTTP sources with every piece
//	session_resource.go  resource errors (EMFILE, a missing file, a full
//	                     disk): the torrent's error, retried with back-off
//
// The decisions live in pure components that the session feeds with
// events and the loop's time: piece.Picker (what to request), choker
// (choke.go: whom to serve) and tokenBucket (ratelimit.go: how fast).

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/metainfo"
	"github.com/aiotorrent/aiotorrent/peer"
	"github.com/aiotorrent/aiotorrent/peer/mse"
	"github.com/aiotorrent/aiotorrent/piece"
	"github.com/aiotorrent/aiotorrent/tracker"
)

// SessionOptions configures one torrent in a Client.
type SessionOptions struct {
	// Dir is the download directory: a multi-file torrent goes into
	// Dir/Name/, a single file to Dir/Name.
	Dir string
	// Seed keeps the session running after the download completes (and
	// is how a seeder runs: all data present from the start), until
	// cancelled or until SeedRatio or SeedTime is reached.
	Seed bool
	// SeedRatio ends seeding once we uploaded this many times the bytes
	// we want (0: no ratio goal).
	SeedRatio float64
	// SeedTime ends seeding this long after the download completed (or,
	// for data complete from the start, after the check; 0: no limit).
	SeedTime time.Duration
	// SkipFiles[i] leaves file i (as in metainfo.Torrent.Layout) out of the
	// download; nil or short wants the rest. Completion then means every
	// wanted piece verified. A piece that straddles a skipped and a
	// wanted file is downloaded and written whole, so the skipped file is
	// created holding just those bytes (sparse). Keeping them elsewhere,
	// as libtorrent's part file does, would need a second store that
	// resume checks and uploads read; the partial file keeps every
	// verified piece on disk where both expect it. A skipped file that
	// shares no piece with a wanted one is never created, and neither
	// are empty files, unless nothing is skipped.
	SkipFiles []bool
	// Sequential picks pieces in order (for playing a file while it
	// downloads) instead of rarest first.
	Sequential bool
	// ReadCacheBytes bounds the cache of data read for upload (default
	// 16 MiB).
	ReadCacheBytes int64
	// Peers are addresses to connect to besides the trackers' (magnet
	// x.pe, --peer, tests).
	Peers []netip.AddrPort
	// NoTrackers skips announcing (a swarm given by Peers only).
	NoTrackers bool
	// Tracker tunes the tracker clients; AnnounceMinInterval floors the
	// re-announce interval (default tracker.DefaultMinInterval).
	Tracker             tracker.Config
	AnnounceMinInterval time.Duration
	// OnProgress is called on the loop once the data on disk has been
	// checked, every ProgressInterval while the session is active (peers
	// connected, web seeds fetching), once when it goes quiet, when the
	// download completes, after each tracker announce, and at the end. A
	// torrent with nothing going on is not reported on: its figures do
	// not change.
	OnProgress func(Progress)
	// ProgressInterval is the period of those reports while active
	// (default and floor: a quarter second); negative means none, only
	// the reports on events (a display that is off, --quiet).
	ProgressInterval time.Duration
	// RequireComplete makes Run fail with ErrIncomplete when the data on
	// disk is not complete (a seeder that must not download).
	RequireComplete bool
	// MaxInFlight bounds the memory of the pieces in flight (being
	// downloaded, hashed or written), whose buffers are PieceLength bytes
	// each (default 32 MiB). The floor is one piece: a torrent whose
	// pieces are larger than MaxInFlight downloads one piece at a time,
	// so the bound is max(MaxInFlight, PieceLength), and a hostile
	// magnet's metadata can cost at most one MaxPieceLength (256 MiB).
	// See inFlightBuffers.
	MaxInFlight int64
	// Choke tunes the choking algorithm (see ChokeConfig).
	Choke ChokeConfig
	// WebSeeds are web seed URLs (BEP 19) used besides the torrent's
	// url-list; NoWebSeeds ignores the url-list (see session_webseed.go).
	WebSeeds   []string
	NoWebSeeds bool
}

// inFlightBuffers is how many piece buffers (pieces in flight) a budget of
// maxBytes allows: as many whole pieces as fit, and at least one.
//
// The floor used to be two, so that one piece could be hashed while the
// next arrived; with 256 MiB pieces (the most a metainfo may ask for, and a
// magnet link's metadata comes from whoever answers) that was 512 MiB
// against a 32 MiB budget. One piece is the least any download can hold,
// since nothing is written before it verifies; refusing large pieces
// outright would make honest torrents with 64 MiB pieces undownloadable.
// So a piece larger than the budget is downloaded alone, and the download
// pauses while it is hashed and written: large pieces cost throughput,
// never more memory than one of them.
func inFlightBuffers(pieceLen, maxBytes int64) int {
	return int(max(1, maxBytes/pieceLen))
}

// Progress is a snapshot of a session for display.
type Progress struct {
	Total, Verified      int64 // bytes wanted / wanted bytes verified on disk
	Resumed              int64 // of Verified, what was on disk when Run began
	Pieces, PiecesDone   int   // in the torrent / verified (wanted or not)
	Peers                int
	Unchoked             int     // peers we let download from us
	Downloaded, Uploaded int64   // payload bytes this session
	Wasted               int64   // payload bytes dropped: late or unrequested blocks
	DownRate, UpRate     float64 // bytes per second, smoothed
	Complete             bool
	Elapsed              time.Duration
	ChecksFailed, Banned int
	PeersSeen            int // distinct peers that completed a handshake
	WebSeeds             int // web seed URLs in use (BEP 19)
	Seeds                int // of Peers, those that have every piece
	// Trackers is what each tracker of the announce-list last did (see
	// session_announce.go); DHT and LSD say whether those look for peers
	// too. Together they tell a user why there are no peers.
	Trackers []tracker.TrackerStatus
	DHT, LSD bool
	// Given is how many addresses SessionOptions.Peers named: a source
	// of peers besides the trackers, DHT and LSD.
	Given int
	// Err is the torrent's resource error (too many open files, a file
	// missing or unreadable, a full disk) while what failed waits to be
	// tried again; nil when all is well (session_resource.go).
	Err error
}

// Session downloads and seeds one torrent: it owns the storage, the piece
// picker and the peer connections, and its Run reads as the table of
// contents of a download (session_*.go hold each concern).
type Session struct {
	client  *Client
	meta    *metainfo.Torrent
	opts    SessionOptions
	storage *piece.Storage
	picker  *piece.Picker
	group   *aio.Group // every task of the session: peers, announcer, verifiers

	peerList *peerList      // every address known: the dialer's source
	newPeers *aio.Event     // set when peerList may have one to dial
	dialerOn bool           // the dialer task runs (kickDialer)
	slots    *aio.Semaphore // connections, MaxPeers
	dialing  *aio.Semaphore // connects in progress, MaxDialing
	complete *aio.Event
	ending   *aio.Event // Run may have reached its end (session_seed.go)
	announce *tracker.Announcer
	trackers trackerSource   // session_announce.go
	wanted   *piece.Bitfield // nil: every piece

	peers     map[piece.PeerID]*peerConn
	nextID    piece.PeerID
	seen      seenPeers // for Progress.PeersSeen
	bannedIDs map[[20]byte]bool

	pieces  map[int]*pieceBuf // pieces being downloaded
	pool    [][]byte          // spare piece buffers
	bufs    int               // piece buffers allocated: in pieces or pool
	maxBufs int               // the in-flight budget, in buffers
	growing bool              // a buffer is being allocated (growBuffers)
	suspect map[int][]blockRecord
	cache   readCache
	choker  *choker
	chokes  chokeRound

	loop                 *aio.Loop
	traceNames           [4]string // counters recorded in a loop trace (--trace)
	started, finished    time.Time // loop time: Run began, the download completed
	verified             int64     // wanted bytes verified
	resumed              int64     // verified by the check of the data on disk
	haveBytes            int64     // bytes verified, wanted or not
	wantedBytes          int64
	downloaded, uploaded int64
	wasted               int64 // see Progress.Wasted
	downRate, upRate     rate
	failed               int
	pickScratch          []piece.Block
	frameScratch         []byte
	err                  error         // a fatal error that ends the session
	res                  resourceState // session_resource.go

	// The client's tick (client_tick.go): whether s is on it, whether Run
	// has ended (the tick drops it), and when the next periodic progress
	// report is due.
	ticking, closed bool
	nextReport      time.Time
	trailing        *aio.Timer // the report after an event's (reportEvent)
	announcing      int        // tracker announces in flight: reported on while they last
	childFailed     bool       // a task of the group failed: Run ends

	corruptUploads bool                               // tests: send every block with a flipped byte
	onVerify       func(piece int)                    // tests: called as a piece's check is submitted
	writeHook      func(piece int, data []byte) error // tests: writes pieces instead of the storage (executor)
	pexInterval    time.Duration                      // between two ut_pex messages to a peer (tests shorten it)
	fastCounts     fastCounts                         // BEP 6 events, for tests
	req2           [20]byte                           // HASH('req2', info-hash): how MSE peers name the torrent
	ws             webSeeds                           // session_webseed.go
}

// ErrIncomplete is returned by Run with RequireComplete when data is
// missing or damaged.
var ErrIncomplete = errors.New("data is incomplete")

// errComplete ends the session's group when the download is done.
var errComplete = errors.New("download complete")

// Add creates a session for m in the client. Nothing happens until Run.
func (c *Client) Add(m *metainfo.Torrent, opts SessionOptions) (*Session, error) {
	if _, dup := c.sessions[m.InfoHash]; dup {
		return nil, fmt.Errorf("torrent %x already added", m.InfoHash)
	}
	// The storage is opened by Run, on the executor: it resolves symlinks.
	layout := m.Layout()
	if err := layout.Validate(); err != nil {
		return nil, fmt.Errorf("open storage: %w", err)
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = 32 << 20
	}
	if opts.ReadCacheBytes <= 0 {
		opts.ReadCacheBytes = 16 << 20
	}
	maxActive := inFlightBuffers(m.PieceLength, opts.MaxInFlight)
	wanted, wantedBytes := wantedPieces(m, opts.SkipFiles)
	// The picker's cap on pieces in progress follows the piece buffers
	// allocated, up to maxActive (growBuffers).
	picker, err := piece.NewPicker(m.PieceLength, m.Length, rand.New(rand.NewPCG(rand.Uint64(), 0)),
		piece.PickerOptions{MaxActivePieces: 1, Wanted: wanted})
	if err != nil {
		return nil, fmt.Errorf("picker: %w", err)
	}
	picker.SetSequential(opts.Sequential)
	s := &Session{
		client:      c,
		meta:        m,
		opts:        opts,
		picker:      picker,
		peerList:    newPeerList(defaultMaxPeerList),
		pexInterval: defaultPexInterval,
		newPeers:    aio.NewEvent(),
		slots:       aio.NewSemaphore(c.cfg.MaxPeers),
		dialing:     aio.NewSemaphore(c.cfg.MaxDialing),
		complete:    aio.NewEvent(),
		ending:      aio.NewEvent(),
		peers:       make(map[piece.PeerID]*peerConn),
		bannedIDs:   make(map[[20]byte]bool),
		pieces:      make(map[int]*pieceBuf),
		maxBufs:     maxActive,
		suspect:     make(map[int][]blockRecord),
		cache:       newReadCache(opts.ReadCacheBytes, m.PieceLength),
		wanted:      wanted,

		wantedBytes: wantedBytes,
		choker:      newChoker(opts.Choke, rand.New(rand.NewPCG(rand.Uint64(), 2))),
		chokes: chokeRound{
			set:          make(map[piece.PeerID]bool),
			everUnchoked: make(map[[20]byte]bool),
		},
	}
	for _, a := range opts.Peers {
		s.peerList.add(a, fromUser)
	}
	s.req2 = mse.Req2(m.InfoHash) // once, not per incoming MSE handshake
	c.sessions[m.InfoHash] = s
	return s, nil
}

// Run checks the data already on disk, then downloads (and, with Seed,
// seeds) until the download completes, a fatal error, or t is cancelled.
func (s *Session) Run(t *aio.Task) error {
	defer s.close(t)
	s.loop = t.Loop()
	s.started = s.loop.Now()
	s.traceNames = [...]string{
		s.meta.Name + ": pieces in flight", s.meta.Name + ": MiB verified",
		s.meta.Name + ": download MB/s", s.meta.Name + ": peers",
	}
	s.chokes.last = s.started
	if err := s.retryResource(t, "check existing data", s.openStorage); err != nil {
		return err
	}
	if s.opts.RequireComplete && !s.picker.Complete() {
		return fmt.Errorf("%s: %d of %d pieces verified: %w", s.meta.Name, s.picker.Bitfield().Count(), s.meta.NumPieces(), ErrIncomplete)
	}
	s.reportEvent() // the first: the data on disk is checked and accepted
	if !s.picker.Complete() {
		if err := s.firstBuffer(t); err != nil {
			return err
		}
	}
	s.group = aio.NewGroup(t)
	if !s.opts.NoTrackers && len(s.meta.AnnounceList) > 0 {
		if err := s.startAnnouncer(); err != nil {
			s.client.cfg.Logf("trackers: %v", err)
		}
	}
	if svc := s.client.lsd; svc != nil {
		// Private torrents are registered too: the service announces
		// none of them and ignores what others announce of them.
		defer svc.Register(s.meta.InfoHash, s.meta.Private, func(a netip.AddrPort) { s.learn(a, fromLSD) })()
	}
	s.startDHT()
	s.kickDialer()
	s.startWebSeeds()
	// Run's own task waits for the end (session_seed.go), not a child:
	// an idle seed then has no task of its own parked besides Run.
	s.group.OnFailure(func(error) { s.childFailed = true; s.ending.Set() })
	err := s.untilDone(t)
	if s.announce != nil {
		s.announce.Close() // before Cancel: "stopped" goes out as a child
	}
	s.group.Cancel()
	gerr := s.group.Wait(t)
	s.report()
	switch {
	case s.err != nil:
		return s.err
	case err != nil && !errors.Is(err, errComplete) && !errors.Is(err, aio.ErrCanceled):
		return err
	case gerr != nil && !errors.Is(gerr, aio.ErrCanceled):
		return gerr // a child's failure
	case errors.Is(err, errComplete):
		return nil
	}
	return err
}

// resume verifies what is on disk already, so a killed download loses only
// the pieces it had not yet verified and written.
func (s *Session) resume(t *aio.Task) error {
	have, err := piece.Check(t, s.storage, nil)
	if err != nil {
		return fmt.Errorf("check existing data: %w", err)
	}
	if !s.opts.RequireComplete {
		if err := s.trimVerified(t, have); err != nil {
			return err
		}
	}
	for i := have.NextSet(0); i >= 0; i = have.NextSet(i + 1) {
		s.picker.PieceVerified(i)
		s.countVerified(i)
	}
	s.resumed = s.verified
	if s.picker.Complete() {
		s.onComplete()
	}
	return nil
}

func (s *Session) onComplete() {
	if s.complete.IsSet() {
		return
	}
	s.finished = s.loop.Now()
	if s.announce != nil && s.haveBytes == s.meta.Length {
		s.announce.Completed() // a partial download is no seeder
	}
	for _, p := range s.peers {
		p.setInterested(false)
		if err := p.checkBothSeeds(); err != nil {
			p.closedFor = err
			p.conn.Close() // its tasks see ErrClosed and end
		}
	}
	s.complete.Set()
	s.ending.Set()
	if s.group != nil {
		s.reportEvent() // completed while running (resume reports its own)
	}
}

// fail ends the session with err (an error of the storage that waiting
// will not mend; resource errors are retried, session_resource.go).
func (s *Session) fail(err error) {
	if s.err == nil {
		s.err = err
		s.ending.Set()
		if s.group != nil {
			s.group.Cancel()
		}
	}
}

// close releases what Run holds. The files are closed on the executor,
// which finishes its queued jobs before the loop ends: close(2) is a file
// system call too.
func (s *Session) close(t *aio.Task) {
	delete(s.client.sessions, s.meta.InfoHash)
	s.closed = true // off the client's tick
	s.trailing.Stop()
	if st := s.storage; st != nil {
		aio.Submit(t, func() (struct{}, error) { return struct{}{}, st.Close() })
	}
}

// SetOnProgress sets the progress callback (see SessionOptions.OnProgress).
func (s *Session) SetOnProgress(fn func(Progress)) { s.opts.OnProgress = fn }

// Progress returns a snapshot of the session. Elapsed runs from Run's
// start to the download's completion (or now, while it downloads).
func (s *Session) Progress() Progress {
	var elapsed time.Duration
	switch {
	case !s.finished.IsZero():
		elapsed = s.finished.Sub(s.started)
	case s.loop != nil:
		elapsed = s.loop.Now().Sub(s.started)
	}
	return Progress{
		Elapsed:      elapsed,
		Total:        s.wantedBytes,
		Verified:     s.verified,
		Resumed:      s.resumed,
		Pieces:       s.picker.NumPieces(),
		PiecesDone:   s.picker.Bitfield().Count(),
		Peers:        len(s.peers),
		Unchoked:     s.unchoked(),
		Downloaded:   s.downloaded,
		Uploaded:     s.uploaded,
		Wasted:       s.wasted,
		DownRate:     s.downRate.perSecond(),
		UpRate:       s.upRate.perSecond(),
		Complete:     s.picker.Complete(),
		ChecksFailed: s.failed,
		Banned:       len(s.bannedIDs),
		PeersSeen:    s.seen.count(),
		WebSeeds:     s.WebSeeds(),
		Seeds:        s.seeds(),
		Trackers:     s.trackerStatus(),
		DHT:          s.dhtEnabled(),
		LSD:          s.client.lsd != nil && !s.meta.Private,
		Given:        len(s.opts.Peers),
		Err:          s.res.err,
	}
}

func (s *Session) report() {
	if s.opts.OnProgress != nil {
		s.opts.OnProgress(s.Progress())
	}
}

// handshake is ours: it advertises the extension protocol (BEP 10), over
// which we serve the torrent's metadata (BEP 9) to magnet-link peers.
func (s *Session) handshake() peer.Handshake {
	h := peer.Handshake{InfoHash: s.meta.InfoHash, PeerID: s.client.cfg.PeerID}
	h.Reserved.Set(peer.ExtensionProtocolBit)
	h.Reserved.Set(peer.FastExtensionBit)
	if s.dhtEnabled() {
		h.Reserved.Set(peer.DHTBit) // BEP 5: we answer PORT with ours
	}
	return h
}

func (s *Session) limits() peer.Limits {
	return peer.Limits{MaxBlock: piece.BlockSize, NumPieces: s.meta.NumPieces()}
}

// rate is an exponentially smoothed bytes-per-second figure.
type rate struct {
	last  int64
	value float64
}

func (r *rate) tick(total int64, d time.Duration) {
	inst := float64(total-r.last) / d.Seconds()
	r.last = total
	r.value = 0.7*r.value + 0.3*inst
}

func (r *rate) perSecond() float64 { return r.value }
