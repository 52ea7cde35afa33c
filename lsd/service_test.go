package lsd

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// The tests run LSD over multicast on the loopback interface, each on a
// free port rather than 6771, so that they hear neither a real client on
// this machine nor another test binary. None is parallel: each runs
// Services that must hear only each other.

var loopback = netip.MustParseAddr("127.0.0.1")

// bound is how long a test waits for a datagram on the loopback interface
// before it gives up: a bound against hanging, not a timing assertion.
const bound = 10 * time.Second

// freePort returns a UDP port nobody is bound to right now.
func freePort(t *aio.Task) (uint16, error) {
	u, err := aio.ListenUDP(t, netip.AddrPortFrom(netip.IPv4Unspecified(), 0))
	if err != nil {
		return 0, err
	}
	defer u.Close()
	return u.LocalAddr().Port(), nil
}

func testConfig(port, listen uint16, logf func(string, ...any)) Config {
	return Config{ListenPort: listen, Interface: loopback, NoIPv6: true, Port: port,
		MinGap: MinGapFloor, Interval: MinGapFloor, Logf: logf}
}

// sniffer is a bare socket on the test's group: it sees every announce
// and sends hand-made ones, from 127.0.0.1.
type sniffer struct {
	conn  *aio.UDPConn
	group netip.AddrPort
}

func newSniffer(t *aio.Task, port uint16) (*sniffer, error) {
	group := netip.AddrPortFrom(Group4, port)
	c, err := aio.ListenMulticastUDP(t, group, aio.MulticastConfig{Interface: loopback})
	return &sniffer{conn: c, group: group}, err
}

func (s *sniffer) send(t *aio.Task, pkt []byte) error {
	_, err := s.conn.WriteTo(t, pkt, s.group)
	return err
}

// next returns the next announce that parses (the sniffer hears its own
// hand-made ones too; they carry the cookie "sniffer").
func (s *sniffer) next(t *aio.Task) (Announce, error) {
	buf := make([]byte, MaxDatagramSize+1)
	for {
		n, _, err := s.conn.ReadFrom(t, buf)
		if err != nil {
			return Announce{}, err
		}
		if a, err := ParseAnnounce(buf[:n]); err == nil && a.Cookie != "sniffer" {
			return a, nil
		}
	}
}

func (s *sniffer) announce(t *aio.Task, port uint16, ihs ...[20]byte) error {
	return s.send(t, AppendAnnounce(nil, s.group.String(), port, ihs, "sniffer"))
}

// foundLog records found calls and wakes the test on each.
type foundLog struct {
	got  []netip.AddrPort
	wake *aio.Event
}

func newFoundLog() *foundLog { return &foundLog{wake: aio.NewEvent()} }

func (f *foundLog) found(p netip.AddrPort) { f.got = append(f.got, p); f.wake.Set() }

// waitFound waits until f holds at least n addresses.
func (f *foundLog) waitFound(t *aio.Task, n int) error {
	return aio.Timeout(t, bound, func(t *aio.Task) error {
		for len(f.got) < n {
			f.wake.Clear()
			if err := f.wake.Wait(t); err != nil {
				return fmt.Errorf("found %v, waiting for %d: %w", f.got, n, err)
			}
		}
		return nil
	})
}

// runService runs svc as a task; stop cancels it and returns Run's error
// if it is anything but the cancel.
func runService(t *aio.Task, svc *Service) (stop func() error) {
	h := aio.Spawn(t, "lsd", func(t *aio.Task) (struct{}, error) { return struct{}{}, svc.Run(t) })
	return func() error {
		h.Cancel()
		if _, err := aio.Await(t, h); !errors.Is(err, aio.ErrCanceled) {
			return fmt.Errorf("Run ended with %v, want aio.ErrCanceled", err)
		}
		return nil
	}
}

