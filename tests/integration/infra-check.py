#!/usr/bin/env python3
"""Checks infra/terraform as parsed by @cdktf/hcl2json (hcl2json.js) for
what a fleet needs and must not have, without a cloud account:

  infra-check.py PARSED.json SRC_DIR

- both roots: terraform >= 1.5 and the provider pinned with a version
  constraint; every variable has a type and a description, and the ones an
  operator types (regions, instance types, CIDRs, names, URLs) a
  validation with a message; the shared variables file is the same file in
  both roots; the outputs the rotation hooks and docs/deploy.md use;
- firewall / security-group rules: ports are literal numbers; UDP 123 is
  open to 0.0.0.0/0 and ::/0; UDP 51820 and TCP 4460 only to the members'
  own addresses (local.peer_cidrs); SSH 22 never to the world; nothing
  else is open;
- static addresses: aws_eip on the member's interface and IPv6 on it;
  google_compute_address for IPv4 and IPv6; IMDSv2 only on AWS;
- least privilege: EC2 start/stop/terminate only on instances, release
  only on Elastic IPs, tagged with the fleet (the Elastic IPs carry the
  tag); GCP address deletion only on the fleet's addresses; terraform
  grants what the hand-made policies of infra/providers list (AWS actions,
  GCP permissions), and the AWS policy's tag is terraform's default fleet;
  the SSM / Secret Manager grants name single slots; no wildcard action;
- the join token is nowhere in Terraform (no token variable, nothing in
  user data but the first-boot settings), no pool.ntp.org upstream;
- every NTPMC_ setting the module or the playbook writes is one that
  ntpmc-firstboot.sh reads.
Prints one line per failed check and exits 1, or "infra-check: N checks
passed" and 0.
"""
import json
import os
import re
import sys

parsed = json.load(open(sys.argv[1]))
src = sys.argv[2]
fails = []
count = 0


def check(cond, what):
    global count
    count += 1
    if not cond:
        fails.append(what)


def merged(root):
    """All blocks of a root's files, merged by kind."""
    out = {"resource": {}, "data": {}, "variable": {}, "output": {}, "module": {},
           "terraform": [], "locals": [], "provider": {}}
    for f, doc in parsed.items():
        if os.path.dirname(f).rstrip("/").endswith(root):
            for kind, body in doc.items():
                if kind in ("terraform", "locals"):
                    out[kind] += body
                elif kind == "resource" or kind == "data":
                    for typ, named in body.items():
                        out[kind].setdefault(typ, {}).update(named)
                elif kind in out:
                    out[kind].update(body)
    return out


def one(named):
    return named[0] if isinstance(named, list) else named


def literal_port(v):
    return isinstance(v, int) or (isinstance(v, str) and re.fullmatch(r"\d+", v) is not None)


script = open(os.path.join(src, "infra/cloud-init/ntpmc-firstboot.sh")).read()
script_keys = set(re.findall(r"^\t(NTPMC_[A-Z0-9_]+)\)", script, re.M))
check(len(script_keys) >= 15, "ntpmc-firstboot.sh: its settings table was not found")

MUST_VALIDATE = {"fleet", "members", "first_member", "package_url", "package_sha256", "upstreams",
                 "peer_addresses", "admin_access", "admin_cidrs", "overlay_subnet", "region"}
ROOT_VALIDATE = {"aws": {"instance_type", "vpc_cidr"},
                 "gcp": {"project", "zone", "machine_type", "subnet_cidr"}}

