package main

import (
	"errors"
	"net/netip"

	"github.com/spf13/cobra"
)

// SeedOptions are the flags of `aiotorrent seed`.
type SeedOptions struct {
	Torrent         string
	Dir             string
	Port            int
	MaxPeers        int
	MaxConns        int
	NoLSD           bool     // --no-lsd
	DHT             dhtFlags // --no-dht, --dht-node, --state-dir
	Encryption      string   // --encryption
	MaxUploadRate   string
	MaxDownloadRate string
	Partial         bool
	Quiet           bool
	Verbose         bool
	Runtime         runtimeFlags // --trace, --stats, --debug
	Display         displayFlags // --log-file, --summary-interval

	ready func(addr netip.AddrPort, interrupt func()) // see DownloadOptions
}

// NewCmdSeed builds `aiotorrent seed`.
func NewCmdSeed(f *Factory, runF func(*SeedOptions) error) *cobra.Command {
	opts := &SeedOptions{}
	cmd := &cobra.Command{
		Use:   "seed FILE.torrent DIR",
		Short: "Verify data and seed it until Ctrl-C",
		Long: `Verify the data in DIR against FILE.torrent, then serve it to peers until
interrupted. DIR is the directory that holds the torrent's file or
folder, as given to 'download -o'. Incomplete data is refused unless
--partial, in which case the missing pieces are downloaded too.

Exit codes: 0 when Ctrl-C or SIGTERM ends seeding complete data, 1 failure
(data missing or incomplete), 2 usage, 130/143 when stopped while
--partial data was still incomplete.`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Torrent, opts.Dir = args[0], args[1]
			if err := (peerFlags{opts.Port, opts.MaxPeers, opts.MaxConns, opts.Encryption}).check(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return seedRun(f, opts)
		},
	}
	fl := cmd.Flags()
	addPeerFlags(cmd, &opts.Port, &opts.MaxPeers, &opts.MaxConns, &opts.MaxUploadRate, &opts.NoLSD, &opts.Encryption)
	opts.DHT.register(fl)
	fl.StringVarP(&opts.MaxDownloadRate, "max-download-rate", "D", "", "with --partial: limit downloads to this much per second")
	fl.BoolVar(&opts.Partial, "partial", false, "seed incomplete data (and download the rest)")
	fl.BoolVarP(&opts.Quiet, "quiet", "q", false, "no progress output")
	fl.BoolVarP(&opts.Verbose, "verbose", "v", false, "log peer events to stderr")
	opts.Runtime.register(fl)
	opts.Display.register(fl)
	return cmd
}

func seedRun(f *Factory, opts *SeedOptions) error {
	down, err := parseRate("--max-download-rate", opts.MaxDownloadRate)
	if err != nil {
		return err
	}
	up, err := parseRate("--max-upload-rate", opts.MaxUploadRate)
	if err != nil {
		return err
	}
	metas, magnets, err := loadTorrents([]string{opts.Torrent})
	if err != nil {
		return err
	}
	if len(magnets) > 0 {
		return usageError{errors.New("seed needs the .torrent file, not a magnet link")}
	}
	check := func() error { return checkSeedDir(opts.Dir, metas[0]) }
	if opts.Partial {
		check = func() error { return checkOutDir(opts.Dir) }
	}
	if err := check(); err != nil {
		return err
	}
	return runSessions(f, sessionsPlan{
		metas: metas, runtime: opts.Runtime, dir: opts.Dir, port: opts.Port, maxPeers: opts.MaxPeers, maxConns: opts.MaxConns, noLSD: opts.NoLSD, encryption: opts.Encryption,
		dht: opts.DHT, maxDown: down, maxUp: up,
		seed: true, requireComplete: !opts.Partial, quiet: opts.Quiet, verbose: opts.Verbose, ready: opts.ready,
		display: opts.Display,
	})
}