func TestTwoServicesFindEachOther(t *testing.T) {
	var gotA, gotB []netip.AddrPort
	logf := t.Logf
	_, err := aio.Run(func(t *aio.Task) (struct{}, error) {
		port, err := freePort(t)
		if err != nil {
			return struct{}{}, err
		}
		a, err := New(t, testConfig(port, 7001, logf))
		if err != nil {
			return struct{}{}, err
		}
		b, err := New(t, testConfig(port, 7002, logf))
		if err != nil {
			return struct{}{}, err
		}
		foundA, foundB := newFoundLog(), newFoundLog()
		a.Register(ihA, false, foundA.found)
		b.Register(ihA, false, foundB.found)
		stopA, stopB := runService(t, a), runService(t, b)
		if err := foundA.waitFound(t, 1); err != nil {
			return struct{}{}, fmt.Errorf("A: %w", err)
		}
		if err := foundB.waitFound(t, 1); err != nil {
			return struct{}{}, fmt.Errorf("B: %w", err)
		}
		gotA, gotB = foundA.got, foundB.got
		return struct{}{}, errors.Join(stopA(), stopB())
	})
	if err != nil {
		t.Fatal(err)
	}
	// Each may have heard the other more than once; never itself.
	for _, c := range []struct {
		name string
		got  []netip.AddrPort
		want string
	}{{"A", gotA, "127.0.0.1:7002"}, {"B", gotB, "127.0.0.1:7001"}} {
		for _, p := range c.got {
			if p.String() != c.want {
				t.Errorf("%s found %v, want only %s", c.name, c.got, c.want)
				break
			}
		}
	}
}