for root, prov, src_name in (("aws", "aws", "hashicorp/aws"), ("gcp", "google", "hashicorp/google")):
    m = merged("terraform/" + root)
    where = "terraform/" + root
    tf = [t for t in m["terraform"] if "required_providers" in t]
    check(tf and re.search(r">=\s*1\.[5-9]", tf[0].get("required_version", "")),
          where + ": required_version >= 1.5 missing")
    rp = one(tf[0]["required_providers"]) if tf else {}
    p = rp.get(prov, {})
    check(p.get("source") == src_name and re.match(r"^~>\s*\d+\.\d+", p.get("version", "")),
          where + ": provider %s not pinned (source %s, version ~> X.Y)" % (prov, src_name))
    link = os.path.join(src, "infra", where, "shared-variables.tf")
    check(os.path.islink(link) and os.path.realpath(link) ==
          os.path.realpath(os.path.join(src, "infra/terraform/shared/variables.tf")),
          where + "/shared-variables.tf is not the link to ../shared/variables.tf")
    for name, v in m["variable"].items():
        v = one(v)
        check("type" in v and v.get("description"), "%s: variable %s lacks a type or description" % (where, name))
        if name in MUST_VALIDATE | ROOT_VALIDATE[root]:
            vals = v.get("validation", [])
            check(vals and all(x.get("error_message") for x in vals),
                  "%s: variable %s has no validation with a message" % (where, name))
        check("token" not in name or name in ("token_ttl", "token_wait_seconds"),
              "%s: variable %s: the join token must not pass through Terraform" % (where, name))
    for o in ("members", "rotation_hooks", "peer_cidrs", "admin", "publish_token_commands"):
        check(o in m["output"], "%s: output %s missing" % (where, o))
    check("firstboot" in m["module"] and one(m["module"]["firstboot"]).get("source") == "../modules/firstboot",
          where + ": the instances' first boot is not module firstboot")
    settings = one(m["module"].get("firstboot", [{}])).get("settings", "")
    for k in set(re.findall(r"NTPMC_[A-Z0-9_]+", settings)):
        check(k in script_keys, "%s: setting %s is not one ntpmc-firstboot.sh reads" % (where, k))
    for needed in ("NTPMC_ROLE", "NTPMC_PROVIDER", "NTPMC_TOKEN_SLOT", "NTPMC_PACKAGE_SHA256"):
        check(needed in settings, "%s: the first-boot settings lack %s" % (where, needed))
    check(("\"%s\"" % root) in settings, where + ": NTPMC_PROVIDER is not %s" % root)
    r = m["resource"]

    if root == "aws":
        rules = r.get("aws_vpc_security_group_ingress_rule", {})
        check(not r.get("aws_security_group", {}).get("member", [{}])[0].get("ingress"),
              "aws: inline ingress blocks in the security group (use the rule resources)")
        opened = set()
        for name, rule in rules.items():
            rule = one(rule)
            fp, tp = rule.get("from_port"), rule.get("to_port")
            check(literal_port(fp) and literal_port(tp) and int(fp) == int(tp),
                  "aws: rule %s: ports must be one literal number" % name)
            port = int(fp) if literal_port(fp) else None
            proto = rule.get("ip_protocol")
            v4, v6 = rule.get("cidr_ipv4", ""), rule.get("cidr_ipv6", "")
            opened.add((proto, port))
            if port == 123:
                check(proto == "udp" and (v4 == "0.0.0.0/0" or v6 == "::/0"),
                      "aws: rule %s: NTP must be udp from anywhere" % name)
            elif port in (51820, 4460):
                check(proto == ("udp" if port == 51820 else "tcp") and
                      rule.get("for_each") == "${local.peer_cidrs}" and v4 == "${each.value}",
                      "aws: rule %s: port %d only from local.peer_cidrs" % (name, port))
            elif port == 22:
                check(proto == "tcp" and "var.admin_cidrs" in rule.get("for_each", ""),
                      "aws: rule %s: SSH only from admin_cidrs" % name)
            else:
                check(False, "aws: rule %s opens port %s" % (name, port))
        for want in (("udp", 123), ("udp", 51820), ("tcp", 4460)):
            check(want in opened, "aws: no ingress rule for %s %d" % want)
        v6 = [one(x) for x in rules.values() if one(x).get("cidr_ipv6") == "::/0"]
        check(len(v6) == 1 and "var.ipv6" in v6[0].get("count", ""),
              "aws: NTP over IPv6 must follow var.ipv6")
        check(re.search(r"aws_eip\.member\[m\]\.public_ip", one(m["locals"][0]).get("peer_cidrs", "") if m["locals"] else ""),
              "aws: local.peer_cidrs must be built from the members' Elastic IPs")
        eip = one(r.get("aws_eip", {}).get("member", [{}]))
        check(eip.get("domain") == "vpc" and "aws_network_interface.member" in eip.get("network_interface", ""),
              "aws: each member needs an Elastic IP on its network interface")
        eni = one(r.get("aws_network_interface", {}).get("member", [{}]))
        check("var.ipv6" in str(eni.get("ipv6_address_count", "")), "aws: the interface's IPv6 address must follow var.ipv6")
        vpc = one(r.get("aws_vpc", {}).get("fleet", [{}]))
        check(vpc.get("assign_generated_ipv6_cidr_block") is True, "aws: the VPC has no IPv6 block")
        inst = one(r.get("aws_instance", {}).get("member", [{}]))
        md = one(inst.get("metadata_options", [{}]))
        check(md.get("http_tokens") == "required", "aws: IMDSv2 (http_tokens = required) missing")
        check("module.firstboot" in inst.get("user_data", ""), "aws: user_data is not the first-boot module's")
        check(one(inst.get("credit_specification", [{}])).get("cpu_credits") == "standard",
              "aws: t3 credits must be standard (unlimited is billed)")
        iam = open(os.path.join(src, "infra/terraform/aws/iam.tf")).read()
        check("aws:ResourceTag/ntpmc-fleet" in iam and "ec2:StartInstances" in iam and "ec2:StopInstances" in iam,
              "aws: start/stop must be limited to the fleet's tagged instances")
        # the hooks' actions by hand (aws-iam-policy.json), terraform grants,
        # with the tag terraform puts on a fleet of its default name
        pol = json.load(open(os.path.join(src, "infra/providers/aws-iam-policy.json")))
        acts = set(a for st in pol["Statement"] for a in st["Action"])
        check(all(a in iam for a in acts), "aws: terraform lacks %s of infra/providers/aws-iam-policy.json"
              % ", ".join(sorted(a for a in acts if a not in iam)))
        fleet = one(m["variable"].get("fleet", [{}])).get("default")
        tags = set(v for st in pol["Statement"] for v in
                   st.get("Condition", {}).get("StringEquals", {}).values())
        check(tags == {fleet}, "aws: aws-iam-policy.json's ntpmc-fleet tag %s is not terraform's default fleet %s"
              % (sorted(tags), fleet))
        check("ntpmc-fleet = var.fleet" in open(os.path.join(src, "infra/terraform/aws/main.tf")).read().split('resource "aws_eip"')[1].split("\n}")[0],
              "aws: the Elastic IPs must carry the fleet's tag (the hooks release them)")
        check("ssm:GetParameter" in iam and "ssm:DeleteParameter" in iam and "ssm:PutParameter" in iam,
              "aws: the token slot grants are missing")
        check(not re.search(r'"(ec2|ssm|iam|\*):\*"|"\*:\*"', iam), "aws: a wildcard action in the instance roles")
    else:
        fws = r.get("google_compute_firewall", {})
        opened = set()
        for name, fw in fws.items():
            fw = one(fw)
            src_ranges = fw.get("source_ranges", [])
            for allow in fw.get("allow", []):
                proto = allow.get("protocol")
                ports = allow.get("ports", [])
                check(ports and all(literal_port(x) for x in ports),
                      "gcp: firewall %s: ports must be literal numbers" % name)
                for x in ports:
                    if not literal_port(x):
                        continue
                    port = int(x)
                    opened.add((proto, port))
                    if port == 123:
                        check(proto == "udp" and src_ranges in (["0.0.0.0/0"], ["::/0"]),
                              "gcp: firewall %s: NTP must be udp from anywhere" % name)
                    elif port in (51820, 4460):
                        check(src_ranges == "${local.peer_cidrs}",
                              "gcp: firewall %s: port %d only from local.peer_cidrs" % (name, port))
                    elif port == 22:
                        check("0.0.0.0/0" not in str(src_ranges) and "var.admin" in str(src_ranges),
                              "gcp: firewall %s: SSH only from admin_cidrs or IAP" % name)
                    else:
                        check(False, "gcp: firewall %s opens port %d" % (name, port))
        for want in (("udp", 123), ("udp", 51820), ("tcp", 4460)):
            check(want in opened, "gcp: no firewall rule for %s %d" % want)
        addr = r.get("google_compute_address", {})
        check("v4" in addr and one(addr["v4"]).get("address_type") == "EXTERNAL", "gcp: no static external IPv4")
        check("v6" in addr and one(addr["v6"]).get("ip_version") == "IPV6", "gcp: no static external IPv6")
        inst = one(r.get("google_compute_instance", {}).get("member", [{}]))
        md = inst.get("metadata", {})
        check("module.firstboot" in md.get("startup-script", "") and "module.firstboot" in md.get("user-data", ""),
              "gcp: startup-script and user-data must both be the first-boot module's")
        nic = one(inst.get("network_interface", [{}]))
        check("google_compute_address.v4" in one(nic.get("access_config", [{}])).get("nat_ip", ""),
              "gcp: the instance does not use its static IPv4")
        check(inst.get("machine_type") == "${var.machine_type}", "gcp: machine_type is not the validated variable")
        iam = open(os.path.join(src, "infra/terraform/gcp/iam.tf")).read()
        check(re.search(r'permissions\s*=\s*\["compute.instances.start", "compute.instances.stop", "compute.instances.get", "compute.instances.delete"\]', iam),
              "gcp: the hooks' role must hold exactly start, stop, get and delete")
        check(re.search(r'permissions\s*=\s*\["compute.addresses.delete"\]', iam) and
              re.search(r'resource\.name\.startsWith\(.*addresses/\$\{var\.fleet\}-', iam),
              "gcp: address release must be limited to the fleet's addresses (a condition)")
        # what the gcp hook needs by hand (gcp-role.yaml), terraform grants
        want = set(re.findall(r"^- (compute\.[A-Za-z.]+)$",
                              open(os.path.join(src, "infra/providers/gcp-role.yaml")).read(), re.M))
        have = set(re.findall(r'"(compute\.[A-Za-z.]+)"', iam))
        check(want and want <= have, "gcp: terraform lacks %s of infra/providers/gcp-role.yaml"
              % ", ".join(sorted(want - have)))
        check("google_compute_instance_iam_member" in iam, "gcp: the hooks' role must be granted per instance")
        check("roles/compute.instanceAdmin" not in iam and "roles/editor" not in iam and "roles/owner" not in iam,
              "gcp: a broad role is granted")

