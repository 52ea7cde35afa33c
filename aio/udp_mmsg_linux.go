package aio

import (
	"encoding/binary"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// x/sys/unix has the Mmsghdr type but no Recvmmsg or Sendmmsg, and its
// Recvfrom and Sendto convert every address through a heap-allocated
// unix.Sockaddr. Here the headers, iovecs and raw addresses are arrays
// allocated once per socket and direction, addresses are decoded straight
// from the raw sockaddr, and a batch costs one system call and no
// allocation.

// mmsgState is one direction's arrays.
type mmsgState struct {
	hdrs  [MaxBatch]unix.Mmsghdr
	iovs  [MaxBatch]unix.Iovec
	names [MaxBatch]unix.RawSockaddrInet6 // large enough for AF_INET too
	// Sending only: the UDP_SEGMENT control message of each header, and
	// how many datagrams each header carries.
	cmsgs [MaxBatch][4]uint64 // uint64: a cmsghdr is 8-byte aligned
	count [MaxBatch]int
}

// udpBatchState is what a UDPConn keeps for batches.
type udpBatchState struct {
	rd, wr *mmsgState
	gso    gsoState
}

// prepare points header i at buf and at name slot i.
func (st *mmsgState) prepare(i int, buf []byte, namelen uint32) {
	iov := &st.iovs[i]
	iov.Base = nil
	if len(buf) > 0 {
		iov.Base = &buf[0]
	}
	iov.SetLen(len(buf))
	h := &st.hdrs[i]
	h.Hdr = unix.Msghdr{Name: (*byte)(unsafe.Pointer(&st.names[i])), Namelen: namelen, Iov: iov}
	h.Hdr.SetIovlen(1)
	h.Len = 0
}

func (u *UDPConn) readBatch(msgs []Message) (int, error) {
	if u.batch.rd == nil {
		u.batch.rd = new(mmsgState)
	}
	st := u.batch.rd
	n := min(len(msgs), MaxBatch)
	for i := range n {
		st.prepare(i, msgs[i].Buf, unix.SizeofSockaddrInet6)
	}
	r, _, errno := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(u.pd.fd), uintptr(unsafe.Pointer(&st.hdrs[0])), uintptr(n), 0, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	for i := range int(r) {
		msgs[i].N = min(int(st.hdrs[i].Len), len(msgs[i].Buf))
		msgs[i].Addr = decodeRaw(&st.names[i])
	}
	return int(r), nil
}

func (u *UDPConn) writeBatch(msgs []Message) (int, error) {
	if u.batch.wr == nil {
		u.batch.wr = new(mmsgState)
		u.batch.gso = probeGSO(u.pd.fd)
	}
	n, err := u.sendmmsg(msgs, u.batch.gso == gsoOn)
	if err != nil && u.batch.wr.count[0] > 1 && err != unix.EAGAIN && err != unix.EINTR {
		// The first run was refused as a run, or one of its datagrams
		// was: send them one per header to find out which. EIO means the
		// device cannot segment at all (no checksum offload), so stop
		// trying on this socket; EINVAL can be one route's MTU below the
		// segment size, or anything else about one datagram.
		if err == unix.EIO {
			u.batch.gso = gsoOff
		}
		return u.sendmmsg(msgs, false)
	}
	return n, err
}

// sendmmsg sends msgs in one system call, runs of them segmented (gso).
func (u *UDPConn) sendmmsg(msgs []Message, gso bool) (int, error) {
	st := u.batch.wr
	six := u.sixSocket()
	nh := 0
	for i := 0; i < len(msgs); nh++ {
		k := 1
		if gso {
			k = gsoRun(msgs[i:])
		}
		h := &st.hdrs[nh]
		*h = unix.Mmsghdr{}
		h.Hdr.Name = (*byte)(unsafe.Pointer(&st.names[nh]))
		h.Hdr.Namelen = encodeRaw(&st.names[nh], msgs[i].Addr, six)
		// A header's datagrams are iovs[i:i+k]: the stack sends them as
		// one buffer, cut every segment size.
		for j := range k {
			st.iovs[i+j] = unix.Iovec{}
			if b := msgs[i+j].Buf; len(b) > 0 {
				st.iovs[i+j].Base = &b[0]
				st.iovs[i+j].SetLen(len(b))
			}
		}
		h.Hdr.Iov = &st.iovs[i]
		h.Hdr.SetIovlen(k)
		if k > 1 {
			h.Hdr.Control = (*byte)(unsafe.Pointer(&st.cmsgs[nh][0]))
			h.Hdr.SetControllen(putSegmentSize(&st.cmsgs[nh], len(msgs[i].Buf)))
		}
		st.count[nh] = k
		i += k
	}
	r, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(u.pd.fd), uintptr(unsafe.Pointer(&st.hdrs[0])), uintptr(nh), 0, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	sent := 0
	for _, k := range st.count[:r] {
		sent += k
	}
	return sent, nil
}

// decodeRaw reads the sender from a raw sockaddr the kernel filled in.
// A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; they are
// unmapped, as addrPort does, so one peer has one address.
func decodeRaw(raw *unix.RawSockaddrInet6) netip.AddrPort {
	port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&raw.Port))[:])
	switch raw.Family {
	case unix.AF_INET:
		raw4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(raw))
		return netip.AddrPortFrom(netip.AddrFrom4(raw4.Addr), port)
	case unix.AF_INET6:
		return netip.AddrPortFrom(netip.AddrFrom16(raw.Addr).Unmap(), port)
	}
	return netip.AddrPort{}
}

// encodeRaw writes ap into raw for a socket of the given family and
// returns the address length. An IPv6 address on an IPv4 socket is
// encoded anyway: the kernel refuses that one datagram.
func encodeRaw(raw *unix.RawSockaddrInet6, ap netip.AddrPort, six bool) uint32 {
	addr := ap.Addr().Unmap()
	if addr.Is4() && !six {
		raw4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(raw))
		*raw4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: addr.As4()}
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&raw4.Port))[:], ap.Port())
		return unix.SizeofSockaddrInet4
	}
	*raw = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: addr.As16()}
	binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&raw.Port))[:], ap.Port())
	return unix.SizeofSockaddrInet6
}
