# The variables both root modules take (infra/terraform/aws and gcp link
# this file as shared-variables.tf). docs/deploy.md walks through them;
# terraform.tfvars.example in each root has a filled-in set.

variable "fleet" {
  description = "The fleet's name: prefixes every resource, tags the instances, names the token slots."
  type        = string
  default     = "ntpmc"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,11}$", var.fleet))
    error_message = "fleet: 2 to 12 characters, lower-case letters, digits and '-', starting with a letter (it prefixes account and role names that have length limits)."
  }
}

variable "members" {
  description = "The members this root module creates, by name (their node-name)."
  type        = list(string)
  validation {
    condition     = length(var.members) >= 1 && alltrue([for m in var.members : can(regex("^[a-z][a-z0-9-]{1,15}$", m))])
    error_message = "members: at least one name; each 2 to 16 characters of lower-case letters, digits and '-', starting with a letter."
  }
  validation {
    condition     = length(distinct(var.members)) == length(var.members)
    error_message = "members: every name once."
  }
}

variable "first_member" {
  description = "The member that creates the cluster (ntpnode init), in this cloud or the other; exactly one in the whole fleet."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.first_member))
    error_message = "first_member: a member name (2 to 16 characters of lower-case letters, digits and '-')."
  }
}

variable "package_url" {
  description = "Where the VMs download the ntpmc .deb (tools/build-deb.sh), http(s)."
  type        = string
  validation {
    condition     = can(regex("^https?://[^[:space:]]+\\.deb$", var.package_url))
    error_message = "package_url: an http:// or https:// URL of a .deb file, without blanks."
  }
}

variable "package_sha256" {
  description = "The package's SHA-256 (sha256sum build/deb/ntpmc_*.deb): the VMs refuse another file."
  type        = string
  validation {
    condition     = can(regex("^[0-9a-f]{64}$", var.package_sha256))
    error_message = "package_sha256: 64 lower-case hex digits (sha256sum output)."
  }
}

variable "upstreams" {
  description = "Fixed, non-smearing upstream NTP servers (stratum 1 or good stratum 2); never pool.ntp.org (docs/pool.md). The provider's own server is added with `smearing`."
  type        = list(string)
  default     = ["sth1.ntp.se", "sth2.ntp.se", "ptbtime1.ptb.de", "ptbtime2.ptb.de", "time.nist.gov"]
  validation {
    condition     = length(var.upstreams) >= 3 && length(var.upstreams) <= 16
    error_message = "upstreams: 3 to 16 servers (4 or more let the selection outvote a falseticker)."
  }
  validation {
    condition     = alltrue([for u in var.upstreams : can(regex("^[A-Za-z0-9][A-Za-z0-9.:-]*$", u)) && !can(regex("pool\\.ntp\\.org$", lower(u)))])
    error_message = "upstreams: host names or addresses only, and no pool.ntp.org name: pool servers must not sync from the pool (docs/pool.md)."
  }
}

variable "peer_addresses" {
  description = "The other cloud's members' static public IPv4 addresses (its output peer_cidrs): the only sources, with this cloud's members, allowed to reach UDP 51820 and TCP 4460."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for c in var.peer_addresses : can(cidrhost(c, 0)) && can(regex("^[0-9.]+/32$", c))])
    error_message = "peer_addresses: single IPv4 addresses as CIDRs, like 203.0.113.7/32."
  }
}

variable "admin_access" {
  description = "How an operator reaches a VM for ntpctl: \"ssh\" (port 22 from admin_cidrs), \"ssm\" (AWS Session Manager, no open port), \"iap\" (GCP IAP TCP forwarding), or \"none\"."
  type        = string
  default     = "ssh"
  validation {
    condition     = contains(["ssh", "ssm", "iap", "none"], var.admin_access)
    error_message = "admin_access: one of ssh, ssm (AWS only), iap (GCP only), none."
  }
}

variable "admin_cidrs" {
  description = "With admin_access = \"ssh\": the addresses SSH is open to (IPv4 or IPv6 CIDRs)."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for c in var.admin_cidrs : can(cidrhost(c, 0)) && c != "0.0.0.0/0" && c != "::/0"])
    error_message = "admin_cidrs: CIDRs like 198.51.100.0/24, never the whole internet."
  }
}

variable "ssh_public_key" {
  description = "With admin_access = \"ssh\": the operator's OpenSSH public key (user admin on Debian's images)."
  type        = string
  default     = ""
  validation {
    condition     = var.ssh_public_key == "" || can(regex("^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256) [A-Za-z0-9+/=]+( .*)?$", var.ssh_public_key))
    error_message = "ssh_public_key: one OpenSSH public key line (ssh-ed25519 AAAA... comment)."
  }
}

variable "token_ttl" {
  description = "Lifetime of the join tokens the first member publishes (ntpctl token create --ttl)."
  type        = string
  default     = "30m"
  validation {
    condition     = can(regex("^[0-9]+[smhd]$", var.token_ttl))
    error_message = "token_ttl: a number and a unit, like 90s, 30m, 2h."
  }
}

variable "token_wait_seconds" {
  description = "How long a joining VM waits for its token before it gives up (its console says so)."
  type        = number
  default     = 3600
  validation {
    condition     = var.token_wait_seconds >= 60 && var.token_wait_seconds <= 86400
    error_message = "token_wait_seconds: 60 to 86400."
  }
}

variable "overlay_subnet" {
  description = "The WireGuard overlay the first member creates (ntpnode init --overlay-subnet)."
  type        = string
  default     = "192.168.10.0/24"
  validation {
    condition     = can(cidrhost(var.overlay_subnet, 0)) && can(regex("^[0-9.]+/(1[6-9]|2[0-9]|30)$", var.overlay_subnet)) && cidrhost(var.overlay_subnet, 0) == split("/", var.overlay_subnet)[0]
    error_message = "overlay_subnet: an IPv4 network A.B.C.D/N with N from 16 to 30 and no host bits set."
  }
}

variable "extra_config" {
  description = "More ntpnode.conf lines for every member (e.g. \"metrics-listen 192.168.10.1\" is per member: use it with care)."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for c in var.extra_config : !can(regex("[\n#]", c))])
    error_message = "extra_config: one directive per item, no newlines or comments."
  }
}
