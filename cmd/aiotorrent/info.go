package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aiotorrent/aiotorrent/metainfo"
	"github.com/spf13/cobra"
)

// InfoOptions holds `aiotorrent info`'s parsed command line.
type InfoOptions struct {
	IO *Factory

	// Source is a .torrent path, "-" for standard input, or a magnet link.
	Source string
	JSON   bool
}

// NewCmdInfo builds `aiotorrent info`. runF, if not nil, replaces infoRun.
func NewCmdInfo(f *Factory, runF func(*InfoOptions) error) *cobra.Command {
	opts := &InfoOptions{IO: f}
	cmd := &cobra.Command{
		Use:   "info FILE.torrent|MAGNET [--json]",
		Short: "Show what a .torrent file or magnet link holds",
		Long: `Show what a .torrent file (or "-" for standard input) or a magnet link
holds: name, info-hash, size, pieces, files, trackers and flags.

--json prints one JSON object instead, for scripts.`,
		Example: `  aiotorrent info ubuntu.torrent
  aiotorrent info --json ubuntu.torrent | jq .info_hash
  aiotorrent info 'magnet:?xt=urn:btih:...'`,
		Args: exactArgs(1, "one FILE.torrent or MAGNET link"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Source = args[0]
			if runF != nil {
				return runF(opts)
			}
			return infoRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print one JSON object")
	return cmd
}

// infoRun prints the torrent or magnet link opts.Source names.
func infoRun(opts *InfoOptions) error {
	if strings.HasPrefix(opts.Source, "magnet:") {
		mg, err := metainfo.ParseMagnet(opts.Source)
		if err != nil {
			return usageError{err} // as everywhere a magnet link is taken
		}
		if opts.JSON {
			return writeJSON(opts.IO.Out, magnetJSONOf(mg))
		}
		return printMagnet(opts.IO.Out, mg)
	}
	m, err := loadMetainfo(opts.IO, opts.Source)
	if err != nil {
		return err
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, infoJSONOf(m))
	}
	return printInfo(opts.IO.Out, m)
}

// loadMetainfo reads a .torrent from path, or from f.In for "-".
func loadMetainfo(f *Factory, path string) (*metainfo.Torrent, error) {
	if strings.HasPrefix(path, "magnet:") {
		return nil, usageError{errors.New("a magnet link holds no file list: this needs the .torrent file")}
	}
	if path != "-" {
		return metainfo.Load(path)
	}
	// One byte past the limit, so an oversized input is reported as such.
	data, err := io.ReadAll(io.LimitReader(f.In, metainfo.MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read standard input: %w", err)
	}
	return metainfo.Parse(data)
}

// infoJSON is `info --json`'s output. Field names are snake_case like the
// metainfo keys they come from; the first eight are the stable core.
type infoJSON struct {
	Name         string     `json:"name"`
	InfoHash     string     `json:"info_hash"`
	Length       int64      `json:"length"`
	PieceLength  int64      `json:"piece_length"`
	Pieces       int        `json:"pieces"`
	Files        []fileJSON `json:"files"`
	Trackers     [][]string `json:"trackers"`
	Private      bool       `json:"private"`
	MultiFile    bool       `json:"multi_file"`
	WebSeeds     []string   `json:"web_seeds"`
	Comment      string     `json:"comment,omitempty"`
	CreatedBy    string     `json:"created_by,omitempty"`
	CreationDate time.Time  `json:"creation_date,omitzero"`
	Source       string     `json:"source,omitempty"`
	Magnet       string     `json:"magnet"`
}

// fileJSON is one file. Path is where it lands below the download
// directory, slash-separated: for a multi-file torrent it starts with the
// torrent's name.
type fileJSON struct {
	Path    string `json:"path"`
	Length  int64  `json:"length"`
	Offset  int64  `json:"offset"`
	Padding bool   `json:"padding,omitempty"`
}

func infoJSONOf(m *metainfo.Torrent) infoJSON {
	out := infoJSON{
		Name: m.Name, InfoHash: m.HexInfoHash(), Length: m.Length,
		PieceLength: m.PieceLength, Pieces: m.NumPieces(),
		Files: []fileJSON{}, Trackers: m.Trackers(), Private: m.Private,
		MultiFile: m.MultiFile, WebSeeds: m.URLList, Comment: m.Comment,
		CreatedBy: m.CreatedBy, CreationDate: m.CreationDate, Source: m.Source,
		Magnet: m.Magnet().String(),
	}
	// Empty lists print as [], not null, so scripts can iterate them.
	if out.WebSeeds == nil {
		out.WebSeeds = []string{}
	}
	for _, f := range m.Layout().Files {
		out.Files = append(out.Files, fileJSON{Path: f.Path, Length: f.Length, Offset: f.Offset, Padding: f.Padding})
	}
	return out
}

// magnetJSON is `info --json` for a magnet link: only what the link holds.
type magnetJSON struct {
	Name     string     `json:"name"`
	InfoHash string     `json:"info_hash"`
	Trackers [][]string `json:"trackers"`
	Peers    []string   `json:"peers"`
	Magnet   string     `json:"magnet"`
}

func magnetJSONOf(mg *metainfo.Magnet) magnetJSON {
	return magnetJSON{
		Name: mg.Name, InfoHash: hex.EncodeToString(mg.InfoHash[:]),
		Trackers: magnetTiers(mg), Peers: append([]string{}, mg.Peers...),
		Magnet: mg.String(),
	}
}

// magnetTiers puts each tr of a magnet link in a tier of its own, as
// libtorrent does: the link has no tiers, and separate tiers make a client
// try every tracker rather than stop at the first that answers.
func magnetTiers(mg *metainfo.Magnet) [][]string {
	tiers := [][]string{}
	for _, tr := range mg.Trackers {
		tiers = append(tiers, []string{tr})
	}
	return tiers
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // magnet links hold &
	return enc.Encode(v)
}

// printInfo writes the human-readable summary of m.
func printInfo(out io.Writer, m *metainfo.Torrent) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "name\t%s\n", printable(m.Name))
	fmt.Fprintf(w, "info-hash\t%s\n", m.HexInfoHash())
	fmt.Fprintf(w, "size\t%s (%d bytes)\n", humanBytes(float64(m.Length)), m.Length)
	fmt.Fprintf(w, "pieces\t%d × %s (%d bytes)\n", m.NumPieces(), humanBytes(float64(m.PieceLength)), m.PieceLength)
	fmt.Fprintf(w, "private\t%s\n", yesNo(m.Private))
	if m.Source != "" {
		fmt.Fprintf(w, "source\t%s\n", printable(m.Source))
	}
	if m.Comment != "" {
		fmt.Fprintf(w, "comment\t%s\n", printable(m.Comment))
	}
	if m.CreatedBy != "" {
		fmt.Fprintf(w, "created by\t%s\n", printable(m.CreatedBy))
	}
	if !m.CreationDate.IsZero() {
		fmt.Fprintf(w, "created on\t%s\n", m.CreationDate.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	fmt.Fprintf(w, "magnet\t%s\n", m.Magnet())
	if err := w.Flush(); err != nil {
		return err
	}
	printTiers(out, m.Trackers())
	if len(m.URLList) > 0 {
		fmt.Fprintln(out, "web seeds:")
		for _, u := range m.URLList {
			fmt.Fprintf(out, "  %s\n", printable(u))
		}
	}
	return printFiles(out, m)
}

// printTiers lists the trackers tier by tier.
func printTiers(out io.Writer, tiers [][]string) {
	if len(tiers) == 0 {
		fmt.Fprintln(out, "trackers: none")
		return
	}
	fmt.Fprintln(out, "trackers:")
	for i, tier := range tiers {
		for j, u := range tier {
			label := ""
			if j == 0 {
				label = fmt.Sprintf("tier %d", i+1)
			}
			fmt.Fprintf(out, "  %-7s  %s\n", label, printable(u))
		}
	}
}

// printFiles lists the files with their index in the torrent, size and
// path below the download directory; padding files are listed (they
// count in the indexes) and marked.
func printFiles(out io.Writer, m *metainfo.Torrent) error {
	files := m.Layout().Files
	fmt.Fprintf(out, "files (%d):\n", len(files))
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	for i, f := range files {
		note := ""
		if f.Padding {
			note = "  (padding)"
		}
		// AlignRight right-aligns every cell, so the path, which must
		// stay left-aligned, goes after the last tab.
		fmt.Fprintf(w, "%d\t%s\t%d\t %s%s\n", i, humanBytes(float64(f.Length)), f.Length, printable(f.Path), note)
	}
	return w.Flush()
}

// printMagnet writes what a magnet link holds, noting what it does not.
func printMagnet(out io.Writer, mg *metainfo.Magnet) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	name := mg.Name
	if name == "" {
		name = "(none given)"
	}
	fmt.Fprintf(w, "magnet link\t(files and sizes come from peers: BEP 9)\n")
	fmt.Fprintf(w, "name\t%s\n", printable(name))
	fmt.Fprintf(w, "info-hash\t%s\n", hex.EncodeToString(mg.InfoHash[:]))
	if err := w.Flush(); err != nil {
		return err
	}
	printTiers(out, magnetTiers(mg))
	if len(mg.Peers) > 0 {
		fmt.Fprintln(out, "peers:")
		for _, p := range mg.Peers {
			fmt.Fprintf(out, "  %s\n", printable(p))
		}
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// printable keeps a hostile name, path or comment from forging output
// lines or sending terminal escapes: a string with control characters is
// printed quoted, escapes spelled out.
func printable(s string) string {
	if strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return fmt.Sprintf("%q", s)
	}
	return s
}
