package aio

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"
)

// Tracer records what a loop does in the Chrome trace event format, which
// Perfetto (ui.perfetto.dev) and chrome://tracing open: one track for the
// loop thread with a slice per task step, instant events for I/O
// readiness and timers, one track per executor worker with its jobs, and
// counters. Give it to a loop with WithTracer; write it out with WriteJSON
// after the loop has run.
//
// Recording costs nothing when no tracer is set (one nil check per step);
// when set, about one clock read and one append per event.
type Tracer struct {
	start time.Time
	mu    sync.Mutex // workers record from their own threads
	// events is filled chunk by chunk: a full chunk is never copied again,
	// so recording costs the same at the millionth event as at the first.
	events  [][]traceEvent
	n       int
	dropped int
	limit   int
	lastCtr time.Time
}

type traceEvent struct {
	Name string         `json:"name"`
	Ph   string         `json:"ph"`
	Ts   float64        `json:"ts"` // microseconds since the tracer started
	Dur  float64        `json:"dur,omitempty"`
	Pid  int            `json:"pid"`
	Tid  int            `json:"tid"`
	S    string         `json:"s,omitempty"`
	Args map[string]any `json:"args,omitempty"`
}

// Track ids: the loop thread, then one per executor worker.
const (
	loopTid   = 1
	workerTid = 100
)

const traceChunk = 4096

// NewTracer returns a tracer that keeps at most limit events (0: two
// million); later events are counted as dropped.
func NewTracer(limit int) *Tracer {
	if limit <= 0 {
		limit = 2_000_000
	}
	return &Tracer{start: time.Now(), limit: limit}
}

// WithTracer records the loop's activity into tr.
func WithTracer(tr *Tracer) Option { return func(o *options) { o.tracer = tr } }

func (tr *Tracer) ts(t time.Time) float64 { return float64(t.Sub(tr.start).Nanoseconds()) / 1e3 }

func (tr *Tracer) add(e traceEvent) {
	tr.mu.Lock()
	switch {
	case tr.n >= tr.limit:
		tr.dropped++
	default:
		if k := len(tr.events); k == 0 || len(tr.events[k-1]) == cap(tr.events[k-1]) {
			tr.events = append(tr.events, make([]traceEvent, 0, traceChunk))
		}
		last := &tr.events[len(tr.events)-1]
		*last = append(*last, e)
		tr.n++
	}
	tr.mu.Unlock()
}

// slice records a complete event (a task step, an executor job).
func (tr *Tracer) slice(name string, tid int, start, end time.Time) {
	tr.add(traceEvent{Name: name, Ph: "X", Ts: tr.ts(start), Dur: float64(end.Sub(start).Nanoseconds()) / 1e3, Pid: 1, Tid: tid})
}

// instant records a point event on the loop's track.
func (tr *Tracer) instant(name string, at time.Time) {
	tr.add(traceEvent{Name: name, Ph: "i", Ts: tr.ts(at), Pid: 1, Tid: loopTid, S: "t"})
}

// Counter records the value of a named counter at time at.
func (tr *Tracer) Counter(name string, at time.Time, value float64) {
	tr.add(traceEvent{Name: name, Ph: "C", Ts: tr.ts(at), Pid: 1, Tid: loopTid, Args: map[string]any{"value": value}})
}

// loopCounters samples the loop's own counters, at most once a
// millisecond so that busy steps do not flood the trace.
func (tr *Tracer) loopCounters(l *Loop, now time.Time) {
	if now.Sub(tr.lastCtr) < time.Millisecond {
		return
	}
	tr.lastCtr = now
	tr.add(traceEvent{Name: "loop", Ph: "C", Ts: tr.ts(now), Pid: 1, Tid: loopTid, Args: map[string]any{
		"ready tasks": len(l.ready), "live tasks": l.live, "open fds": l.openFDs, "executor jobs": l.inflight,
	}})
}

// TraceCounter records a counter of the caller's (pieces in flight,
// download rate) in the loop's trace; it does nothing when the loop has
// no tracer. Call it on the loop thread.
func TraceCounter(l *Loop, name string, value float64) {
	if tr := l.opts.tracer; tr != nil {
		tr.Counter(name, time.Now(), value)
	}
}

// WriteJSON writes the trace as a Chrome trace event file.
func (tr *Tracer) WriteJSON(w io.Writer) error {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	meta := []traceEvent{
		{Name: "process_name", Ph: "M", Pid: 1, Args: map[string]any{"name": "aiotorrent"}},
		{Name: "thread_name", Ph: "M", Pid: 1, Tid: loopTid, Args: map[string]any{"name": "loop thread"}},
	}
	workers := map[int]bool{}
	all := make([]traceEvent, 0, tr.n)
	for _, chunk := range tr.events {
		for _, e := range chunk {
			if e.Tid >= workerTid && !workers[e.Tid] {
				workers[e.Tid] = true
				meta = append(meta, traceEvent{Name: "thread_name", Ph: "M", Pid: 1, Tid: e.Tid,
					Args: map[string]any{"name": fmt.Sprintf("executor worker %d", e.Tid-workerTid+1)}})
			}
		}
		all = append(all, chunk...)
	}
	out := struct {
		TraceEvents     []traceEvent   `json:"traceEvents"`
		DisplayTimeUnit string         `json:"displayTimeUnit"`
		Metadata        map[string]any `json:"otherData"`
	}{append(meta, all...), "ms", map[string]any{"dropped_events": tr.dropped}}
	bw := bufio.NewWriterSize(w, 1<<16)
	if err := json.NewEncoder(bw).Encode(out); err != nil {
		return err
	}
	return bw.Flush()
}

// Len is the number of events recorded.
func (tr *Tracer) Len() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.n
}
