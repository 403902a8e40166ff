#!/usr/bin/env python3
"""Whether two renderings of a member's user data carry the same thing:
  same-userdata.py CLOUD_CONFIG_A CLOUD_CONFIG_B STARTUP_A STARTUP_B
The cloud-configs must be equal once every write_files content is decoded
(gzip output differs between Go's and Python's compressors, what it
decodes to must not); the startup-scripts equal outside their two base64
payloads, and those equal decoded. Exit 0 same, 1 different (says where).
"""
import base64
import gzip
import re
import sys

import yaml


def cloud_config(path):
    doc = yaml.safe_load(open(path))
    files = {}
    for f in doc["write_files"]:
        data = base64.b64decode(f["content"])
        if f.get("encoding") == "gz+b64":
            data = gzip.decompress(data)
        files[f["path"]] = (data, {k: v for k, v in f.items() if k != "content"})
    rest = {k: v for k, v in doc.items() if k != "write_files"}
    return files, rest


def startup(path):
    text = open(path).read()
    payloads = re.findall(r"echo '([A-Za-z0-9+/=]+)'", text)
    if len(payloads) != 2:
        sys.exit("%s: not two payloads" % path)
    return (re.sub(r"echo '[A-Za-z0-9+/=]+'", "echo ''", text),
            base64.b64decode(payloads[0]), gzip.decompress(base64.b64decode(payloads[1])))


def main():
    a, b, sa, sb = sys.argv[1:5]
    ok = True
    if cloud_config(a) != cloud_config(b):
        print("same-userdata: %s and %s differ" % (a, b))
        ok = False
    if startup(sa) != startup(sb):
        print("same-userdata: %s and %s differ" % (sa, sb))
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