# the module and the template agree with render.py: two values, nothing else
mod = merged("modules/firstboot")
check(set(re.findall(r"\$\{(\w+)\}", open(os.path.join(src, "infra/cloud-init/ntpmc-member.yaml.tftpl")).read()))
      == {"firstboot_env", "firstboot_script"}, "ntpmc-member.yaml.tftpl uses other values than render.py fills")
lv = one(mod["locals"][0]).get("values", {}) if mod["locals"] else {}
check(set(lv) == {"firstboot_env", "firstboot_script"}, "module firstboot: values are not the templates' two")
check("base64encode" in lv.get("firstboot_env", "") and "base64gzip" in lv.get("firstboot_script", ""),
      "module firstboot: the encodings are not render.py's (base64, gzip+base64)")

# the playbook's settings
j2 = open(os.path.join(src, "infra/ansible/firstboot.env.j2")).read()
for k in set(re.findall(r"^(NTPMC_[A-Z0-9_]+)=", j2, re.M)):
    check(k in script_keys, "ansible: setting %s is not one ntpmc-firstboot.sh reads" % k)

# no pool.ntp.org among the upstreams: the variable's default, the
# examples (tfvars, inventory)
for root in ("aws", "gcp"):
    ups = one(merged("terraform/" + root)["variable"].get("upstreams", [{}])).get("default", [])
    check(len(ups) >= 4 and not any("pool.ntp.org" in u for u in ups),
          "terraform/%s: the upstreams default must be 4 or more servers, none of pool.ntp.org" % root)
    ex = open(os.path.join(src, "infra/terraform", root, "terraform.tfvars.example")).read()
    line = re.search(r"^upstreams\s*=.*$", ex, re.M)
    check(line and "pool.ntp.org" not in line.group(0), "terraform/%s: the example's upstreams" % root)
inv = open(os.path.join(src, "infra/ansible/inventory.example.yml")).read()
line = re.search(r"^\s*ntpmc_upstreams:.*$", inv, re.M)
check(line and "pool.ntp.org" not in line.group(0), "ansible: the example's upstreams")

for f in fails:
    print("infra-check: FAIL: " + f)
print("infra-check: %d checks, %d failed" % (count, len(fails)))
sys.exit(1 if fails else 0)
