# A member's first-boot user data, for both clouds: the settings file of
# infra/cloud-init/ntpmc-firstboot.sh (KEY=VALUE lines: the one-value keys
# sorted, then the upstreams, the slots to publish to and the extra config
# lines) and the script itself, put into the cloud-config (images with
# cloud-init) and the startup-script (GCP's guest agent). The templates
# take exactly these two values; infra/cloud-init/render.py makes the same
# lines for CI and the cloud in a box.

terraform {
  required_version = ">= 1.5.0"
}

variable "settings" {
  description = "The one-value settings (NTPMC_ROLE, NTPMC_NODE_NAME, ...), as strings."
  type        = map(string)
  validation {
    condition     = alltrue([for k, v in var.settings : can(regex("^NTPMC_[A-Z0-9_]+$", k)) && !can(regex("\n", v))])
    error_message = "Settings are NTPMC_* keys with one-line values."
  }
}

variable "upstreams" {
  description = "Upstream NTP servers, one NTPMC_UPSTREAM line each."
  type        = list(string)
}

variable "publish" {
  description = "First member only: the token slots it fills once the cluster runs."
  type        = list(string)
  default     = []
}

variable "extra_config" {
  description = "More ntpnode.conf lines (NTPMC_CONF)."
  type        = list(string)
  default     = []
}

locals {
  lines = concat(
    [for k in sort(keys(var.settings)) : "${k}=${var.settings[k]}"],
    [for u in var.upstreams : "NTPMC_UPSTREAM=${u}"],
    [for s in var.publish : "NTPMC_PUBLISH=${s}"],
    [for c in var.extra_config : "NTPMC_CONF=${c}"],
  )
  values = {
    firstboot_env    = base64encode("${join("\n", local.lines)}\n")
    firstboot_script = base64gzip(file("${path.module}/../../../cloud-init/ntpmc-firstboot.sh"))
  }
}

output "cloud_config" {
  description = "The #cloud-config user data (AWS, and GCP images with cloud-init)."
  value       = templatefile("${path.module}/../../../cloud-init/ntpmc-member.yaml.tftpl", local.values)
}

output "startup_script" {
  description = "The same for GCP's guest agent (metadata startup-script)."
  value       = templatefile("${path.module}/../../../cloud-init/ntpmc-startup.sh.tftpl", local.values)
}
