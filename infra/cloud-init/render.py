#!/usr/bin/env python3
"""Renders a member's first-boot user data the way terraform does, for CI,
the cloud in a box and an operator who wants to look before applying:

  render.py TEMPLATE SETTINGS.json > USER_DATA

TEMPLATE is ntpmc-member.yaml.tftpl (cloud-init) or ntpmc-startup.sh.tftpl
(GCP's guest agent). SETTINGS.json is an object of the settings file's
keys (ntpmc-firstboot.sh lists them): a string, or a list of strings for
the keys that repeat (NTPMC_UPSTREAM, NTPMC_PUBLISH, NTPMC_CONF). The
templates use nothing but ${firstboot_env} and ${firstboot_script}, which
infra/terraform/modules/firstboot fills with base64encode() of
the same lines and base64gzip() of ntpmc-firstboot.sh; anything else in a
template (another variable, a directive, a function call) is refused here,
so the two renderers cannot drift apart.
"""
import base64
import gzip
import json
import os
import re
import sys

REPEATED = ("NTPMC_UPSTREAM", "NTPMC_PUBLISH", "NTPMC_CONF")


def env_text(settings):
    """The settings file: the same lines, in the same order, as the module
    (the one-value keys sorted, then the repeated ones in REPEATED's order)."""
    for k, v in settings.items():
        vals = v if isinstance(v, list) else [v]
        if isinstance(v, list) != (k in REPEATED):
            sys.exit("render: %s must be %s" % (k, "a list" if k in REPEATED else "a string"))
        for x in vals:
            if not isinstance(x, str) or "\n" in x:
                sys.exit("render: %s must be one line of text" % k)
    lines = ["%s=%s" % (k, settings[k]) for k in sorted(settings) if k not in REPEATED]
    for k in REPEATED:
        lines += ["%s=%s" % (k, x) for x in settings.get(k, [])]
    return "\n".join(lines) + "\n"


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    tpl = open(sys.argv[1]).read()
    settings = json.load(open(sys.argv[2]))
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ntpmc-firstboot.sh")
    values = {
        "firstboot_env": base64.b64encode(env_text(settings).encode()).decode(),
        # mtime 0: the same bytes on every run
        "firstboot_script": base64.b64encode(
            gzip.compress(open(script, "rb").read(), 9, mtime=0)).decode(),
    }
    rest = re.sub(r"\$\{(firstboot_env|firstboot_script)\}", "", tpl)
    if "${" in rest or "%{" in rest:
        sys.exit("render: %s uses template syntax beyond ${firstboot_env} and "
                 "${firstboot_script}" % sys.argv[1])
    sys.stdout.write(re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], tpl))


if __name__ == "__main__":
    main()
