package aio

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// TestCloseWriteAfterCloseSparesTheReusedFd: CloseWrite on a closed
// connection called shutdown(2) on its old fd number, which the next
// socket had taken: that socket lost its sending side. CloseWrite after
// Close must return ErrClosed and leave the new socket working.
func TestCloseWriteAfterCloseSparesTheReusedFd(t *testing.T) {
	_, err := Run(func(t *Task) (struct{}, error) {
		ln, err := ListenTCP(t, netip.MustParseAddrPort("127.0.0.1:0"))
		if err != nil {
			return struct{}{}, err
		}
		defer ln.Close()
		old, err := DialTCP(t, ln.Addr(), time.Second)
		if err != nil {
			return struct{}{}, err
		}
		oldFd := old.pd.fd
		old.Close()
		c, err := DialTCP(t, ln.Addr(), time.Second)
		if err != nil {
			return struct{}{}, err
		}
		defer c.Close()
		if c.pd.fd != oldFd {
			return struct{}{}, errNoReuse
		}
		if err := old.CloseWrite(); !errors.Is(err, ErrClosed) {
			return struct{}{}, fmt.Errorf("CloseWrite after Close: got %v, want ErrClosed", err)
		}
		first, err := ln.Accept(t) // old's connection, closed by now
		if err != nil {
			return struct{}{}, err
		}
		first.Close()
		srv, err := ln.Accept(t)
		if err != nil {
			return struct{}{}, err
		}
		defer srv.Close()
		if err := c.WriteAll(t, []byte("still open")); err != nil {
			return struct{}{}, fmt.Errorf("write on the socket that reused the fd: %w", err)
		}
		got := make([]byte, len("still open"))
		if err := srv.ReadFull(t, got); err != nil || string(got) != "still open" {
			return struct{}{}, fmt.Errorf("server read %q, %v; want %q", got, err, "still open")
		}
		return struct{}{}, nil
	})
	if err == errNoReuse {
		t.Skip("the new socket did not get the closed one's fd number")
	}
	if err != nil {
		t.Fatal(err)
	}
}

var errNoReuse = errors.New("fd not reused")
