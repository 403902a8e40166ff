#!/usr/bin/env python3
"""The cloud of the cloud in a box: what a VM's first boot talks to besides
the NTP upstreams, served from the box's "internet" namespace.

  fakecloud.py STATE.json MIRROR_DIR

- the metadata service at 169.254.169.254:80: AWS IMDSv2 (a PUT for a
  session token, then GETs carrying it; role credentials) or GCP's
  (Metadata-Flavor: Google; a service-account access token), answering
  each VM by its source address (10.250.I.x is VM I);
- files at 10.250.0.1:8080: the ntpmc package and a signed Debian mirror;
- the secret stores at 10.250.0.1:8081: SSM Parameter Store (AWS JSON 1.1:
  GetParameter, PutParameter, DeleteParameter, with the request's SigV4
  signature checked against the credentials handed out) and Secret Manager
  (versions/latest:access, :addVersion, versions/N:destroy). Each VM may do
  only what its instance role / service account in the state file allows,
  as IAM would: its own slot, and the first member put on its peers';
- the VMs' start/stop API at 10.250.0.1:8081 (POST /_box/vm/ACTION/ID,
  what tests/e2e/cib/box-provider asks from inside a VM): with BOX_FAKE_HOOK
  and NTPMC_FAKE_CLOUD in its environment, the fake cloud's hook
  (infra/providers/fake) runs ACTION ID on the box's side; 200 with its
  output, or 500 with its error.
STATE.json is re-read on every request (the box rewrites it when a VM's
address changes). Answers are logged to stderr. Bound to the box's
addresses only; runs until killed.
"""
import base64
import hashlib
import hmac
import http.server
import json
import os
import re
import secrets
import socketserver
import subprocess
import sys
import threading
import urllib.parse

STATE, MIRROR = sys.argv[1], sys.argv[2]
lock = threading.Lock()
imds_tokens = {}      # IMDSv2 session token -> VM index
creds = {}            # access key id -> (secret, session token, VM index)
bearer = {}           # GCP access token -> VM index
params = {}           # SSM parameter name -> value
secret_versions = {}  # secret name -> [(version, data or None if destroyed)]


def state():
    with open(STATE) as f:
        return json.load(f)


