package torrent

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// encryptionPair downloads the swarm's torrent from one seeder with the
// given policies on each side, the leecher told of the seeder. It returns
// the leecher, what it logged, whether any of its connections was RC4,
// and the download's error (a timeout if it never got data).
func encryptionPair(t *testing.T, seed, leech Encryption, within time.Duration) (*Session, []string, bool, error) {
	t.Helper()
	var logged []string
	var l *Session
	rc4 := false
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		sw, err := newSwarm(t, at, payloadSizes, 32<<10)
		if err != nil {
			return struct{}{}, err
		}
		seeder, _, err := sw.nodeWith(at, "seeder", sw.src, true, ClientConfig{Encryption: seed}, SessionOptions{NoTrackers: true})
		if err != nil {
			return struct{}{}, err
		}
		if err := aio.Sleep(at, 200*time.Millisecond); err != nil { // it checks its data
			return struct{}{}, err
		}
		var h *aio.Handle[struct{}]
		l, h, err = sw.nodeWith(at, "leecher", t.TempDir(), false, ClientConfig{Encryption: leech},
			SessionOptions{NoTrackers: true, Peers: []netip.AddrPort{seeder.client.Addr()}})
		if err != nil {
			return struct{}{}, err
		}
		l.client.cfg.Logf = func(f string, a ...any) {
			line := fmt.Sprintf(f, a...)
			t.Log("leecher: " + line)
			logged = append(logged, line)
		}
		l.onVerify = func(int) {
			for _, p := range l.peers {
				rc4 = rc4 || p.encrypted
			}
		}
		_, err = aio.AwaitTimeout(at, h, within)
		return struct{}{}, err
	})
	return l, logged, rc4, err
}

// TestEncryptionPolicies: every pairing of our policies either downloads
// over the connection both allow (RC4 only when one side requires it;
// plaintext-in-MSE when both prefer, as libtorrent chooses), or fails
// with a log line that names encryption.
func TestEncryptionPolicies(t *testing.T) {
	for _, c := range []struct {
		seed, leech Encryption
		rc4         bool
		fail        string // a log line that says why it cannot work
	}{
		{EncryptionPrefer, EncryptionPrefer, false, ""},
		{EncryptionRequire, EncryptionRequire, true, ""},
		{EncryptionRequire, EncryptionPrefer, true, ""},
		{EncryptionPrefer, EncryptionRequire, true, ""},
		{EncryptionDisable, EncryptionPrefer, false, ""}, // falls back to plain
		{EncryptionPrefer, EncryptionDisable, false, ""},
		{EncryptionRequire, EncryptionDisable, false, "may require encryption"},
		{EncryptionDisable, EncryptionRequire, false, "encrypted handshake"},
	} {
		t.Run(fmt.Sprintf("seed %v, leech %v", c.seed, c.leech), func(t *testing.T) {
			within := 30 * time.Second
			if c.fail != "" {
				within = 3 * time.Second
			}
			l, logged, rc4, err := encryptionPair(t, c.seed, c.leech, within)
			if c.fail != "" {
				if err == nil {
					t.Fatal("downloaded, want no connection")
				}
				if all := strings.Join(logged, "\n"); !strings.Contains(all, c.fail) {
					t.Fatalf("no log line says %q; log: %q", c.fail, logged)
				}
				return
			}
			if err != nil {
				t.Fatalf("download: %v; log: %q", err, logged)
			}
			if !l.Progress().Complete {
				t.Fatalf("progress %+v, want complete", l.Progress())
			}
			if rc4 != c.rc4 {
				t.Fatalf("RC4 connection: %v, want %v", rc4, c.rc4)
			}
			// A peer that speaks no MSE is remembered: the next dial goes
			// plain first.
			seedAddr := l.opts.Peers[0]
			if want := c.seed == EncryptionDisable && c.leech == EncryptionPrefer; l.peerList.plainFirst(seedAddr) != want {
				t.Fatalf("plain first for the seeder: %v, want %v", l.peerList.plainFirst(seedAddr), want)
			}
		})
	}
}
