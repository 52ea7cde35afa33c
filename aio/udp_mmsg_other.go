//go:build !linux

package aio

import "golang.org/x/sys/unix"

// Without recvmmsg and sendmmsg (the BSDs have them under other names and
// layouts, macOS not at all), a batch is one recvfrom or sendto per
// datagram: the same calls, without the saving.

type udpBatchState struct{}

func (u *UDPConn) readBatch(msgs []Message) (int, error) {
	n := 0
	for ; n < min(len(msgs), MaxBatch); n++ {
		k, sa, err := unix.Recvfrom(u.pd.fd, msgs[n].Buf, 0)
		if err != nil {
			if n > 0 {
				return n, nil // the error comes back on the next call
			}
			return 0, err
		}
		msgs[n].N = min(k, len(msgs[n].Buf))
		msgs[n].Addr = addrPort(sa)
	}
	return n, nil
}

func (u *UDPConn) writeBatch(msgs []Message) (int, error) {
	for n, m := range msgs {
		family, sa := sockaddr(m.Addr)
		if family == unix.AF_INET && u.sixSocket() {
			sa = &unix.SockaddrInet6{Port: int(m.Addr.Port()), Addr: m.Addr.Addr().As16()}
		}
		if err := unix.Sendto(u.pd.fd, m.Buf, 0, sa); err != nil {
			if n > 0 {
				return n, nil // the error comes back on the next call
			}
			return 0, err
		}
	}
	return len(msgs), nil
}
