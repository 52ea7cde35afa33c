package main

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/aiotorrent/aiotorrent/torrent"
)

// DownloadOptions are the flags of `aiotorrent download`.
type DownloadOptions struct {
	Torrents []string
	OutDir   string
	Port     int
	MaxPeers int
	Quiet    bool
	Verbose  bool
	Peers    []string
	Seed     bool
}

// NewCmdDownload builds `aiotorrent download`.
func NewCmdDownload(f *Factory, runF func(*DownloadOptions) error) *cobra.Command {
	opts := &DownloadOptions{}
	cmd := &cobra.Command{
		Use:   "download FILE.torrent [FILE.torrent ...]",
		Short: "Download torrents, verified piece by piece",
		Long: `Download one or more torrents into a directory. Data already on disk is
checked first, so an interrupted download resumes where it stopped. Exit
codes: 0 complete, 1 failure, 2 usage, 130 interrupted.`,
		Args: minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Torrents = args
			if runF != nil {
				return runF(opts)
			}
			return downloadRun(f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.OutDir, "output", "o", ".", "download directory")
	fl.IntVar(&opts.Port, "port", 6881, "port to listen on for peers (the next free one is taken if busy; 0: any)")
	fl.IntVar(&opts.MaxPeers, "max-peers", 50, "most peer connections per torrent")
	fl.BoolVarP(&opts.Quiet, "quiet", "q", false, "no progress output")
	fl.BoolVarP(&opts.Verbose, "verbose", "v", false, "log peer events to stderr")
	fl.StringArrayVar(&opts.Peers, "peer", nil, "connect to this peer too (host:port; repeatable)")
	fl.BoolVar(&opts.Seed, "seed", false, "keep seeding after the download completes, until Ctrl-C")
	return cmd
}

func downloadRun(f *Factory, opts *DownloadOptions) error {
	peers, err := parsePeers(opts.Peers)
	if err != nil {
		return usageError{err}
	}
	metas, err := loadTorrents(opts.Torrents)
	if err != nil {
		return err
	}
	return runSessions(f, sessionsPlan{
		metas: metas, dir: opts.OutDir, port: opts.Port, maxPeers: opts.MaxPeers,
		peers: peers, seed: opts.Seed, quiet: opts.Quiet, verbose: opts.Verbose,
	})
}

func loadTorrents(paths []string) ([]*torrent.Metainfo, error) {
	var metas []*torrent.Metainfo
	for _, p := range paths {
		if strings.HasPrefix(p, "magnet:") {
			return nil, fmt.Errorf("%s: magnet links need the metadata exchange (BEP 9), which is not implemented yet", p)
		}
		m, err := torrent.LoadMetainfo(p)
		if err != nil {
			return nil, err
		}
		metas = append(metas, m)
	}
	return metas, nil
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

// summary is the line printed when a download completes.
func summary(name string, p torrent.Progress) string {
	secs := p.Elapsed.Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(p.Downloaded) / secs
	}
	return fmt.Sprintf("%s: %s in %s (%s/s), %d peers used",
		name, humanBytes(float64(p.Total)), p.Elapsed.Round(time.Millisecond), humanBytes(rate), p.PeersSeen)
}
