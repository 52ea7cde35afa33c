package torrent

import (
	"bytes"
	"crypto/sha1"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/metainfo"
	"github.com/aiotorrent/aiotorrent/peer"
)

// serveMetadata is a minimal BEP 9 peer for tests: it accepts connections,
// answers the extension handshake and serves info (or, if lie is set, info
// with a byte flipped) to every ut_metadata request.
func serveMetadata(at *aio.Task, infoHash [20]byte, info []byte, lie bool) (netip.AddrPort, error) {
	ln, err := aio.ListenTCP(at, loopback)
	if err != nil {
		return netip.AddrPort{}, err
	}
	served := info
	if lie {
		served = append([]byte(nil), info...)
		served[len(served)/2] ^= 1
	}
	aio.Spawn(at, "metadata server", func(t *aio.Task) (struct{}, error) {
		defer ln.Close()
		for {
			tc, err := ln.Accept(t)
			if err != nil {
				return struct{}{}, err
			}
			aio.Spawn(t, "metadata conn", func(t *aio.Task) (struct{}, error) {
				in, err := peer.ReadIncoming(t, tc, time.Second)
				if err != nil {
					return struct{}{}, err
				}
				ours := peer.Handshake{InfoHash: infoHash, PeerID: peer.NewPeerID()}
				ours.Reserved.Set(peer.ExtensionProtocolBit)
				c, _, err := in.Accept(t, ours, peer.Limits{}, time.Second)
				if err != nil {
					return struct{}{}, err
				}
				defer c.Close()
				const theirs = 7 // the id this server takes ut_metadata under
				c.Send(t, peer.AppendExtHandshake(nil, peer.ExtHandshake{M: map[string]int{peer.UTMetadata: theirs}, MetadataSize: len(served)}))
				var fetcherID uint8
				for {
					m, err := c.ReadMessage(t)
					if err != nil {
						return struct{}{}, nil
					}
					if m.ID != peer.Extended {
						continue
					}
					if m.ExtID == 0 {
						h, _ := peer.ParseExtHandshake(m.Payload)
						fetcherID = uint8(h.M[peer.UTMetadata])
						continue
					}
					req, err := peer.ParseMetadataMsg(m.Payload)
					if err != nil || m.ExtID != theirs {
						return struct{}{}, err
					}
					begin := req.Piece * peer.MetadataPieceSize
					c.Send(t, peer.AppendMetadataMsg(nil, fetcherID, peer.MetadataMsg{
						Type: peer.MetadataData, Piece: req.Piece, TotalSize: len(served),
						Data: served[begin:min(len(served), begin+peer.MetadataPieceSize)],
					}))
				}
			})
		}
	})
	return ln.Addr(), nil
}

