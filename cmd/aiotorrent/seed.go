package main

import (
	"github.com/spf13/cobra"
)

// SeedOptions are the flags of `aiotorrent seed`.
type SeedOptions struct {
	Torrent  string
	Dir      string
	Port     int
	MaxPeers int
	Partial  bool
	Quiet    bool
	Verbose  bool
}

// NewCmdSeed builds `aiotorrent seed`.
func NewCmdSeed(f *Factory, runF func(*SeedOptions) error) *cobra.Command {
	opts := &SeedOptions{}
	cmd := &cobra.Command{
		Use:   "seed FILE.torrent DIR",
		Short: "Verify data and seed it until Ctrl-C",
		Long: `Verify the data in DIR against FILE.torrent, then serve it to peers until
interrupted. Incomplete data is refused unless --partial, in which case the
missing pieces are downloaded too.`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Torrent, opts.Dir = args[0], args[1]
			if runF != nil {
				return runF(opts)
			}
			return seedRun(f, opts)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&opts.Port, "port", 6881, "port to listen on (the next free one is taken if busy; 0: any)")
	fl.IntVar(&opts.MaxPeers, "max-peers", 50, "most peer connections")
	fl.BoolVar(&opts.Partial, "partial", false, "seed incomplete data (and download the rest)")
	fl.BoolVarP(&opts.Quiet, "quiet", "q", false, "no progress output")
	fl.BoolVarP(&opts.Verbose, "verbose", "v", false, "log peer events to stderr")
	return cmd
}

func seedRun(f *Factory, opts *SeedOptions) error {
	metas, err := loadTorrents([]string{opts.Torrent})
	if err != nil {
		return err
	}
	return runSessions(f, sessionsPlan{
		metas: metas, dir: opts.Dir, port: opts.Port, maxPeers: opts.MaxPeers,
		seed: true, requireComplete: !opts.Partial, quiet: opts.Quiet, verbose: opts.Verbose,
	})
}
