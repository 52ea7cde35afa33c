package torrent

import (
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/tracker"
)

// startAnnouncer starts the tracker announcer on the loop's timers: each
// announce is a task of the session's group, started when it is due, and
// between announces no task of the announcer's is parked (an idle seed
// with a tracker holds only Run's). The peers it finds go straight into
// the peer list. The first announce waits its turn
// (Client.announceDelay), so that torrents started together announce
// spread out. Run closes it (the "stopped" announce) before it cancels the
// group.
func (s *Session) startAnnouncer() error {
	tiers, err := tracker.NewTiers(s.meta.AnnounceList, s.opts.Tracker, rand.New(rand.NewPCG(rand.Uint64(), 1)))
	if err != nil {
		s.trackers.unusable = unusableTrackers(s.meta.AnnounceList, s.opts.Tracker)
		return err
	}
	s.trackers.tiers = tiers
	listen := s.client.Addr()
	s.announce = tracker.NewAnnouncer(tracker.AnnouncerConfig{
		Tracker:     reportingTracker{tiers, s},
		Request:     s.announceRequest,
		OnPeer:      func(a netip.AddrPort) { s.learn(a, fromTracker) },
		Self:        []netip.AddrPort{listen},
		MinInterval: s.opts.AnnounceMinInterval,
		Coalesce:    announceCoalesce,
	})
	// A tracker that fails is no reason to stop the download: the
	// announce tasks return nil.
	s.announce.Start(s.loop, s.client.announceDelay(), func(fn func(t *aio.Task) error) { s.group.Go("announce", fn) })
	return nil
}

// announceCoalesce puts re-announces on whole seconds: a thousand
// torrents whose first announces went announceSpread apart re-announce in
// batches, a loop wake-up a second instead of one every 10 ms (each
// wake-up costs the process more than the announce: the Go runtime's
// threads wake with it).
const announceCoalesce = time.Second

// reportingTracker reports progress while an announce is in flight (a
// silent tracker's status changes as it stays silent) and after it: an
// idle session is reported on only when something changes, and a
// tracker's status (Progress.Trackers) is one of the things that do.
type reportingTracker struct {
	*tracker.Tiers
	s *Session
}

func (r reportingTracker) Announce(t *aio.Task, req tracker.AnnounceRequest) (*tracker.AnnounceResponse, error) {
	r.s.announcing++
	if r.s.opts.OnProgress != nil && r.s.opts.ProgressInterval >= 0 {
		r.s.client.activate(r.s)
	}
	resp, err := r.Tiers.Announce(t, req)
	r.s.announcing--
	r.s.reportEvent()
	return resp, err
}

func (s *Session) announceRequest() tracker.AnnounceRequest {
	return tracker.AnnounceRequest{
		InfoHash:   s.meta.InfoHash,
		PeerID:     s.client.cfg.PeerID,
		Port:       s.client.Addr().Port(),
		Uploaded:   s.uploaded,
		Downloaded: s.downloaded,
		Left:       s.meta.Length - s.haveBytes, // of the torrent, not only the wanted files
		NumWant:    50,
		Crypto:     s.client.cfg.Encryption.trackerCrypto(),
	}
}

// trackerSource is where Progress.Trackers comes from: the announcer's
// tiers, or, when not one tracker was usable, each URL and why.
type trackerSource struct {
	tiers    *tracker.Tiers
	unusable []tracker.TrackerStatus
}

func unusableTrackers(announceList [][]string, cfg tracker.Config) []tracker.TrackerStatus {
	var out []tracker.TrackerStatus
	for _, tier := range announceList {
		for _, u := range tier {
			if _, err := tracker.New(u, cfg); err != nil {
				out = append(out, tracker.TrackerStatus{URL: u, Err: err})
			}
		}
	}
	return out
}

func (s *Session) trackerStatus() []tracker.TrackerStatus {
	switch {
	case s.trackers.tiers != nil:
		return s.trackers.tiers.Status()
	case s.trackers.unusable != nil || s.opts.NoTrackers:
		return s.trackers.unusable
	}
	// The first report comes before the announcer starts: its trackers
	// are listed, not asked yet, so that a torrent with trackers is not
	// shown as having none.
	var out []tracker.TrackerStatus
	for _, tier := range s.meta.AnnounceList {
		for _, u := range tier {
			out = append(out, tracker.TrackerStatus{URL: u})
		}
	}
	return out
}

// seeds counts the connected peers that have every piece.
func (s *Session) seeds() int {
	n, all := 0, s.picker.NumPieces()
	for _, p := range s.peers {
		if p.pieces == all && all > 0 {
			n++
		}
	}
	return n
}
