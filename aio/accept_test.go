package aio

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestAcceptedConnHasNoDelay: Accept no longer sets TCP_NODELAY itself on
// Linux but relies on the listener's being inherited; an accepted socket
// must still have it, as a dialled one does, or small peer messages would
// wait for Nagle.
func TestAcceptedConnHasNoDelay(t *testing.T) {
	_, err := Run(func(t *Task) (struct{}, error) {
		ln, err := ListenTCP(t, netip.MustParseAddrPort("127.0.0.1:0"))
		if err != nil {
			return struct{}{}, err
		}
		defer ln.Close()
		accepted := Spawn(t, "accept", func(t *Task) (int, error) {
			c, err := ln.Accept(t)
			if err != nil {
				return 0, err
			}
			defer c.Close()
			return unix.GetsockoptInt(c.pd.fd, unix.IPPROTO_TCP, unix.TCP_NODELAY)
		})
		c, err := DialTCP(t, ln.Addr(), time.Second)
		if err != nil {
			return struct{}{}, err
		}
		defer c.Close()
		for name, get := range map[string]func() (int, error){
			"accepted": func() (int, error) { return Await(t, accepted) },
			"dialled":  func() (int, error) { return unix.GetsockoptInt(c.pd.fd, unix.IPPROTO_TCP, unix.TCP_NODELAY) },
		} {
			on, err := get()
			if err != nil {
				return struct{}{}, fmt.Errorf("%s: %w", name, err)
			}
			if on == 0 {
				return struct{}{}, fmt.Errorf("%s connection: TCP_NODELAY off, want on", name)
			}
		}
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
