package torrent

import (
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// The periodic work of sessions (rates, pipeline depths, keep-alives,
// snubbing, choking rounds, PEX, web seed wake-ups, progress reports) runs
// from one client-wide timer, not one per session, and only for the
// sessions that have something periodic to do: peers connected, web seeds
// fetching, or rates still settling to zero. A torrent with none of these
// (a seed nobody is downloading from) is not visited at all, and when no
// session is active the timer is not armed, so an idle client with a
// thousand torrents sleeps in the poller. The uTP socket's ticker
// (utp/socket.go) follows the same rule.
//
// One timer for all sessions, rather than one per session re-armed only
// while active, also puts every active session's tick in the same loop
// step: one wake-up a tick whatever the number of torrents.

// tick is the period of the sessions' periodic work.
const tick = 250 * time.Millisecond

// ticks is the client's side: the timer and the sessions it visits.
type ticks struct {
	timer *aio.Timer // nil: not armed
	// Invariant: a session is in active once, exactly when its ticking
	// field is true.
	active []*Session

	// Announces (tracker, DHT) of sessions that start together are spread
	// announceSpread apart: 1,000 torrents checked at start-up do not all
	// announce in the same second. next is when the next one may go.
	next time.Time
}

// announceSpread is the gap between two sessions' first announces.
const announceSpread = 10 * time.Millisecond

// activate puts s on the tick, arming the timer if it was idle. Sessions
// call it when they get something periodic to do (a peer, a web seed);
// the tick drops them when it is done (Session.tick).
func (c *Client) activate(s *Session) {
	if s.ticking || s.closed {
		return
	}
	s.ticking = true
	c.ticks.active = append(c.ticks.active, s)
	if c.ticks.timer == nil {
		c.ticks.timer = c.loop.AfterFunc(tick, c.onTick)
	}
}

// onTick visits every active session once, keeps those that are still
// active, and re-arms itself only if one is.
func (c *Client) onTick() {
	c.ticks.timer = nil
	now := c.loop.Now()
	active := c.ticks.active
	kept := active[:0]
	for _, s := range active {
		if !s.closed && s.tick(now) {
			kept = append(kept, s)
		} else {
			s.ticking = false
		}
	}
	clear(active[len(kept):])
	c.ticks.active = kept
	if len(kept) > 0 {
		c.ticks.timer = c.loop.AfterFunc(tick, c.onTick)
	}
}

// announceDelay is how long a session that starts announcing now waits
// before its first announce, so that sessions starting together announce
// announceSpread apart (in the order they ask).
func (c *Client) announceDelay() time.Duration {
	now := c.loop.Now()
	at := c.ticks.next
	if at.Before(now) {
		at = now
	}
	c.ticks.next = at.Add(announceSpread)
	return at.Sub(now)
}

// tick is one session's periodic work. It reports whether the session is
// still active (see busy); a session that stops being active gets one
// last progress report with its settled figures.
func (s *Session) tick(now time.Time) bool {
	s.downRate.tick(s.downloaded, tick)
	s.upRate.tick(s.uploaded, tick)
	for _, p := range s.peers {
		p.tick(tick, now)
	}
	s.tickWebSeeds(now, tick)
	s.rechoke(now)
	s.sendPex(now)
	aio.TraceCounter(s.loop, s.traceNames[2], s.downRate.perSecond()/1e6)
	aio.TraceCounter(s.loop, s.traceNames[3], float64(len(s.peers)))
	if !s.busy() {
		s.downRate.value, s.upRate.value = 0, 0
		s.reportEvent()
		return false
	}
	if s.opts.ProgressInterval >= 0 && !now.Before(s.nextReport) {
		s.nextReport = now.Add(max(s.opts.ProgressInterval, tick) - tick/2)
		s.report()
	}
	return true
}

// busy reports whether the session has periodic work: peers, web seeds
// fetching, rates that have not yet decayed to nothing, or (for a display)
// a tracker announce in flight.
func (s *Session) busy() bool {
	return len(s.peers) > 0 || s.ws.byID != nil && !s.picker.Complete() ||
		s.downRate.value >= 1 || s.upRate.value >= 1 || s.announcing > 0
}

// trailingReport is how long after a report on an event the session
// reports once more: a display that throttles its lines (the CLI's plain
// output prints at most one every 2 s) may have dropped the first, and an
// idle session has no periodic report that would bring it later.
const trailingReport = 2*time.Second + tick

// reportEvent reports now, and once more trailingReport later (one timer,
// re-armed by each event), unless periodic reports are off.
func (s *Session) reportEvent() {
	s.report()
	if s.opts.OnProgress == nil || s.opts.ProgressInterval < 0 || s.closed {
		return
	}
	s.trailing.Stop()
	s.trailing = s.loop.AfterFunc(trailingReport, s.report)
}
