package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The load generator of `aiotorrent-bench tracker`: clients announcing
// over loopback as many distinct peers, each from its own 127.x.y.z source
// address (all of 127/8 is loopback on Linux) with its own port in the
// announce. Peer i of the swarm population is torrent i/peers, slot
// i%peers (modulo the torrents, for the churn's new peers); its address is 127.1.k>>8.k&255 with k = i/peersPerIP+1, and
// client c owns the addresses with k%clients == c, so a UDP client needs
// a socket per address it owns, not per peer.

const peersPerIP = 100

// population is the peers the clients announce.
type population struct {
	torrents, peers int
	hashes          [][20]byte
}

func newPopulation(torrents, peers int) *population {
	p := &population{torrents: torrents, peers: peers, hashes: make([][20]byte, torrents)}
	for t := range p.hashes {
		copy(p.hashes[t][:], "aiotorrent-bench")
		binary.BigEndian.PutUint32(p.hashes[t][16:], uint32(t))
	}
	return p
}

func peerIP(i int) netip.Addr {
	k := i/peersPerIP + 1
	return netip.AddrFrom4([4]byte{127, 1, byte(k >> 8), byte(k)})
}

func peerPort(i int) uint16 { return uint16(10000 + i%peersPerIP) }

// owned lists client c's peers among [from, to).
func owned(c, clients, from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		if (i/peersPerIP+1)%clients == c {
			out = append(out, i)
		}
	}
	return out
}

// loadResult is one phase against one server.
type loadResult struct {
	ok, failed int
	wall       time.Duration
	latencies  []time.Duration
}

func (r *loadResult) rate() float64 { return float64(r.ok) / r.wall.Seconds() }

func (r *loadResult) percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	return r.latencies[min(len(r.latencies)-1, int(p*float64(len(r.latencies))))]
}

// announcer announces one peer and says whether the tracker answered with
// peers or counts (not a failure).
type announcer interface {
	announce(pop *population, peer int, numWant int) error
	close()
}

// runLoad runs clients announcers concurrently until limit announces are
// done or d has passed; pick chooses each client's next peer from those
// it owns. Latencies are kept for percentiles.
func runLoad(clients int, d time.Duration, limit int64, newClient func(c int) (announcer, error),
	pick func(c int, rng *rand.Rand) int, pop *population) (*loadResult, error) {
	var done atomic.Int64
	var mu sync.Mutex
	res := &loadResult{}
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, clients)
	for c := range clients {
		a, err := newClient(c)
		if err != nil {
			return nil, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer a.close()
			rng := rand.New(rand.NewPCG(uint64(c), 7))
			var lat []time.Duration
			ok, failed := 0, 0
			for done.Add(1) <= limit && time.Now().Before(deadline) {
				peer := pick(c, rng)
				if peer < 0 {
					break
				}
				t0 := time.Now()
				if err := a.announce(pop, peer, 50); err != nil {
					failed++
					if failed > 1000 && ok == 0 {
						errs[c] = err
						return
					}
					continue
				}
				lat = append(lat, time.Since(t0))
				ok++
			}
			mu.Lock()
			res.ok += ok
			res.failed += failed
			res.latencies = append(res.latencies, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.wall = time.Since(start)
	slices.Sort(res.latencies)
	return res, errors.Join(errs...)
}

// httpAnnouncer dials a connection per announce, as BitTorrent clients
// do, from the peer's own address.
type httpAnnouncer struct {
	server netip.AddrPort
	buf    []byte
}

func (h *httpAnnouncer) close() {}

func (h *httpAnnouncer) announce(pop *population, peer, numWant int) error {
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: peerIP(peer).AsSlice()}}
	c, err := d.Dial("tcp", h.server.String())
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	ih := pop.hashes[(peer/pop.peers)%pop.torrents]
	req := h.buf[:0]
	req = append(req, "GET /announce?info_hash="...)
	req = appendEscaped(req, ih[:])
	req = append(req, "&peer_id=-BE0001-"...)
	req = fmt.Appendf(req, "%012d", peer)
	req = append(req, "&port="...)
	req = strconv.AppendUint(req, uint64(peerPort(peer)), 10)
	req = append(req, "&uploaded=0&downloaded=0&left="...)
	req = strconv.AppendInt(req, int64(peer%2), 10)
	req = append(req, "&compact=1&numwant="...)
	req = strconv.AppendInt(req, int64(numWant), 10)
	req = append(req, " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"...)
	if _, err := c.Write(req); err != nil {
		return err
	}
	resp, err := io.ReadAll(io.LimitReader(c, 64<<10))
	h.buf = req
	if err != nil && len(resp) == 0 {
		return err
	}
	if !bytes.HasPrefix(resp, []byte("HTTP/1.")) || !bytes.Contains(resp[:min(len(resp), 16)], []byte(" 200 ")) {
		return fmt.Errorf("answer %.40q", resp)
	}
	if bytes.Contains(resp, []byte("failure reason")) || !bytes.Contains(resp, []byte("8:interval")) {
		return fmt.Errorf("answer %.200q", resp)
	}
	return nil
}

