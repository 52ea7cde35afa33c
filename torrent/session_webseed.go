package torrent

// Web seeds (BEP 19): HTTP servers holding the torrent's files, used as
// sources that have every piece. Each URL gets up to webSeedWorkers tasks
// (and a host at most that many over all its URLs); each task has its own
// kept-alive connection (webseed.Client) and its own picker PeerID, a
// negative one so it never meets a peer's. A task asks the picker for a
// whole waiting piece (piece.Picker.PickPiece: never one peers are
// fetching), fetches it one range request per file slice into its own
// buffer (padding files are zeros, never asked for), and hands the blocks
// to the picker and the session's piece buffer like a peer's PIECE
// messages, so the verify path is the one peers go through.
//
// The task's own buffer, rather than the session's piece buffer, is what
// the HTTP body is read into: in endgame a peer may finish the piece
// first, and its buffer is then reused for another piece while the fetch
// is still writing. The cost is PieceLength bytes per task, outside
// MaxInFlight.
//
// Peers first: a web seed is the source of last resort, costing a server
// someone pays for, so a task starts a piece only when the peers leave
// work (webSeedsMayPick): when no peer has something we want (the swarm
// is empty or short of pieces), or when such peers have had webSeedGrace
// to show their speed and bring less than webSeedFastPeers (a swarm that
// chokes us brings nothing). A piece a web seed has started is finished; only new
// ones wait. The rate counts peers' bytes alone, so a fast web seed does
// not push itself out.
//
// Failures: a fetch that fails (status, range, timeout...) gives the piece
// back and backs the URL off (webSeedBackoff, doubling); a piece from the
// URL alone that fails its hash strikes it. A URL is dropped, with the
// reason logged, after webSeedMaxFailures fetches failed in a row,
// webSeedMaxStrikes strikes, or at once for a server that cannot serve
// ranges or a scheme we do not speak.

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/piece"
	"github.com/aiotorrent/aiotorrent/webseed"
)

const (
	webSeedWorkers     = 2 // connections per URL, and per host
	webSeedMaxStrikes  = 3
	webSeedMaxFailures = 5
	webSeedBackoff     = 2 * time.Second
	// webSeedIdle is the longest a task with nothing to pick sleeps before
	// looking again, in case a wakeup was missed.
	webSeedIdle = time.Second
	// webSeedFastPeers is the peers' download rate, in bytes per second,
	// from which web seeds start no piece: the swarm is fast.
	webSeedFastPeers = 2 << 20
	// webSeedGrace is how long peers unchoking us hold the web seeds back
	// before their rate is judged: the smoothed rate needs a few ticks to
	// reach theirs.
	webSeedGrace = time.Second
)

// webSeeds is the session's web seed state.
type webSeeds struct {
	seeds   []*webSeed
	byID    map[piece.PeerID]*webSeedTask // the running tasks
	nextID  piece.PeerID                  // the last id given out; they count down from -1
	backoff time.Duration                 // after a failed fetch, doubling (tests shorten it)
	bytes   int64                         // wanted bytes delivered by web seeds
	// peerRate is the download rate from peers alone; activeSince is
	// since when some peer has had something we want (zero while none
	// has). fastPeers and grace are webSeedFastPeers and webSeedGrace
	// (tests change them).
	peerRate    rate
	activeSince time.Time
	fastPeers   float64
	grace       time.Duration
}

// webSeed is one URL.
type webSeed struct {
	url      string
	files    []webseed.File
	strikes  int    // pieces from it alone that failed their hash
	failures int    // fetches failed in a row
	dropped  string // why it was dropped; "" while in use
}

// webSeedTask is one connection's worth of fetching from a webSeed.
type webSeedTask struct {
	seed   *webSeed
	id     piece.PeerID
	wake   *aio.Event // set when a piece may have become pickable
	client *webseed.Client
	buf    []byte
	slices []webseed.Slice
	blocks []piece.Block
}

// webSeedURLs is the torrent's url-list (unless NoWebSeeds) and the
// user's WebSeeds, without repeats.
func (s *Session) webSeedURLs() []string {
	var urls []string
	if !s.opts.NoWebSeeds {
		urls = append(urls, s.meta.URLList...)
	}
	for _, u := range s.opts.WebSeeds {
		if !slices.Contains(urls, u) {
			urls = append(urls, u)
		}
	}
	return urls
}

