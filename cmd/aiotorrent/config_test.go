package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMain points the default config file into an empty directory: no
// test may read the config of the user running it.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "aiotorrent-config")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CONFIG_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func writeConfig(t *testing.T, dir, text string) string {
	t.Helper()
	p := filepath.Join(dir, "config.toml")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConfigFileDefaults: the file's values become the defaults of
// download and seed, and flags given on the command line win.
func TestConfigFileDefaults(t *testing.T) {
	cfg := writeConfig(t, t.TempDir(), `
dir = "/from/file"
port = 7001
max-peers = 9
max-upload-rate = "1MiB"
max-download-rate = 2097152
encryption = "require"
no-dht = true
seed-ratio = 1.5
seed-time = 60
`)
	got, err := parseCmd(NewCmdDownload, "a.torrent", "--config", cfg, "--port", "7002", "-u", "3MiB")
	if err != nil {
		t.Fatal(err)
	}
	if got.OutDir != "/from/file" || got.Port != 7002 || got.MaxPeers != 9 || got.MaxConns != 200 ||
		got.MaxUploadRate != "3MiB" || got.MaxDownloadRate != "2097152" || got.Encryption != "require" ||
		!got.DHT.Off || got.NoLSD || got.SeedRatio != 1.5 || got.SeedTime != time.Hour {
		t.Errorf("download with the config file and --port 7002 -u 3MiB: %+v", *got)
	}
	s, err := parseCmd(NewCmdSeed, "a.torrent", "b.torrent", "here", "--config", cfg, "--seed-time", "90s")
	if err != nil {
		t.Fatal(err)
	}
	if s.Dir != "here" || s.Port != 7001 || s.SeedTime != 90*time.Second || s.SeedRatio != 1.5 || !s.DHT.Off {
		t.Errorf("seed with the config file and --seed-time 90s: %+v", *s)
	}
}

// TestConfigFileDirTilde: "~/" in the file's dir is the home directory,
// as the shell would make it on the command line.
func TestConfigFileDirTilde(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	cfg := writeConfig(t, t.TempDir(), "dir = '~/Downloads'\n")
	got, err := parseCmd(NewCmdDownload, "a.torrent", "--config", cfg)
	if want := filepath.Join(home, "Downloads"); err != nil || got.OutDir != want {
		t.Errorf("dir = '~/Downloads': %v, %v; want %s", got, err, want)
	}
}

// TestConfigFileDirDownloads: a download goes where the default file
// ($XDG_CONFIG_HOME/aiotorrent/config.toml) says, or where -d says.
func TestConfigFileDirDownloads(t *testing.T) {
	root := t.TempDir()
	tp := makeShare(t, root, "share", shareSizes)
	peer := startSeeder(t, tp, root)
	xdg, fileDir, flagDir := t.TempDir(), t.TempDir(), t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", xdg)
	writeConfig(t, filepath.Join(xdg, "aiotorrent"), "dir = '"+fileDir+"'\nno-lsd = true\n")

	for _, tc := range []struct {
		args []string
		dir  string
	}{
		{nil, fileDir},
		{[]string{"-d", flagDir}, flagDir},
	} {
		args := append([]string{tp, "--port", "0", "--no-dht", "--no-lsd", "-q", "--peer", peer}, tc.args...)
		if r := runCLI(t, "", args...); r.code != exitOK {
			t.Fatalf("%q: exit %d, stderr %q", args, r.code, r.errOut)
		}
		wantSameFile(t, filepath.Join(root, "share", "a.bin"), filepath.Join(tc.dir, "share", "a.bin"))
	}
	if entries, _ := os.ReadDir(fileDir); len(entries) != 1 {
		t.Errorf("%s holds %d entries, want 1: -d did not override the file", fileDir, len(entries))
	}
}

