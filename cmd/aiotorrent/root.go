package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Factory carries what every command needs from its surroundings, so that
// tests can run commands against buffers (the pattern of GitHub's gh).
type Factory struct {
	In       io.Reader
	Out, Err io.Writer
	// IsTerminal reports whether Out is a terminal (progress bars) or a
	// pipe (plain progress lines).
	IsTerminal bool
}

// NewFactory returns a Factory on the process's standard streams.
func NewFactory() *Factory {
	fi, err := os.Stdout.Stat()
	return &Factory{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		IsTerminal: err == nil && fi.Mode()&os.ModeCharDevice != 0,
	}
}

// Exit codes, as --help lists them.
const (
	exitOK        = 0
	exitFailure   = 1
	exitUsage     = 2
	exitInterrupt = 128 + int(syscall.SIGINT) // 130, what shells expect
	exitTerminate = 128 + int(syscall.SIGTERM)
)

// interruption ends a command stopped by a signal; Main exits with 128 +
// the signal's number, as a shell reports a process the signal killed.
type interruption struct{ sig syscall.Signal }

func (e interruption) Error() string {
	if e.sig == syscall.SIGTERM {
		return "terminated"
	}
	return "interrupted"
}

// errInterrupted and errTerminated are returned by a command stopped with
// Ctrl-C and by `kill` (SIGTERM).
var (
	errInterrupted error = interruption{syscall.SIGINT}
	errTerminated  error = interruption{syscall.SIGTERM}
)

// interruptionBy is the error for a command stopped by sig.
func interruptionBy(sig os.Signal) error {
	if sig == syscall.SIGTERM {
		return errTerminated
	}
	return errInterrupted
}

// rootLong is the root command's help: the version, and what exit codes
// mean, which every command shares.
const rootLong = `aiotorrent %s: a BitTorrent client on its own epoll/kqueue event loop.

  aiotorrent [FLAGS] FILE.torrent|URL|MAGNET ...   is short for
  aiotorrent download [FLAGS] FILE.torrent|URL|MAGNET ...

Defaults for download and seed (directory, port, rate limits, encryption,
seeding goals) can be kept in $XDG_CONFIG_HOME/aiotorrent/config.toml
(~/.config/aiotorrent/config.toml); 'aiotorrent config' shows them.

Exit codes:
  0    done: downloads complete (also when Ctrl-C or SIGTERM ends the
       seeding of complete data)
  1    failure: a torrent that cannot be read, data that fails, no disk space
  2    usage: a bad flag, argument, magnet link or config file
  130  interrupted by Ctrl-C (SIGINT) before the work was done
  143  terminated by SIGTERM before the work was done`

// usageError marks an error in the command line itself.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// NewCmdRoot builds the command tree.
func NewCmdRoot(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:           "aiotorrent",
		Short:         "A BitTorrent client on its own epoll/kqueue event loop",
		Long:          fmt.Sprintf(rootLong, Version()),
		Version:       Version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// Declared here so that cobra does not take -v, which every other
	// command uses for --verbose.
	root.Flags().Bool("version", false, "print the version")
	root.SetVersionTemplate("aiotorrent {{.Version}}\n")
	root.SetOut(f.Out)
	root.SetErr(f.Err)
	root.SetIn(f.In)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		NewCmdDownload(f, nil),
		NewCmdSeed(f, nil),
		NewCmdCreate(f, nil),
		NewCmdInfo(f, nil),
		NewCmdVerify(f, nil),
		NewCmdTracker(f, nil),
		NewCmdDemo(f, nil),
		NewCmdDHT(f, nil),
		NewCmdConfig(f, nil),
	)
	return root
}

