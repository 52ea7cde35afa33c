//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package aio

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// setMulticastLoopTTL4 sets IP_MULTICAST_LOOP and IP_MULTICAST_TTL, which
// the BSDs take as a u_char (ip(4)); OpenBSD rejects an int with EINVAL.
// Go's net package does the same (sockoptip_bsdvar.go).
func setMulticastLoopTTL4(fd int, loop bool, ttl int) error {
	var on byte
	if loop {
		on = 1
	}
	if err := unix.SetsockoptByte(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, on); err != nil {
		return fmt.Errorf("IP_MULTICAST_LOOP: %w", err)
	}
	if err := unix.SetsockoptByte(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_TTL, byte(ttl)); err != nil {
		return fmt.Errorf("IP_MULTICAST_TTL: %w", err)
	}
	return nil
}
