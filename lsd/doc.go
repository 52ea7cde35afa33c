// Package lsd is Local Service Discovery (BEP 14): a peer source that
// finds peers on the local network by multicast, without a tracker or the
// DHT. Two clients on one LAN (or one machine) that share a torrent find
// each other within a minute and trade at LAN speed.
//
// # The protocol
//
// Every client listens on UDP port 6771, joined to the multicast groups
// 239.192.152.143 (IPv4) and ff15::efc0:988f (IPv6), and now and then
// sends the groups an HTTP-like request naming the torrents it is in:
//
//	BT-SEARCH * HTTP/1.1\r\n
//	Host: 239.192.152.143:6771\r\n
//	Port: 6881\r\n                        our peer listen port
//	Infohash: <40 hex digits>\r\n         one line per torrent, up to 20
//	cookie: <16 hex digits>\r\n           random, ours
//	\r\n
//	\r\n
//
// Whoever hears it and has one of those torrents dials the sender at the
// datagram's source address and the Port header (the datagram's source
// port is 6771, not the sender's peer listener). Nothing is answered:
// the other side's own announce is how we become known to it.
//
// # Rates
//
// BEP 14 asks for each torrent to be announced every 5 minutes, and for a
// client to send no more than one announce a minute, so a LAN full of
// clients is not flooded; torrents due together share one datagram (up
// to MaxInfohashes, under 1400 bytes), the longest-waiting first, and the
// rest wait for the next minute. Config.Interval and Config.MinGap change
// both for tests, never below one second (MinGapFloor). A torrent is
// announced as soon as it is registered if the minute allows.
//
// # The cookie
//
// The sockets have multicast loopback on, so that clients on one machine
// hear each other, which means we also hear ourselves. Each Service picks
// a random cookie and sends it in every announce; an announce carrying it
// is ours and is ignored, so we never dial our own listener.
//
// # What is never sent
//
// A private torrent (BEP 27, "private" in the info dictionary) gets its
// peers from its tracker alone: it is registered with private set, never
// appears in an announce, and announces naming it are ignored.
//
// # Architecture
//
//	codec.go     AppendAnnounce / ParseAnnounce: bytes only, fuzzed
//	schedule.go  what to announce when: a pure state machine, told the time
//	service.go   Service: sockets, Register, the announce and receive tasks
//	handle.go    one received datagram: checks, dispatch, rate-limited log
//
// Like tracker/, the package imports aio and nothing lower: its sockets
// are aio.ListenMulticastUDP (SO_REUSEPORT, so every client on a machine
// can share port 6771), its work is tasks on the loop, and it has no
// goroutines, channels or locks. Every datagram is hostile: it is capped
// in size and in info-hashes before anything is looked up, and a bad one
// is counted, logged (at most a few lines a minute) and dropped.
//
// # Wiring
//
// The session opens one Service with New (its ListenPort is the peer
// listener's port), runs Run as a task, and calls Register for each
// torrent it adds; found is called on the loop thread for each peer heard
// and must not block (put the address on the session's peer queue with
// TryPut). IPv6 is best effort: if joining its group fails, New logs why
// and the Service goes on with IPv4.
package lsd