// TestConfigFileErrors: an unknown key, a value its flag refuses, a
// missing --config file and bad TOML are usage errors naming the file
// (and the key).
func TestConfigFileErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ text, want string }{
		{"prot = 6881\n", `unknown key "prot"`},
		{"port = 'high'\n", "port = high"},
		{"port = 99999\n", ": port 99999: want 1-65535"}, // it said "--port", a flag nobody gave
		{"seed-time = 'soon'\n", "seed-time = soon"},
		{"port = \n", "config file"},
	} {
		cfg := writeConfig(t, dir, tc.text)
		for _, cmd := range [][]string{{"download", "a.torrent"}, {"seed", "a.torrent", "dir"}, {"config"}} {
			r := runCLI(t, "", append(cmd, "--config", cfg)...)
			if r.code != exitUsage || !strings.Contains(r.errOut, tc.want) || !strings.Contains(r.errOut, cfg) {
				t.Errorf("%s with %q: exit %d, stderr %q; want %d, %q and the file's path", cmd[0], tc.text, r.code, r.errOut, exitUsage, tc.want)
			}
		}
	}
	missing := filepath.Join(dir, "missing.toml")
	if r := runCLI(t, "", "download", "a.torrent", "--config", missing); r.code != exitUsage || !strings.Contains(r.errOut, missing) {
		t.Errorf("--config %s: exit %d, stderr %q; want %d naming the file", missing, r.code, r.errOut, exitUsage)
	}
}

// TestConfigCommand: `aiotorrent config` lists every setting, its value
// and where it comes from.
func TestConfigCommand(t *testing.T) {
	cfg := writeConfig(t, t.TempDir(), "port = 7001\nmax-open-files = 512\nmax-upload-rate = '1MiB'\nseed-time = 10\nno-lsd = true\n")
	r := runCLI(t, "", "config", "--config", cfg, "--port", "7002", "-d", "/x")
	want := "config file: " + cfg + `
dir                /x      (flag)
port               7002    (flag)
max-peers          50      (default)
max-conns          200     (default)
max-open-files     512     (config file)
max-upload-rate    1MiB    (config file)
max-download-rate  none    (default)
encryption         prefer  (default)
no-dht             false   (default)
no-lsd             true    (config file)
seed-ratio         0       (default)
seed-time          10m0s   (config file)
`
	if r.code != exitOK || r.out != want {
		t.Errorf("exit %d, stdout:\n%s\nwant:\n%s", r.code, r.out, want)
	}
	// No file: everything is a default, and the path says so.
	r = runCLI(t, "", "config")
	if want := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "aiotorrent", "config.toml") + " (not found)\n"; r.code != exitOK || !strings.Contains(r.out, want) || strings.Contains(r.out, "(flag)") || strings.Contains(r.out, "(config file)") {
		t.Errorf("no file: exit %d, stdout %q; want all defaults and %q", r.code, r.out, want)
	}
}

// TestConfigRateNamesTheFile: a rate of the file that download refuses
// was reported as "--max-upload-rate: ...", a flag nobody gave.
func TestConfigRateNamesTheFile(t *testing.T) {
	for _, c := range []struct{ line, want string }{
		{`max-upload-rate = "5XB"`, `: max-upload-rate: bad size "5XB"`},
	} {
		cfg := writeConfig(t, t.TempDir(), c.line+"\n")
		for _, args := range [][]string{
			{"download", "x.torrent", "--no-dht", "--no-lsd"},
			{"seed", "x.torrent", ".", "--no-dht", "--no-lsd"},
			{"config"},
		} {
			r := runCLI(t, "", append(args, "--config", cfg)...)
			if want := "aiotorrent: config file " + cfg + c.want; r.code != exitUsage || !strings.HasPrefix(r.errOut, want) {
				t.Errorf("%s with %q: exit %d, stderr %q; want %d and %q", args[0], c.line, r.code, r.errOut, exitUsage, want)
			}
		}
	}
	// Given as a flag, it is the flag's fault.
	r := runCLI(t, "", "download", "x.torrent", "--port", "99999")
	if !strings.HasPrefix(r.errOut, "aiotorrent: --port 99999: want") {
		t.Errorf("--port 99999: stderr %q", r.errOut)
	}
}
