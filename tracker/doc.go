// Package tracker talks to BitTorrent trackers and is one: announce and
// scrape over HTTP (BEP 3, 23, 7, 48) and UDP (BEP 15), announce-list tiers
// (BEP 12), a per-torrent Announcer task, and a small in-memory tracker
// server for tests, the demo and `aiotorrent tracker`.
//
// # Architecture
//
// Every protocol is split in two layers.
//
//   - Codecs and state machines, with no I/O and no clock of their own:
//     http_codec.go builds announce URLs and parses raw HTTP responses;
//     udp_codec.go encodes and decodes BEP 15 packets; udp_exchange.go is the
//     client's connect/retransmit state machine; swarm.go is the server's
//     state; server_http.go and server_udp.go turn a request's bytes into a
//     response's bytes. These are tested byte for byte and fuzzed.
//   - Tasks on the aio loop that move those bytes: http_client.go (plain
//     http:// on an aio TCP socket, https:// through net/http on the
//     executor), udp_client.go, tiers.go, announcer.go and server.go.
//
// All state is owned by the aio loop thread, so there are no locks, no
// goroutines and no channels here. Everything a tracker or a client sends
// is hostile: sizes and counts are capped before anything is allocated,
// and bad input is an error (client side) or a failure reply or silence
// (server side), never a panic.
package tracker
