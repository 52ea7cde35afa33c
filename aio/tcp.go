package aio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

var errEOF = io.EOF

// TCPConn is a TCP connection on a raw non-blocking fd. Its methods take
// the task that waits; one task may read while another writes.
type TCPConn struct {
	pd     *pollFD
	local  netip.AddrPort
	remote netip.AddrPort
}

// DialTCP connects to addr, waiting at most timeout (0: no limit). The
// connect is non-blocking: EINPROGRESS, park until writable, then SO_ERROR
// says how it went.
func DialTCP(t *Task, addr netip.AddrPort, timeout time.Duration) (*TCPConn, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	family, sa := sockaddr(addr)
	fd, err := socket(family, unix.SOCK_STREAM)
	if err != nil {
		return nil, fmt.Errorf("dial %s: socket: %w", addr, err)
	}
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	pd, err := t.loop.register(fd)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	if err := connect(t, pd, sa, timeout); err != nil {
		pd.close()
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return &TCPConn{pd: pd, local: localAddr(fd), remote: addr}, nil
}

func connect(t *Task, pd *pollFD, sa unix.Sockaddr, timeout time.Duration) error {
	for {
		err := unix.Connect(pd.fd, sa)
		if err == unix.EINTR {
			continue
		}
		if err == nil {
			return nil
		}
		if err != unix.EINPROGRESS {
			return err
		}
		break
	}
	if timeout > 0 {
		pd.writeDeadline = t.loop.now() + timeout
		defer func() { pd.writeDeadline = 0 }()
	}
	for {
		if err := pd.wait(t, writing); err != nil {
			return err
		}
		soerr, err := unix.GetsockoptInt(pd.fd, unix.SOL_SOCKET, unix.SO_ERROR)
		if err != nil {
			return err
		}
		switch e := unix.Errno(soerr); e {
		case 0:
			return nil
		case unix.EINPROGRESS, unix.EALREADY, unix.EINTR:
			continue // a spurious wakeup: still connecting
		default:
			return e
		}
	}
}

// Dial connects to "host:port". An IP literal is dialled directly from the
// loop; a host name is resolved on the executor first (the resolver
// blocks), then its addresses are tried in order within timeout.
func Dial(t *Task, hostport string, timeout time.Duration) (*TCPConn, error) {
	addrs, err := Resolve(t, hostport)
	if err != nil {
		return nil, err
	}
	var first error
	for _, a := range addrs {
		c, err := DialTCP(t, a, timeout)
		if err == nil {
			return c, nil
		}
		if errors.Is(err, ErrCanceled) {
			return nil, err
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}

// Resolve turns "host:port" into addresses. IP literals never leave the
// loop; names are looked up on the executor.
func Resolve(t *Task, hostport string) ([]netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(hostport); err == nil {
		return []netip.AddrPort{ap}, nil
	}
	host, portStr, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, fmt.Errorf("resolve %q: %w", hostport, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("resolve %q: bad port", hostport)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.AddrPort{netip.AddrPortFrom(ip, uint16(port))}, nil
	}
	ips, err := Blocking(t, func() ([]netip.Addr, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	})
	if err != nil {
		return nil, fmt.Errorf("resolve %q: %w", host, err)
	}
	out := make([]netip.AddrPort, len(ips))
	for i, ip := range ips {
		out[i] = netip.AddrPortFrom(ip.Unmap(), uint16(port))
	}
	return out, nil
}

// Read reads up to len(p) bytes, parking t until some arrive. At the end
// of the stream it returns io.EOF.
func (c *TCPConn) Read(t *Task, p []byte) (int, error) {
	if err := t.check(); err != nil {
		return 0, err
	}
	return c.pd.read(t, p)
}

// ReadFull reads exactly len(p) bytes (io.ErrUnexpectedEOF if the stream
// ends first).
func (c *TCPConn) ReadFull(t *Task, p []byte) error {
	for got := 0; got < len(p); {
		n, err := c.Read(t, p[got:])
		got += n
		if err == io.EOF && got > 0 && got < len(p) {
			return io.ErrUnexpectedEOF
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Write writes some of p (at least one byte), parking t while the send
// buffer is full.
func (c *TCPConn) Write(t *Task, p []byte) (int, error) {
	if err := t.check(); err != nil {
		return 0, err
	}
	return c.pd.write(t, p)
}

// WriteAll writes all of p.
func (c *TCPConn) WriteAll(t *Task, p []byte) error {
	for len(p) > 0 {
		n, err := c.Write(t, p)
		if err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

// Writev writes all the buffers, in order, with as few syscalls as the
// kernel allows (writev gathers them: a message header and the block it
// frames go out together without being copied into one buffer). It
// returns the number of bytes written.
func (c *TCPConn) Writev(t *Task, bufs [][]byte) (int, error) {
	total := 0
	for len(bufs) > 0 {
		n, err := c.pd.retry(t, writing, "writev", func() (int, error) { return writev(c.pd.fd, bufs) })
		if err != nil {
			return total, err
		}
		total += n
		bufs = consume(bufs, n)
	}
	return total, nil
}

// consume drops n written bytes from the front of bufs.
func consume(bufs [][]byte, n int) [][]byte {
	for len(bufs) > 0 && n >= len(bufs[0]) {
		n -= len(bufs[0])
		bufs = bufs[1:]
	}
	if len(bufs) > 0 {
		bufs[0] = bufs[0][n:]
	}
	return bufs
}

// SetDeadline makes reads and writes on c that are still parked at the
// given time fail with ErrTimeout. The zero time removes the deadline.
func (c *TCPConn) SetDeadline(at time.Time) {
	c.SetReadDeadline(at)
	c.SetWriteDeadline(at)
}

// SetReadDeadline is SetDeadline for reads only.
func (c *TCPConn) SetReadDeadline(at time.Time) { c.pd.readDeadline = c.pd.loopTime(at) }

// SetWriteDeadline is SetDeadline for writes only.
func (c *TCPConn) SetWriteDeadline(at time.Time) { c.pd.writeDeadline = c.pd.loopTime(at) }

// CloseWrite shuts down the sending side (the peer reads EOF). After
// Close it returns ErrClosed: the fd number may already belong to another
// socket, which shutdown(2) would cut off.
func (c *TCPConn) CloseWrite() error {
	if c.pd.closed {
		return ErrClosed
	}
	if err := unix.Shutdown(c.pd.fd, unix.SHUT_WR); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// Close closes the connection. A task parked in Read or Write on it
// returns ErrClosed.
func (c *TCPConn) Close() error { return c.pd.close() }

// LocalAddr is the connection's local address (invalid if first asked
// after Close on an accepted connection).
func (c *TCPConn) LocalAddr() netip.AddrPort {
	if !c.local.IsValid() && !c.pd.closed {
		c.local = localAddr(c.pd.fd)
	}
	return c.local
}

// RemoteAddr is the address of the other end.
func (c *TCPConn) RemoteAddr() netip.AddrPort { return c.remote }

// TCPListener accepts TCP connections.
type TCPListener struct {
	pd   *pollFD
	addr netip.AddrPort
}

// ListenTCP listens on addr (port 0 picks a free one; Addr tells which),
// with SO_REUSEADDR so a restarted seeder can take its port back at once.
// On [::] it takes IPv4 peers too, except on OpenBSD, which has no
// v4-mapped addresses (listen on 0.0.0.0 as well there).
func ListenTCP(s Spawner, addr netip.AddrPort) (*TCPListener, error) {
	l := s.spawnLoop()
	family, sa := sockaddr(addr)
	fd, err := socket(family, unix.SOCK_STREAM)
	if err != nil {
		return nil, fmt.Errorf("listen %s: socket: %w", addr, err)
	}
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	// Accepted sockets inherit TCP_NODELAY from the listener where
	// acceptInheritsNoDelay says so, which saves a setsockopt per
	// connection.
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if err := prepareBind(fd, family, sa); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("listen %s: bind: %w", addr, err)
	}
	if err := unix.Listen(fd, unix.SOMAXCONN); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	pd, err := l.register(fd)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	return &TCPListener{pd: pd, addr: localAddr(fd)}, nil
}

// Accept waits for the next connection.
func (ln *TCPListener) Accept(t *Task) (*TCPConn, error) {
	var remote netip.AddrPort
	fd, err := ln.pd.retry(t, reading, "accept", func() (fd int, err error) {
		for {
			fd, remote, err = accept(ln.pd.fd)
			if err != unix.ECONNABORTED {
				return fd, err
			}
			// The client gave up before we took it: the next one.
		}
	})
	if err != nil {
		return nil, err
	}
	if !acceptInheritsNoDelay {
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	}
	// One allocation for the connection and its pollFD: a tracker pays
	// it per announce.
	a := new(struct {
		conn TCPConn
		pd   pollFD
	})
	if err := t.loop.registerInto(&a.pd, fd); err != nil {
		return nil, fmt.Errorf("accept: %w", err)
	}
	// The local address is looked up when asked for (LocalAddr): a
	// getsockname per connection is a measurable share of a tracker's
	// cost, and servers rarely ask.
	a.conn.pd, a.conn.remote = &a.pd, remote
	return &a.conn, nil
}

// Addr is the address the listener is bound to.
func (ln *TCPListener) Addr() netip.AddrPort { return ln.addr }

// Close stops listening; a task parked in Accept returns ErrClosed.
func (ln *TCPListener) Close() error { return ln.pd.close() }
