package tracker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"

	"github.com/aiotorrent/aiotorrent/aio"
)

// httpTracker announces to an http:// or https:// tracker. Plain http://
// is written and read on an aio TCP socket by the announcing task itself;
// https:// needs TLS, which goes through net/http on the executor.
type httpTracker struct {
	url       string
	cfg       Config
	trackerID string // last "tracker id" the tracker sent, echoed back
}

func (h *httpTracker) URL() string { return h.url }

// Announce implements Tracker.
func (h *httpTracker) Announce(t *aio.Task, req AnnounceRequest) (*AnnounceResponse, error) {
	if req.TrackerID == "" {
		req.TrackerID = h.trackerID
	}
	// New checked h.url, so the URL is only assembled here.
	target := string(appendAnnounceURL(make([]byte, 0, len(h.url)+256), h.url, req))
	resp, err := withTimeout(t, h.cfg.Timeout, "announce", func(t *aio.Task) (*AnnounceResponse, error) {
		buf := getRespBuf()
		defer putRespBuf(buf)
		// The body may share buf: it is decoded before buf goes back.
		body, status, err := fetch(t, h.cfg, target, buf)
		return announceFromBody(body, status, err)
	})
	if err != nil {
		return nil, fmt.Errorf("announce %s: %w", h.url, err)
	}
	if resp.TrackerID != "" {
		h.trackerID = resp.TrackerID
	}
	return resp, nil
}

// Scrape implements Scraper (BEP 48).
func (h *httpTracker) Scrape(t *aio.Task, hashes [][20]byte) (map[[20]byte]ScrapeStats, error) {
	su, err := scrapeURL(h.url)
	if err != nil {
		return nil, err
	}
	target := scrapeRequestURL(su, hashes)
	files, err := withTimeout(t, h.cfg.Timeout, "scrape", func(t *aio.Task) (map[[20]byte]ScrapeStats, error) {
		buf := getRespBuf()
		defer putRespBuf(buf)
		return scrapeFromBody(fetch(t, h.cfg, target, buf))
	})
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", su, err)
	}
	return files, nil
}

// fetch GETs rawURL and returns the body and status, following at most
// MaxRedirects redirects (to http or https only). A plain http:// body is
// read into buf and shares its memory.
func fetch(t *aio.Task, cfg Config, rawURL string, buf *[]byte) ([]byte, int, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, 0, fmt.Errorf("tracker URL: %w", err)
	}
	for redirects := 0; ; redirects++ {
		var body []byte
		var status int
		if u.Scheme == "https" {
			body, status, err = httpsGet(t, cfg, u.String())
		} else {
			body, status, err = plainGet(t, cfg, u, buf)
		}
		var re *RedirectError
		if !errors.As(err, &re) {
			return body, status, err
		}
		if redirects >= MaxRedirects {
			return nil, status, fmt.Errorf("%w: last to %q", ErrTooManyRedirects, re.Location)
		}
		next, perr := u.Parse(re.Location)
		if perr != nil || (next.Scheme != "http" && next.Scheme != "https") || next.Host == "" {
			return nil, status, fmt.Errorf("%w: bad redirect to %q", ErrBadResponse, re.Location)
		}
		u = next
	}
}

// maxHTTPHeader bounds the status line and headers of a tracker answer.
const maxHTTPHeader = 64 << 10

// plainGet does one http:// request on an aio socket: connect, write the
// request, read until EOF or until Content-Length bytes of body are in,
// then parse the answer in place. The request and the answer both use buf.
func plainGet(t *aio.Task, cfg Config, u *url.URL, buf *[]byte) ([]byte, int, error) {
	hostport := u.Host
	if u.Port() == "" {
		hostport = net.JoinHostPort(u.Hostname(), "80")
	}
	conn, err := aio.Dial(t, hostport, cfg.ConnectTimeout)
	if err != nil {
		return nil, 0, err // aio's error names the address: "dial 1.2.3.4:80: …"
	}
	defer conn.Close()
	*buf = appendHTTPRequest((*buf)[:0], u, cfg.UserAgent)
	if err := conn.WriteAll(t, *buf); err != nil {
		return nil, 0, fmt.Errorf("write request: %w", err)
	}
	return readResponse(t, conn, *buf)
}

// defaultHTTPSClient does not follow redirects itself: fetch does, the
// same way for both schemes.
var defaultHTTPSClient = &http.Client{
	Transport: &http.Transport{DisableKeepAlives: true, Proxy: http.ProxyFromEnvironment},
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// httpsGet runs one https:// request through net/http on the executor.
// If the task is cancelled, the request still ends within cfg.Timeout.
func httpsGet(t *aio.Task, cfg Config, rawURL string) ([]byte, int, error) {
	type result struct {
		body   []byte
		status int
		err    error
	}
	r, err := aio.Blocking(t, func() (result, error) {
		ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
		if err != nil {
			return result{}, err
		}
		req.Header.Set("User-Agent", cfg.UserAgent)
		resp, err := cfg.HTTPSClient.Do(req)
		if err != nil {
			return result{}, err
		}
		var r result
		r.body, r.status, r.err = responseBody(resp)
		return r, nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("https: %w", err)
	}
	return r.body, r.status, r.err
}
