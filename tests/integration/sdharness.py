#!/usr/bin/env python3
"""A stand-in for systemd as PID 1, for the tests of ntpnode.service's
Type=notify readiness and watchdog (there is no systemd on CI).

It reads the unit file, runs its ExecStart the way systemd would (the
unit's User= replaced by --user, its ambient and bounding capabilities
applied with setpriv, minus CAP_SYS_TIME: tests never get it), gives it a
NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID, and enforces what systemd
enforces:
  - Type=notify: READY=1 within --ready-timeout, else SIGTERM ("start
    timeout");
  - NotifyAccess=main: messages from any other PID are ignored;
  - WatchdogSec (or --watchdog-sec): no WATCHDOG=1 for that long after
    the last one (or the start) -> SIGABRT, systemd's WatchdogSignal.
At READY it probes the NTP port (--probe-ntp) and the control socket
(--probe-ctl), to show they were up when readiness was announced. After
--run-for seconds it sends SIGTERM and waits. ExecStartPre is not run (the
public-IP helper needs a cloud's metadata service).

Every event is one line on stdout: "<seconds since start> <EVENT> [detail]",
EVENT one of START READY PROBE STATUS WATCHDOG STOPPING IGNORED
WATCHDOG-TIMEOUT START-TIMEOUT TERM EXIT. Exit status 0 unless the harness
itself failed (2); the caller judges the events.
"""
import argparse
import configparser
import os
import shlex
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time


def unit_service(path):
    """The [Service] section, repeated keys kept in order."""
    section, out = None, []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line.strip("[]")
                continue
            if section == "Service" and "=" in line:
                k, v = line.split("=", 1)
                out.append((k.strip(), v.strip()))
    return out


def caps(entries, key):
    """Capability names of every KEY= line, lower case, without cap_."""
    names = []
    for k, v in entries:
        if k == key:
            if not v:
                names = []
            names += [c.lower()[4:] for c in v.split()]
    return [c for c in names if c != "sys_time"]


def seconds(v):
    v = v.strip()
    for suffix, mul in (("ms", 1e-3), ("min", 60), ("s", 1), ("m", 60)):
        if v.endswith(suffix):
            return float(v[: -len(suffix)]) * mul
    return float(v)


