package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"
)

// The config file holds defaults for download and seed, one key per
// flag, named as the flag is. A flag given on the command line wins over
// the file, the file over the built-in default. Values go through the
// flag's own parser, so they read as on the command line ("2MiB", "90s").
//
//	dir = "/data/torrents"
//	port = 51413
//	max-upload-rate = "1MiB"
//	seed-time = 60      # minutes, as --seed-time
//	no-dht = false

// setting is a key of the config file and the flags it is the default of
// (the first one is set; the key counts as given on the command line when
// any of them is).
type setting struct {
	key   string
	flags []string
}

// settings are the config file's keys, in the order `config` lists them.
var settings = []setting{
	{"dir", []string{"output", "dir"}}, // download only: seed takes DIR as an argument
	{"port", []string{"port"}},
	{"max-peers", []string{"max-peers"}},
	{"max-conns", []string{"max-conns"}},
	{"max-open-files", []string{"max-open-files"}},
	{"max-upload-rate", []string{"max-upload-rate"}},
	{"max-download-rate", []string{"max-download-rate"}},
	{"encryption", []string{"encryption"}},
	{"no-dht", []string{"no-dht"}},
	{"no-lsd", []string{"no-lsd"}},
	{"seed-ratio", []string{"seed-ratio"}},
	{"seed-time", []string{"seed-time"}},
}

// configHelp is what download's and seed's help say of the file.
const configHelp = `Defaults for --dir (download), --port, --max-peers, --max-conns,
--max-open-files, --max-upload-rate, --max-download-rate, --encryption,
--no-dht, --no-lsd, --seed-ratio and --seed-time are read from
$XDG_CONFIG_HOME/aiotorrent/config.toml (~/.config/aiotorrent/
config.toml), or the file --config names; flags override it.
'aiotorrent config' shows what is in effect.`

// defaultConfigPath is $XDG_CONFIG_HOME/aiotorrent/config.toml, or
// ~/.config/aiotorrent/config.toml (the XDG base directory rule, also on
// macOS, where os.UserConfigDir would say ~/Library); "" when neither is
// known.
func defaultConfigPath() string {
	if x := os.Getenv("XDG_CONFIG_HOME"); filepath.IsAbs(x) {
		return filepath.Join(x, "aiotorrent", "config.toml")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".config", "aiotorrent", "config.toml")
	}
	return ""
}

// addConfigFlag adds --config to a command that reads the file.
func addConfigFlag(cmd *cobra.Command, path *string) {
	cmd.Flags().StringVar(path, "config", "", "read defaults from this `FILE` (default "+
		strings.Replace(defaultConfigPath(), os.Getenv("HOME"), "~", 1)+")")
}

// loadedConfig is a config file as read: its path ("" when there is
// none) and its values by key.
type loadedConfig struct {
	path   string
	values map[string]any
}

// loadConfig reads the file named by --config, which must exist, or the
// default one, which may not. Keys that are no setting are an error that
// names the file and the key.
func loadConfig(path string) (loadedConfig, error) {
	given := path != ""
	if !given {
		path = defaultConfigPath()
	}
	if path == "" {
		return loadedConfig{}, nil
	}
	values := map[string]any{}
	_, err := toml.DecodeFile(path, &values)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !given:
		return loadedConfig{}, nil
	case err != nil:
		return loadedConfig{}, usageError{fmt.Errorf("config file %s: %w", path, err)}
	}
	for key := range values {
		if !isSetting(key) {
			return loadedConfig{}, usageError{fmt.Errorf("config file %s: unknown key %q (known: %s)", path, key, settingKeys())}
		}
	}
	return loadedConfig{path, values}, nil
}

func isSetting(key string) bool {
	for _, s := range settings {
		if s.key == key {
			return true
		}
	}
	return false
}

func settingKeys() string {
	keys := make([]string, len(settings))
	for i, s := range settings {
		keys[i] = s.key
	}
	return strings.Join(keys, ", ")
}

// Where a setting's value comes from, as `config` says.
const (
	fromDefault = "default"
	fromFile    = "config file"
	fromFlag    = "flag"
)

// applyConfig loads the config file and sets each of its values on cmd's
// flag unless that flag was given on the command line; keys whose flag
// cmd lacks are left alone. It returns where each setting cmd has comes
// from.
func applyConfig(cmd *cobra.Command, path string) (map[string]string, error) {
	cfg, err := loadConfig(path)
	if err != nil {
		return nil, err
	}
	fl := cmd.Flags()
	from := map[string]string{}
	for _, s := range settings {
		f := fl.Lookup(s.flags[0])
		if f == nil {
			continue
		}
		from[s.key] = fromDefault
		for _, name := range s.flags {
			if fl.Changed(name) {
				from[s.key] = fromFlag
			}
		}
		v, ok := cfg.values[s.key]
		if !ok || from[s.key] == fromFlag {
			continue
		}
		value := tomlString(v)
		if s.key == "dir" {
			value = expandHome(value)
		}
		if err := f.Value.Set(value); err != nil {
			return nil, usageError{fmt.Errorf("config file %s: %s = %v: %w", cfg.path, s.key, v, err)}
		}
		from[s.key] = fromFile
	}
	return from, nil
}

// blameConfig names the config file in a usage error about a value that
// came from it: "--port 99999: want 1-65535" sent the user looking for a
// flag they had not given. configPath is --config's value.
func blameConfig(err error, from map[string]string, configPath string) error {
	ue, ok := err.(usageError)
	if !ok {
		return err
	}
	if configPath == "" {
		configPath = defaultConfigPath()
	}
	for key, src := range from {
		rest, ok := strings.CutPrefix(ue.Error(), "--"+key)
		if ok && src == fromFile && (strings.HasPrefix(rest, " ") || strings.HasPrefix(rest, ":")) {
			return usageError{fmt.Errorf("config file %s: %s%s", configPath, key, rest)}
		}
	}
	return err
}

// expandHome replaces a leading "~/" with the home directory: on the
// command line the shell does it, and a config file is written the same
// way ("dir = '~/Downloads'").
func expandHome(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok || p == "~" {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	return p
}

// tomlString is a TOML value as a flag would be given it.
func tomlString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	default: // a table, an array, a date: no flag reads these
		return fmt.Sprintf("(%T)", v)
	}
}
