package torrent

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/peer"
	"github.com/aiotorrent/aiotorrent/peer/mse"
	"github.com/aiotorrent/aiotorrent/tracker"
)

// TestLibtorrentMSESmoke dials a libtorrent seeder that forces encryption
// (in and out) with only RC4, or only plaintext-in-MSE, allowed. Using
// package mse and peer alone (no session), it runs the MSE handshake with
// our BitTorrent handshake as the initial payload, then reads the seeder's
// bitfield and fetches one block, which must equal the file's first
// 16 KiB: the handshake and both keystreams agree with libtorrent's.
func TestLibtorrentMSESmoke(t *testing.T) {
	needLibtorrent(t)
	for _, tc := range []struct {
		level string // allowed_enc_level: 1 plaintext, 2 rc4
		want  mse.Method
	}{{"2", mse.RC4}, {"1", mse.Plaintext}} {
		t.Run(tc.want.String(), func(t *testing.T) {
			sw, torrentPath := bigSwarm(t, 1<<20)
			want, err := os.ReadFile(filepath.Join(sw.src, "big.bin"))
			if err != nil {
				t.Fatal(err)
			}
			_, err = aio.Run(func(at *aio.Task) (struct{}, error) {
				seeder := startLibtorrent(t, "libtorrent seeder", torrentPath, sw.src, interopTimeout, "--seed",
					"--set", "out_enc_policy=0", "--set", "in_enc_policy=0", "--set", "allowed_enc_level="+tc.level)
				addr, err := seeder.ready(at)
				if err != nil {
					return struct{}{}, err
				}
				// libtorrent refuses connections until its auto-manager has
				// started the torrent, a second or so after READY.
				for try := 0; ; try++ {
					err = mseFetchBlock(at, addr, sw.meta.InfoHash, len(sw.meta.Pieces), tc.want, want[:peer.BlockSize])
					if err == nil || try == 10 || !hungUp(err) {
						return struct{}{}, err
					}
					if err := aio.Sleep(at, 300*time.Millisecond); err != nil {
						return struct{}{}, err
					}
				}
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// mseFetchBlock dials addr over MSE, offering both methods, and checks
// that method was selected, that the peer's bitfield has every piece, and
// that block 0 of piece 0 is want.
func mseFetchBlock(at *aio.Task, addr netip.AddrPort, ih [20]byte, numPieces int, method mse.Method, want []byte) error {
	tc, err := aio.DialTCP(at, addr, 5*time.Second)
	if err != nil {
		return err
	}
	ours := peer.Handshake{InfoHash: ih, PeerID: [20]byte{'-', 'A', 'I', 'M', 'S', 'E'}}
	s, got, err := mse.Initiate(at, tc, ih, mse.Plaintext|mse.RC4, peer.AppendHandshake(nil, ours), 10*time.Second)
	if err != nil {
		return err
	}
	if got != method {
		return fmt.Errorf("libtorrent selected %v, want %v", got, method)
	}
	c, _, err := peer.DialStreamSent(at, s, ours, peer.Limits{NumPieces: numPieces}, 10*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetIdleTimeout(10 * time.Second)
	if err := c.Send(at, peer.AppendInterested(nil)); err != nil {
		return err
	}
	sawBitfield, requested := false, false
	for {
		m, err := c.ReadMessage(at)
		if err != nil {
			return err
		}
		switch m.ID {
		case peer.Bitfield:
			for i := range numPieces {
				if m.Payload[i/8]&(0x80>>(i%8)) == 0 {
					return fmt.Errorf("bitfield lacks piece %d: %x", i, m.Payload)
				}
			}
			sawBitfield = true
		case peer.Unchoke:
			if !requested {
				requested = true
				if err := c.Send(at, peer.AppendRequest(nil, 0, 0, uint32(len(want)))); err != nil {
					return err
				}
			}
		case peer.Piece:
			if !sawBitfield {
				return fmt.Errorf("a piece before the bitfield")
			}
			if m.Index != 0 || m.Begin != 0 || !bytes.Equal(m.Payload, want) {
				return fmt.Errorf("got block %d/%d of %d bytes, not the file's first %d bytes", m.Index, m.Begin, len(m.Payload), len(want))
			}
			return nil
		}
	}
}

// ltForcedEncryption makes a libtorrent peer take and make encrypted
// connections only, with the given allowed_enc_level (1 plaintext-in-MSE,
// 2 RC4).
func ltForcedEncryption(level string) []string {
	return []string{"--set", "out_enc_policy=0", "--set", "in_enc_policy=0", "--set", "allowed_enc_level=" + level}
}

// TestLibtorrentForcedEncryptionSeedsToUs, issue 12 case 1: a libtorrent
// seeder that forces encryption (RC4, then plaintext-in-MSE) gives us the
// whole torrent, byte-identical. It gave us nothing before MSE ("handshake:
// read: EOF").
func TestLibtorrentForcedEncryptionSeedsToUs(t *testing.T) {
	needLibtorrent(t)
	for _, level := range []string{"2", "1"} {
		t.Run("allowed_enc_level="+level, func(t *testing.T) {
			sw, torrentPath := bigSwarm(t, 16<<20)
			dst := t.TempDir()
			_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
				seeder := startLibtorrent(t, "libtorrent seeder", torrentPath, sw.src, interopTimeout,
					append([]string{"--seed"}, ltForcedEncryption(level)...)...)
				addr, err := seeder.ready(at)
				if err != nil {
					return struct{}{}, err
				}
				return struct{}{}, leechFromLibtorrent(at, sw, dst, addr)
			})
			if err != nil {
				t.Fatal(err)
			}
			sameFile(t, filepath.Join(sw.src, "big.bin"), filepath.Join(dst, "big.bin"))
		})
	}
}

// TestLibtorrentForcedEncryptionLeechesFromUs, case 2: a libtorrent
// leecher that forces encryption downloads from our seeder.
func TestLibtorrentForcedEncryptionLeechesFromUs(t *testing.T) {
	for _, level := range []string{"2", "1"} {
		t.Run("allowed_enc_level="+level, func(t *testing.T) {
			leechIntoLibtorrent(t, 16<<20, ltForcedEncryption(level)...)
		})
	}
}

// TestEncryptionDisableAgainstForcedSeederSaysSo, case 4: with encryption
// disabled, a seeder that forces it hangs up on our plain handshake; the
// log names encryption rather than a bare EOF.
func TestEncryptionDisableAgainstForcedSeederSaysSo(t *testing.T) {
	needLibtorrent(t)
	sw, torrentPath := bigSwarm(t, 1<<20)
	var logged []string
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		seeder := startLibtorrent(t, "libtorrent seeder", torrentPath, sw.src, interopTimeout,
			append([]string{"--seed"}, ltForcedEncryption("3")...)...)
		addr, err := seeder.ready(at)
		if err != nil {
			return struct{}{}, err
		}
		// libtorrent refuses every connection for a second or so after
		// READY, encrypted or not; the refusal this test is about comes
		// after that.
		if err := aio.Sleep(at, 2*time.Second); err != nil {
			return struct{}{}, err
		}
		leech, h, err := sw.nodeWith(at, "leecher", t.TempDir(), false, ClientConfig{Encryption: EncryptionDisable},
			SessionOptions{NoTrackers: true, Peers: []netip.AddrPort{addr}})
		if err != nil {
			return struct{}{}, err
		}
		leech.client.cfg.Logf = func(f string, a ...any) {
			line := fmt.Sprintf(f, a...)
			t.Log("leecher: " + line)
			logged = append(logged, line)
		}
		for range 50 {
			if strings.Contains(strings.Join(logged, "\n"), "may require encryption") {
				break
			}
			if err := aio.Sleep(at, 200*time.Millisecond); err != nil {
				return struct{}{}, err
			}
		}
		h.Cancel()
		if p := leech.Progress(); p.Downloaded != 0 {
			return struct{}{}, fmt.Errorf("downloaded %d bytes from a seeder that forces encryption, with it disabled", p.Downloaded)
		}
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(logged, "\n"), "may require encryption") {
		t.Fatalf("no log line names encryption; log: %q", logged)
	}
}

// TestAria2RequireCrypto, case 3: aria2c with --bt-require-crypto=true
// seeds to us and leeches from us.
func TestAria2RequireCrypto(t *testing.T) {
	aria2 := needTool(t, "aria2c", "aria2")
	t.Run("aria2c seeds", func(t *testing.T) {
		dst := t.TempDir()
		var src string
		_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
			srv, err := tracker.Serve(at, tracker.ServerConfig{HTTPAddr: loopback, Interval: time.Second})
			if err != nil {
				return struct{}{}, err
			}
			defer srv.Close()
			sw, torrentPath := interopSwarm(t, srv.AnnounceURL())
			src = sw.src
			startChild(t, interopTimeout+10*time.Second, "", aria2,
				aria2Args(t, sw.src, "--check-integrity=true", "--seed-ratio=0.0", "--bt-require-crypto=true", torrentPath)...)
			if err := waitSeeders(at, srv.AnnounceURL(), sw.meta.InfoHash, 1); err != nil {
				return struct{}{}, err
			}
			leech, h, err := sw.node(at, "leecher", dst, false, nil)
			if err != nil {
				return struct{}{}, err
			}
			if _, err := aio.AwaitTimeout(at, h, interopTimeout); err != nil {
				return struct{}{}, fmt.Errorf("download from aria2c: %w (progress %+v)", err, leech.Progress())
			}
			return struct{}{}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		sameTree(t, filepath.Join(src, "payload"), filepath.Join(dst, "payload"))
	})
	t.Run("aria2c leeches", func(t *testing.T) {
		dst := t.TempDir()
		var src string
		_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
			srv, err := tracker.Serve(at, tracker.ServerConfig{HTTPAddr: loopback, Interval: time.Second})
			if err != nil {
				return struct{}{}, err
			}
			defer srv.Close()
			sw, torrentPath := interopSwarm(t, srv.AnnounceURL())
			src = sw.src
			if _, _, err := sw.node(at, "seeder", sw.src, true, nil); err != nil {
				return struct{}{}, err
			}
			if err := waitSeeders(at, srv.AnnounceURL(), sw.meta.InfoHash, 1); err != nil {
				return struct{}{}, err
			}
			c := startChild(t, interopTimeout, "", aria2, aria2Args(t, dst, "--seed-time=0", "--bt-require-crypto=true", torrentPath)...)
			return struct{}{}, c.wait(at)
		})
		if err != nil {
			t.Fatal(err)
		}
		sameTree(t, filepath.Join(src, "payload"), filepath.Join(dst, "payload"))
	})
}
