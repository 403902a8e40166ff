#!/usr/bin/env bash
# infra/ checked without a cloud account (ctest infra_static):
#   - Terraform: every file parsed by HashiCorp's HCL parser
#     (@cdktf/hcl2json from npm, tests/fetch-infra-tools.sh), then
#     infra-check.py (required resources, literal ports and who may reach
#     them, static addresses, IAM, validated variables, provider pins); two
#     broken copies (WireGuard open to the world, a port from a variable)
#     must fail it; `terraform fmt -check` too where terraform is installed;
#   - the user data rendered by infra/cloud-init/render.py for both roles
#     and both clouds: `cloud-init schema` (Debian's cloud-init, unpacked,
#     never run) passes it and refuses a broken one; what it carries decodes
#     to the settings and to ntpmc-firstboot.sh byte for byte, holds no
#     token, and fits AWS's 16 KiB user-data limit; GCP's startup-script
#     passes `sh -n` and shellcheck;
#   - the playbook: `ansible-playbook --syntax-check` (Debian's ansible-core);
#   - shellcheck on every shell script in infra/, tools/ and tests/e2e/cib.
#   infra-static.sh SRC_DIR TOOLS_DIR
set -euo pipefail
src=$(cd "${1:?usage: infra-static.sh SRC_DIR TOOLS_DIR}" && pwd)
tools=${2:?usage: infra-static.sh SRC_DIR TOOLS_DIR}
fail() { echo "infra-static: FAIL: $*" >&2; exit 1; }
if [ ! -f "$tools/npm/node_modules/@cdktf/hcl2json/package.json" ] || [ ! -x "$tools/root/usr/bin/cloud-init" ]; then
	echo "infra-static: SKIP: no $tools (tests/fetch-infra-tools.sh $tools)"
	exit 77
fi
for t in node shellcheck ansible-playbook /usr/bin/python3; do
	command -v "$t" >/dev/null || fail "$t is missing (tools/install-deps.sh --test)"
