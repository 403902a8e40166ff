#!/usr/bin/env python3
"""The Grafana dashboard and its provisioning files, checked.

  check-dashboard.py MONITORING_DIR PROMTOOL              static checks
  check-dashboard.py MONITORING_DIR PROMTOOL --prometheus URL
                                                 and against a live scrape

Static: the dashboard is JSON with a uid, every panel and target uses the
provisioned datasource's uid, the dashboard provider loads files from a
path, and every PromQL expression (template variables replaced) parses:
they are handed to `promtool check rules` as recording rules.
Live: every expression runs without error on the Prometheus at URL, and
every metric it names is among the names that Prometheus has scraped.
Exit 0 when all hold, 1 with one line per problem otherwise.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request

# Grafana's variables, replaced by what they stand for in a query.
VARS = {"$__rate_interval": "5m", "$__interval": "1m", "$node": ".*"}
NAME = re.compile(r"\b(ntpmc_[a-z0-9_]+|up)\b(?!\s*\()")


def expand(expr):
    for k, v in VARS.items():
        expr = expr.replace(k, v)
    return expr


def exprs_of(dash):
    out = []
    for p in dash.get("panels", []):
        for t in p.get("targets", []):
            out.append((p.get("title", "?"), t.get("expr", "")))
    for v in dash.get("templating", {}).get("list", []):
        q = v.get("definition", "")
        m = re.match(r"label_values\((.*),\s*\w+\)$", q)
        if m:
            out.append(("variable " + v.get("name", "?"), m.group(1)))
    return out


def static(mon, promtool, bad):
    dpath = os.path.join(mon, "grafana/dashboards/ntpmc-fleet.json")
    with open(dpath) as f:
        dash = json.load(f)
    with open(os.path.join(mon, "grafana/provisioning/datasources/ntpmc.yml")) as f:
        m = re.search(r"^\s*uid:\s*(\S+)", f.read(), re.M)
    uid = m.group(1) if m else None
    if not uid:
        bad.append("datasource provisioning names no uid")
    with open(os.path.join(mon, "grafana/provisioning/dashboards/ntpmc.yml")) as f:
        prov = f.read()
    if not re.search(r"^\s*type:\s*file\s*$", prov, re.M) or \
            not re.search(r"^\s*path:\s*\S+", prov, re.M):
        bad.append("dashboard provisioning: no file provider with a path")
    if not dash.get("uid") or not dash.get("panels"):
        bad.append("dashboard: no uid or no panels")
    for p in dash.get("panels", []):
        for o in [p] + p.get("targets", []):
            ds = o.get("datasource", {})
            if ds.get("uid") != uid:
                bad.append("panel '%s': datasource %r, not the provisioned %r"
                           % (p.get("title"), ds, uid))
        if not p.get("targets"):
            bad.append("panel '%s' has no query" % p.get("title"))
    exprs = exprs_of(dash)
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        f.write("groups:\n  - name: dashboard\n    rules:\n")
        for i, (_, e) in enumerate(exprs):
            f.write("      - record: dashboard_check_%d\n        expr: %s\n"
                    % (i, json.dumps(expand(e))))
        rules = f.name
    r = subprocess.run([promtool, "check", "rules", rules],
                       capture_output=True, text=True)
    os.unlink(rules)
    if r.returncode != 0:
        bad.append("promtool check rules on the dashboard's expressions:\n"
                   + r.stdout + r.stderr)
    return exprs


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


def live(url, exprs, bad):
    names = set(get(url + "/api/v1/label/__name__/values")["data"])
    for title, e in exprs:
        q = urllib.parse.quote(expand(e))
        try:
            r = get(url + "/api/v1/query?query=" + q)
        except Exception as ex:  # HTTP 400 for a query that fails
            bad.append("'%s': %s: %s" % (title, e, ex))
            continue
        if r.get("status") != "success":
            bad.append("'%s': %s: %s" % (title, e, r))
        for n in NAME.findall(e):
            if n not in names and n + "_bucket" not in names:
                bad.append("'%s': %s is not in the live scrape" % (title, n))


def main():
    if len(sys.argv) not in (3, 5) or (len(sys.argv) == 5 and
                                       sys.argv[3] != "--prometheus"):
        print(__doc__, file=sys.stderr)
        return 2
    bad = []
    exprs = static(sys.argv[1], sys.argv[2], bad)
    if len(sys.argv) == 5:
        live(sys.argv[4].rstrip("/"), exprs, bad)
    for b in bad:
        print("check-dashboard: " + b)
    if not bad:
        print("check-dashboard: %d expressions ok%s" %
              (len(exprs), " (live)" if len(sys.argv) == 5 else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
