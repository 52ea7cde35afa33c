package main

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/dht"
)

// The DHT is on by default with the well-known routers and a state file
// in the cache directory; --dht-node adds nodes, --state-dir moves the
// state, --no-dht turns it off.
func TestDHTFlags(t *testing.T) {
	got, err := parseCmd(NewCmdSeed, "a.torrent", "dir")
	if err != nil {
		t.Fatal(err)
	}
	if got.DHT.Off || !slices.Equal(got.DHT.Routers, defaultRouters) || got.DHT.StateDir != defaultStateDir() {
		t.Errorf("seed defaults: %+v, want on, the routers, state in %q", got.DHT, defaultStateDir())
	}
	dl, err := parseCmd(NewCmdDownload, "a.torrent", "--no-dht", "--dht-node", "127.0.0.1:7000", "--dht-node", "host:7001", "--state-dir", "/s")
	if err != nil {
		t.Fatal(err)
	}
	cfg := dl.DHT.config()
	wantBoot := append(slices.Clone(defaultRouters), "127.0.0.1:7000", "host:7001")
	if !dl.DHT.Off || !slices.Equal(cfg.Bootstrap, wantBoot) || cfg.StateFile != filepath.Join("/s", "dht.state") {
		t.Errorf("got off %v, bootstrap %q, state %q; want off, %q, /s/dht.state", dl.DHT.Off, cfg.Bootstrap, cfg.StateFile, wantBoot)
	}
	// Options built in code (as tests build them) reach no router.
	if cfg := (dhtFlags{}).config(); len(cfg.Bootstrap) != 0 || cfg.StateFile != "" {
		t.Errorf("zero flags: bootstrap %q, state %q; want none", cfg.Bootstrap, cfg.StateFile)
	}
}

func TestDHTCommandUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"dht", "--listen", ""},
		{"dht", "--listen", "nowhere:1"},
		{"dht", "--listen", "127.0.0.1:0", "--stats-every", "0s"},
		{"dht", "extra"},
	} {
		if r := runCLI(t, "", args...); r.code != exitUsage {
			t.Errorf("%q: exit %d, want %d (stderr %q)", args, r.code, exitUsage, r.errOut)
		}
	}
}

// `aiotorrent dht` as a process: it prints its address and id, answers a
// KRPC ping with that id, counts the ping in its --stats line, and exits
// on SIGINT with 130.
func TestDHTCommandAnswersPing(t *testing.T) {
	bin := buildCLI(t)
	p := startProc(t, bin, "dht", "--listen", "127.0.0.1:0", "--stats", "--stats-every", "50ms")
	line := p.waitLine(t, func(l string) bool { return strings.HasPrefix(l, "dht node listening on ") })
	addrStr, idHex, _ := strings.Cut(strings.TrimPrefix(line, "dht node listening on "), " (id ")
	idHex = strings.TrimSuffix(idHex, ")")
	addr, err := netip.ParseAddrPort(addrStr)
	if err != nil {
		t.Fatalf("line %q: %v", line, err)
	}
	var wantID dht.ID
	if b, err := hex.DecodeString(idHex); err != nil || len(b) != len(wantID) {
		t.Fatalf("line %q: id %q", line, idHex)
	} else {
		copy(wantID[:], b)
	}

	ourID := dht.RandomID()
	var ourPort uint16
	reply, err := aio.Run(func(t *aio.Task) (*dht.Msg, error) {
		conn, err := aio.ListenUDP(t, netip.MustParseAddrPort("127.0.0.1:0"))
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		ourPort = conn.LocalAddr().Port()
		ping := &dht.Msg{T: []byte("pg"), Y: dht.KindQuery, Q: dht.MethodPing, A: dht.Args{ID: ourID}}
		if _, err := conn.WriteTo(t, ping.Encode(), addr); err != nil {
			return nil, err
		}
		// The node also pings us, to see whether we may join its table:
		// answer, so that --stats lists us, and wait for our reply.
		var reply *dht.Msg
		return reply, aio.Timeout(t, 10*time.Second, func(t *aio.Task) error {
			buf := make([]byte, 2048)
			for answered := false; reply == nil || !answered; {
				n, from, err := conn.ReadFrom(t, buf)
				if err != nil {
					return err
				}
				m, err := dht.Decode(buf[:n])
				if err != nil {
					return err
				}
				if m.Y != dht.KindQuery {
					reply = m
					continue
				}
				pong := &dht.Msg{T: m.T, Y: dht.KindResponse, R: dht.Return{ID: ourID}}
				if _, err := conn.WriteTo(t, pong.Encode(), from); err != nil {
					return err
				}
				answered = true
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if reply.Y != dht.KindResponse || string(reply.T) != "pg" || reply.R.ID != wantID {
		t.Fatalf("reply %+v, want a response to \"pg\" with id %s", reply, wantID)
	}
	p.waitLine(t, func(l string) bool { return strings.Contains(l, "received 2,") }) // our ping and our answer
	// --stats lists the table: we answered its ping, so we are in it.
	p.waitLine(t, func(l string) bool { return l == fmt.Sprintf("  %x 127.0.0.1:%d", ourID[:], ourPort) })

	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t); code != exitInterrupt {
		t.Fatalf("exit %d after SIGINT, want %d", code, exitInterrupt)
	}
}

// TestDHTStopsOnSignal: `aiotorrent dht` runs until stopped, and a stop
// is an interruption (exit 130 for SIGINT, 143 for SIGTERM), as for the
// tracker and download. The signal handler is in place before ready is
// called, so the signal cannot reach the test binary's default action.
func TestDHTStopsOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			ready := make(chan struct{})
			done := make(chan error, 1)
			var out bytes.Buffer
			f := &Factory{In: strings.NewReader(""), Out: &out, Err: &out}
			opts := &DHTOptions{Listen: netip.MustParseAddrPort("127.0.0.1:0"), StatsEvery: time.Minute,
				ready: func(netip.AddrPort, func()) { close(ready) }}
			go func() { done <- dhtRun(f, opts) }()
			select {
			case <-ready:
			case err := <-done:
				t.Fatalf("dht stopped before listening: %v", err)
			}
			if err := syscall.Kill(os.Getpid(), sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if !errors.Is(err, interruptionBy(sig)) {
					t.Errorf("dht returned %v after %v, want %v (exit %d)", err, sig, interruptionBy(sig), 128+int(sig))
				}
			case <-time.After(waitTimeout):
				t.Fatalf("dht still running %v after %v", waitTimeout, sig)
			}
		})
	}
}
