#!/usr/bin/python3
"""What cloud-init does with a member's user data, for a cloud-in-a-box VM
(systemd and cloud-init's own services do not run there):

  cloud-init-lite.py USER_DATA

A "#cloud-config" document: write_files (path, content, encoding b64 /
gz+b64 / text, owner, permissions, append, defer), then runcmd written to
/var/lib/cloud/instance/scripts/runcmd and run by /bin/sh, in that order,
as cloud-init's config and final stages do (cc_write_files, cc_runcmd,
cc_scripts_user in cloudinit/config/). Any other key is refused: the
member template must not grow a module the box would skip. A "#!" script
(GCP's startup-script, run by the guest agent) is run as it is. Exit code:
the script's.
"""
import base64
import gzip
import os
import pwd
import grp
import shlex
import subprocess
import sys

import yaml

KNOWN = {"write_files", "runcmd"}


def decode(f):
    enc = (f.get("encoding") or "text/plain").lower()
    data = f.get("content", "")
    if enc in ("b64", "base64"):
        return base64.b64decode(data)
    if enc in ("gz+b64", "gzip+base64", "gz+base64", "gzip+b64"):
        return gzip.decompress(base64.b64decode(data))
    if enc in ("gz", "gzip"):
        return gzip.decompress(data if isinstance(data, bytes) else data.encode())
    if enc == "text/plain":
        return data.encode() if isinstance(data, str) else data
    sys.exit("cloud-init-lite: unknown encoding %s" % enc)


def write(f):
    path = f["path"]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "ab" if f.get("append") else "wb") as out:
        out.write(decode(f))
    os.chmod(path, int(str(f.get("permissions", "0644")), 8))
    user, _, group = str(f.get("owner", "root:root")).partition(":")
    os.chown(path, pwd.getpwnam(user).pw_uid, grp.getgrnam(group or user).gr_gid)
    print("cloud-init-lite: wrote %s" % path, flush=True)


def main():
    text = open(sys.argv[1]).read()
    if text.startswith("#!"):
        path = "/var/lib/google/startup-script"
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as out:
            out.write(text)
        os.chmod(path, 0o700)
        return subprocess.run([path]).returncode
    if not text.startswith("#cloud-config"):
        sys.exit("cloud-init-lite: neither #cloud-config nor a script")
    doc = yaml.safe_load(text) or {}
    unknown = set(doc) - KNOWN
    if unknown:
        sys.exit("cloud-init-lite: the box does not run %s" % ", ".join(sorted(unknown)))
    files = doc.get("write_files", [])
    for f in [f for f in files if not f.get("defer")] + [f for f in files if f.get("defer")]:
        write(f)
    if not doc.get("runcmd"):
        return 0
    lines = ["#!/bin/sh"]
    for c in doc["runcmd"]:
        lines.append(" ".join(shlex.quote(str(a)) for a in c) if isinstance(c, list) else str(c))
    path = "/var/lib/cloud/instance/scripts/runcmd"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as out:
        out.write("\n".join(lines) + "\n")
    os.chmod(path, 0o700)
    return subprocess.run([path]).returncode


if __name__ == "__main__":
    sys.exit(main())