// TestOwnAnnounceIgnored: multicast loopback hands a Service its own
// announce; the cookie must keep it from finding itself.
func TestOwnAnnounceIgnored(t *testing.T) {
	var got []netip.AddrPort
	var stats Stats
	_, err := aio.Run(func(t *aio.Task) (struct{}, error) {
		port, err := freePort(t)
		if err != nil {
			return struct{}{}, err
		}
		sn, err := newSniffer(t, port)
		if err != nil {
			return struct{}{}, err
		}
		a, err := New(t, testConfig(port, 7001, nil))
		if err != nil {
			return struct{}{}, err
		}
		f := newFoundLog()
		a.Register(ihA, false, f.found)
		stop := runService(t, a)
		// Once the sniffer has A's announce, so has A's own socket; the
		// sniffer's announce after it marks when A has handled both.
		err = aio.Timeout(t, bound, func(t *aio.Task) error {
			if _, err := sn.next(t); err != nil {
				return err
			}
			return sn.announce(t, 7777, ihA)
		})
		if err != nil {
			return struct{}{}, err
		}
		if err := f.waitFound(t, 1); err != nil {
			return struct{}{}, err
		}
		got, stats = f.got, a.Stats()
		return struct{}{}, stop()
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:7777")}; !reflect.DeepEqual(got, want) {
		t.Fatalf("found %v, want only the sniffer's %v", got, want)
	}
	if stats.Own < 1 {
		t.Fatalf("stats %+v: our own announce was not seen as ours", stats)
	}
}

// TestPrivateAndUnknownTorrents: a private torrent is left out of our
// announce, and announces for it, or for a torrent nobody registered, find
// nobody; an announce for a public torrent still does.
func TestPrivateAndUnknownTorrents(t *testing.T) {
	private, unknown := [20]byte{0: 'p'}, [20]byte{0: 'u'}
	var sent Announce
	var got []netip.AddrPort
	var stats Stats
	_, err := aio.Run(func(t *aio.Task) (struct{}, error) {
		port, err := freePort(t)
		if err != nil {
			return struct{}{}, err
		}
		sn, err := newSniffer(t, port)
		if err != nil {
			return struct{}{}, err
		}
		a, err := New(t, testConfig(port, 7001, nil))
		if err != nil {
			return struct{}{}, err
		}
		fPrivate, fPublic := newFoundLog(), newFoundLog()
		a.Register(private, true, fPrivate.found)
		a.Register(ihA, false, fPublic.found)
		stop := runService(t, a)
		// Both were registered before Run: a private torrent that were
		// announced would be in this first datagram.
		err = aio.Timeout(t, bound, func(t *aio.Task) error {
			if sent, err = sn.next(t); err != nil {
				return err
			}
			return errors.Join(sn.announce(t, 7777, private), sn.announce(t, 7778, unknown),
				sn.announce(t, 7779, ihA))
		})
		if err != nil {
			return struct{}{}, err
		}
		// Datagrams from one socket arrive in order: once ihA is found,
		// the two before it have been handled.
		if err := fPublic.waitFound(t, 1); err != nil {
			return struct{}{}, err
		}
		got = append(fPrivate.got, fPublic.got...)
		stats = a.Stats()
		return struct{}{}, stop()
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sent.Infohashes, [][20]byte{ihA}) || sent.Port != 7001 {
		t.Fatalf("announced %+v, want only the public torrent, port 7001", sent)
	}
	if want := []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:7779")}; !reflect.DeepEqual(got, want) {
		t.Fatalf("found %v, want only %v", got, want)
	}
	if stats.Unknown != 2 {
		t.Fatalf("stats %+v, want 2 unknown info-hashes", stats)
	}
}

// TestMalformedDatagramsDropped sends garbage at a Service: every piece
// is counted as dropped, the log says why but holds to its burst, and the
// Service goes on to handle a good announce after them.
func TestMalformedDatagramsDropped(t *testing.T) {
	bad := []string{
		"",
		"\x00\xff garbage",
		"GET / HTTP/1.1\r\n\r\n",
		"BT-SEARCH * HTTP/1.1\r\nPort: 0\r\nInfohash: " + hexA + "\r\n\r\n",
		"BT-SEARCH * HTTP/1.1\r\nPort: 70000\r\nInfohash: " + hexA + "\r\n\r\n",
		"BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: nothex\r\n\r\n",
		"BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: " + hexA,
		"BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: " + hexA + "\r\nX: " + strings.Repeat("x", 3000) + "\r\n\r\n",
	}
	var logged []string
	logf := func(format string, args ...any) { logged = append(logged, fmt.Sprintf(format, args...)) }
	var got []netip.AddrPort
	var stats Stats
	_, err := aio.Run(func(t *aio.Task) (struct{}, error) {
		port, err := freePort(t)
		if err != nil {
			return struct{}{}, err
		}
		sn, err := newSniffer(t, port)
		if err != nil {
			return struct{}{}, err
		}
		a, err := New(t, testConfig(port, 7001, logf))
		if err != nil {
			return struct{}{}, err
		}
		f := newFoundLog()
		a.Register(ihA, false, f.found)
		stop := runService(t, a)
		err = aio.Timeout(t, bound, func(t *aio.Task) error {
			for _, b := range bad {
				if err := sn.send(t, []byte(b)); err != nil {
					return err
				}
			}
			return sn.announce(t, 7777, ihA)
		})
		if err != nil {
			return struct{}{}, err
		}
		if err := f.waitFound(t, 1); err != nil {
			return struct{}{}, err
		}
		got, stats = f.got, a.Stats()
		return struct{}{}, stop()
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:7777")}; !reflect.DeepEqual(got, want) {
		t.Fatalf("found %v, want %v", got, want)
	}
	if stats.Dropped != len(bad) {
		t.Fatalf("stats %+v, want %d dropped", stats, len(bad))
	}
	drops := 0
	for _, l := range logged {
		if strings.HasPrefix(l, "lsd: dropped datagram from 127.0.0.1:") {
			drops++
		}
	}
	if drops != logBurst {
		t.Fatalf("logged %d drops, want the burst of %d:\n%s", drops, logBurst, strings.Join(logged, "\n"))
	}
}
