package tracker

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Event is the announce event. The numbering is BEP 15's, so the UDP codec
// writes it as is; the HTTP codec spells it out.
type Event uint32

// Announce events (BEP 3, numbered as in BEP 15).
const (
	EventNone      Event = 0 // a regular re-announce
	EventCompleted Event = 1 // sent once when the download finishes
	EventStarted   Event = 2 // the first announce of a session
	EventStopped   Event = 3 // the client is leaving the swarm
)

// String returns the HTTP spelling of the event ("" for EventNone).
func (e Event) String() string {
	switch e {
	case EventCompleted:
		return "completed"
	case EventStarted:
		return "started"
	case EventStopped:
		return "stopped"
	}
	return ""
}

// parseEvent maps the HTTP spelling back to an Event. Unknown spellings are
// treated as a regular announce, as trackers commonly do.
func parseEvent(s string) Event {
	switch s {
	case "completed":
		return EventCompleted
	case "started":
		return EventStarted
	case "stopped":
		return EventStopped
	}
	return EventNone
}

// AnnounceRequest is what a client tells a tracker (BEP 3).
type AnnounceRequest struct {
	InfoHash   [20]byte
	PeerID     [20]byte
	Port       uint16 // the port we accept peer connections on
	Uploaded   int64
	Downloaded int64
	Left       int64
	Event      Event
	// NumWant is how many peers we would like; 0 or less lets the tracker
	// pick its default.
	NumWant int32
	// Key lets a tracker recognise us across address changes.
	Key uint32
	// TrackerID is echoed back to an HTTP tracker that sent "tracker id".
	TrackerID string
	// Crypto tells an HTTP tracker whether we speak encrypted connections
	// (MSE): supportcrypto=1 or requirecrypto=1, so that it can hand out
	// peers that will talk to us. Zero says nothing.
	Crypto CryptoLevel
}

// CryptoLevel is what an announce says of our encryption (the
// supportcrypto / requirecrypto extension to the HTTP announce, from
// Azureus, which Transmission and libtorrent send too).
type CryptoLevel uint8

// Crypto levels.
const (
	CryptoUnsaid  CryptoLevel = iota // nothing is sent
	CryptoSupport                    // supportcrypto=1: we accept both
	CryptoRequire                    // requirecrypto=1: encrypted only
)

// AnnounceResponse is what a tracker answered. Intervals are as the tracker
// sent them (zero when absent); the Announcer applies sane bounds.
type AnnounceResponse struct {
	Interval    time.Duration
	MinInterval time.Duration
	Complete    int    // seeders
	Incomplete  int    // leechers
	TrackerID   string // to echo on the next HTTP announce
	Warning     string
	Peers       []netip.AddrPort // deduplicated, at most MaxPeers
}

// ScrapeStats is one torrent's entry in a scrape response (BEP 48).
type ScrapeStats struct {
	Complete   int // seeders
	Downloaded int // completed downloads ever
	Incomplete int // leechers
}

// FailureError is a tracker's refusal, carrying its "failure reason" text
// (HTTP) or its action-3 message (UDP). RetryIn is the BEP 31 "retry in"
// hint, zero when absent; a negative value means "never".
type FailureError struct {
	Reason  string
	RetryIn time.Duration
}

// Error implements error.
func (e *FailureError) Error() string {
	return fmt.Sprintf("tracker failure: %q", e.Reason)
}

// RedirectError is an HTTP 3xx answer. The client follows Location (at most
// MaxRedirects times); the codec only reports it.
type RedirectError struct {
	Code     int
	Location string
}

// Error implements error.
func (e *RedirectError) Error() string {
	return fmt.Sprintf("tracker redirect %d to %q", e.Code, e.Location)
}

// Limits on what we accept from the network. A tracker is as hostile as any
// peer: every count and size it sends is capped before anything is allocated.
const (
	// MaxPeers caps the peers taken from one announce response.
	MaxPeers = 2000
	// MaxBodySize caps an HTTP tracker response body.
	MaxBodySize = 1 << 20
	// MaxRedirects is how many HTTP redirects one announce follows.
	MaxRedirects = 3
	// maxUDPScrapeHashes is BEP 15's limit on info-hashes in one UDP scrape.
	maxUDPScrapeHashes = 74
	// maxScrapeFiles caps the torrents taken from one HTTP scrape response.
	maxScrapeFiles = 1000
	// maxIntervalSeconds keeps a tracker's interval from overflowing a
	// time.Duration (and from silencing us for more than a week).
	maxIntervalSeconds = 7 * 24 * 3600
)

// Errors callers branch on.
var (
	// ErrScrapeUnsupported: the announce URL has no scrape counterpart.
	ErrScrapeUnsupported = errors.New("tracker: scrape not supported for this URL")
	// ErrUnsupportedScheme: not http, https or udp.
	ErrUnsupportedScheme = errors.New("tracker: unsupported URL scheme")
	// ErrBadResponse: the tracker's answer could not be understood.
	ErrBadResponse = errors.New("tracker: malformed response")
	// ErrTooLarge: the response exceeded MaxBodySize.
	ErrTooLarge = errors.New("tracker: response too large")
	// ErrTooManyRedirects: more than MaxRedirects redirects.
	ErrTooManyRedirects = errors.New("tracker: too many redirects")
	// ErrTimeout: a UDP tracker did not answer within its retransmission
	// schedule or the announce deadline.
	ErrTimeout = errors.New("tracker: timed out")
)

// seconds converts a tracker's integer seconds to a Duration, clamped to
// [0, maxIntervalSeconds].
func seconds(n int64) time.Duration {
	if n < 0 {
		return 0
	}
	if n > maxIntervalSeconds {
		n = maxIntervalSeconds
	}
	return time.Duration(n) * time.Second
}

// clampCount turns a tracker's count into a non-negative int that fits int32.
func clampCount(n int64) int {
	if n < 0 {
		return 0
	}
	if n > 1<<31-1 {
		return 1<<31 - 1
	}
	return int(n)
}
