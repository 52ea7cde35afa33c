package lsd

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// BEP 14's groups, and the defaults of Config.
var (
	Group4 = netip.MustParseAddr("239.192.152.143")
	Group6 = netip.MustParseAddr("ff15::efc0:988f")
)

const (
	DefaultPort     = 6771
	DefaultInterval = 5 * time.Minute
	DefaultMinGap   = time.Minute
	// MinGapFloor is the least gap between two announces a Config may
	// ask for (tests ask for it); below it LSD would be a flood.
	MinGapFloor = time.Second
)

// Config configures a Service. The zero value, with ListenPort set, is
// BEP 14 as written: IPv4 and IPv6 groups on port 6771, interfaces left to
// the kernel, each torrent every 5 minutes, one announce a minute.
type Config struct {
	// ListenPort is our peer listener's port: what we announce. Required.
	ListenPort uint16
	// Interface is the IPv4 address of the interface to listen and
	// announce on; the zero value means all (the kernel's choice for
	// sending). Tests use 127.0.0.1.
	Interface netip.Addr
	// IfIndex is the IPv6 interface index; 0: the kernel's choice.
	IfIndex int
	// NoIPv6 skips the IPv6 group. Without it, IPv6 is best effort: if
	// joining fails, the Service logs why and goes on with IPv4.
	NoIPv6 bool
	// Port is the LSD port (default 6771). Tests pick a free one so that
	// they do not hear other processes on the machine.
	Port uint16
	// Interval is how often each torrent is announced (default 5 min,
	// never less than MinGap).
	Interval time.Duration
	// MinGap is the least time between two announces (default 1 min,
	// never less than MinGapFloor).
	MinGap time.Duration
	// Logf receives a line for each notable event; nil discards them.
	// Dropped datagrams are logged at most logBurst per logWindow.
	Logf func(format string, args ...any)
}

// Service is one LSD endpoint: a socket per group, a task per socket
// receiving, and a task announcing. Everything runs on the aio loop; its
// methods must be called from the loop thread.
type Service struct {
	cfg    Config
	conn4  *aio.UDPConn
	conn6  *aio.UDPConn // nil when IPv6 is off or could not join
	cookie string
	sched  *schedule
	wake   *aio.Event // set when a registration may have made something due
	out    []byte
	hashes [][20]byte
	log    dropLog
	stats  Stats
	closed bool
}

// Stats counts what a Service did, for display and tests.
type Stats struct {
	Sent     int // announces sent (one per group)
	Received int // datagrams received
	Own      int // of those, our own (the cookie matched)
	Dropped  int // malformed, or from an address nobody can dial
	Unknown  int // info-hashes heard that no one registered (or private)
	Found    int // calls to a found callback
}

// New opens the Service's sockets: joining the groups now, rather than in
// Run, means an announce sent after New returns reaches this Service.
func New(s aio.Spawner, cfg Config) (*Service, error) {
	if cfg.ListenPort == 0 {
		return nil, errors.New("lsd: Config.ListenPort is required")
	}
	if cfg.Interface.IsValid() && !cfg.Interface.Unmap().Is4() {
		return nil, fmt.Errorf("lsd: Config.Interface %s is not an IPv4 address", cfg.Interface)
	}
	if cfg.Port == 0 {
		cfg.Port = DefaultPort
	}
	if cfg.MinGap <= 0 {
		cfg.MinGap = DefaultMinGap
	}
	cfg.MinGap = max(cfg.MinGap, MinGapFloor)
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	cfg.Interval = max(cfg.Interval, cfg.MinGap)
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	var c [8]byte
	rand.Read(c[:])
	svc := &Service{cfg: cfg, cookie: hex.EncodeToString(c[:]), wake: aio.NewEvent(),
		sched: newSchedule(cfg.Interval, cfg.MinGap)}
	var err error
	mc := aio.MulticastConfig{Interface: cfg.Interface, IfIndex: cfg.IfIndex}
	svc.conn4, err = aio.ListenMulticastUDP(s, netip.AddrPortFrom(Group4, cfg.Port), mc)
	if err != nil {
		return nil, fmt.Errorf("lsd: %w", err)
	}
	if !cfg.NoIPv6 {
		svc.conn6, err = aio.ListenMulticastUDP(s, netip.AddrPortFrom(Group6, cfg.Port), mc)
		if err != nil {
			cfg.Logf("lsd: IPv6 off, going on with IPv4: %v", err)
		}
	}
	return svc, nil
}