// bigTorrent makes a torrent whose info dict spans several metadata pieces.
func bigTorrent(t *testing.T) *metainfo.Torrent {
	dir := t.TempDir()
	for i := range 3 {
		f, err := os.Create(filepath.Join(dir, string(rune('a'+i))))
		if err != nil {
			t.Fatal(err)
		}
		f.Truncate(12 << 20) // sparse: 768 pieces of 16 KiB each, 20 bytes of hash apiece
		f.Close()
	}
	m, _, err := metainfo.CreateSync(metainfo.CreateOptions{Path: dir, PieceLength: 16 << 10, Announce: [][]string{{"http://127.0.0.1:1/announce"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.InfoBytes) <= 2*peer.MetadataPieceSize {
		t.Fatalf("info is %d bytes: want several metadata pieces", len(m.InfoBytes))
	}
	return m
}

func TestFetchMetadata(t *testing.T) {
	want := bigTorrent(t)
	got, err := aio.Run(func(at *aio.Task) (*metainfo.Torrent, error) {
		liar, err := serveMetadata(at, want.InfoHash, want.InfoBytes, true)
		if err != nil {
			return nil, err
		}
		honest, err := serveMetadata(at, want.InfoHash, want.InfoBytes, false)
		if err != nil {
			return nil, err
		}
		mag := &metainfo.Magnet{InfoHash: want.InfoHash, Peers: []string{liar.String()}}
		return FetchMetadata(at, mag, FetchConfig{Peers: []netip.AddrPort{honest}, Parallel: 1, Timeout: 20 * time.Second, Logf: t.Logf})
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.InfoHash != want.InfoHash || got.Name != want.Name || len(got.Files) != 3 || got.NumPieces() != want.NumPieces() {
		t.Fatalf("got %s %x with %d files, %d pieces; want %s %x", got.Name, got.InfoHash, len(got.Files), got.NumPieces(), want.Name, want.InfoHash)
	}
}

func TestFetchMetadataNobodyHasIt(t *testing.T) {
	want := bigTorrent(t)
	_, err := aio.Run(func(at *aio.Task) (*metainfo.Torrent, error) {
		liar, err := serveMetadata(at, want.InfoHash, want.InfoBytes, true)
		if err != nil {
			return nil, err
		}
		return FetchMetadata(at, &metainfo.Magnet{InfoHash: want.InfoHash}, FetchConfig{Peers: []netip.AddrPort{liar}, Timeout: 20 * time.Second})
	})
	if !errors.Is(err, ErrNoMetadata) {
		t.Fatalf("got %v, want ErrNoMetadata", err)
	}
}

func TestFetchMetadataFromOurSeeder(t *testing.T) {
	var want *metainfo.Torrent
	got, err := aio.Run(func(at *aio.Task) (*metainfo.Torrent, error) {
		sw, err := newSwarm(t, at, payloadSizes, 16<<10)
		if err != nil {
			return nil, err
		}
		want = sw.meta
		seeder, _, err := sw.node(at, "seeder", sw.src, true, nil)
		if err != nil {
			return nil, err
		}
		_ = seeder
		mag := &metainfo.Magnet{InfoHash: want.InfoHash, Trackers: []string{sw.tracker.AnnounceURL()}}
		return FetchMetadata(at, mag, FetchConfig{Timeout: 20 * time.Second, AnnounceMinInterval: 100 * time.Millisecond, Logf: t.Logf})
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.InfoHash != want.InfoHash || got.NumPieces() != want.NumPieces() || len(got.AnnounceList) != 1 {
		t.Fatalf("got %x (%d pieces, trackers %v), want %x (%d pieces)", got.InfoHash, got.NumPieces(), got.AnnounceList, want.InfoHash, want.NumPieces())
	}
}

func TestVerifyMetadata(t *testing.T) {
	want, err := metainfo.Load("../testdata/multi.torrent")
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), want.InfoBytes...)
	flipped[len(flipped)/2] ^= 1
	unparsable := []byte("de") // hashes right, but an info dict with no pieces
	tests := []struct {
		name    string
		info    []byte
		hash    [20]byte
		wantErr error
	}{
		{"matching", want.InfoBytes, want.InfoHash, nil},
		{"a byte flipped", flipped, want.InfoHash, errWrongMetadata},
		{"matching but unparsable", unparsable, sha1.Sum(unparsable), metainfo.ErrBadPieces},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := verifyMetadata(tt.info, tt.hash)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || m != nil {
					t.Fatalf("got %v, %v; want nil, %v", m, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.InfoHash != want.InfoHash || m.Name != want.Name || !bytes.Equal(m.InfoBytes, want.InfoBytes) {
				t.Fatalf("got %s %x, want %s %x", m.Name, m.InfoHash, want.Name, want.InfoHash)
			}
		})
	}
}

// TestFetchMetadataVerifiesOnTheExecutor: the SHA-1 and parse of fetched
// metadata (up to 8 MiB) ran on the loop thread, stalling every other
// task meanwhile. The trace must show them as an executor job that the
// attempt's task submitted.
func TestFetchMetadataVerifiesOnTheExecutor(t *testing.T) {
	want, err := metainfo.Load("../testdata/multi.torrent")
	if err != nil {
		t.Fatal(err)
	}
	tr := aio.NewTracer(0)
	var honest netip.AddrPort
	_, err = aio.Run(func(at *aio.Task) (*metainfo.Torrent, error) {
		var err error
		if honest, err = serveMetadata(at, want.InfoHash, want.InfoBytes, false); err != nil {
			return nil, err
		}
		mag := &metainfo.Magnet{InfoHash: want.InfoHash}
		return FetchMetadata(at, mag, FetchConfig{Peers: []netip.AddrPort{honest}, Timeout: 20 * time.Second, Logf: t.Logf})
	}, aio.WithTracer(tr))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tr.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var trace struct {
		TraceEvents []struct {
			Name string         `json:"name"`
			Ph   string         `json:"ph"`
			Tid  int            `json:"tid"`
			Args map[string]any `json:"args"`
		} `json:"traceEvents"`
	}
	if err := json.Unmarshal(buf.Bytes(), &trace); err != nil {
		t.Fatal(err)
	}
	workers := map[int]bool{}
	for _, e := range trace.TraceEvents {
		if name, _ := e.Args["name"].(string); e.Ph == "M" && strings.HasPrefix(name, "executor worker") {
			workers[e.Tid] = true
		}
	}
	job := "metadata from " + honest.String()
	for _, e := range trace.TraceEvents {
		if e.Ph == "X" && e.Name == job && workers[e.Tid] {
			return
		}
	}
	t.Fatalf("no executor job named %q in the trace (executor tracks %v)", job, workers)
}

// silentPeer accepts connections and never says a word (a client busy
// elsewhere, or a firewall's tarpit).
func silentPeer(at *aio.Task) (netip.AddrPort, error) {
	ln, err := aio.ListenTCP(at, loopback)
	if err != nil {
		return netip.AddrPort{}, err
	}
	aio.Spawn(at, "silent peer", func(t *aio.Task) (struct{}, error) {
		defer ln.Close()
		var conns []*aio.TCPConn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept(t)
			if err != nil {
				return struct{}{}, err
			}
			conns = append(conns, c)
		}
	})
	return ln.Addr(), nil
}

// TestFetchEndsWhileOthersAreUnderWay: once one peer has delivered the
// metadata, the other attempts end at once. An attempt cancelled in the
// middle of its handshake used to take the cancel as one more failure
// and sleep its retry backoff (0.5–8 s in real use; hours here), with the
// cancel already spent, so the fetch returned late.
func TestFetchEndsWhileOthersAreUnderWay(t *testing.T) {
	want := bigTorrent(t)
	got, err := aio.Run(func(at *aio.Task) (*metainfo.Torrent, error) {
		silent, err := silentPeer(at)
		if err != nil {
			return nil, err
		}
		honest, err := serveMetadata(at, want.InfoHash, want.InfoBytes, false)
		if err != nil {
			return nil, err
		}
		mag := &metainfo.Magnet{InfoHash: want.InfoHash, Peers: []string{silent.String()}}
		cfg := FetchConfig{Peers: []netip.AddrPort{honest}, Parallel: 2, Timeout: 2 * time.Hour, Logf: t.Logf, retryBase: time.Hour}
		return aio.WaitFor(at, 15*time.Second, func(t *aio.Task) (*metainfo.Torrent, error) {
			return FetchMetadata(t, mag, cfg)
		})
	})
	if err != nil {
		t.Fatalf("fetch: %v (an attempt still under way kept the fetch from returning)", err)
	}
	if got.InfoHash != want.InfoHash {
		t.Fatalf("got %x, want %x", got.InfoHash, want.InfoHash)
	}
}
