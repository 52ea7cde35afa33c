// Package torrent runs the sessions that download and seed torrents. What
// describes a torrent (.torrent files, magnet links, creating torrents) is
// package metainfo; this package takes a metainfo.Torrent and serves it.
//
// # Architecture
//
// A Client is one node in the swarm: a peer id, one listening socket, and
// the Sessions it serves, to which incoming connections are routed by the
// info-hash in their handshake. A Session is one torrent; data flows
// through it as DESIGN.md draws it: tracker announces put addresses on a
// queue, a dialer takes them and runs one reader and one writer task per
// peer, piece.Picker chooses the blocks to request, a complete piece goes
// to the executor for SHA-1 and the write, and HAVE goes out to every
// peer. session.go lists the files that hold each concern.
//
// FetchMetadata (magnet_fetch.go) comes first for a magnet link: it asks
// peers for the info dict over ut_metadata (BEP 9), checks its SHA-1
// against the link's info-hash and parses it on the executor, and returns
// the metainfo.Torrent a Session is then made from.
//
// The Client's sessions share one piece.FileCache (ClientConfig.
// MaxOpenFiles), so the data files open are bounded whatever the number of
// torrents. A resource error of one torrent (too many open files, a file
// missing or unreadable, a full disk) is that torrent's Progress.Err and is
// retried with back-off; it never ends the session, and so never the
// others (session_resource.go).
//
// Like every package above aio, torrent never starts goroutines, takes
// locks or uses channels: its state belongs to the loop thread. That
// thread makes socket calls and nothing else once a session runs: opening
// the storage, the resume check, hashing, writing, the per-block hashes of
// smart ban, creating empty files, closing files and allocating piece
// buffers are all executor jobs (in debug mode, piece.Storage reports a
// call on the loop thread; see aio.CheckBlocking).
package torrent