func appendEscaped(dst, b []byte) []byte {
	const hex = "0123456789ABCDEF"
	for _, c := range b {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' {
			dst = append(dst, c)
		} else {
			dst = append(dst, '%', hex[c>>4], hex[c&15])
		}
	}
	return dst
}

// udpAnnouncer keeps a socket and a BEP 15 connection id per source
// address it announces from.
type udpAnnouncer struct {
	server netip.AddrPort
	socks  map[netip.Addr]*udpSock
	buf    []byte
	tid    uint32
}

type udpSock struct {
	c       *net.UDPConn
	id      uint64
	renewAt time.Time
}

func (u *udpAnnouncer) close() {
	for _, s := range u.socks {
		s.c.Close()
	}
}

func (u *udpAnnouncer) sock(ip netip.Addr) (*udpSock, error) {
	s := u.socks[ip]
	if s == nil {
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
		if err != nil {
			return nil, err
		}
		s = &udpSock{c: c}
		u.socks[ip] = s
	}
	if time.Now().After(s.renewAt) {
		pkt := binary.BigEndian.AppendUint64(u.buf[:0], 0x41727101980)
		pkt = binary.BigEndian.AppendUint32(pkt, 0)
		pkt = binary.BigEndian.AppendUint32(pkt, u.nextTID())
		r, err := u.exchange(s, pkt, 16)
		if err != nil {
			return nil, fmt.Errorf("connect: %w", err)
		}
		s.id = binary.BigEndian.Uint64(r[8:])
		s.renewAt = time.Now().Add(50 * time.Second)
	}
	return s, nil
}

func (u *udpAnnouncer) nextTID() uint32 { u.tid++; return u.tid }

// exchange sends pkt and waits for the answer with its transaction id;
// one second without it is a loss.
func (u *udpAnnouncer) exchange(s *udpSock, pkt []byte, minLen int) ([]byte, error) {
	tid := binary.BigEndian.Uint32(pkt[12:])
	if _, err := s.c.WriteToUDPAddrPort(pkt, u.server); err != nil {
		return nil, err
	}
	s.c.SetReadDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 2048)
	for {
		n, err := s.c.Read(buf)
		if err != nil {
			return nil, err
		}
		if n >= 8 && binary.BigEndian.Uint32(buf[4:]) == tid {
			if n < minLen || binary.BigEndian.Uint32(buf) == 3 {
				return nil, fmt.Errorf("answer %q", buf[:n])
			}
			return buf[:n], nil
		}
	}
}

func (u *udpAnnouncer) announce(pop *population, peer, numWant int) error {
	s, err := u.sock(peerIP(peer))
	if err != nil {
		return err
	}
	ih := pop.hashes[(peer/pop.peers)%pop.torrents]
	pkt := binary.BigEndian.AppendUint64(u.buf[:0], s.id)
	pkt = binary.BigEndian.AppendUint32(pkt, 1)
	pkt = binary.BigEndian.AppendUint32(pkt, u.nextTID())
	pkt = append(pkt, ih[:]...)
	pkt = fmt.Appendf(pkt, "-BE0001-%012d", peer)
	pkt = binary.BigEndian.AppendUint64(pkt, 0)              // downloaded
	pkt = binary.BigEndian.AppendUint64(pkt, uint64(peer%2)) // left
	pkt = binary.BigEndian.AppendUint64(pkt, 0)              // uploaded
	pkt = binary.BigEndian.AppendUint32(pkt, 0)              // event
	pkt = binary.BigEndian.AppendUint32(pkt, 0)              // ip
	pkt = binary.BigEndian.AppendUint32(pkt, uint32(peer))   // key
	pkt = binary.BigEndian.AppendUint32(pkt, uint32(numWant))
	pkt = binary.BigEndian.AppendUint16(pkt, peerPort(peer))
	u.buf = pkt
	_, err = u.exchange(s, pkt, 20)
	return err
}