def ntp_probe(hostport):
    host, port = hostport.rsplit(":", 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    try:
        req = bytes([0x23]) + bytes(39) + struct.pack("!Q", 0x1234567)
        s.sendto(req, (host, int(port)))
        rep, _ = s.recvfrom(512)
        return "ntp=ok" if len(rep) >= 48 and rep[0] & 7 == 4 else "ntp=bad"
    except OSError as e:
        return "ntp=" + type(e).__name__
    finally:
        s.close()


def ctl_probe(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        return "ctl=ok"
    except OSError as e:
        return "ctl=" + type(e).__name__
    finally:
        s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--unit", required=True)
    ap.add_argument("--ntpnode", required=True, help="replaces ExecStart's binary")
    ap.add_argument("--config", required=True, help="replaces ExecStart's -c FILE")
    ap.add_argument("--user", default="nobody")
    ap.add_argument("--group", default="nogroup")
    ap.add_argument("--watchdog-sec", type=float, help="instead of WatchdogSec")
    ap.add_argument("--ready-timeout", type=float, default=15)
    ap.add_argument("--run-for", type=float, default=5)
    ap.add_argument("--probe-ntp", help="HOST:PORT to query at READY")
    ap.add_argument("--probe-ctl", help="control socket to connect to at READY")
    a = ap.parse_args()

    svc = unit_service(a.unit)
    d = dict(svc)
    if d.get("Type") != "notify":
        print("harness: the unit is not Type=notify", file=sys.stderr)
        return 2
    argv = shlex.split(d["ExecStart"].lstrip("!+-@:"))
    argv[0] = a.ntpnode
    argv[argv.index("-c") + 1] = a.config
    wd = a.watchdog_sec if a.watchdog_sec else seconds(d.get("WatchdogSec", "0"))
    amb = caps(svc, "AmbientCapabilities")
    bnd = caps(svc, "CapabilityBoundingSet")
    setpriv = ["setpriv", "--reuid", a.user, "--regid", a.group, "--clear-groups",
               "--inh-caps", ",".join(["-all"] + ["+" + c for c in amb]),
               "--ambient-caps", ",".join(["-all"] + ["+" + c for c in amb]),
               "--bounding-set", ",".join(["-all"] + ["+" + c for c in bnd])]
    if d.get("NoNewPrivileges") == "yes":
        setpriv.append("--no-new-privs")

    tmp = tempfile.mkdtemp(prefix="sdharness.")
    os.chmod(tmp, 0o755)
    sock_path = os.path.join(tmp, "notify")
    sk = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sk.bind(sock_path)
    os.chmod(sock_path, 0o777)
    sk.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    env = dict(os.environ, NOTIFY_SOCKET=sock_path)
    if wd:
        env["WATCHDOG_USEC"] = str(int(wd * 1e6))
    # WATCHDOG_PID is the main PID: the shell's, which setpriv and then
    # ntpnode inherit through exec.
    cmd = ["sh", "-c", 'WATCHDOG_PID=$$ exec "$@"', "sh"] + setpriv + ["--"] + argv
    if not wd:
        cmd = setpriv + ["--"] + argv
    t0 = time.monotonic()

    def event(name, detail=""):
        print("%.3f %s %s" % (time.monotonic() - t0, name, detail), flush=True)

    p = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL)
    event("START", " ".join(argv))
    ready = False
    last_ping = time.monotonic()
    stop_at = None
    signalled = None
    ucred = struct.calcsize("3i")
    while p.poll() is None:
        now = time.monotonic()
        if not ready and now - t0 > a.ready_timeout and not signalled:
            event("START-TIMEOUT")
            p.send_signal(signal.SIGTERM)
            signalled = now
        if ready and wd and now - last_ping > wd and not signalled:
            event("WATCHDOG-TIMEOUT", "%.1f s without WATCHDOG=1" % (now - last_ping))
            p.send_signal(signal.SIGABRT)
            signalled = now
        if ready and stop_at and now >= stop_at and not signalled:
            event("TERM")
            p.send_signal(signal.SIGTERM)
            signalled = now
        if signalled and now - signalled > 15:
            event("KILL", "no exit 15 s after the signal")
            p.kill()
            signalled = now + 1e9
        sk.settimeout(0.05)
        try:
            msg, anc, _, _ = sk.recvmsg(4096, socket.CMSG_SPACE(ucred))
        except socket.timeout:
            continue
        pid = None
        for lvl, typ, data in anc:
            if lvl == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
                pid = struct.unpack("3i", data[:ucred])[0]
        if pid != p.pid:
            event("IGNORED", "from pid %s: %r" % (pid, msg))
            continue
        for line in msg.decode(errors="replace").split("\n"):
            if line == "READY=1":
                ready = True
                last_ping = time.monotonic()
                stop_at = last_ping + a.run_for
                event("READY")
                probes = []
                if a.probe_ntp:
                    probes.append(ntp_probe(a.probe_ntp))
                if a.probe_ctl:
                    probes.append(ctl_probe(a.probe_ctl))
                if probes:
                    event("PROBE", " ".join(probes))
            elif line == "WATCHDOG=1":
                last_ping = time.monotonic()
                event("WATCHDOG")
            elif line.startswith("STATUS="):
                event("STATUS", line[7:])
            elif line == "STOPPING=1":
                event("STOPPING")
            elif line:
                event("OTHER", line)
    rc = p.wait()
    event("EXIT", ("signal %s" % signal.Signals(-rc).name) if rc < 0 else "code %d" % rc)
    sk.close()
    os.unlink(sock_path)
    os.rmdir(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
