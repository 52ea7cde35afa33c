package torrent

import (
	"fmt"
	"io"
	"net/netip"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// Issue 13's third interop case: libtorrent nodes bootstrap from
// `aiotorrent dht`, run as the command it is. The DHT has three nodes:
// ours and two libtorrent peers, a seeder and a leecher, that know only
// ours. Our node's table gains both, the seeder's announce is stored on
// it, and the leecher finds the seeder through it and completes. (Two
// libtorrent nodes alone could not: a node never names itself as a peer.)
func TestLibtorrentDHTBootstrapsFromOurDHTCommand(t *testing.T) {
	needLibtorrent(t)
	bin := buildAiotorrent(t)
	sw, torrentPath := bigSwarm(t, 4<<20)
	dst := t.TempDir()
	stats := &lineWriter{}
	startChildWith(t, interopTimeout+10*time.Second, "", func(cmd *exec.Cmd) {
		out := &lockedWriter{w: cmd.Stdout}
		cmd.Stdout, cmd.Stderr = io.MultiWriter(out, stats), out
	}, bin, "dht", "--listen", "127.0.0.1:0", "--stats", "--stats-every", "100ms",
		// Every node of this DHT is on 127.0.0.1: the default of 20
		// queries a second per IP would be shared by all of them.
		"--rate-limit", "10000")
	var seedAddr netip.AddrPort
	var leecher *ltPeer
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		line, err := awaitLine(at, stats, "dht node listening on ")
		if err != nil {
			return struct{}{}, err
		}
		addr, _, _ := strings.Cut(strings.TrimPrefix(line, "dht node listening on "), " ")
		ours := []string{"--dht-node", addr}
		seeder := startLibtorrent(t, "libtorrent seeder", torrentPath, sw.src, interopTimeout,
			// Half a second of upload: libtorrent drops a seed once it is
			// one, and peer.py reports only the peers it has seen connected.
			append(append([]string{"--seed", "--upload-rate", strconv.Itoa(8 << 20)}, ours...), ltSettings...)...)
		if seedAddr, err = seeder.ready(at); err != nil {
			return struct{}{}, err
		}
		// The leecher starts once the seeder's announce is on our node:
		// otherwise the seeder may find the leecher first and dial it.
		if _, err := awaitStats(at, stats, func(nodes, peers int) bool { return peers >= 1 }); err != nil {
			return struct{}{}, fmt.Errorf("the seeder's announce: %w", err)
		}
		leecher = startLibtorrent(t, "libtorrent leecher", torrentPath, dst, interopTimeout, append(ours, ltSettings...)...)
		if _, err := leecher.ready(at); err != nil {
			return struct{}{}, err
		}
		if err := leecher.done(at, interopTimeout); err != nil {
			return struct{}{}, err
		}
		line, err = awaitStats(at, stats, func(nodes, peers int) bool { return nodes >= 2 })
		if err != nil {
			return struct{}{}, fmt.Errorf("our table: %w", err)
		}
		t.Logf("aiotorrent dht: %s", line)
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sameFile(t, filepath.Join(sw.src, "big.bin"), filepath.Join(dst, "big.bin"))
	if !slices.ContainsFunc(leecher.peers(), func(p ltPeerInfo) bool { return p.Addr == seedAddr.String() && p.DHT }) {
		t.Fatalf("the leecher's peers %+v: want the seeder %v from the DHT", leecher.peers(), seedAddr)
	}
}

// buildAiotorrent builds the CLI into the test's temporary directory.
func buildAiotorrent(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "aiotorrent")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/aiotorrent/aiotorrent/cmd/aiotorrent").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// awaitLine polls lines for one starting with prefix, for at most 30 s.
func awaitLine(at *aio.Task, lines *lineWriter, prefix string) (string, error) {
	var found string
	err := waitUntil(at, 30*time.Second, func() bool {
		for _, l := range lines.since(0) {
			if strings.HasPrefix(l, prefix) {
				found = l
				return true
			}
		}
		return false
	})
	if err != nil {
		return "", fmt.Errorf("no line %q: %w; last %q", prefix, err, lines.last())
	}
	return found, nil
}

// statsLine is what `aiotorrent dht --stats` prints: the table's size and,
// among the counters, the peers it stores for others.
var statsLine = regexp.MustCompile(`^table (\d+) nodes;.* \((\d+) peers of \d+ torrents stored\)`)

// awaitStats polls the --stats lines until ok accepts one, for at most
// 30 s, and returns it.
func awaitStats(at *aio.Task, lines *lineWriter, ok func(nodes, peers int) bool) (string, error) {
	var found string
	err := waitUntil(at, 30*time.Second, func() bool {
		for _, l := range lines.since(0) {
			m := statsLine.FindStringSubmatch(l)
			if m == nil {
				continue
			}
			nodes, _ := strconv.Atoi(m[1])
			peers, _ := strconv.Atoi(m[2])
			if ok(nodes, peers) {
				found = l
				return true
			}
		}
		return false
	})
	if err != nil {
		return "", fmt.Errorf("%w; last %q", err, lines.last())
	}
	return found, nil
}
