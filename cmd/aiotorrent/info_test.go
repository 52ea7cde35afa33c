package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// go test ./cmd/aiotorrent -run TestInfoText -update-golden rewrites the
// expected outputs in testdata/ (the flag is named so that it cannot clash
// with another -update in this package).
var updateGolden = flag.Bool("update-golden", false, "rewrite golden files in testdata/")

// checkGolden compares got with testdata/name, or rewrites it.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update-golden to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestInfoFlags(t *testing.T) {
	tests := []struct {
		args []string
		want InfoOptions
	}{
		{[]string{"a.torrent"}, InfoOptions{Source: "a.torrent"}},
		{[]string{"--json", "a.torrent"}, InfoOptions{Source: "a.torrent", JSON: true}},
		{[]string{"-", "--json"}, InfoOptions{Source: "-", JSON: true}},
		{[]string{"magnet:?xt=urn:btih:x"}, InfoOptions{Source: "magnet:?xt=urn:btih:x"}},
	}
	for _, tt := range tests {
		got, err := parseCmd(NewCmdInfo, tt.args...)
		if err != nil {
			t.Fatalf("parse %q: %v", tt.args, err)
		}
		got.IO = nil
		if *got != tt.want {
			t.Errorf("parse %q: got %+v, want %+v", tt.args, *got, tt.want)
		}
	}
}

// TestInfoText checks the human-readable output of every good fixture,
// and of a magnet link, against golden files.
func TestInfoText(t *testing.T) {
	magnet := "magnet:?xt=urn:btih:2a23522b7853749101625ebdd916af82cc6a6c14&dn=multi" +
		"&tr=http%3A%2F%2F127.0.0.1%3A1%2Fannounce&tr=udp%3A%2F%2F127.0.0.1%3A2&x.pe=127.0.0.1:6881"
	tests := []struct{ golden, arg string }{
		{"info/single.txt", "single.torrent"},
		{"info/multi.txt", "multi.torrent"},
		{"info/announce-list.txt", "announce-list.torrent"},
		{"info/padding.txt", "padding.torrent"},
		{"info/private.txt", "private.torrent"},
		{"info/hybrid.txt", "hybrid.torrent"},
		{"info/magnet.txt", magnet},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			arg := tt.arg
			if !strings.HasPrefix(arg, "magnet:") {
				arg = filepath.Join(testdataDir, arg)
			}
			r := runCLI(t, "", "info", arg)
			if r.code != exitOK || r.errOut != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.errOut)
			}
			checkGolden(t, tt.golden, r.out)
		})
	}
}

