package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/cmd/internal/payload"
	"github.com/aiotorrent/aiotorrent/metainfo"
	"github.com/aiotorrent/aiotorrent/torrent"
	"github.com/aiotorrent/aiotorrent/tracker"
)

// DemoOptions are the flags of `aiotorrent demo`.
type DemoOptions struct {
	Size     string
	Seeders  int
	Keep     bool
	Quiet    bool
	Verbose  bool
	DHT      bool // a local DHT instead of the tracker
	PieceLen string
	Runtime  runtimeFlags
}

// NewCmdDemo builds `aiotorrent demo`.
func NewCmdDemo(f *Factory, runF func(*DemoOptions) error) *cobra.Command {
	opts := &DemoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a whole swarm on loopback: tracker, seeders and a download",
		Long: `Make a multi-file payload in a temporary directory, create a torrent for
it, start the built-in tracker and several seeders on 127.0.0.1, download
it with a progress bar, check the copy byte for byte, and clean up. Needs
no network and no arguments; everything runs on one event loop thread.

With --dht there is no tracker: a DHT of a few nodes on 127.0.0.1 takes
its place, the torrent names no tracker, the seeders announce themselves
on the DHT and the download finds them there (BEP 5).`,
		Args: exactArgs(0, ""),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return demoRun(f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Size, "size", "64MiB", "payload size")
	fl.IntVar(&opts.Seeders, "seeders", 3, "number of seeders")
	fl.StringVar(&opts.PieceLen, "piece-length", "256KiB", "piece length")
	fl.BoolVar(&opts.DHT, "dht", false, "find peers through a local DHT instead of a tracker")
	fl.BoolVar(&opts.Keep, "keep", false, "keep the temporary directory")
	fl.BoolVarP(&opts.Quiet, "quiet", "q", false, "no progress output")
	fl.BoolVarP(&opts.Verbose, "verbose", "v", false, "log peer events to stderr")
	opts.Runtime.register(fl)
	return cmd
}

func demoRun(f *Factory, opts *DemoOptions) error {
	size, err := parseSize(opts.Size)
	if err != nil || size <= 0 {
		return usageError{fmt.Errorf("--size %q: want a size of at least 1 byte (e.g. 64MiB)", opts.Size)}
	}
	pieceLen, err := parseSize(opts.PieceLen)
	if err != nil || pieceLen < 16<<10 || pieceLen&(pieceLen-1) != 0 {
		return usageError{fmt.Errorf("--piece-length must be a power of two of at least 16KiB")}
	}
	if opts.Seeders < 1 {
		return usageError{errors.New("--seeders must be at least 1")}
	}
	root, err := os.MkdirTemp("", "aiotorrent-demo-")
	if err != nil {
		return err
	}
	if opts.Keep {
		fmt.Fprintf(f.Err, "demo directory: %s\n", root)
	} else {
		defer func() {
			os.RemoveAll(root)
			// The summary said "saved in" a path under root.
			if !opts.Quiet {
				fmt.Fprintf(f.Out, "removed %s (--keep keeps it)\n", root)
			}
		}()
	}
	src, dst := filepath.Join(root, "seed"), filepath.Join(root, "download")
	say := func(format string, args ...any) {
		if !opts.Quiet {
			fmt.Fprintf(f.Out, format+"\n", args...)
		}
	}
	say("making a %s payload in %s", humanBytes(float64(size)), root)
	if err := makePayload(filepath.Join(src, "demo"), size); err != nil {
		return err
	}
	return opts.Runtime.loopRun(f, func(t *aio.Task) error {
		return withInterrupt(t, func(t *aio.Task) error {
			return demoSwarm(t, f, opts, say, src, dst, pieceLen)
		})
	})
}

var demoLoopback = netip.MustParseAddrPort("127.0.0.1:0")

