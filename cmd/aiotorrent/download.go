package main

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/aiotorrent/aiotorrent/metainfo"
	"github.com/aiotorrent/aiotorrent/piece"
	"github.com/aiotorrent/aiotorrent/torrent"
)

// DownloadOptions are the flags of `aiotorrent download`.
type DownloadOptions struct {
	Torrents   []string
	OutDir     string
	Port       int
	MaxPeers   int
	MaxConns   int
	NoLSD      bool     // --no-lsd
	Encryption string   // --encryption
	DHT        dhtFlags // --no-dht, --dht-node, --state-dir
	Quiet      bool
	Verbose    bool
	Peers      []string
	Seed       bool
	// SeedRatio and SeedTime end seeding (and imply --seed).
	SeedRatio float64
	SeedTime  time.Duration
	// MaxDownloadRate and MaxUploadRate are sizes per second ("1MiB");
	// empty or "0" means no limit.
	MaxDownloadRate, MaxUploadRate string
	// Files are the indexes to download (as `info` lists them), "0,2,5-7";
	// Exclude are globs of files to skip.
	Files      string
	Exclude    []string
	Sequential bool
	// WebSeeds are --web-seed URLs (BEP 19), used besides the torrents'
	// url-lists; NoWebSeeds (--no-web-seeds) ignores those url-lists.
	WebSeeds   []string
	NoWebSeeds bool
	// OnComplete is a command run with the path of each torrent that
	// completes (see onCompleteRule).
	OnComplete string
	// Runtime are --trace, --stats and --debug.
	Runtime runtimeFlags
	// Config is --config, the file of defaults (config.go).
	Config  string
	Display displayFlags // --log-file, --summary-interval

	// ready, for tests, is called once the client listens, with its
	// address and a function that acts as Ctrl-C.
	ready func(addr netip.AddrPort, interrupt func())
}