// Main runs the CLI with args and returns the process exit code.
func Main(args []string, f *Factory) int {
	root := NewCmdRoot(f)
	root.SetArgs(implicitDownload(root, args))
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(f.Err, "aiotorrent: %v\n", err)
	var in interruption
	if errors.As(err, &in) {
		return 128 + int(in.sig)
	}
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		if !strings.Contains(err.Error(), "--help") {
			fmt.Fprintf(f.Err, "Run '%s --help' for usage.\n", cmd.CommandPath())
		}
		return exitUsage
	}
	return exitFailure
}

// implicitDownload makes `aiotorrent FILE.torrent ...` and `aiotorrent
// MAGNET ...` mean `aiotorrent download ...`, as aria2c and
// transmission-cli take them: when the first operand is no command but a
// magnet link, an http(s) URL, a name ending in .torrent or an existing
// file. Flags may come first (`aiotorrent -d x FILE.torrent`): they are
// skipped as download would parse them, with the values of those that
// take one.
func implicitDownload(root *cobra.Command, args []string) []string {
	var download *cobra.Command
	for _, c := range root.Commands() {
		if c.Name() == "download" {
			download = c
		}
	}
	i := firstOperand(download, args)
	if i < 0 {
		return args
	}
	a := args[i]
	for _, c := range root.Commands() {
		if c.Name() == a || c.HasAlias(a) {
			return args
		}
	}
	fi, err := os.Stat(a)
	if strings.HasPrefix(a, "magnet:") || isTorrentURL(a) || strings.HasSuffix(a, ".torrent") || (err == nil && fi.Mode().IsRegular()) {
		return append([]string{"download"}, args...)
	}
	return args
}

// firstOperand is the index of the first argument that is neither a flag
// nor a flag's value, as cmd's flags read them; -1 if there is none.
// Flags cmd does not know are taken to have no value.
func firstOperand(cmd *cobra.Command, args []string) int {
	takesValue := func(f *pflag.Flag) bool { return f != nil && f.NoOptDefVal == "" }
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			if i+1 < len(args) {
				return i + 1
			}
			return -1
		case strings.HasPrefix(a, "--"):
			name, _, hasValue := strings.Cut(a[2:], "=")
			if !hasValue && cmd != nil && takesValue(cmd.Flags().Lookup(name)) {
				i++
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			// Shorthands combine ("-qd DIR"); the first that takes a
			// value takes the rest of the word, or the next argument.
			for k := 1; k < len(a) && cmd != nil; k++ {
				if takesValue(cmd.Flags().ShorthandLookup(a[k : k+1])) {
					if k == len(a)-1 {
						i++
					}
					break
				}
			}
		default:
			return i
		}
	}
	return -1
}

// isCobraUsage recognises the usage errors cobra makes itself.
func isCobraUsage(err error) bool {
	return strings.HasPrefix(err.Error(), "unknown command")
}

// exactArgs wants n operands, which what names for the user ("FILE.torrent
// and the DIR that holds the data"): a usage error (exit code 2) says
// what is missing or too many, where cobra said "accepts 2 arg(s),
// received 1".
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < n:
			return usageError{errors.New(argsMissing(cmd, what, args))}
		case len(args) > n && n == 0:
			return usageError{fmt.Errorf("%s takes no arguments; got %s", cmd.Name(), quoteArgs(args))}
		case len(args) > n:
			return usageError{fmt.Errorf("%s takes %s; got %d: %s", cmd.Name(), what, len(args), quoteArgs(args))}
		}
		return nil
	}
}

// minArgs wants n operands or more, named by what as for exactArgs.
func minArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usageError{errors.New(argsMissing(cmd, what, args))}
		}
		return nil
	}
}

// argsMissing is "seed needs FILE.torrent... and the DIR that holds the
// data; got only "a.torrent"".
func argsMissing(cmd *cobra.Command, what string, args []string) string {
	msg := cmd.Name() + " needs " + what
	if len(args) > 0 {
		msg += "; got only " + quoteArgs(args)
	}
	return msg
}

func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = strconv.Quote(a)
	}
	return strings.Join(q, " ")
}
