package aio

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// UDP generic segmentation offload (Linux 4.18+): one sendmmsg header
// carries a run of datagrams for one destination, all of one size but
// the last (which may be shorter), as one buffer and a UDP_SEGMENT
// control message giving the size. The stack handles the run as one
// packet and cuts it into datagrams at the end, in the NIC where it can
// or just before delivery on loopback, so a window of uTP DATA costs one
// trip through the stack instead of one per packet. quic-go does the
// same. A receiver sees ordinary datagrams.

type gsoState int8

const (
	gsoOff gsoState = iota // not supported, or refused once
	gsoOn
)

const (
	// maxGSOSegments is UDP_MAX_SEGMENTS of older kernels (newer allow 128).
	maxGSOSegments = 64
	// maxGSOBytes keeps a run inside one IP packet's 64 KiB length field,
	// with room for the IPv6 and UDP headers.
	maxGSOBytes = 65000
)

// probeGSO tells whether the kernel knows UDP_SEGMENT on this socket.
func probeGSO(fd int) gsoState {
	if _, err := unix.GetsockoptInt(fd, unix.IPPROTO_UDP, unix.UDP_SEGMENT); err != nil {
		return gsoOff
	}
	return gsoOn
}

// gsoRun is how many datagrams from msgs[0] on can go as one segmented
// send: one destination, one size, the last possibly shorter.
func gsoRun(msgs []Message) int {
	size := len(msgs[0].Buf)
	if size == 0 {
		return 1
	}
	k, total := 1, size
	for k < len(msgs) && k < maxGSOSegments {
		m := &msgs[k]
		if m.Addr != msgs[0].Addr || len(m.Buf) == 0 || len(m.Buf) > size || total+len(m.Buf) > maxGSOBytes {
			break
		}
		k++
		total += len(m.Buf)
		if len(m.Buf) < size {
			break // a shorter datagram ends the run
		}
	}
	return k
}

// putSegmentSize writes a UDP_SEGMENT control message for segments of
// size bytes into b and returns its length.
func putSegmentSize(b *[4]uint64, size int) int {
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level = unix.IPPROTO_UDP
	h.Type = unix.UDP_SEGMENT
	h.SetLen(unix.CmsgLen(2))
	*(*uint16)(unsafe.Add(unsafe.Pointer(&b[0]), unix.CmsgLen(0))) = uint16(size)
	return unix.CmsgSpace(2)
}
