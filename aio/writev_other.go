//go:build freebsd || dragonfly || netbsd

package aio

import "golang.org/x/sys/unix"

// writev writes the first non-empty buffer only: x/sys/unix has no Writev
// on these systems. Callers loop until everything is written, so this is
// correct, only not a single syscall.
func writev(fd int, bufs [][]byte) (int, error) {
	for _, b := range bufs {
		if len(b) > 0 {
			return unix.Write(fd, b)
		}
	}
	return 0, nil
}
