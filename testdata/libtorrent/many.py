#!/usr/bin/python3
"""A libtorrent session seeding many torrents on loopback, for
`aiotorrent-bench many` (the idle cost of a seedbox).

Run with Debian's /usr/bin/python3 (python3-libtorrent 2.0). It adds every
.torrent file in --torrents (a directory), with --dir as the save path,
waits until each has checked its data and is seeding, then prints

    READY <listen port> <torrents>

and does nothing more: it blocks on stdin, so that what the process costs
from then on is libtorrent's own idle cost, not this script's. It exits
when stdin closes, or prints ERROR <text> and exits 1 if the torrents are
not all seeding within --timeout seconds.

DHT, LSD, UPnP and NAT-PMP are off, and it listens on 127.0.0.1 only.
The torrents may name a tracker on loopback; --min-announce-interval
lowers libtorrent's floor on the tracker's interval (300 s by default).
"""

import argparse
import os
import sys
import time

import libtorrent as lt


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--torrents", required=True, help="directory of .torrent files")
    p.add_argument("--dir", required=True, help="where their data is")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--min-announce-interval", type=int, default=300)
    a = p.parse_args()
    ses = lt.session({
        "listen_interfaces": "127.0.0.1:%d" % a.port,
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "outgoing_interfaces": "127.0.0.1",
        # Its floor on the tracker's interval; ours is 60 s.
        "min_announce_interval": a.min_announce_interval,
        # Every torrent active: libtorrent's default queues all but a few
        # (active_seeds 5), which would make its idle cost that of five.
        "active_limit": -1,
        "active_seeds": -1,
        "active_downloads": -1,
        "dont_count_slow_torrents": False,
        # It checks one torrent at a time by default, and starts the next
        # only at its auto-manage tick: about a second a torrent. This
        # changes start-up only; the idle cost is measured after it.
        "active_checking": 64,
        "alert_mask": 0,
    })
    handles = []
    for name in sorted(os.listdir(a.torrents)):
        if not name.endswith(".torrent"):
            continue
        ti = lt.torrent_info(os.path.join(a.torrents, name))
        handles.append(ses.add_torrent({"ti": ti, "save_path": a.dir}))
    deadline = time.monotonic() + a.timeout
    while True:
        seeding = sum(1 for h in handles if h.status().state == lt.torrent_status.seeding)
        if seeding == len(handles):
            break
        if time.monotonic() > deadline:
            print("ERROR %d of %d torrents seeding after %gs" % (seeding, len(handles), a.timeout), flush=True)
            sys.exit(1)
        time.sleep(0.2)
    print("READY %d %d" % (ses.listen_port(), len(handles)), flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
