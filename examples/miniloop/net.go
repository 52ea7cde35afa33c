//go:build linux

package main

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Listen opens a TCP listener on 127.0.0.1 at a port the kernel picks,
// and returns it with that port.
func (l *Loop) Listen() (*FD, int, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("socket: %w", err)
	}
	var sa unix.Sockaddr
	err = unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})
	if err == nil {
		err = unix.Listen(fd, 128)
	}
	if err == nil {
		sa, err = unix.Getsockname(fd)
	}
	var f *FD
	if err == nil {
		f, err = l.register(fd)
	}
	if err != nil {
		unix.Close(fd)
		return nil, 0, fmt.Errorf("listen: %w", err)
	}
	return f, sa.(*unix.SockaddrInet4).Port, nil
}

// Accept parks t until a connection comes, and registers it. accept4
// makes the new fd non-blocking in the same syscall.
func (f *FD) Accept(t *Task) (*FD, error) {
	for {
		nfd, _, err := unix.Accept4(f.fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		switch {
		case err == unix.EAGAIN:
			if err := f.waitRead(t); err != nil {
				return nil, err
			}
		case err == unix.ECONNABORTED:
			// The client gave up before we took the connection: next.
		case err != nil:
			return nil, fmt.Errorf("accept: %w", err)
		default:
			c, err := f.loop.register(nfd)
			if err != nil {
				unix.Close(nfd)
			}
			return c, err
		}
	}
}

// Dial connects to 127.0.0.1:port. A non-blocking connect answers
// EINPROGRESS; the socket turns writable when the handshake is over,
// and SO_ERROR then says whether it worked.
func (l *Loop) Dial(t *Task, port int) (*FD, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	c, err := l.register(fd)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	if err := c.connect(t, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: port}); err != nil {
		c.Close()
		return nil, fmt.Errorf("connect to port %d: %w", port, err)
	}
	return c, nil
}

func (f *FD) connect(t *Task, sa unix.Sockaddr) error {
	if err := unix.Connect(f.fd, sa); err != unix.EINPROGRESS {
		return err // nil: connected at once
	}
	for {
		if err := f.waitWrite(t); err != nil {
			return err
		}
		soerr, err := unix.GetsockoptInt(f.fd, unix.SOL_SOCKET, unix.SO_ERROR)
		if err != nil {
			return err
		}
		switch e := unix.Errno(soerr); e {
		case 0:
			return nil
		case unix.EINPROGRESS, unix.EALREADY, unix.EINTR:
			// A wakeup before the handshake ended (the fd was registered
			// before connect): wait for the next edge.
		default:
			return e
		}
	}
}
