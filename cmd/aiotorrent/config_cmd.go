package main

import (
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// ConfigOptions are the flags of `aiotorrent config`.
type ConfigOptions struct {
	Config string // --config
	// download is a download command whose settings flags config shares,
	// so that they parse and default exactly as download's do.
	download *cobra.Command
}

// NewCmdConfig builds `aiotorrent config`.
func NewCmdConfig(f *Factory, runF func(*ConfigOptions) error) *cobra.Command {
	opts := &ConfigOptions{download: NewCmdDownload(f, nil)}
	cmd := &cobra.Command{
		Use:   "config [--config FILE] [FLAGS]",
		Short: "Print the settings in effect and where each comes from",
		Long: `Print the settings download and seed start with: each key of the config
file, its value, and where it comes from (default, config file, or a
flag given here, as it would be given to download).

` + configHelp + `

The file is TOML, each key named as its flag:

  dir = "/data/torrents"
  port = 51413
  max-upload-rate = "1MiB"
  encryption = "require"
  seed-time = 60        # minutes, as --seed-time; or "90s", "2h"
  seed-ratio = 2.0
  no-lsd = true`,
		Example: `  aiotorrent config
  aiotorrent config --config ./test.toml --port 7000`,
		Args: exactArgs(0, ""),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return configRun(f, opts)
		},
	}
	addConfigFlag(cmd, &opts.Config)
	for _, s := range settings {
		for _, name := range s.flags {
			cmd.Flags().AddFlag(opts.download.Flags().Lookup(name))
		}
	}
	return cmd
}

func configRun(f *Factory, opts *ConfigOptions) error {
	from, err := applyConfig(opts.download, opts.Config)
	if err != nil {
		return err
	}
	// The checks download makes before it starts, so that config finds
	// what download would refuse.
	fl := opts.download.Flags()
	port, _ := fl.GetInt("port")
	maxPeers, _ := fl.GetInt("max-peers")
	maxConns, _ := fl.GetInt("max-conns")
	enc, _ := fl.GetString("encryption")
	if err := (peerFlags{port, maxPeers, maxConns, enc}).check(); err != nil {
		return blameConfig(err, from, opts.Config)
	}
	for _, rate := range []string{"max-upload-rate", "max-download-rate"} {
		v, _ := fl.GetString(rate)
		if _, err := parseRate("--"+rate, v); err != nil {
			return blameConfig(err, from, opts.Config)
		}
	}
	path := opts.Config
	if path == "" {
		path = defaultConfigPath()
	}
	state := ""
	if _, err := os.Stat(path); err != nil {
		state = " (not found)"
	}
	fmt.Fprintf(f.Out, "config file: %s%s\n", path, state)
	w := tabwriter.NewWriter(f.Out, 0, 0, 2, ' ', 0)
	for _, s := range settings {
		v := opts.download.Flags().Lookup(s.flags[0]).Value.String()
		if v == "" {
			v = "none"
		}
		fmt.Fprintf(w, "%s\t%s\t(%s)\n", s.key, v, from[s.key])
	}
	return w.Flush()
}