// startWebSeeds starts the web seed tasks in the session's group.
func (s *Session) startWebSeeds() {
	urls := s.webSeedURLs()
	if len(urls) == 0 || s.picker.Complete() {
		return
	}
	s.ws.byID = make(map[piece.PeerID]*webSeedTask)
	if s.ws.backoff == 0 {
		s.ws.backoff = webSeedBackoff
	}
	if s.ws.fastPeers == 0 {
		s.ws.fastPeers, s.ws.grace = webSeedFastPeers, webSeedGrace
	}
	perHost := map[string]int{}
	for _, u := range urls {
		files, err := webseed.Files(u, s.meta)
		if err != nil {
			s.client.cfg.Logf("web seed %s: not used: %v", u, err)
			continue
		}
		seed := &webSeed{url: u, files: files}
		s.ws.seeds = append(s.ws.seeds, seed)
		host := u
		if pu, err := url.Parse(u); err == nil {
			host = pu.Host
		}
		for ; perHost[host] < webSeedWorkers; perHost[host]++ {
			s.ws.nextID--
			w := &webSeedTask{seed: seed, id: s.ws.nextID, wake: aio.NewEvent()}
			all := piece.NewBitfield(s.meta.NumPieces())
			all.SetAll()
			if err := s.picker.PeerBitfield(w.id, all); err != nil {
				panic(err) // the bitfield is ours, of the right size
			}
			s.ws.byID[w.id] = w
			s.group.Go("web seed "+u, w.run(s))
		}
	}
	if len(s.ws.byID) > 0 {
		s.client.activate(s) // their peer rate and wake-ups (client_tick.go)
	}
}

// webSeedsMayPick tells whether the peers leave work to the web seeds
// (see the file comment).
func (s *Session) webSeedsMayPick(now time.Time) bool {
	active := false
	for _, p := range s.peers {
		if p.amInterested { // choking us or not: a new peer unchokes within a round trip, one that never does is slow
			active = true
			break
		}
	}
	switch {
	case !active:
		s.ws.activeSince = time.Time{}
		return true
	case s.ws.activeSince.IsZero():
		s.ws.activeSince = now
	}
	return now.Sub(s.ws.activeSince) >= s.ws.grace && s.ws.peerRate.perSecond() < s.ws.fastPeers
}

// tickWebSeeds is the client tick's (Session.tick): the peers' rate, and a wakeup for the web
// seeds once the peers leave them work.
func (s *Session) tickWebSeeds(now time.Time, d time.Duration) {
	if s.ws.byID == nil {
		return
	}
	s.ws.peerRate.tick(s.downloaded-s.ws.bytes, d)
	if s.webSeedsMayPick(now) {
		s.wakeWebSeeds()
	}
}

// wakeWebSeeds tells idle web seed tasks that a piece may be pickable.
func (s *Session) wakeWebSeeds() {
	for _, w := range s.ws.byID {
		w.wake.Set()
	}
}

// run is the task: pick a piece, fetch it, deliver it, until the
// download is complete or the URL is dropped.
func (w *webSeedTask) run(s *Session) func(t *aio.Task) error {
	return func(t *aio.Task) error {
		w.client = webseed.New(webseed.Config{
			Throttle: func(t *aio.Task, n int) error { return throttle(t, s.client.down, n) },
		})
		defer func() {
			w.client.Close()
			delete(s.ws.byID, w.id)
			s.picker.PeerGone(w.id)
			s.refillAll() // its piece, if any, is back in the pool
		}()
		for w.seed.dropped == "" && !s.picker.Complete() {
			i := -1
			if s.webSeedsMayPick(t.Loop().Now()) {
				i = s.picker.PickPiece(w.id)
			}
			if i < 0 {
				w.wake.Clear()
				err := aio.Timeout(t, webSeedIdle, w.wake.Wait)
				if err != nil && !errors.Is(err, aio.ErrTimeout) {
					return err
				}
				continue
			}
			s.growBuffers()
			if err := w.fetch(t, s, i); err != nil {
				if errors.Is(err, aio.ErrCanceled) {
					return err
				}
				s.picker.PeerChoked(w.id) // the piece goes back to the pool
				s.refillAll()
				if err := w.failed(t, s, err); err != nil {
					return err
				}
				continue
			}
			w.seed.failures = 0
			w.deliver(s, i)
		}
		return nil
	}
}

