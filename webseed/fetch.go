package webseed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// Fetch is a plain GET of a whole file of unknown length, at most max
// bytes (a .torrent named by URL): the same connections, timeouts,
// redirect bound and errors as ReadAt, on a connection of its own that is
// closed afterwards. A body over max bytes fails with ErrTooLarge before
// more than max+1 bytes are read; a status other than 200 (after
// redirects) with a *StatusError.
func (c *Client) Fetch(t *aio.Task, rawURL string, max int) ([]byte, error) {
	u, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	for redirects := 0; ; redirects++ {
		body, loc, err := c.fetchOnce(t, u, max)
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", u.Redacted(), err)
		}
		if loc == "" {
			return body, nil
		}
		if redirects == MaxRedirects {
			return nil, fmt.Errorf("GET %s: %w (%d, last to %q)", rawURL, ErrTooManyRedirects, redirects+1, clip(loc))
		}
		if u, err = resolveLocation(u, loc); err != nil {
			return nil, err
		}
	}
}

// fetchOnce makes one request: the body, or a redirect's Location.
func (c *Client) fetchOnce(t *aio.Task, u *url.URL, max int) ([]byte, string, error) {
	c.Close() // a new connection: a kept one might have gone stale
	if u.Scheme == "https" {
		return c.fetchTLS(t, u, max)
	}
	hostport := u.Host
	if u.Port() == "" {
		hostport = net.JoinHostPort(u.Hostname(), "80")
	}
	if err := c.dial(t, hostport); err != nil {
		return nil, "", err
	}
	defer c.Close() // where a next response would start is not tracked here
	h, err := c.request(t, u, 0, -1)
	if err != nil {
		return nil, "", err
	}
	loc, err := checkWhole(h, max)
	if err != nil || loc != "" {
		return nil, loc, err
	}
	var body []byte
	switch {
	case h.Chunked:
		body, err = c.readChunkedUpTo(t, max)
	case h.ContentLength >= 0:
		body = make([]byte, h.ContentLength) // at most max: checkWhole
		err = c.readFull(t, body)
	default:
		body, err = c.readUpToEOF(t, max)
	}
	return body, "", err
}

// checkWhole is check for a whole file of at most max bytes: a
// redirect's Location, or nil for a 200 whose length (if announced) fits.
func checkWhole(h Header, max int) (string, error) {
	switch h.Status {
	case 301, 302, 303, 307, 308:
		return redirectTo(h)
	case 200:
		if h.ContentLength > int64(max) {
			return "", fmt.Errorf("%w: %d bytes, over %d", ErrTooLarge, h.ContentLength, max)
		}
		return "", nil
	default:
		return "", &StatusError{Code: h.Status, Reason: h.Reason}
	}
}

// tooLarge is the error for a body that went on past max bytes.
func tooLarge(max int) error { return fmt.Errorf("%w: over %d bytes", ErrTooLarge, max) }

// readChunkedUpTo reads a chunked body of at most max bytes. The
// trailers are not read: the connection is closed after it.
func (c *Client) readChunkedUpTo(t *aio.Task, max int) ([]byte, error) {
	var body []byte
	for {
		line, err := c.readLine(t)
		if err != nil {
			return nil, err
		}
		n, err := parseChunkSize(line)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return body, nil
		}
		if n > int64(max-len(body)) {
			return nil, tooLarge(max)
		}
		k := len(body)
		body = slices.Grow(body, int(n))[:k+int(n)]
		if err := c.readFull(t, body[k:]); err != nil {
			return nil, err
		}
		if line, err := c.readLine(t); err != nil || len(line) != 0 {
			return nil, fmt.Errorf("%w: no CRLF after chunk data", ErrBadResponse)
		}
	}
}

// readUpToEOF reads a body delimited by the end of the stream, at most
// max bytes of it.
func (c *Client) readUpToEOF(t *aio.Task, max int) ([]byte, error) {
	cn := c.conn
	body := append([]byte(nil), cn.buf[cn.r:cn.w]...)
	cn.r = cn.w
	for len(body) <= max {
		body = slices.Grow(body, min(max+1-len(body), readBufSize))
		cn.tcp.SetReadDeadline(t.Loop().Now().Add(c.cfg.IdleTimeout))
		k, err := cn.tcp.Read(t, body[len(body):cap(body)])
		body = body[:len(body)+k]
		if err == io.EOF {
			if len(body) > max {
				break
			}
			return body, nil
		}
		if err != nil {
			return nil, timeoutErr("read body", err)
		}
	}
	return nil, tooLarge(max)
}

// fetchTLS is fetchOnce for https://, on the executor as getTLS is.
func (c *Client) fetchTLS(t *aio.Task, u *url.URL, max int) ([]byte, string, error) {
	if c.https == nil {
		c.https = newHTTPSClient(c.cfg)
	}
	client, cfg, target := c.https, c.cfg, u.String()
	ctx, cancel := context.WithCancelCause(context.Background())
	type result struct {
		body []byte
		loc  string
		err  error
	}
	r, err := aio.Blocking(t, func() (result, error) {
		body, loc, err := httpsWhole(ctx, cancel, client, cfg, target, max)
		return result{body, loc, err}, nil
	})
	cancel(aio.ErrCanceled)
	if err != nil {
		return nil, "", err
	}
	return r.body, r.loc, r.err
}

// httpsWhole runs on an executor thread: one GET of rawURL, its body
// read whole, at most max bytes, under httpsRange's watchdog.
func httpsWhole(ctx context.Context, cancel context.CancelCauseFunc, client *http.Client, cfg Config, rawURL string, max int) ([]byte, string, error) {
	watchdog := time.AfterFunc(cfg.ConnectTimeout+cfg.HeaderTimeout, func() { cancel(errIdle) })
	defer watchdog.Stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, "", fmt.Errorf("https request: %w", err)
	}
	req.Header.Set("User-Agent", cfg.UserAgent)
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", httpsErr(ctx, "https request", err)
	}
	defer resp.Body.Close()
	h, err := headerOf(resp)
	if err != nil {
		return nil, "", err
	}
	if loc, err := checkWhole(h, max); err != nil || loc != "" {
		return nil, loc, err
	}
	watchdog.Reset(cfg.IdleTimeout)
	body, err := io.ReadAll(io.LimitReader(&progress{r: resp.Body, watchdog: watchdog, idle: cfg.IdleTimeout}, int64(max)+1))
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return nil, "", fmt.Errorf("%w: body ended after %d bytes", ErrBodyLength, len(body))
	case err != nil:
		return nil, "", httpsErr(ctx, "read body", err)
	case len(body) > max:
		return nil, "", tooLarge(max)
	}
	return body, "", nil
}