// demoSwarm is the demo on the loop: tracker or DHT, torrent, seeders,
// download, check.
func demoSwarm(t *aio.Task, f *Factory, opts *DemoOptions, say func(string, ...any), src, dst string, pieceLen int64) error {
	peers, err := startDemoSource(t, opts.DHT, say)
	if err != nil {
		return err
	}
	defer peers.stop(t)
	meta, _, err := metainfo.Create(t, metainfo.CreateOptions{
		Path: filepath.Join(src, "demo"), PieceLength: pieceLen, Announce: peers.announce,
	}, nil)
	if err != nil {
		return fmt.Errorf("create torrent: %w", err)
	}
	say("torrent %s: %d files, %d pieces of %s, info-hash %x",
		meta.Name, len(meta.Files), meta.NumPieces(), humanBytes(float64(meta.PieceLength)), meta.InfoHash)
	logf := func(string, ...any) {}
	if opts.Verbose {
		logf = func(format string, args ...any) { fmt.Fprintf(f.Err, format+"\n", args...) }
	}
	cc := peers.clientConfig(logf)
	seeders := aio.NewGroup(t)
	defer seeders.Wait(t)
	defer seeders.Cancel()
	for i := range opts.Seeders {
		c, s, err := demoNode(t, meta, src, true, cc)
		if err != nil {
			return err
		}
		say("seeder %d on %s", i+1, c.Addr())
		seeders.Go(fmt.Sprintf("seeder %d", i+1), func(t *aio.Task) error {
			defer c.Close()
			return s.Run(t)
		})
	}
	if peers.dht != nil {
		if err := peers.dht.waitAnnounced(t, meta.InfoHash, opts.Seeders, 30*time.Second); err != nil {
			return fmt.Errorf("the seeders' announces on the DHT: %w", err)
		}
		say("the DHT names all %d seeders", opts.Seeders)
	}
	view := newProgressView(f, meta.Name, meta.Length, opts.Quiet)
	c, s, err := demoNode(t, meta, dst, false, cc)
	if err != nil {
		return err
	}
	s.SetOnProgress(view.update) // the session records its own trace counters
	err = s.Run(t)
	c.Close()
	view.finish(s.Progress())
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	p := s.Progress()
	say("%s", summary(meta.Name, p, filepath.Join(dst, meta.Name)))
	if err := sameFiles(t, filepath.Join(src, "demo"), filepath.Join(dst, "demo")); err != nil {
		return fmt.Errorf("the copy differs from the original: %w", err)
	}
	say("verified: the download is byte-for-byte identical to the original")
	return nil
}

// demoSource is how the demo's peers find one another: the tracker, or
// with --dht a local DHT.
type demoSource struct {
	announce [][]string // the torrent's trackers: none with --dht
	dht      *demoDHT   // nil without --dht
	stop     func(t *aio.Task)
}

func startDemoSource(t *aio.Task, withDHT bool, say func(string, ...any)) (*demoSource, error) {
	if withDHT {
		d, err := startDemoDHT(t, demoDHTNodes)
		if err != nil {
			return nil, err
		}
		say("DHT of %d nodes on 127.0.0.1, joined through %s; no tracker", demoDHTNodes, d.addrs[0])
		return &demoSource{dht: d, stop: d.stop}, nil
	}
	srv, err := tracker.Serve(t, tracker.ServerConfig{HTTPAddr: demoLoopback, UDPAddr: demoLoopback, Interval: 5 * time.Second})
	if err != nil {
		return nil, err
	}
	say("tracker on %s and %s", srv.AnnounceURL(), srv.UDPAnnounceURL())
	return &demoSource{
		announce: [][]string{{srv.AnnounceURL()}, {srv.UDPAnnounceURL()}},
		stop:     func(*aio.Task) { srv.Close() },
	}, nil
}

// clientConfig is a demo client's configuration: on loopback, with the
// local DHT when there is one.
func (s *demoSource) clientConfig(logf func(string, ...any)) torrent.ClientConfig {
	cc := torrent.ClientConfig{ListenAddr: demoLoopback, Logf: logf}
	if s.dht != nil {
		cc.DHT, cc.DHTConfig = true, s.dht.clientConfig()
	}
	return cc
}

func demoNode(t *aio.Task, meta *metainfo.Torrent, dir string, seed bool, cc torrent.ClientConfig) (*torrent.Client, *torrent.Session, error) {
	c, err := torrent.NewClient(t, cc)
	if err != nil {
		return nil, nil, err
	}
	s, err := c.Add(meta, torrent.SessionOptions{Dir: dir, Seed: seed, RequireComplete: seed, AnnounceMinInterval: time.Second})
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	aio.Spawn(t, "listener "+c.Addr().String(), func(t *aio.Task) (struct{}, error) { return struct{}{}, c.Run(t) })
	return c, s, nil
}

// makePayload writes a few files of pseudo-random bytes totalling size,
// with sizes that make pieces straddle files and leave a short last piece.
func makePayload(dir string, size int64) error {
	parts := []struct {
		name string
		frac float64
	}{{"video.bin", 0.55}, {"extras/commentary.bin", 0.3}, {"extras/notes.txt", 0.0001}, {"subtitles.bin", 0}}
	rng := rand.NewChaCha8([32]byte{'a', 'i', 'o'})
	left := size
	for i, p := range parts {
		n := int64(float64(size)*p.frac) + int64(i*1237)
		if i == len(parts)-1 || n > left {
			n = left
		}
		left -= n
		path := filepath.Join(dir, filepath.FromSlash(p.name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := payload.WriteRandom(path, n, rng); err != nil {
			return err
		}
	}
	return nil
}

// sameFiles compares two trees byte for byte, on the executor.
func sameFiles(t *aio.Task, want, got string) error {
	_, err := aio.Blocking(t, func() (struct{}, error) { return struct{}{}, payload.SameTree(want, got) })
	return err
}
