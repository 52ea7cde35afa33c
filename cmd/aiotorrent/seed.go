package main

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// SeedOptions are the flags of `aiotorrent seed`.
type SeedOptions struct {
	Torrents        []string
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
	SeedRatio       float64       // --seed-ratio: stop once uploaded this many times the data
	SeedTime        time.Duration // --seed-time: stop after seeding this long
	Quiet           bool
	Verbose         bool
	Runtime         runtimeFlags // --trace, --stats, --debug
	Config          string       // --config, the file of defaults (config.go)
	Display         displayFlags // --log-file, --summary-interval

	ready func(addr netip.AddrPort, interrupt func()) // see DownloadOptions
}

// NewCmdSeed builds `aiotorrent seed`.
func NewCmdSeed(f *Factory, runF func(*SeedOptions) error) *cobra.Command {
	opts := &SeedOptions{}
	cmd := &cobra.Command{
		Use:   "seed FILE.torrent [FILE.torrent ...] DIR",
		Short: "Verify data and seed it until Ctrl-C",
		Long: `Verify the data in DIR against each FILE.torrent, then serve it to peers
until interrupted, or until --seed-time or --seed-ratio is reached. All
torrents are seeded in one process with one listening port. DIR, the
last argument, is the directory that holds each torrent's file or
folder, as given to 'download -o'. Incomplete data is refused unless
--partial, in which case the missing pieces are downloaded too.

` + seedTimeRule + `

` + configHelp + `

Exit codes: 0 when --seed-time or --seed-ratio is reached, or Ctrl-C or
SIGTERM ends seeding complete data, 1 failure (data missing or
incomplete), 2 usage, 130/143 when stopped while --partial data was still
incomplete.`,
		Example: `  aiotorrent seed ubuntu.iso.torrent ~/Downloads
  aiotorrent seed a.torrent b.torrent ~/Downloads --seed-time 90 --seed-ratio 2`,
		Args: minArgs(2, "FILE.torrent... and the DIR that holds the data"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Torrents, opts.Dir = args[:len(args)-1], args[len(args)-1]
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
			return blameConfig(seedRun(f, opts), from, opts.Config)
		},
	}
	fl := cmd.Flags()
	addPeerFlags(cmd, &opts.Port, &opts.MaxPeers, &opts.MaxConns, &opts.MaxUploadRate, &opts.NoLSD, &opts.Encryption)
	opts.DHT.register(fl)
	fl.StringVarP(&opts.MaxDownloadRate, "max-download-rate", "D", "", "with --partial: limit downloads to this much per second")
	fl.BoolVar(&opts.Partial, "partial", false, "seed incomplete data (and download the rest)")
	addSeedGoalFlags(fl, &opts.SeedRatio, &opts.SeedTime, "")
	fl.BoolVarP(&opts.Quiet, "quiet", "q", false, "print nothing but errors")
	fl.BoolVarP(&opts.Verbose, "verbose", "v", false, "also show tracker announces, peers connecting and dropping, and failed pieces (on stderr)")
	opts.Runtime.register(fl)
	addConfigFlag(cmd, &opts.Config)
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
	if err := checkSeedGoals(opts.SeedRatio, opts.SeedTime); err != nil {
		return err
	}
	for _, a := range opts.Torrents {
		if strings.HasPrefix(a, "magnet:") {
			return usageError{errors.New("seed needs the .torrent file, not a magnet link")}
		}
	}
	metas, _, err := loadTorrents(opts.Torrents)
	if err != nil {
		return err
	}
	if opts.Partial {
		if err := checkOutDir(opts.Dir); err != nil {
			return err
		}
	} else {
		for _, m := range metas {
			if err := checkSeedDir(opts.Dir, m); err != nil {
				if len(metas) > 1 {
					return fmt.Errorf("%s: %w", m.Name, err)
				}
				return err
			}
		}
	}
	return runSessions(f, sessionsPlan{
		metas: metas, runtime: opts.Runtime, dir: opts.Dir, port: opts.Port, maxPeers: opts.MaxPeers, maxConns: opts.MaxConns, noLSD: opts.NoLSD, encryption: opts.Encryption,
		dht: opts.DHT, maxDown: down, maxUp: up,
		seed: true, seedRatio: opts.SeedRatio, seedTime: opts.SeedTime, requireComplete: !opts.Partial, quiet: opts.Quiet, verbose: opts.Verbose, ready: opts.ready,
		display: opts.Display,
	})
}