// NewCmdDownload builds `aiotorrent download`.
func NewCmdDownload(f *Factory, runF func(*DownloadOptions) error) *cobra.Command {
	opts := &DownloadOptions{}
	cmd := &cobra.Command{
		Use:   "download FILE.torrent|URL|MAGNET [...]",
		Short: "Download torrents, verified piece by piece",
		Long: `Download one or more torrents into a directory, all in one process with
one listening port. Data already on disk is checked first, so an
interrupted download resumes where it stopped. A torrent may be given as
a file, as the http:// or https:// URL of one (fetched first, at most
10 MiB), or as a magnet link. 'aiotorrent FILE.torrent'
(or a magnet link) with no command is short for 'aiotorrent download'.

--files and --exclude choose files by their index or path as 'aiotorrent
info' lists them; --exclude matches its glob against the full path, the
path inside the torrent and the base name ("*.nfo", "extras/*"). A piece
shared by a wanted and a skipped file is written whole, so the skipped
file may be created holding just those bytes.

` + seedTimeRule + `

` + onCompleteRule + `

` + configHelp + `

A torrent whose disk fails it (too many open files, a file missing or
unreadable, a full disk) says so and tries again after 5 s, then less
and less often, up to every 5 min; the other torrents go on. Data files
are held open in one cache for all torrents (--max-open-files).

Exit codes: 0 complete (also when Ctrl-C ends --seed after completing),
1 failure, 2 usage (a bad magnet link too), 130 Ctrl-C, 143 SIGTERM.`,
		Args: minArgs(1, "a FILE.torrent, URL or MAGNET link (or several)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Torrents = args
			from, err := applyConfig(cmd, opts.Config)
			if err != nil {
				return err
			}
			if err := (peerFlags{opts.Port, opts.MaxPeers, opts.MaxConns, opts.Encryption}).check(); err != nil {
				return blameConfig(err, from, opts.Config)
			}
			if runF != nil {
				return runF(opts)
			}
			return blameConfig(downloadRun(f, opts), from, opts.Config)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.OutDir, "output", "o", ".", "download directory")
	fl.StringVarP(&opts.OutDir, "dir", "d", ".", "the same as --output (aria2c's and transmission-cli's name)")
	addPeerFlags(cmd, &opts.Port, &opts.MaxPeers, &opts.MaxConns, &opts.MaxUploadRate, &opts.NoLSD, &opts.Encryption)
	opts.DHT.register(fl)
	fl.StringVarP(&opts.MaxDownloadRate, "max-download-rate", "D", "", "limit downloads to this much per second, all torrents together (e.g. 2MiB)")
	fl.BoolVarP(&opts.Quiet, "quiet", "q", false, "print nothing but errors")
	fl.BoolVarP(&opts.Verbose, "verbose", "v", false, "also show tracker announces, peers connecting and dropping, and failed pieces (on stderr)")
	opts.Runtime.register(fl)
	opts.Display.register(fl)
	fl.StringArrayVar(&opts.Peers, "peer", nil, "connect to this peer too (ip:port; repeatable)")
	fl.BoolVar(&opts.Seed, "seed", false, "keep seeding after the download completes, until Ctrl-C")
	addSeedGoalFlags(fl, &opts.SeedRatio, &opts.SeedTime, "implies --seed: ")
	fl.StringVar(&opts.Files, "files", "", "download only these files, by index (e.g. 0,2,5-7; one torrent only)")
	fl.StringArrayVar(&opts.Exclude, "exclude", nil, "skip files matching this glob (repeatable)")
	fl.BoolVar(&opts.Sequential, "sequential", false, "download pieces in order (to play a file while it downloads)")
	fl.StringArrayVar(&opts.WebSeeds, "web-seed", nil, "download from this web seed too (http:// URL, BEP 19; repeatable)")
	fl.BoolVar(&opts.NoWebSeeds, "no-web-seeds", false, "ignore the web seeds (url-list) in the torrents")
	addConfigFlag(cmd, &opts.Config)
	fl.StringVar(&opts.OnComplete, "on-complete", "", "run `CMD` with the path of each torrent once it is complete (by /bin/sh: \"CMD PATH\")")
	return cmd
}

// noUTP is --no-utp (download, seed), read by listen: a flag of the
// process, like the port, so it is kept beside addPeerFlags.
var noUTP bool

// maxOpenFiles is --max-open-files (download, seed), read by listen: one
// file cache serves every torrent of the process.
var maxOpenFiles int

// addPeerFlags adds the flags download and seed share.
func addPeerFlags(cmd *cobra.Command, port, maxPeers, maxConns *int, maxUp *string, noLSD *bool, encryption *string) {
	fl := cmd.Flags()
	fl.StringVar(encryption, "encryption", "prefer", "peer connections: prefer (encrypted first, plain if the peer needs it), require (encrypted only) or disable (plain only)")
	fl.BoolVar(&noUTP, "no-utp", false, "speak TCP only: take no uTP (BEP 29) connections on our UDP port and dial none")
	fl.BoolVar(noLSD, "no-lsd", false, "do not look for peers on the local network (BEP 14 local service discovery)")
	fl.IntVar(port, "port", 6881, "port to listen on for peers (the next free one is taken if busy; 0: any)")
	fl.IntVar(maxPeers, "max-peers", 50, "most peer connections per torrent")
	fl.IntVar(maxConns, "max-conns", 200, "most peer connections in all")
	fl.IntVar(&maxOpenFiles, "max-open-files", piece.DefaultMaxOpenFiles, "most data files held open at once, all torrents together")
	fl.StringVarP(maxUp, "max-upload-rate", "u", "", "limit uploads to this much per second, all torrents together (e.g. 512KiB)")
}

func downloadRun(f *Factory, opts *DownloadOptions) error {
	peers, err := parsePeers(opts.Peers)
	if err != nil {
		return usageError{err}
	}
	if err := checkSeedGoals(opts.SeedRatio, opts.SeedTime); err != nil {
		return err
	}
	if opts.Files != "" && len(opts.Torrents) > 1 {
		return usageError{fmt.Errorf("--files takes indexes of one torrent; %d given (use --exclude)", len(opts.Torrents))}
	}
	down, err := parseRate("--max-download-rate", opts.MaxDownloadRate)
	if err != nil {
		return err
	}
	up, err := parseRate("--max-upload-rate", opts.MaxUploadRate)
	if err != nil {
		return err
	}
	metas, magnets, err := loadTorrents(opts.Torrents)
	if err != nil {
		return err
	}
	if len(magnets) > 0 && (opts.Files != "" || len(opts.Exclude) > 0) {
		return usageError{errors.New("--files and --exclude need the torrent file: a magnet link's file list is only known once its metadata arrives")}
	}
	skips, err := selectFiles(metas, opts.Files, opts.Exclude)
	if err != nil {
		return err
	}
	if err := checkOutDir(opts.OutDir); err != nil {
		return err
	}
	return runSessions(f, sessionsPlan{
		metas: metas, magnets: magnets, runtime: opts.Runtime, dir: opts.OutDir, port: opts.Port, maxPeers: opts.MaxPeers, maxConns: opts.MaxConns, noLSD: opts.NoLSD, encryption: opts.Encryption,
		dht: opts.DHT, peers: peers, seed: opts.Seed || opts.SeedRatio > 0 || opts.SeedTime > 0,
		seedRatio: opts.SeedRatio, seedTime: opts.SeedTime, maxDown: down, maxUp: up,
		skips: skips, sequential: opts.Sequential,
		webSeeds: opts.WebSeeds, noWebSeeds: opts.NoWebSeeds,
		quiet: opts.Quiet, verbose: opts.Verbose, ready: opts.ready,
		onComplete: opts.OnComplete,
		display:    opts.Display,
	})
}

// parseRate reads a rate limit: a size per second ("2MiB", "500k",
// "1MB/s"); empty is no limit.
func parseRate(flag, s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := parseSize(strings.TrimSuffix(strings.TrimSpace(s), "/s"))
	if err != nil {
		return 0, usageError{fmt.Errorf("%s: %w", flag, err)}
	}
	return n, nil
}

// loadTorrents reads .torrent files, fetches those given by http(s) URL,
// and parses magnet links, whose metadata is fetched from peers once the
// loop runs.
func loadTorrents(args []string) ([]*metainfo.Torrent, []*metainfo.Magnet, error) {
	var metas []*metainfo.Torrent
	var magnets []*metainfo.Magnet
	for _, a := range args {
		if strings.HasPrefix(a, "magnet:") {
			mag, err := metainfo.ParseMagnet(a)
			if err != nil {
				return nil, nil, usageError{err}
			}
			magnets = append(magnets, mag)
			continue
		}
		load := metainfo.Load
		if isTorrentURL(a) {
			load = fetchTorrent
		}
		m, err := load(a)
		if err != nil {
			return nil, nil, err
		}
		metas = append(metas, m)
	}
	return metas, magnets, nil
}

func parsePeers(list []string) ([]netip.AddrPort, error) {
	var out []netip.AddrPort
	for _, s := range list {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return nil, fmt.Errorf("--peer %q: want ip:port: %w", s, err)
		}
		out = append(out, ap)
	}
	return out, nil
}

