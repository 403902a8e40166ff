#!/usr/bin/env python3
"""memscan.py PID TEXT: how many times TEXT is in the readable memory of
process PID (its /proc/PID/maps and mem). Prints the count; exit 77 when
the memory cannot be read (not root, ptrace restrictions)."""
import sys


def main():
    pid, needle = sys.argv[1], sys.argv[2].encode()
    hits = 0
    try:
        maps = open(f"/proc/{pid}/maps")
        mem = open(f"/proc/{pid}/mem", "rb", 0)
    except OSError:
        sys.exit(77)
    with maps, mem:
        for line in maps:
            span, perms = line.split()[:2]
            if "r" not in perms:
                continue
            lo, hi = (int(x, 16) for x in span.split("-"))
            try:
                mem.seek(lo)
                data = mem.read(hi - lo)
            except (OSError, ValueError, OverflowError):
                continue
            hits += data.count(needle)
    print(hits)


if __name__ == "__main__":
    main()