// TestInfoJSON checks every field of --json for the multi-file fixture,
// whose content metainfo/fixtures_test.go generates.
func TestInfoJSON(t *testing.T) {
	r := runCLI(t, "", "info", "--json", filepath.Join(testdataDir, "multi.torrent"))
	if r.code != exitOK {
		t.Fatalf("exit %d, stderr %q", r.code, r.errOut)
	}
	var got infoJSON
	dec := json.NewDecoder(strings.NewReader(r.out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("decode %q: %v", r.out, err)
	}
	if dec.More() {
		t.Errorf("more than one JSON value in %q", r.out)
	}
	want := infoJSON{
		Name: "multi", InfoHash: "2a23522b7853749101625ebdd916af82cc6a6c14",
		Length: 54010, PieceLength: 16384, Pieces: 4,
		Files: []fileJSON{
			{Path: "multi/.hidden", Length: 10, Offset: 0},
			{Path: "multi/a.txt", Length: 1000, Offset: 10},
			{Path: "multi/a/x.bin", Length: 20000, Offset: 1010},
			{Path: "multi/b/c/d.bin", Length: 33000, Offset: 21010},
			{Path: "multi/empty", Length: 0, Offset: 54010},
		},
		Trackers:     [][]string{{"http://127.0.0.1:1/announce"}, {"udp://127.0.0.1:2", "http://127.0.0.1:3/announce"}},
		MultiFile:    true,
		WebSeeds:     []string{"http://127.0.0.1:4/files/"},
		Comment:      "multi-file fixture",
		CreatedBy:    "aiotorrent fixtures",
		CreationDate: time.Unix(1700000000, 0).UTC(),
		Magnet: "magnet:?xt=urn:btih:2a23522b7853749101625ebdd916af82cc6a6c14&dn=multi" +
			"&tr=http%3A%2F%2F127.0.0.1%3A1%2Fannounce&tr=udp%3A%2F%2F127.0.0.1%3A2&tr=http%3A%2F%2F127.0.0.1%3A3%2Fannounce",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// TestInfoJSONFields checks the keys scripts rely on, as raw JSON: names,
// types, and [] rather than null for empty lists.
func TestInfoJSONFields(t *testing.T) {
	tests := []struct {
		fixture string
		want    map[string]any
	}{
		{"single.torrent", map[string]any{
			"name": "single.dat", "length": 40000.0, "piece_length": 16384.0, "pieces": 3.0,
			"files":    []any{map[string]any{"path": "single.dat", "length": 40000.0, "offset": 0.0}},
			"trackers": []any{[]any{"http://127.0.0.1:1/announce"}}, "private": false, "web_seeds": []any{},
		}},
		{"private.torrent", map[string]any{"private": true, "source": "FIXTURE"}},
		{"announce-list.torrent", map[string]any{
			"trackers": []any{[]any{"http://127.0.0.1:5/a", "http://127.0.0.1:6/a"}, []any{"udp://127.0.0.1:7"}},
		}},
		{"padding.torrent", map[string]any{"files": []any{
			map[string]any{"path": "padded/a.txt", "length": 1000.0, "offset": 0.0},
			map[string]any{"path": "padded/.pad/16384", "length": 15384.0, "offset": 1000.0, "padding": true},
			map[string]any{"path": "padded/a/x.bin", "length": 20000.0, "offset": 16384.0},
			map[string]any{"path": "padded/.pad/16384", "length": 12768.0, "offset": 36384.0, "padding": true},
			map[string]any{"path": "padded/b/c/d.bin", "length": 33000.0, "offset": 49152.0},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			r := runCLI(t, "", "info", "--json", filepath.Join(testdataDir, tt.fixture))
			var got map[string]any
			if err := json.Unmarshal([]byte(r.out), &got); err != nil || r.code != exitOK {
				t.Fatalf("exit %d, %v; stderr %q", r.code, err, r.errOut)
			}
			for k, want := range tt.want {
				if !reflect.DeepEqual(got[k], want) {
					t.Errorf("%s: got %#v, want %#v", k, got[k], want)
				}
			}
			// A torrent without these keys leaves them out rather than
			// printing empty values.
			if _, ok := tt.want["comment"]; !ok && tt.fixture != "multi.torrent" {
				for _, k := range []string{"comment", "created_by", "creation_date"} {
					if v, ok := got[k]; ok {
						t.Errorf("%s present (%v) for a torrent without it", k, v)
					}
				}
			}
		})
	}
}

func TestInfoMagnetJSON(t *testing.T) {
	link := "magnet:?xt=urn:btih:2a23522b7853749101625ebdd916af82cc6a6c14&dn=multi" +
		"&tr=http%3A%2F%2F127.0.0.1%3A1%2Fannounce&tr=udp%3A%2F%2F127.0.0.1%3A2&x.pe=127.0.0.1:6881"
	r := runCLI(t, "", "info", "--json", link)
	var got magnetJSON
	if err := json.Unmarshal([]byte(r.out), &got); err != nil || r.code != exitOK {
		t.Fatalf("exit %d, %v; stderr %q", r.code, err, r.errOut)
	}
	want := magnetJSON{
		Name: "multi", InfoHash: "2a23522b7853749101625ebdd916af82cc6a6c14",
		Trackers: [][]string{{"http://127.0.0.1:1/announce"}, {"udp://127.0.0.1:2"}},
		Peers:    []string{"127.0.0.1:6881"},
		// The link as metainfo.Magnet writes it back: x.pe escaped.
		Magnet: strings.Replace(link, "x.pe=127.0.0.1:6881", "x.pe=127.0.0.1%3A6881", 1),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// TestInfoStdin checks that "-" reads the torrent from standard input.
func TestInfoStdin(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testdataDir, "single.torrent"))
	if err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, string(data), "info", "--json", "-")
	if r.code != exitOK || !strings.Contains(r.out, `"name": "single.dat"`) {
		t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.out, r.errOut)
	}
}

func TestInfoErrors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no argument", []string{"info"}, exitUsage, "info needs one FILE.torrent or MAGNET link"},
		{"two arguments", []string{"info", "a", "b"}, exitUsage, "info takes one FILE.torrent or MAGNET link; got 2"},
		{"missing file", []string{"info", filepath.Join(testdataDir, "nope.torrent")}, exitFailure, "no such file"},
		{"path escapes", []string{"info", filepath.Join(testdataDir, "bad-dotdot.torrent")}, exitFailure, "bad-dotdot.torrent"},
		{"truncated", []string{"info", "--json", filepath.Join(testdataDir, "bad-truncated.torrent")}, exitFailure, "bad-truncated.torrent"},
		{"v2 only", []string{"info", filepath.Join(testdataDir, "bad-v2-only.torrent")}, exitFailure, "not supported"},
		{"bad magnet", []string{"info", "magnet:?xt=urn:btih:123"}, exitUsage, "bad magnet link"},
		{"garbage on stdin", []string{"info", "-"}, exitFailure, "parse metainfo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, "garbage", tt.args...)
			if r.code != tt.wantCode || !strings.Contains(r.errOut, tt.wantErr) || r.out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, no output, an error with %q",
					r.code, r.out, r.errOut, tt.wantCode, tt.wantErr)
			}
		})
	}
}

// TestPrintable checks that names with control characters cannot forge
// output lines or terminal escapes.
func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain name.iso", "plain name.iso"},
		{"ünïcode ✓", "ünïcode ✓"},
		{"two\nlines", `"two\nlines"`},
		{"\x1b[2Jcleared", `"\x1b[2Jcleared"`},
		{"tab\there", `"tab\there"`},
		{"del\x7f", `"del\x7f"`},
	}
	for _, tt := range tests {
		if got := printable(tt.in); got != tt.want {
			t.Errorf("printable(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
