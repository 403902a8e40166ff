#!/usr/bin/env python3
"""flood.py: hold idle TCP connections open against cluster ports.

    flood.py --source ADDR --per-port N --rate R PORT...

Keeps N connections per port (to 127.0.0.1) open from the one source
address ADDR, never sending a byte; whenever the server closes one, it is
reopened, at most R (re)connections a second in total. Runs until killed
(SIGTERM), then prints how many connections it opened and how many the
servers closed. Loopback only: the target host is fixed.
"""
import argparse
import errno
import selectors
import signal
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", default="127.0.0.2")
    ap.add_argument("--per-port", type=int, default=64)
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("ports", type=int, nargs="+")
    a = ap.parse_args()

    sel = selectors.DefaultSelector()
    live = {p: 0 for p in a.ports}
    opened = closed = failed = 0
    stop = False

    def on_term(*_):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    def open_one(port):
        nonlocal opened, failed
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.bind((a.source, 0))
            err = s.connect_ex(("127.0.0.1", port))
        except OSError:
            s.close()
            failed += 1
            return
        if err not in (0, errno.EINPROGRESS):
            s.close()
            failed += 1
            return
        sel.register(s, selectors.EVENT_READ, port)
        live[port] += 1
        opened += 1

    budget = 0.0
    turn = 0
    last = time.monotonic()
    while not stop:
        now = time.monotonic()
        budget = min(budget + (now - last) * a.rate, a.rate / 10)
        last = now
        # Round robin across calls: every port gets its share.
        tries = 0
        while budget >= 1 and tries < len(a.ports):
            p = a.ports[turn % len(a.ports)]
            turn += 1
            if live[p] < a.per_port:
                open_one(p)
                budget -= 1
                tries = 0
            else:
                tries += 1
        for key, _ in sel.select(timeout=0.005):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if data:
                continue  # a server that talks first: ignore it
            sel.unregister(s)
            s.close()
            live[key.data] -= 1
            closed += 1
    print(f"flood: opened {opened}, closed by the servers {closed}, "
          f"connect errors {failed}", file=sys.stderr)


if __name__ == "__main__":
    main()
