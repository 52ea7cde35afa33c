package aio_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

func TestTraceIsChromeTraceJSON(t *testing.T) {
	tr := aio.NewTracer(0)
	_, err := aio.Run(func(t *aio.Task) (int, error) {
		aio.TraceCounter(t.Loop(), "answer", 42)
		h := aio.Spawn(t, "sleeper", func(t *aio.Task) (int, error) { return 0, aio.Sleep(t, time.Millisecond) })
		if _, err := aio.Blocking(t, func() (int, error) { return 1, nil }); err != nil {
			return 0, err
		}
		return aio.Await(t, h)
	}, aio.WithTracer(tr))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tr.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		TraceEvents []struct {
			Name string          `json:"name"`
			Ph   string          `json:"ph"`
			Ts   *float64        `json:"ts"`
			Pid  *int            `json:"pid"`
			Tid  *int            `json:"tid"`
			Args json.RawMessage `json:"args"`
		} `json:"traceEvents"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	seen := map[string]bool{}
	for _, e := range doc.TraceEvents {
		if e.Ph == "" || e.Pid == nil || (e.Ph != "M" && e.Ts == nil) {
			t.Fatalf("event %+v lacks ph, pid or ts", e)
		}
		seen[e.Ph+" "+e.Name] = true
	}
	for _, want := range []string{"X main", "X sleeper", "C answer", "M thread_name", "i 1 timers"} {
		if !seen[want] {
			t.Errorf("no %q event in the trace (have %v)", want, seen)
		}
	}
	if !strings.Contains(buf.String(), `"executor worker 1"`) {
		t.Error("no executor worker track")
	}
}

func TestDebugWarnsAboutBlockingStepsAndLostErrors(t *testing.T) {
	var log []string
	logf := func(format string, args ...any) { log = append(log, fmt.Sprintf(format, args...)) }
	_, err := aio.Run(func(t *aio.Task) (int, error) {
		time.Sleep(60 * time.Millisecond) // the classic bug: blocking the loop thread
		aio.Spawn(t, "forgotten", func(t *aio.Task) (int, error) { return 0, errors.New("lost") })
		return 0, aio.Yield(t)
	}, aio.WithDebug(logf))
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(log, "\n")
	for _, want := range []string{`task "main" ran`, `task "forgotten" failed and its error was never awaited: lost`} {
		if !strings.Contains(all, want) {
			t.Errorf("debug log lacks %q:\n%s", want, all)
		}
	}
}

func TestDumpTasks(t *testing.T) {
	var dump bytes.Buffer
	_, err := aio.Run(func(t *aio.Task) (int, error) {
		q := aio.NewQueue[int](1)
		aio.Spawn(t, "getter", func(t *aio.Task) (int, error) { return q.Get(t) })
		aio.Spawn(t, "sleeper", func(t *aio.Task) (int, error) { return 0, aio.Sleep(t, time.Hour) })
		aio.Yield(t)
		aio.Yield(t)
		t.Loop().DumpTasks(&dump)
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"getter"`, "waiting on queue get", `"sleeper"`, "sleeping until", `"main"`, "running"} {
		if !strings.Contains(dump.String(), want) {
			t.Errorf("dump lacks %q:\n%s", want, dump.String())
		}
	}
}
