package aio

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// setMulticastLoopTTL4 sets IP_MULTICAST_LOOP and IP_MULTICAST_TTL, which
// Linux takes as ints (ip(7)); Go's net package does the same
// (sockoptip_linux.go).
func setMulticastLoopTTL4(fd int, loop bool, ttl int) error {
	on := 0
	if loop {
		on = 1
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, on); err != nil {
		return fmt.Errorf("IP_MULTICAST_LOOP: %w", err)
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_TTL, ttl); err != nil {
		return fmt.Errorf("IP_MULTICAST_TTL: %w", err)
	}
	return nil
}