// Register adds a torrent: unless private, it is announced from now on,
// and found is called (on the loop thread; it must not block) with every
// peer that announces it. Announces for a private torrent are ignored:
// its peers come from its tracker alone (BEP 27). Registering an
// info-hash again replaces the earlier registration, whose unregister then
// does nothing. unregister stops both; it may be called more than once.
func (s *Service) Register(infoHash [20]byte, private bool, found func(netip.AddrPort)) (unregister func()) {
	tor := &torrent{ih: infoHash, private: private, found: found}
	s.sched.torrents[infoHash] = tor
	if !private {
		s.wake.Set()
	}
	return func() {
		if s.sched.torrents[infoHash] == tor {
			delete(s.sched.torrents, infoHash)
		}
	}
}

// Stats returns the counters so far.
func (s *Service) Stats() Stats { return s.stats }

// Run receives and announces until t is cancelled (then it returns
// aio.ErrCanceled) or a socket fails; either way it closes the sockets.
func (s *Service) Run(t *aio.Task) error {
	defer s.Close()
	g := aio.NewGroup(t)
	g.Go("lsd announce", s.announceLoop)
	g.Go("lsd receive v4", func(t *aio.Task) error { return s.receive(t, s.conn4) })
	if s.conn6 != nil {
		g.Go("lsd receive v6", func(t *aio.Task) error { return s.receive(t, s.conn6) })
	}
	return g.Wait(t)
}

// Close closes the sockets of a Service that will not Run (Run closes
// them itself).
func (s *Service) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.conn4.Close()
	if s.conn6 != nil {
		s.conn6.Close()
	}
	return err
}

// announceLoop asks the schedule what is due, sends it, and sleeps until
// the schedule has more or a registration wakes it.
func (s *Service) announceLoop(t *aio.Task) error {
	for {
		s.wake.Clear() // before take: a Register during send must wake us
		var wait time.Duration
		s.hashes, wait = s.sched.take(t.Loop().Now(), s.hashes[:0])
		if len(s.hashes) > 0 {
			if err := s.send(t, s.hashes); err != nil {
				return err
			}
			continue // take again: it answers with the gap to wait
		}
		var err error
		if wait < 0 {
			err = s.wake.Wait(t)
		} else {
			err = aio.Timeout(t, wait, s.wake.Wait)
		}
		if err != nil && !errors.Is(err, aio.ErrTimeout) {
			return err
		}
	}
}

// send announces hashes on each group. A failed send is logged, not
// fatal: LSD is one peer source among several, and the next may work.
func (s *Service) send(t *aio.Task, hashes [][20]byte) error {
	for _, c := range []*aio.UDPConn{s.conn4, s.conn6} {
		if c == nil {
			continue
		}
		group := Group4
		if c == s.conn6 {
			group = Group6
		}
		to := netip.AddrPortFrom(group, s.cfg.Port)
		s.out = AppendAnnounce(s.out[:0], to.String(), s.cfg.ListenPort, hashes, s.cookie)
		_, err := c.WriteTo(t, s.out, to)
		if errors.Is(err, aio.ErrCanceled) || errors.Is(err, aio.ErrClosed) {
			return err
		}
		if err != nil {
			s.log.drop(s.cfg.Logf, t.Loop().Now(), "lsd: announce to %s: %v", to, err)
			continue
		}
		s.stats.Sent++
	}
	return nil
}

// receive reads datagrams from c until the task is cancelled. A read
// error ends only this socket's task (a nil return does not stop the
// group), so a failing IPv6 socket leaves IPv4 running.
func (s *Service) receive(t *aio.Task, c *aio.UDPConn) error {
	buf := make([]byte, MaxDatagramSize+1) // one more, to see oversize ones
	for {
		n, from, err := c.ReadFrom(t, buf)
		if errors.Is(err, aio.ErrCanceled) || errors.Is(err, aio.ErrClosed) {
			return err
		}
		if err != nil {
			s.cfg.Logf("lsd: receiving on %s stopped: %v", c.LocalAddr(), err)
			return nil
		}
		s.handle(buf[:n], from, t.Loop().Now())
	}
}