// summary is the line printed when a download completes: what this run
// fetched (not the torrent's size when it resumed), in how long, from
// how many peers, where it is, and what was uploaded:
//
//	share: 108.4 KiB in 1.2s (90.3 KiB/s) from 2 peers, 30.0% of 361.3 KiB (the rest was on disk); saved in /data/share; 0 B uploaded, ratio 0.00
func summary(name string, p torrent.Progress, path string) string {
	fetched := p.Verified - p.Resumed
	var b strings.Builder
	if fetched <= 0 && p.Resumed > 0 {
		fmt.Fprintf(&b, "%s: complete on disk already (%s, checked in %s)", name, humanBytes(float64(p.Total)), summaryDuration(p.Elapsed))
	} else {
		rate := 0.0
		if secs := p.Elapsed.Seconds(); secs > 0 {
			rate = float64(fetched) / secs
		}
		from := plural(p.PeersSeen, "peer")
		if p.WebSeeds > 0 {
			from += " and " + plural(p.WebSeeds, "web seed")
		}
		fmt.Fprintf(&b, "%s: %s in %s (%s/s) from %s", name, humanBytes(float64(fetched)), summaryDuration(p.Elapsed), humanBytes(rate), from)
		if p.Resumed > 0 {
			fmt.Fprintf(&b, ", %s of %s (the rest was on disk)", percent(torrent.Progress{Verified: fetched, Total: p.Total}), humanBytes(float64(p.Total)))
		}
	}
	fmt.Fprintf(&b, "; saved in %s; %s uploaded, ratio %s", path, humanBytes(float64(p.Uploaded)), ratio(p))
	return b.String()
}

// seedSummary is the line printed when seeding ends:
//
//	share: seeded for 5m00s: 45.0 MiB uploaded, ratio 0.37; 3 peers connected; data in /data/share
func seedSummary(name string, p torrent.Progress, seeded time.Duration, path string) string {
	return fmt.Sprintf("%s: seeded for %s: %s uploaded, ratio %s; %s connected; data in %s", name, summaryDuration(seeded),
		humanBytes(float64(p.Uploaded)), ratio(p), plural(p.PeersSeen, "peer"), path)
}

// stoppedSummary is the line printed when a download is stopped before it
// completes (Ctrl-C, SIGTERM, another torrent failing): how far it got,
// what this run fetched, and that running it again resumes.
func stoppedSummary(name string, p torrent.Progress) string {
	return fmt.Sprintf("%s: stopped at %s (%s of %s; %s fetched in %s); run the same command to resume",
		name, percent(p), humanBytes(float64(p.Verified)), humanBytes(float64(p.Total)),
		humanBytes(float64(p.Downloaded)), summaryDuration(p.Elapsed))
}
