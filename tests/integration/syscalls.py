#!/usr/bin/env python3
"""Every system call in the strace logs is one the unit's SystemCallFilter=
lets through: the filter cannot be applied without systemd as PID 1, so the
package test runs ntpnode under strace instead and compares.

  syscalls.py UNIT STRACE_LOG...

The unit's SystemCallFilter= lines are read in order (an allow list, then
"~" lines that take calls out, as systemd.exec(5) says) and their groups
resolved with `systemd-analyze syscall-filter`. Prints the allowed count,
the calls seen, and each call seen but refused; exit 1 if any.
"""
import re
import subprocess
import sys

cache = {}


def members(name):
    """The calls of a group (recursively) or the call itself."""
    if not name.startswith("@"):
        return {name}
    if name not in cache:
        out = subprocess.run(["systemd-analyze", "syscall-filter", name],
                             capture_output=True, text=True, check=True).stdout
        calls = set()
        for line in out.splitlines()[1:]:
            w = line.strip()
            if w and not w.startswith("#"):
                calls |= members(w.split()[0])
        cache[name] = calls
    return cache[name]


def allowed(unit):
    allow, first = set(), True
    with open(unit) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("SystemCallFilter="):
                continue
            v = line.split("=", 1)[1].strip()
            deny = v.startswith("~")
            calls = set()
            for w in v.lstrip("~").split():
                calls |= members(w)
            if deny:
                allow -= calls
            elif first:
                allow = calls
            else:
                allow |= calls
            first = False
    if first:
        sys.exit("%s has no SystemCallFilter=" % unit)
    return allow


def main():
    ok = allowed(sys.argv[1])
    seen = set()
    call = re.compile(r"^(?:\[pid\s+)?\d*\]?\s*([a-z_0-9]+)\(")
    for log in sys.argv[2:]:
        with open(log) as f:
            for line in f:
                m = call.match(line)
                if m:
                    seen.add(m.group(1))
    bad = sorted(seen - ok)
    print("syscalls: %d allowed by the unit, %d seen, %d refused%s"
          % (len(ok), len(seen), len(bad), (": " + " ".join(bad)) if bad else ""))
    return 1 if bad or not seen else 0


if __name__ == "__main__":
    sys.exit(main())