// fetch reads piece i into the task's buffer, one request per file slice.
func (w *webSeedTask) fetch(t *aio.Task, s *Session, i int) error {
	if w.buf == nil {
		buf, err := aio.Blocking(t, func() ([]byte, error) { return make([]byte, s.meta.PieceLength), nil })
		if err != nil {
			return err
		}
		w.buf = buf
	}
	size := int64(s.picker.PieceSize(i))
	w.slices = webseed.Slices(w.seed.files, int64(i)*s.meta.PieceLength, size, w.slices[:0])
	for _, sl := range w.slices {
		f := &w.seed.files[sl.File]
		dst := w.buf[sl.BufOff : sl.BufOff+sl.Length]
		if f.Padding {
			clear(dst)
			continue
		}
		if err := w.client.ReadAt(t, f.URL, dst, sl.FileOff, f.Length); err != nil {
			return fmt.Errorf("piece %d: %w", i, err)
		}
	}
	return nil
}

// deliver hands piece i's blocks to the picker and the piece buffer, as
// onBlock does a peer's; blocks a peer delivered first (endgame) are late.
func (w *webSeedTask) deliver(s *Session, i int) {
	w.blocks = s.picker.PieceBlocks(i, w.blocks[:0])
	for _, b := range w.blocks {
		arr := s.picker.BlockReceived(w.id, b)
		if !arr.Wanted {
			s.wasted += int64(b.Length)
			continue
		}
		s.downloaded += int64(b.Length)
		s.ws.bytes += int64(b.Length)
		for _, other := range arr.Cancel {
			if o := s.peers[other]; o != nil {
				o.cancel(b)
			}
		}
		pb := s.pieceBuf(i)
		copy(pb.data[b.Begin:], w.buf[b.Begin:b.Begin+b.Length])
		pb.from[b.Begin/piece.BlockSize] = w.id
		if arr.PieceDone {
			s.verify(i)
		}
	}
}

// failed counts a failed fetch against the URL: it backs off, or is
// dropped.
func (w *webSeedTask) failed(t *aio.Task, s *Session, err error) error {
	seed := w.seed
	seed.failures++
	switch {
	case seed.dropped != "":
		return nil
	case errors.Is(err, webseed.ErrNoRanges), errors.Is(err, webseed.ErrScheme):
		s.dropWebSeed(seed, err.Error())
		return nil
	case seed.failures >= webSeedMaxFailures:
		s.dropWebSeed(seed, fmt.Sprintf("%d failures in a row, the last: %v", seed.failures, err))
		return nil
	}
	wait := s.ws.backoff << (seed.failures - 1)
	s.client.cfg.Logf("web seed %s: %v (retrying in %v)", seed.url, err, wait)
	return aio.Sleep(t, wait)
}

func (s *Session) dropWebSeed(seed *webSeed, why string) {
	if seed.dropped == "" {
		seed.dropped = why
		s.client.cfg.Logf("web seed %s dropped: %s", seed.url, why)
	}
}

// strikeWebSeed is pieceFailed's hook: a piece that came from one web
// seed alone and failed its hash strikes its URL. A piece with peers'
// blocks in it is left to smart ban, which only peers are subject to.
func (s *Session) strikeWebSeed(i int, from []piece.PeerID) {
	if len(from) == 0 {
		return
	}
	for _, id := range from[1:] {
		if id != from[0] {
			return
		}
	}
	w := s.ws.byID[from[0]]
	if w == nil || w.seed.dropped != "" {
		return
	}
	w.seed.strikes++
	s.client.cfg.Logf("web seed %s: piece %d failed its hash (strike %d of %d)", w.seed.url, i, w.seed.strikes, webSeedMaxStrikes)
	if w.seed.strikes >= webSeedMaxStrikes {
		s.dropWebSeed(w.seed, fmt.Sprintf("%d pieces failed their hash", w.seed.strikes))
	}
}

// WebSeeds returns how many web seed URLs are in use (not dropped).
func (s *Session) WebSeeds() int {
	n := 0
	for _, seed := range s.ws.seeds {
		if seed.dropped == "" {
			n++
		}
	}
	return n
}
