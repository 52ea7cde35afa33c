package webseed

import (
	"crypto/x509"
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

// Defaults for the zero fields of Config.
const (
	DefaultConnectTimeout = 15 * time.Second
	DefaultHeaderTimeout  = 30 * time.Second
	DefaultIdleTimeout    = 30 * time.Second
	DefaultMaxHeaderBytes = 16 << 10
	// MaxRedirects is how many redirects one request follows.
	MaxRedirects = 5
)

// readBufSize is the connection's read buffer: it holds a response
// header whole, so it bounds MaxHeaderBytes too.
const readBufSize = 32 << 10

// Config tunes a Client. The zero value gives the defaults.
type Config struct {
	// ConnectTimeout bounds the TCP connect (after name resolution).
	ConnectTimeout time.Duration
	// HeaderTimeout bounds the wait from the request written to the
	// response header read whole.
	HeaderTimeout time.Duration
	// IdleTimeout bounds each wait for body bytes (and each write): a
	// body that stops moving for this long fails, however long it is.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the response header (at most 32 KiB).
	MaxHeaderBytes int
	// UserAgent is sent with every request.
	UserAgent string
	// Throttle, if set, is called after each read of body bytes with
	// their count; it may suspend the task (a download rate limit). An
	// https body is counted whole, once it is in.
	Throttle func(t *aio.Task, n int) error
	// RootCAs, if set, replaces the system's roots for https (tests
	// trusting their own server).
	RootCAs *x509.CertPool
}

// Client fetches byte ranges over one kept-alive HTTP/1.1 connection at a
// time. It belongs to one task (see the package doc).
type Client struct {
	cfg  Config
	conn *conn
	// https is net/http's client for https:// URLs (https.go), made on
	// first use; tlsBuf is the body buffer its jobs reuse.
	https  *http.Client
	tlsBuf []byte
}

// conn is an open connection and its read buffer: buf[r:w] is read from
// the socket and not yet consumed.
type conn struct {
	tcp    *aio.TCPConn
	host   string // the host:port dialled
	buf    []byte
	r, w   int
	reused bool // has served a response: it may have been closed since
}

// New returns a Client with cfg's zero fields set to the defaults.
func New(cfg Config) *Client {
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.HeaderTimeout <= 0 {
		cfg.HeaderTimeout = DefaultHeaderTimeout
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxHeaderBytes <= 0 || cfg.MaxHeaderBytes > readBufSize {
		cfg.MaxHeaderBytes = min(readBufSize, max(cfg.MaxHeaderBytes, DefaultMaxHeaderBytes))
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "aiotorrent"
	}
	return &Client{cfg: cfg}
}

// Close drops the kept-alive connection, if any.
func (c *Client) Close() {
	if c.conn != nil {
		c.conn.tcp.Close()
		c.conn = nil
	}
	if c.https != nil {
		c.https.CloseIdleConnections() // safe from any thread
	}
}

// ReadAt fills dst with the bytes at offset off of the file at rawURL,
// whose whole length is size (known from the torrent: a server that says
// otherwise is serving another file). It follows at most MaxRedirects
// redirects. A server that ignores Range is accepted only when dst is the
// whole file.
func (c *Client) ReadAt(t *aio.Task, rawURL string, dst []byte, off, size int64) error {
	if off < 0 || size < 0 || off+int64(len(dst)) > size {
		return fmt.Errorf("%w: %d bytes at %d of a %d-byte file", ErrBadRange, len(dst), off, size)
	}
	if len(dst) == 0 {
		return nil
	}
	u, err := parseURL(rawURL)
	if err != nil {
		return err
	}
	for redirects := 0; ; redirects++ {
		loc, err := c.get(t, u, dst, off, size)
		if err != nil {
			return fmt.Errorf("GET %s: %w", u.Redacted(), err)
		}
		if loc == "" {
			return nil
		}
		if redirects == MaxRedirects {
			return fmt.Errorf("GET %s: %w (%d, last to %q)", rawURL, ErrTooManyRedirects, redirects+1, clip(loc))
		}
		if u, err = resolveLocation(u, loc); err != nil {
			return err
		}
	}
}

// get makes one request and reads its answer into dst; it returns the
// Location of a redirect, or "" when dst is filled. A request on a
// kept-alive connection that the server closed meanwhile is sent again,
// once, on a new one.
func (c *Client) get(t *aio.Task, u *url.URL, dst []byte, off, size int64) (string, error) {
	if u.Scheme == "https" {
		return c.getTLS(t, u, dst, off, size)
	}
	hostport := u.Host
	if u.Port() == "" {
		hostport = net.JoinHostPort(u.Hostname(), "80")
	}
	if c.conn != nil && c.conn.host != hostport {
		c.Close()
	}
	for {
		if c.conn == nil {
			if err := c.dial(t, hostport); err != nil {
				return "", err
			}
		}
		reused := c.conn.reused
		h, err := c.request(t, u, off, int64(len(dst)))
		if err != nil {
			c.Close()
			if reused && errors.Is(err, errStale) {
				continue
			}
			return "", err
		}
		loc, err := c.response(t, h, dst, off, size)
		if err != nil || h.Close || loc != "" {
			c.Close() // a redirect's body is not worth reading
		} else if c.conn.r < c.conn.w {
			c.Close() // bytes past the body: where the next response starts is unknown
		}
		if c.conn != nil {
			c.conn.reused = true
		}
		return loc, err
	}
}

func (c *Client) dial(t *aio.Task, hostport string) error {
	tcp, err := aio.Dial(t, hostport, c.cfg.ConnectTimeout)
	if err != nil {
		// aio's error names the address already ("dial 1.2.3.4:80: …",
		// `resolve "host:80": …`), and the request's URL names the host:
		// saying hostport again repeated it.
		if errors.Is(err, aio.ErrTimeout) {
			return fmt.Errorf("%w: %w", ErrTimeout, err)
		}
		return err
	}
	c.conn = &conn{tcp: tcp, host: hostport, buf: make([]byte, readBufSize)}
	return nil
}

// errStale is a reused connection that ended before any byte of the
// response: the server had closed it while idle.
var errStale = errors.New("connection closed by server while idle")

// request writes the GET and reads the response header, skipping 1xx
// interim responses.
func (c *Client) request(t *aio.Task, u *url.URL, off, n int64) (Header, error) {
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nUser-Agent: " + c.cfg.UserAgent
	if n >= 0 { // n < 0: the whole file (Fetch)
		req += "\r\nRange: bytes=" + strconv.FormatInt(off, 10) + "-" + strconv.FormatInt(off+n-1, 10)
	}
	req += "\r\nAccept-Encoding: identity\r\n\r\n"
	c.conn.tcp.SetWriteDeadline(t.Loop().Now().Add(c.cfg.IdleTimeout))
	if err := c.conn.tcp.WriteAll(t, []byte(req)); err != nil {
		if c.conn.reused && !errors.Is(err, aio.ErrCanceled) {
			return Header{}, fmt.Errorf("%w: %w", errStale, err)
		}
		return Header{}, timeoutErr("write request", err)
	}
	c.conn.tcp.SetReadDeadline(t.Loop().Now().Add(c.cfg.HeaderTimeout))
	for interim := 0; ; interim++ {
		h, err := c.readHeader(t, interim == 0)
		if err != nil || h.Status >= 200 {
			return h, err
		}
		if interim == 4 {
			return h, fmt.Errorf("%w: too many interim responses", ErrBadResponse)
		}
	}
}

// readHeader reads one response header block from the connection.
func (c *Client) readHeader(t *aio.Task, first bool) (Header, error) {
	cn := c.conn
	for {
		if end := headerEnd(cn.buf[cn.r:cn.w]); end >= 0 {
			if end > c.cfg.MaxHeaderBytes {
				return Header{}, fmt.Errorf("%w: %d bytes", ErrHeaderTooLarge, end)
			}
			h, err := ParseHeader(cn.buf[cn.r : cn.r+end])
			cn.r += end
			return h, err
		}
		if cn.w-cn.r >= c.cfg.MaxHeaderBytes {
			return Header{}, fmt.Errorf("%w: over %d bytes", ErrHeaderTooLarge, c.cfg.MaxHeaderBytes)
		}
		cn.compact()
		k, err := cn.tcp.Read(t, cn.buf[cn.w:])
		cn.w += k
		if err == io.EOF && first && cn.w == 0 && cn.reused {
			return Header{}, errStale
		}
		if err == io.EOF {
			return Header{}, fmt.Errorf("%w: connection closed in the response header", ErrBadResponse)
		}
		if err != nil {
			if first && cn.w == 0 && cn.reused && !errors.Is(err, aio.ErrCanceled) && !errors.Is(err, aio.ErrTimeout) {
				return Header{}, fmt.Errorf("%w: %w", errStale, err)
			}
			return Header{}, timeoutErr("read response header", err)
		}
	}
}

// compact moves the unread bytes to the front of the buffer.
func (cn *conn) compact() {
	if cn.r > 0 {
		cn.w = copy(cn.buf, cn.buf[cn.r:cn.w])
		cn.r = 0
	}
}

// timeoutErr wraps err with what was being done, and with ErrTimeout when
// a deadline passed.
func timeoutErr(what string, err error) error {
	if errors.Is(err, aio.ErrTimeout) {
		return fmt.Errorf("%w: %s: %w", ErrTimeout, what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
