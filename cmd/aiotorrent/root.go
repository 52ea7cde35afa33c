package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
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

// Exit codes.
const (
	exitOK        = 0
	exitFailure   = 1
	exitUsage     = 2
	exitInterrupt = 130 // 128 + SIGINT, what shells expect
)

// errInterrupted is returned by a command stopped with Ctrl-C.
var errInterrupted = errors.New("interrupted")

// usageError marks an error in the command line itself.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// NewCmdRoot builds the command tree.
func NewCmdRoot(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:           "aiotorrent",
		Short:         "A BitTorrent client on its own epoll/kqueue event loop",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
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
	)
	return root
}

// Main runs the CLI with args and returns the process exit code.
func Main(args []string, f *Factory) int {
	root := NewCmdRoot(f)
	root.SetArgs(args)
	err := root.Execute()
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errInterrupted):
		fmt.Fprintln(f.Err, "aiotorrent: interrupted")
		return exitInterrupt
	}
	fmt.Fprintf(f.Err, "aiotorrent: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		return exitUsage
	}
	return exitFailure
}

// isCobraUsage recognises the usage errors cobra makes itself.
func isCobraUsage(err error) bool {
	return strings.HasPrefix(err.Error(), "unknown command")
}

// exactArgs is cobra.ExactArgs with the error marked as a usage error
// (exit code 2).
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// minArgs is cobra.MinimumNArgs, marked as a usage error.
func minArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.MinimumNArgs(n)(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}
