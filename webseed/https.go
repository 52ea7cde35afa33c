package webseed

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// https:// goes through net/http on an executor thread, as the tracker
// client's does (DESIGN: HTTPS is executor work): one blocking job per
// request, which reads the body into a buffer of the job's own, copied
// into the caller's on the loop thread once the job is over. The copy is
// the price of cancellation: a cancelled task returns from aio.Blocking
// at once while the job runs on, and it must not write into memory the
// task has handed back to its owner. The buffer is kept for the next
// request, and given up to a job that outlives its task.
//
// The checks are the plain path's (check): 206 with exactly our
// Content-Range, 200 only for a whole file of the right length, redirects
// returned to ReadAt's bounded loop. Never more than the bytes asked for,
// plus one to tell a body that goes on, is read.

// errIdle is the watchdog's cancel cause: no progress for too long.
var errIdle = errors.New("no progress")

// getTLS is get for an https:// URL.
func (c *Client) getTLS(t *aio.Task, u *url.URL, dst []byte, off, size int64) (string, error) {
	if c.conn != nil {
		c.Close() // a plain connection is no use to this host
	}
	if c.https == nil {
		c.https = newHTTPSClient(c.cfg)
	}
	client, cfg, buf, target := c.https, c.cfg, c.tlsBuf, u.String()
	c.tlsBuf = nil // the job's until it is over
	ctx, cancel := context.WithCancelCause(context.Background())
	type result struct {
		loc string
		buf []byte
		err error
	}
	r, err := aio.Blocking(t, func() (result, error) {
		if cap(buf) < len(dst) {
			buf = make([]byte, len(dst)) // here, not on the loop: a piece's worth of zeroing
		}
		buf = buf[:len(dst)]
		loc, err := httpsRange(ctx, cancel, client, cfg, target, buf, off, size)
		return result{loc, buf, err}, nil
	})
	cancel(aio.ErrCanceled) // ends the job early if t was cancelled; a no-op otherwise
	if err != nil {
		return "", err
	}
	c.tlsBuf = r.buf
	if r.err != nil || r.loc != "" {
		return r.loc, r.err
	}
	copy(dst, r.buf)
	// The rate limit sees the body at once, after the fact: the job
	// cannot be throttled from the loop while it reads.
	return "", c.throttle(t, len(dst))
}

func newHTTPSClient(cfg Config) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			DialContext:            (&net.Dialer{Timeout: cfg.ConnectTimeout}).DialContext,
			TLSClientConfig:        &tls.Config{RootCAs: cfg.RootCAs},
			TLSHandshakeTimeout:    cfg.ConnectTimeout,
			ResponseHeaderTimeout:  cfg.HeaderTimeout,
			MaxResponseHeaderBytes: int64(cfg.MaxHeaderBytes),
			MaxConnsPerHost:        1, // one request at a time, as on the plain path
			MaxIdleConnsPerHost:    1,
			DisableCompression:     true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // ReadAt follows them, bounded
		},
	}
}

// httpsRange runs on an executor thread: one ranged GET of rawURL, its
// body read into buf (the len(buf) bytes at off of a size-byte file).
// A watchdog cancels ctx when the request takes over ConnectTimeout +
// HeaderTimeout to answer, or the body stops for IdleTimeout.
func httpsRange(ctx context.Context, cancel context.CancelCauseFunc, client *http.Client, cfg Config, rawURL string, buf []byte, off, size int64) (string, error) {
	watchdog := time.AfterFunc(cfg.ConnectTimeout+cfg.HeaderTimeout, func() { cancel(errIdle) })
	defer watchdog.Stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return "", fmt.Errorf("https request: %w", err)
	}
	n := int64(len(buf))
	req.Header.Set("User-Agent", cfg.UserAgent)
	req.Header.Set("Range", "bytes="+strconv.FormatInt(off, 10)+"-"+strconv.FormatInt(off+n-1, 10))
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := client.Do(req)
	if err != nil {
		return "", httpsErr(ctx, "https request", err)
	}
	defer resp.Body.Close()
	h, err := headerOf(resp)
	if err != nil {
		return "", err
	}
	if loc, err := check(h, n, off, size); err != nil || loc != "" {
		return loc, err
	}
	watchdog.Reset(cfg.IdleTimeout)
	body := &progress{r: resp.Body, watchdog: watchdog, idle: cfg.IdleTimeout}
	got, err := io.ReadFull(body, buf)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "", fmt.Errorf("%w: body ended after %d of %d bytes", ErrBodyLength, got, n)
	}
	if err != nil {
		return "", httpsErr(ctx, "read body", err)
	}
	var one [1]byte
	k, err := io.ReadFull(body, one[:])
	switch {
	case k > 0, errors.Is(err, io.ErrUnexpectedEOF): // the latter: more was announced (a chunk, a length) than came
		return "", fmt.Errorf("%w: more than the %d bytes asked for", ErrBodyLength, n)
	case errors.Is(err, io.EOF):
		return "", nil
	default:
		return "", httpsErr(ctx, "read to the end of the body", err)
	}
}

// headerOf is the part of resp that check looks at.
func headerOf(resp *http.Response) (Header, error) {
	h := Header{
		Minor: resp.ProtoMinor, Status: resp.StatusCode, ContentLength: resp.ContentLength,
		Location: resp.Header.Get("Location"),
	}
	if len(resp.Status) > 4 {
		h.Reason = clip(resp.Status[4:])
	}
	switch cr := resp.Header.Values("Content-Range"); len(cr) {
	case 0:
	case 1:
		r, err := parseContentRange(cr[0])
		if err != nil {
			return h, err
		}
		h.Range = r
	default:
		return h, fmt.Errorf("%w: %d Content-Range fields", ErrBadResponse, len(cr))
	}
	return h, nil
}

// progress re-arms the watchdog on each read that moves.
type progress struct {
	r        io.Reader
	watchdog *time.Timer
	idle     time.Duration
}

func (p *progress) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.watchdog.Reset(p.idle)
	}
	return n, err
}

// httpsErr wraps err with what was being done, and with ErrTimeout when
// the watchdog or a net/http timeout ended it.
func httpsErr(ctx context.Context, what string, err error) error {
	var ne net.Error
	if errors.Is(context.Cause(ctx), errIdle) || errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%w: %s: %w", ErrTimeout, what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
