// Package tracker talks to BitTorrent trackers and is one: announce and
// scrape over HTTP (BEP 3, 23, 7, 48) and UDP (BEP 15), announce-list tiers
// (BEP 12), a per-torrent Announcer, and a small in-memory tracker
// server for tests, the demo and `aiotorrent tracker`.
//
// # Architecture
//
// Every protocol is split in two layers.
//
// Codecs and state machines, with no I/O and no clock of their own, tested
// byte for byte and fuzzed:
//
//	http_codec.go    announce/scrape URLs; raw HTTP response -> AnnounceResponse
//	udp_codec.go     BEP 15 packets, both directions
//	udp_exchange.go  the client's connect / retransmit state machine
//	swarm.go         the server's swarms: announce, incremental expiry, eviction at the caps, scrape
//	swarm_table.go   one swarm: flat 24-byte peer records and an open-addressing index
//	server_query.go  announce query -> AnnounceRequest in one pass, no allocation
//	server_http.go   request bytes -> response bytes, appended to a reused buffer
//	server_udp.go    datagram -> datagram, stateless AES-MAC connection ids
//
// Tasks on the aio loop that move those bytes:
//
//	tracker.go      the Tracker interface, Config, New, Announce, Scrape
//	http_client.go  http:// on an aio TCP socket; https:// via net/http on the executor
//	udp_client.go   one UDP socket per exchange, driving udp_exchange.go
//	tiers.go        BEP 12 tiers, a silent tracker overtaken after 3 s; itself a Tracker
//	announcer.go    per torrent: started, interval, completed, stopped; Run as a task
//	announcer_sched.go  or Start: a loop timer between announces, a task only while one is sent
//	server.go       Serve / ListenAndServe: accept task, a task per connection, batched UDP task
//
// The Announcer's contract with the session is a *aio.Queue[netip.AddrPort]:
// every new peer address goes on it (without waiting: a full queue skips
// the address until a later announce), minus our own listen addresses,
// which trackers such as opentracker hand back.
//
// All state is owned by the aio loop thread, so there are no locks, no
// goroutines and no channels here (net/http, for https only, runs inside
// the executor). Everything a tracker or a client sends is hostile: sizes
// and counts are capped before anything is allocated (MaxBodySize,
// MaxPeers, MaxNumWant; the server's torrent and peer caps evict the
// stalest rather than refuse), and bad input is
// an error on the client side and a failure reply or silence on the server
// side, never a panic.
package tracker
