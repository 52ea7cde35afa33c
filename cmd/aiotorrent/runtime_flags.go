package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/aiotorrent/aiotorrent/aio"
)

// runtimeFlags are the flags that show the event loop at work, shared by
// download, seed and demo.
type runtimeFlags struct {
	Trace string // Chrome trace event file to write
	Stats bool   // print loop statistics at the end
	Debug bool   // runtime debug mode, and SIGUSR1 dumps the tasks
	CPU   string // CPU profile file, for the developers
}

func (r *runtimeFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&r.Trace, "trace", "", "write a trace of the event loop to `FILE.json` (open it in ui.perfetto.dev)")
	fl.BoolVar(&r.Stats, "stats", false, "print event loop statistics at the end")
	fl.BoolVar(&r.Debug, "debug", false, "warn about blocking task steps and lost task errors; SIGUSR1 dumps every task")
	fl.StringVar(&r.CPU, "cpuprofile", "", "write a Go CPU profile to `FILE`")
	fl.MarkHidden("cpuprofile")
}

// loopRun is aio.Run with the runtime flags applied: tracing, debug mode,
// the SIGUSR1 task dump and the statistics.
func (r *runtimeFlags) loopRun(f *Factory, main func(t *aio.Task) error) error {
	if r.CPU != "" {
		out, err := os.Create(r.CPU)
		if err != nil {
			return err
		}
		defer out.Close()
		if err := pprof.StartCPUProfile(out); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var opts []aio.Option
	var tr *aio.Tracer
	var traceOut *os.File
	if r.Trace != "" {
		// Opened now: a path that cannot be written fails before the
		// work, not after an hour's download.
		var err error
		if traceOut, err = os.Create(r.Trace); err != nil {
			return fmt.Errorf("--trace: %w", err)
		}
		defer traceOut.Close()
		tr = aio.NewTracer(0)
		opts = append(opts, aio.WithTracer(tr))
	}
	if r.Debug {
		opts = append(opts, aio.WithDebug(func(format string, args ...any) {
			fmt.Fprintf(f.Err, format+"\n", args...)
		}))
	}
	_, err := aio.Run(func(t *aio.Task) (struct{}, error) {
		if r.Debug {
			stop := aio.OnSignal(t.Loop(), func(os.Signal) { t.Loop().DumpTasks(f.Err) }, syscall.SIGUSR1)
			defer stop()
		}
		err := main(t)
		if r.Stats {
			t.Loop().Stats().Print(f.Err)
		}
		return struct{}{}, err
	}, opts...)
	if tr != nil {
		if werr := writeTrace(tr, traceOut); werr != nil && err == nil {
			err = werr
		} else if werr == nil {
			fmt.Fprintf(f.Err, "trace: %d events written to %s\n", tr.Len(), r.Trace)
		}
	}
	return err
}

func writeTrace(tr *aio.Tracer, out *os.File) error {
	if err := tr.WriteJSON(out); err != nil {
		return fmt.Errorf("trace: %w", err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("trace: %w", err)
	}
	return nil
}

// withInterrupt runs work as a task and cancels it on Ctrl-C or SIGTERM,
// returning errInterrupted or errTerminated in that case.
func withInterrupt(t *aio.Task, work func(t *aio.Task) error) error {
	h := aio.Spawn(t, "work", func(t *aio.Task) (struct{}, error) { return struct{}{}, work(t) })
	var by os.Signal
	stop := aio.OnSignal(t.Loop(), func(sig os.Signal) {
		if by == nil {
			by = sig
		}
		h.Cancel()
	}, os.Interrupt, syscall.SIGTERM)
	defer stop()
	_, err := aio.Await(t, h)
	if by != nil {
		return interruptionBy(by)
	}
	return err
}
