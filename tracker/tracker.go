package tracker

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// Tracker is one tracker URL, as in rain: the Announcer and Tiers see
// nothing else. Implementations keep per-tracker state between calls (the
// HTTP "tracker id", the UDP connection id), so make one per URL and reuse
// it. They are used on the loop thread only.
type Tracker interface {
	Announce(t *aio.Task, req AnnounceRequest) (*AnnounceResponse, error)
	URL() string
}

// Scraper is implemented by trackers that can scrape (BEP 48, BEP 15).
type Scraper interface {
	Scrape(t *aio.Task, hashes [][20]byte) (map[[20]byte]ScrapeStats, error)
}

// Config holds the client's timeouts. The zero value means the defaults.
type Config struct {
	// ConnectTimeout bounds the TCP connect of an http:// announce.
	ConnectTimeout time.Duration
	// Timeout bounds one whole announce or scrape, redirects, DNS and UDP
	// retransmissions included.
	Timeout time.Duration
	// UDPRetryUnit is BEP 15's 15 s: the n-th retransmission waits
	// UDPRetryUnit·2^n. Tests scale it down.
	UDPRetryUnit time.Duration
	// UserAgent is sent to HTTP trackers.
	UserAgent string
	// HTTPSClient does https:// requests on the executor (nil: a client
	// without keep-alives that leaves redirects to us). Tests set one
	// that trusts their certificate.
	HTTPSClient *http.Client
	// NextTrackerAfter is how long Tiers waits for a tracker's answer
	// before it asks the next one as well (see tiers.go); 0 means
	// DefaultNextTrackerAfter.
	NextTrackerAfter time.Duration
}

// Client defaults.
const (
	DefaultConnectTimeout = 10 * time.Second
	DefaultTimeout        = 60 * time.Second
	DefaultUserAgent      = "aiotorrent/0.1"
)

func (c Config) withDefaults() Config {
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.UDPRetryUnit <= 0 {
		c.UDPRetryUnit = udpRetryUnit
	}
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	if c.HTTPSClient == nil {
		c.HTTPSClient = defaultHTTPSClient
	}
	return c
}

// New returns the Tracker for an http://, https:// or udp:// URL.
func New(rawURL string, cfg Config) (Tracker, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("tracker URL %q: %w", rawURL, err)
	}
	cfg = cfg.withDefaults()
	switch u.Scheme {
	case "http", "https":
		if err := checkHTTPURL(rawURL); err != nil {
			return nil, err
		}
		return &httpTracker{url: rawURL, cfg: cfg}, nil
	case "udp":
		if u.Hostname() == "" || u.Port() == "" {
			return nil, fmt.Errorf("tracker URL %q: udp needs host:port", rawURL)
		}
		return &udpTracker{url: rawURL, hostport: u.Host, cfg: cfg}, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnsupportedScheme, rawURL)
}

// Announce is a one-off announce to rawURL with the default Config. Code
// that announces repeatedly should keep a Tracker from New (or an
// Announcer) so that tracker ids and UDP connection ids are reused.
func Announce(t *aio.Task, rawURL string, req AnnounceRequest) (*AnnounceResponse, error) {
	tr, err := New(rawURL, Config{})
	if err != nil {
		return nil, err
	}
	return tr.Announce(t, req)
}

// Scrape is a one-off scrape of hashes at the tracker whose announce URL is
// rawURL (BEP 48 over HTTP, BEP 15 over UDP).
func Scrape(t *aio.Task, rawURL string, hashes [][20]byte) (map[[20]byte]ScrapeStats, error) {
	tr, err := New(rawURL, Config{})
	if err != nil {
		return nil, err
	}
	return tr.(Scraper).Scrape(t, hashes)
}

// withTimeout runs fn under the client's total timeout, turning the
// runtime's timeout into ours so callers need test only ErrTimeout.
func withTimeout[T any](t *aio.Task, d time.Duration, what string, fn func(t *aio.Task) (T, error)) (T, error) {
	v, err := aio.WaitFor(t, d, fn)
	if errors.Is(err, aio.ErrTimeout) && !errors.Is(err, ErrTimeout) {
		err = fmt.Errorf("%w: %s after %v: %w", ErrTimeout, what, d, err)
	}
	return v, err
}