done
tools=$(cd "$tools" && pwd)
work=$(mktemp -d /tmp/ntpmc-infra.XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0
ok() { passed=$((passed + 1)); echo "infra-static: ok: $*"; }

# ---- Terraform -------------------------------------------------------------------
tfcheck() { # SRC: parse its infra/terraform, run infra-check.py on it
	local files
	mapfile -t files < <(cd "$1" && find infra/terraform -name '*.tf' | sort)
	(cd "$1" && node "$src/tests/integration/hcl2json.js" "$tools/npm" "${files[@]}") \
		>"$work/tf.json" || return 2
	python3 "$src/tests/integration/infra-check.py" "$work/tf.json" "$1"
}
out=$(tfcheck "$src") || { echo "$out" >&2; fail "infra-check.py"; }
ok "terraform parsed ($(find "$src/infra/terraform" -name '*.tf' | wc -l) files), ${out##*: }"

# the checker must catch what it is for
mutant() { # NAME SED_EXPR FILE WANT: a copy of infra/ with one change must fail with WANT
	rm -rf "$work/m"
	mkdir -p "$work/m"
	cp -a "$src/infra" "$work/m/"
	sed -i "$2" "$work/m/$3"
	cmp -s "$src/$3" "$work/m/$3" && fail "mutant $1: the sed changed nothing"
	if out=$(tfcheck "$work/m"); then
		fail "mutant $1 passed infra-check.py"
	fi
	grep -q "$4" <<<"$out" || { echo "$out" >&2; fail "mutant $1: not the expected complaint '$4'"; }
	ok "mutant $1 refused"
}
mutant wireguard-open '/resource "aws_vpc_security_group_ingress_rule" "wireguard"/,/^}/ s|cidr_ipv4         = each.value|cidr_ipv4         = "0.0.0.0/0"|' \
	infra/terraform/aws/main.tf "port 51820 only from local.peer_cidrs"
mutant port-variable '/resource "google_compute_firewall" "mesh"/,/^}/ s|ports    = \["4460"\]|ports    = [var.cluster_port]|' \
	infra/terraform/gcp/main.tf "ports must be literal numbers"
mutant token-variable '$ a variable "join_token" {\n  type        = string\n  description = "x"\n}' \
	infra/terraform/shared/variables.tf "the join token must not pass through Terraform"
# Where terraform is installed (it is no Debian package): its formatting,
# and its own rendering of the user data (module firstboot has no
# provider, so init and apply need no network; CHECKPOINT_DISABLE keeps
# terraform from calling home) against render.py's, decoded.
if command -v terraform >/dev/null; then
	export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TF_CLI_CONFIG_FILE=/dev/null
	terraform fmt -check -recursive "$src/infra/terraform" >/dev/null 2>&1 ||
		fail "terraform fmt -check -recursive infra/terraform"
	ok "terraform fmt"
	mkdir -p "$work/tfroot"
	rel=$(python3 -c 'import os, sys; print(os.path.relpath(sys.argv[1], sys.argv[2]))' \
		"$src/infra/terraform/modules/firstboot" "$work/tfroot")
	{
		echo 'module "fb" {'
		echo "  source       = \"$rel\""
		echo '  settings     = { NTPMC_ROLE = "join", NTPMC_NODE_NAME = "n2", NTPMC_PROVIDER = "aws", NTPMC_TOKEN_SLOT = "aws-ssm:/ntpmc/join/n2" }'
		echo '  upstreams    = ["sth1.ntp.se", "ptbtime1.ptb.de"]'
		echo '  extra_config = ["ratelimit off"]'
		echo '}'
		echo 'output "cc" { value = module.fb.cloud_config }'
		echo 'output "ss" { value = module.fb.startup_script }'
	} >"$work/tfroot/main.tf"
	(cd "$work/tfroot" && terraform init -input=false -no-color >"$work/tf.log" 2>&1 &&
		terraform apply -auto-approve -input=false -no-color >>"$work/tf.log" 2>&1 &&
		terraform output -raw cc >"$work/tf-cc.yaml" && terraform output -raw ss >"$work/tf-ss.sh") ||
		{ cat "$work/tf.log" >&2; fail "terraform could not render module firstboot"; }
	jq -n '{NTPMC_ROLE: "join", NTPMC_NODE_NAME: "n2", NTPMC_PROVIDER: "aws",
		NTPMC_TOKEN_SLOT: "aws-ssm:/ntpmc/join/n2", NTPMC_UPSTREAM: ["sth1.ntp.se", "ptbtime1.ptb.de"],
		NTPMC_CONF: ["ratelimit off"]}' >"$work/eq.json"
	python3 "$src/infra/cloud-init/render.py" "$src/infra/cloud-init/ntpmc-member.yaml.tftpl" \
		"$work/eq.json" >"$work/py-cc.yaml"
	python3 "$src/infra/cloud-init/render.py" "$src/infra/cloud-init/ntpmc-startup.sh.tftpl" \
		"$work/eq.json" >"$work/py-ss.sh"
	python3 "$src/tests/integration/same-userdata.py" "$work/tf-cc.yaml" "$work/py-cc.yaml" \
		"$work/tf-ss.sh" "$work/py-ss.sh" || fail "terraform and render.py render different user data"
	ok "terraform $(terraform version -json | jq -r .terraform_version) renders what render.py renders"
else
	echo "infra-static: terraform is not installed: fmt and its rendering not checked"
fi

# ---- the rendered user data -----------------------------------------------------------
cloudinit() {
	PYTHONPATH=$tools/root/usr/lib/python3/dist-packages /usr/bin/python3 \
		"$tools/root/usr/bin/cloud-init" "$@"
}
for p in aws gcp; do
	for role in init join; do
		if [ "$p" = aws ]; then slot=aws-ssm:/ntpmc/join/n2; else slot=gcp-secret:projects/p-1/secrets/ntpmc-join-n2; fi
		jq -n --arg p "$p" --arg role "$role" --arg slot "$slot" '
			{NTPMC_ROLE: $role, NTPMC_NODE_NAME: "n1", NTPMC_PROVIDER: $p,
			 NTPMC_PACKAGE_URL: "https://downloads.example.org/ntpmc_0.1.0_amd64.deb",
			 NTPMC_PACKAGE_SHA256: ("0" * 64), NTPMC_DISCIPLINE: "kernel",
			 NTPMC_CLUSTER_PORT: "4460", NTPMC_WG_INTERFACE: "wg-ntp", NTPMC_WG_PORT: "51820",
			 NTPMC_UPSTREAM: ["sth1.ntp.se", "sth2.ntp.se", "ptbtime1.ptb.de", "time.nist.gov"],
			 NTPMC_CONF: ["metrics-listen 127.0.0.1"]}
			+ (if $role == "init" then {NTPMC_OVERLAY_SUBNET: "192.168.10.0/24", NTPMC_PUBLISH: [$slot]}
			   else {NTPMC_TOKEN_SLOT: $slot, NTPMC_TOKEN_WAIT: "1800"} end)' \
			>"$work/$p-$role.json"
		ud=$work/$p-$role.yaml
		python3 "$src/infra/cloud-init/render.py" "$src/infra/cloud-init/ntpmc-member.yaml.tftpl" \
			"$work/$p-$role.json" >"$ud"
		out=$(cloudinit schema -c "$ud" 2>&1) || { echo "$out" >&2; fail "cloud-init schema: $p $role"; }
		grep -q "^Valid cloud-config" <<<"$out" || { echo "$out" >&2; fail "cloud-init schema: $p $role"; }
		size=$(stat -c %s "$ud")
		[ "$size" -le 16384 ] || fail "$p $role: user data $size bytes, over AWS's 16384"
		python3 - "$ud" "$work/$p-$role.json" "$src/infra/cloud-init/ntpmc-firstboot.sh" <<'PY' ||
