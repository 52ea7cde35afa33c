package tracker

import (
	"errors"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// scriptedUDP is a UDP tracker on its own goroutine that drops the first
// `drop` packets, then answers connects with id 42 and announces with
// reply(tid). It reports how many packets it saw.
func scriptedUDP(t *testing.T, drop int, reply func(tid uint32) []byte) (string, func() int) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	seen := make(chan int, 1)
	seen <- 0
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			k := <-seen + 1
			seen <- k
			if k <= drop || n < 16 {
				continue
			}
			tid := be.Uint32(buf[12:])
			if be.Uint32(buf[8:]) == actionConnect {
				pc.WriteTo(appendConnectReply(nil, tid, 42), from)
			} else if be.Uint64(buf) == 42 {
				pc.WriteTo(reply(tid), from)
			}
		}
	}()
	t.Cleanup(func() { pc.Close() })
	return "udp://" + pc.LocalAddr().String(), func() int { k := <-seen; seen <- k; return k }
}

func TestUDPClient(t *testing.T) {
	peers := []netip.AddrPort{ap("10.0.0.1:1"), ap("10.0.0.2:2")}
	good := func(tid uint32) []byte { return appendAnnounceReply(nil, tid, time.Minute, 1, 2, peers, false) }
	refuse := func(tid uint32) []byte { return appendErrorReply(nil, tid, "unregistered torrent") }
	junk := func(tid uint32) []byte { return []byte{0, 0, 0, 1} }
	tests := []struct {
		name     string
		drop     int
		reply    func(uint32) []byte
		err      error
		wantSeen int
		fast     bool
	}{
		{"answers at once", 0, good, nil, 2, true},
		{"connect and announce each lost once", 1, good, nil, 3, true},
		{"three losses", 3, good, nil, 5, true},
		{"action 3 error", 0, refuse, &FailureError{Reason: "unregistered torrent"}, 2, true},
		{"never answers", 1000, good, ErrTimeout, 0, false},
		{"only junk", 0, junk, ErrTimeout, 0, false},
	}
	for _, tt := range tests {
		url, seen := scriptedUDP(t, tt.drop, tt.reply)
		runLoop(t, func(at *aio.Task) error {
			// Exact packet counts need a retry unit no loaded machine
			// overshoots on loopback; the timeout cases need a short one.
			cfg := Config{UDPRetryUnit: 100 * time.Millisecond, Timeout: 5 * time.Second}
			if !tt.fast {
				cfg = Config{UDPRetryUnit: 20 * time.Millisecond, Timeout: 300 * time.Millisecond}
			}
			tr, _ := New(url, cfg)
			got, err := tr.Announce(at, testRequest())
			var fe *FailureError
			switch {
			case tt.err == nil && (err != nil || !slices.Equal(got.Peers, peers) || got.Complete != 2 || got.Incomplete != 1):
				t.Errorf("%s: got %+v, %v; want the peers", tt.name, got, err)
			case errors.As(tt.err, &fe):
				if !errors.As(err, &fe) || fe.Reason != "unregistered torrent" {
					t.Errorf("%s: got %v, want %v", tt.name, err, tt.err)
				}
			case tt.err != nil && !errors.Is(err, tt.err):
				t.Errorf("%s: got %v, want %v", tt.name, err, tt.err)
			}
			if tt.fast && seen() != tt.wantSeen {
				t.Errorf("%s: tracker saw %d packets, want %d", tt.name, seen(), tt.wantSeen)
			}
			return nil
		})
	}
}

// TestOwnServerIPv6 runs both protocols over ::1: UDP answers with 18-byte
// peers, HTTP with peers6.
func TestOwnServerIPv6(t *testing.T) {
	if ln, err := net.Listen("tcp6", "[::1]:0"); err != nil {
		t.Skip("no IPv6 loopback on this machine")
	} else {
		ln.Close()
	}
	v6 := netip.MustParseAddrPort("[::1]:0")
	runLoop(t, func(at *aio.Task) error {
		srv, err := Serve(at, ServerConfig{HTTPAddr: v6, UDPAddr: v6, Interval: time.Minute})
		if err != nil {
			return err
		}
		defer srv.Close()
		for i, url := range []string{srv.AnnounceURL(), srv.UDPAnnounceURL()} {
			a, _ := New(url, Config{Timeout: 5 * time.Second})
			b, _ := New(url, Config{Timeout: 5 * time.Second})
			pa := uint16(8001 + 10*i)
			ih := [20]byte{0x66, byte(i)}
			ra := AnnounceRequest{InfoHash: ih, Port: pa, Left: 1, PeerID: [20]byte{'a'}}
			rb := AnnounceRequest{InfoHash: ih, Port: pa + 1, Left: 1, PeerID: [20]byte{'b'}}
			if _, err := a.Announce(at, ra); err != nil {
				return err
			}
			got, err := b.Announce(at, rb)
			want := []netip.AddrPort{netip.AddrPortFrom(netip.IPv6Loopback(), pa)}
			if err != nil || !slices.Equal(got.Peers, want) {
				t.Errorf("%s: got %+v, %v; want %v", url, got, err, want)
			}
		}
		return nil
	})
}