def vm_of(addr):
    m = re.match(r"^10\.250\.(\d+)\.\d+$", addr)
    if not m:
        return None, None
    vms = state()["vms"]
    return m.group(1), vms.get(m.group(1))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("fakecloud %s:%d %s\n" % (self.server.server_address[0],
                         self.server.server_address[1], fmt % args))

    def reply(self, code, body=b"", ctype="text/plain", headers=None):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def route(self):
        port = self.server.server_address[1]
        if port == 80:
            return self.metadata()
        if port == 8080:
            return self.files()
        return self.api()

    do_GET = do_PUT = do_POST = do_HEAD = route

    # ---- metadata ---------------------------------------------------------
    def metadata(self):
        idx, vm = vm_of(self.client_address[0])
        if vm is None:
            return self.reply(404, "unknown VM")
        path = self.path
        if vm["provider"] == "aws":
            return self.aws_md(idx, vm, path)
        return self.gcp_md(idx, vm, path)

    def aws_md(self, idx, vm, path):
        if path == "/latest/api/token":
            if self.command != "PUT" or not self.headers.get(
                    "X-aws-ec2-metadata-token-ttl-seconds"):
                return self.reply(400 if self.command == "PUT" else 405)
            tok = secrets.token_urlsafe(24)
            with lock:
                imds_tokens[tok] = idx
            return self.reply(200, tok)
        if imds_tokens.get(self.headers.get("X-aws-ec2-metadata-token")) != idx:
            return self.reply(401, "IMDSv2 token required")
        p = path[len("/latest/meta-data/"):] if path.startswith("/latest/meta-data/") else None
        simple = {"instance-id": vm["instance_id"], "placement/region": vm["region"],
                  "placement/availability-zone": vm["zone"],
                  "public-ipv4": vm["public_ipv4"],
                  "iam/security-credentials/": vm["role"]}
        if p in simple:
            return self.reply(200, simple[p])
        if p == "iam/security-credentials/" + vm["role"]:
            ak = "ASIABOX%s%s" % (idx, secrets.token_hex(4).upper())
            sk, st = secrets.token_urlsafe(30), secrets.token_urlsafe(40)
            with lock:
                creds[ak] = (sk, st, idx)
            return self.reply(200, json.dumps({
                "Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": ak,
                "SecretAccessKey": sk, "Token": st,
                "Expiration": "2099-01-01T00:00:00Z"}), "application/json")
        return self.reply(404, "not found")

    def gcp_md(self, idx, vm, path):
        if not path.startswith("/computeMetadata/v1/"):
            return self.reply(404, "not found")
        if self.headers.get("Metadata-Flavor") != "Google":
            return self.reply(403, "Missing Metadata-Flavor:Google header.")
        p = path[len("/computeMetadata/v1/"):]
        h = {"Metadata-Flavor": "Google"}
        simple = {"instance/id": vm["instance_id"], "instance/name": vm["name"],
                  "instance/zone": "projects/424242/zones/" + vm["zone"],
                  "project/project-id": vm["project"],
                  "instance/network-interfaces/0/access-configs/0/external-ip": vm["public_ipv4"]}
        if p in simple:
            return self.reply(200, simple[p], headers=h)
        if p == "instance/service-accounts/default/token":
            tok = "ya29.box" + secrets.token_urlsafe(30)
            with lock:
                bearer[tok] = idx
            return self.reply(200, json.dumps({"access_token": tok, "expires_in": 3599,
                                               "token_type": "Bearer"}),
                              "application/json", h)
        return self.reply(404, "not found", headers=h)

    # ---- files ---------------------------------------------------------------
    def files(self):
        rel = urllib.parse.unquote(self.path.split("?")[0]).lstrip("/")
        full = os.path.realpath(os.path.join(MIRROR, rel))
        if not full.startswith(os.path.realpath(MIRROR) + os.sep) or not os.path.isfile(full):
            return self.reply(404, "not found")
        with open(full, "rb") as f:
            return self.reply(200, f.read(), "application/octet-stream")

    # ---- the secret stores ------------------------------------------------------
    def api(self):
        if self.path == "/_box/slots":  # what the box checks: tokens left
            live = sorted(list(params) + ["%s/versions/%d" % (k, v[0])
                                          for k, vs in secret_versions.items()
                                          for v in vs if v[1] is not None])
            return self.reply(200, json.dumps(live), "application/json")
        if self.path.startswith("/_box/vm/"):
            return self.vm_action()
        if self.headers.get("X-Amz-Target"):
            return self.ssm()
        return self.secretmanager()

    def vm_action(self):
        """A VM's provider hook asks the cloud to start, stop or describe
        an instance: the fake cloud's hook does it here."""
        idx, vm = vm_of(self.client_address[0])
        hook = os.environ.get("BOX_FAKE_HOOK")
        m = re.match(r"^/_box/vm/(start|stop|status|terminate|release)/([A-Za-z0-9-]+)$",
                     self.path)
        self.body()
        if vm is None or not hook or not m or self.command != "POST":
            return self.reply(404, "no such VM action")
        try:
            p = subprocess.run([hook, m.group(1), m.group(2)], capture_output=True,
                               timeout=90, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return self.reply(500, "fake cloud: %s %s timed out\n" % m.groups())
        if p.returncode != 0:
            return self.reply(500, p.stderr or b"fake cloud: failed\n")
        return self.reply(200, p.stdout)

    def sigv4_ok(self, body):
        """The request's AWS Signature Version 4, recomputed (the scheme in
        AWS's "Signature Version 4 signing process" documentation)."""
        auth = self.headers.get("Authorization", "")
        m = re.match(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request,"
                     r" ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$", auth)
        if not m:
            return None, "no SigV4 Authorization header"
        ak, day, region, service, signed, sig = m.groups()
        if ak not in creds:
            return None, "unknown access key"
        sk, st, idx = creds[ak]
        if self.headers.get("X-Amz-Security-Token") != st:
            return None, "bad session token"
        if service != "ssm":
            return None, "signed for service %s" % service
        names = signed.split(";")
        canon_headers = "".join("%s:%s\n" % (n, " ".join(self.headers.get(n, "").split()))
                                for n in names)
        path, _, query = self.path.partition("?")
        creq = "\n".join([self.command, path, query, canon_headers, signed,
                          hashlib.sha256(body).hexdigest()])
        date = self.headers.get("X-Amz-Date", "")
        sts = "\n".join(["AWS4-HMAC-SHA256", date, "%s/%s/%s/aws4_request" % (day, region, service),
                         hashlib.sha256(creq.encode()).hexdigest()])
        k = ("AWS4" + sk).encode()
        for part in (day, region, service, "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        want = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, sig):
            return None, "signature mismatch"
        return idx, None

    def ssm(self):
        body = self.body()
        idx, why = self.sigv4_ok(body)
        if idx is None:
            return self.reply(403, json.dumps({"__type": "UnrecognizedClientException",
                                               "message": why}), "application/x-amz-json-1.1")
        vm = state()["vms"][idx]
        op = self.headers["X-Amz-Target"].split(".")[-1]
        req = json.loads(body or b"{}")
        name = req.get("Name", "")
        allowed = {"GetParameter": vm.get("may_take", []),
                   "DeleteParameter": vm.get("may_take", []),
                   "PutParameter": vm.get("may_put", [])}.get(op)
        if allowed is None:
            return self.reply(400, json.dumps({"__type": "InvalidAction"}))
        if name not in allowed:
            return self.reply(400, json.dumps({"__type": "AccessDeniedException",
                                               "Message": "not authorized to %s %s" % (op, name)}),
                              "application/x-amz-json-1.1")
        with lock:
            if op == "PutParameter":
                params[name] = req["Value"]
                out = {"Version": 1, "Tier": "Standard"}
            elif name not in params:
                return self.reply(400, json.dumps({"__type": "ParameterNotFound"}),
                                  "application/x-amz-json-1.1")
            elif op == "GetParameter":
                out = {"Parameter": {"Name": name, "Type": "SecureString",
                                     "Value": params[name], "Version": 1}}
            else:
                del params[name]
                out = {}
        return self.reply(200, json.dumps(out), "application/x-amz-json-1.1")

    def secretmanager(self):
        body = self.body()
        tok = self.headers.get("Authorization", "")[len("Bearer "):]
        who = bearer.get(tok)
        if who is None and tok == state().get("operator_token"):
            who = "operator"
        if who is None:
            return self.reply(401, json.dumps({"error": {"code": 401, "status": "UNAUTHENTICATED"}}))
        may = state()["vms"][who] if who != "operator" else {}
        m = re.match(r"^/v1/(projects/[^/]+/secrets/[^/:]+)(.*)$", self.path)
        if not m:
            return self.reply(404, "{}")
        secret, rest = m.groups()
        deny = json.dumps({"error": {"code": 403, "status": "PERMISSION_DENIED"}})
        with lock:
            vers = secret_versions.setdefault(secret, [])
            if rest == ":addVersion" and self.command == "POST":
                if who != "operator" and secret not in may.get("may_put", []):
                    return self.reply(403, deny)
                data = json.loads(body)["payload"]["data"]
                vers.append([len(vers) + 1, data])
                return self.reply(200, json.dumps({"name": "%s/versions/%d" % (secret, len(vers))}))
            if who == "operator" or secret not in may.get("may_take", []):
                return self.reply(403, deny)
            if rest == "/versions/latest:access" and self.command == "GET":
                if not vers:
                    return self.reply(404, json.dumps({"error": {"code": 404, "status": "NOT_FOUND"}}))
                n, data = vers[-1]
                if data is None:
                    return self.reply(400, json.dumps({"error": {"code": 400,
                                                                 "status": "FAILED_PRECONDITION"}}))
                return self.reply(200, json.dumps({"name": "%s/versions/%d" % (secret, n),
                                                   "payload": {"data": data}}))
            m2 = re.match(r"^/versions/(\d+):destroy$", rest)
            if m2 and self.command == "POST":
                for v in vers:
                    if v[0] == int(m2.group(1)):
                        v[1] = None
                        return self.reply(200, json.dumps({"state": "DESTROYED"}))
                return self.reply(404, "{}")
        return self.reply(404, "{}")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    servers = [Server((a, p), Handler) for a, p in
               (("169.254.169.254", 80), ("10.250.0.1", 8080), ("10.250.0.1", 8081))]
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print("ready", flush=True)
    servers[0].serve_forever()


if __name__ == "__main__":
    main()