import base64, gzip, json, sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
files = {f["path"]: f for f in doc["write_files"]}
env = base64.b64decode(files["/etc/ntpmc/firstboot.env"]["content"]).decode()
script = gzip.decompress(base64.b64decode(files["/usr/local/sbin/ntpmc-firstboot"]["content"]))
settings = json.load(open(sys.argv[2]))
want = sorted("%s=%s" % (k, x) for k, v in settings.items() for x in (v if isinstance(v, list) else [v]))
assert sorted(env.splitlines()) == want, "the settings file is not the settings"
assert script == open(sys.argv[3], "rb").read(), "the script is not ntpmc-firstboot.sh"
assert files["/etc/ntpmc/firstboot.env"]["permissions"] == "0600"
assert doc["runcmd"] == [["/usr/local/sbin/ntpmc-firstboot", "/etc/ntpmc/firstboot.env"]]
assert "TOKEN=" not in env and "join-token" not in env.lower()
PY
			fail "$p $role: the rendered user data does not carry what it should"
		python3 "$src/infra/cloud-init/render.py" "$src/infra/cloud-init/ntpmc-startup.sh.tftpl" \
			"$work/$p-$role.json" >"$work/$p-$role.sh"
		sh -n "$work/$p-$role.sh" || fail "$p $role: the startup-script does not parse"
		shellcheck -s sh "$work/$p-$role.sh" || fail "$p $role: shellcheck on the startup-script"
		ok "$p $role: cloud-config valid ($size bytes), startup-script clean"
	done
done
printf '#cloud-config\nwrite_files:\n  - path: /x\n    permissions: 0600\nruncmd: yes\n' >"$work/bad.yaml"
if cloudinit schema -c "$work/bad.yaml" >/dev/null 2>&1; then
	fail "cloud-init schema accepted a broken cloud-config"
fi
ok "cloud-init schema refuses a broken cloud-config"
printf '{"NTPMC_ROLE": "join"}\n' >"$work/x.json"
# shellcheck disable=SC2016 # the template's own syntax, not the shell's
printf '#cloud-config\n# ${join_token}\n' >"$work/x.tftpl"
if python3 "$src/infra/cloud-init/render.py" "$work/x.tftpl" "$work/x.json" >/dev/null 2>&1; then
	fail "render.py filled a template value terraform would not get"
fi
ok "render.py refuses other template values"

# ---- Ansible ---------------------------------------------------------------------------
ANSIBLE_CONFIG=$work/none.cfg ANSIBLE_LOCAL_TEMP=$work/ansible ansible-playbook --syntax-check \
	-i "$src/infra/ansible/inventory.example.yml" "$src/infra/ansible/playbook.yml" >"$work/ans.log" 2>&1 ||
	{ cat "$work/ans.log" >&2; fail "ansible-playbook --syntax-check"; }
if grep -hoE '^ +(- name: .*|[a-z_]+\.[a-z_]+\.[a-z_]+:)' "$src/infra/ansible/playbook.yml" |
	grep -E '^\s+[a-z_]+\.[a-z_]+\.[a-z_]+:' | grep -v 'ansible\.builtin\.'; then
	fail "the playbook uses a module outside ansible.builtin"
fi
ok "ansible-playbook --syntax-check, ansible.builtin only"

# ---- shellcheck -----------------------------------------------------------------------------
mapfile -t scripts < <(cd "$src" && grep -rlE '^#!(/usr)?/bin/(env )?(ba)?sh' infra tools tests/e2e/cib |
	grep -v '\.tftpl$' | sort)
[ "${#scripts[@]}" -ge 10 ] || fail "only ${#scripts[@]} scripts found"
(cd "$src" && shellcheck "${scripts[@]}") || fail "shellcheck"
ok "shellcheck: ${#scripts[@]} scripts"
echo "infra-static: $passed passed, 0 failed"
