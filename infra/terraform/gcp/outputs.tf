output "members" {
  description = "Per member: the VM, its static addresses, its role in the first boot, its token slot."
  value = {
    for m in var.members : m => {
      instance_id     = google_compute_instance.member[m].instance_id
      name            = google_compute_instance.member[m].name
      project         = var.project
      region          = var.region
      zone            = var.zone
      public_ipv4     = google_compute_address.v4[m].address
      public_ipv6     = var.ipv6 ? google_compute_address.v6[m].address : null
      first_boot      = m == var.first_member ? "init" : "join"
      token_slot      = m == var.first_member ? null : "gcp-secret:projects/${var.project}/secrets/${local.secret[m]}"
      service_account = google_service_account.member[m].email
      overlay_address = m == var.first_member ? cidrhost(var.overlay_subnet, 1) : "given at join: ntpctl cluster status"
    }
  }
}

output "rotation_hooks" {
  description = "What infra/providers/gcp needs to start, stop and describe each member."
  value = {
    for m in var.members : m => {
      provider = "gcp"
      project  = var.project
      zone     = var.zone
      name     = google_compute_instance.member[m].name
    }
  }
}

output "peer_cidrs" {
  description = "These members' static IPv4 addresses: the other cloud's peer_addresses."
  value       = [for m in var.members : "${google_compute_address.v4[m].address}/32"]
}

output "admin" {
  description = "How to reach each member's ntpctl."
  value = {
    for m in var.members : m => (
      var.admin_access == "none" ? "no admin access (admin_access = none)" :
      "gcloud compute ssh ${google_compute_instance.member[m].name} --project ${var.project} --zone ${var.zone}${var.admin_access == "iap" ? " --tunnel-through-iap" : ""} --command 'sudo ntpctl cluster status'"
    )
  }
}

output "publish_token_commands" {
  description = "Per joining member: how the operator publishes its token (members added later, or when the first member is in the other cloud; docs/deploy.md)."
  value = {
    for m in local.joiners : m => "${local.first_here ? "gcloud compute ssh ${google_compute_instance.member[var.first_member].name} --project ${var.project} --zone ${var.zone} --command" : "ssh admin@FIRST_MEMBER_IP"} 'sudo ntpctl token create --ttl ${var.token_ttl}' | gcloud secrets versions add ${local.secret[m]} --project ${var.project} --data-file=-"
  }
}
