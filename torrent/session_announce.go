package torrent

import (
	"math/rand/v2"
	"net/netip"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/tracker"
)

// startAnnouncer runs the tracker announcer as a task of the session; the
// peers it finds go straight into the peer list. The first announce waits
// its turn (Client.announceDelay), so that torrents started together
// announce spread out.
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
	})
	delay := s.client.announceDelay()
	s.group.Go("announce", func(t *aio.Task) error {
		if err := aio.Sleep(t, delay); err != nil {
			return nil
		}
		s.announce.Run(t)
		return nil // a tracker that fails is no reason to stop the download
	})
	return nil
}

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
