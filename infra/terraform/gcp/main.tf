# NTP-MC members on GCP (docs/deploy.md). Each member is a Debian 12 VM in
# the fleet's own dual-stack network with a static external IPv4 and,
# with var.ipv6, a static external IPv6 (google_compute_address); both
# survive a stop/start. Google's Debian images run the guest agent, not
# cloud-init: the first boot comes as `startup-script` (run at every
# boot; the script does its work once), and the same as `user-data` for
# images that have cloud-init. No join token is in the metadata: a
# joining member takes its token once from its Secret Manager secret,
# which the first member fills when it is in this cloud, or the operator.
# Ports are literal numbers here (CI checks them): NTP 123/udp from
# anywhere; WireGuard 51820/udp and the cluster's join port 4460/tcp only
# from the members' own addresses; SSH 22/tcp only from admin_cidrs (or
# IAP's range).

locals {
  first_here = contains(var.members, var.first_member)
  joiners    = [for m in var.members : m if m != var.first_member]
  secret     = { for m in local.joiners : m => "${var.fleet}-join-${m}" }
  peer_cidrs = concat([for m in var.members : "${google_compute_address.v4[m].address}/32"], var.peer_addresses)
  tag        = "${var.fleet}-member"
  prefix     = "${var.fleet}-${var.region}"
  free       = ["us-west1", "us-central1", "us-east1"]
}

check "free_tier" {
  assert {
    condition     = var.machine_type != "e2-micro" || contains(local.free, var.region)
    error_message = "e2-micro is always free only in us-west1, us-central1 and us-east1; in ${var.region} it is billed."
  }
}

resource "google_project_service" "api" {
  for_each           = toset(["compute.googleapis.com", "secretmanager.googleapis.com", "iam.googleapis.com"])
  service            = each.value
  disable_on_destroy = false
}

# ---- network: the fleet's own, dual-stack ---------------------------------------

resource "google_compute_network" "fleet" {
  name                    = "${local.prefix}-net"
  auto_create_subnetworks = false
  depends_on              = [google_project_service.api]
  lifecycle {
    precondition {
      condition     = var.admin_access != "ssm"
      error_message = "admin_access = \"ssm\" is AWS's; on GCP use ssh, iap or none."
    }
    precondition {
      condition     = var.admin_access != "ssh" || length(var.admin_cidrs) > 0
      error_message = "admin_access = \"ssh\" needs admin_cidrs (where you connect from)."
    }
    precondition {
      condition     = startswith(var.zone, "${var.region}-")
      error_message = "zone ${var.zone} is not in region ${var.region}."
    }
  }
}

resource "google_compute_subnetwork" "fleet" {
  name             = "${local.prefix}-subnet"
  network          = google_compute_network.fleet.id
  region           = var.region
  ip_cidr_range    = var.subnet_cidr
  stack_type       = var.ipv6 ? "IPV4_IPV6" : "IPV4_ONLY"
  ipv6_access_type = var.ipv6 ? "EXTERNAL" : null
}

resource "google_compute_address" "v4" {
  for_each     = toset(var.members)
  name         = "${var.fleet}-${each.key}-v4"
  region       = var.region
  address_type = "EXTERNAL"
  network_tier = "PREMIUM"
  depends_on   = [google_project_service.api]
}

resource "google_compute_address" "v6" {
  for_each           = var.ipv6 ? toset(var.members) : toset([])
  name               = "${var.fleet}-${each.key}-v6"
  region             = var.region
  address_type       = "EXTERNAL"
  ip_version         = "IPV6"
  ipv6_endpoint_type = "VM"
  subnetwork         = google_compute_subnetwork.fleet.id
}

# ---- firewall -------------------------------------------------------------------------

resource "google_compute_firewall" "ntp_v4" {
  name          = "${local.prefix}-ntp-v4"
  network       = google_compute_network.fleet.id
  direction     = "INGRESS"
  source_ranges = ["0.0.0.0/0"]
  target_tags   = [local.tag]
  allow {
    protocol = "udp"
    ports    = ["123"]
  }
}

resource "google_compute_firewall" "ntp_v6" {
  count         = var.ipv6 ? 1 : 0
  name          = "${local.prefix}-ntp-v6"
  network       = google_compute_network.fleet.id
  direction     = "INGRESS"
  source_ranges = ["::/0"]
  target_tags   = [local.tag]
  allow {
    protocol = "udp"
    ports    = ["123"]
  }
}

resource "google_compute_firewall" "mesh" {
  name          = "${local.prefix}-mesh"
  network       = google_compute_network.fleet.id
  direction     = "INGRESS"
  source_ranges = local.peer_cidrs
  target_tags   = [local.tag]
  allow {
    protocol = "udp"
    ports    = ["51820"]
  }
  allow {
    protocol = "tcp"
    ports    = ["4460"]
  }
}

resource "google_compute_firewall" "ssh" {
  count         = contains(["ssh", "iap"], var.admin_access) ? 1 : 0
  name          = "${local.prefix}-ssh"
  network       = google_compute_network.fleet.id
  direction     = "INGRESS"
  source_ranges = var.admin_access == "iap" ? ["35.235.240.0/20"] : var.admin_cidrs
  target_tags   = [local.tag]
  allow {
    protocol = "tcp"
    ports    = ["22"]
  }
}

# ---- per member: the VM --------------------------------------------------------------

module "firstboot" {
  source   = "../modules/firstboot"
  for_each = toset(var.members)
  settings = merge(
    {
      NTPMC_ROLE           = each.key == var.first_member ? "init" : "join"
      NTPMC_NODE_NAME      = each.key
      NTPMC_PROVIDER       = "gcp"
      NTPMC_PACKAGE_URL    = var.package_url
      NTPMC_PACKAGE_SHA256 = var.package_sha256
      NTPMC_DISCIPLINE     = "kernel"
      NTPMC_CLUSTER_PORT   = "4460"
      NTPMC_WG_INTERFACE   = "wg-ntp"
      NTPMC_WG_PORT        = "51820"
    },
    each.key == var.first_member ? {
      NTPMC_OVERLAY_SUBNET = var.overlay_subnet
      NTPMC_TOKEN_TTL      = var.token_ttl
      } : {
      NTPMC_TOKEN_SLOT = "gcp-secret:projects/${var.project}/secrets/${local.secret[each.key]}"
      NTPMC_TOKEN_WAIT = tostring(var.token_wait_seconds)
    },
  )
  upstreams    = var.upstreams
  publish      = each.key == var.first_member ? [for j in local.joiners : "gcp-secret:projects/${var.project}/secrets/${local.secret[j]}"] : []
  extra_config = var.extra_config
}

resource "google_compute_instance" "member" {
  for_each     = toset(var.members)
  name         = "${var.fleet}-${each.key}"
  machine_type = var.machine_type
  zone         = var.zone
  tags         = [local.tag]
  labels       = { ntpmc-fleet = var.fleet, ntpmc-member = each.key }

  boot_disk {
    initialize_params {
      image = "debian-cloud/debian-12"
      size  = 10
      type  = "pd-standard"
    }
  }

  network_interface {
    subnetwork = google_compute_subnetwork.fleet.id
    stack_type = var.ipv6 ? "IPV4_IPV6" : "IPV4_ONLY"
    access_config {
      nat_ip       = google_compute_address.v4[each.key].address
      network_tier = "PREMIUM"
    }
    dynamic "ipv6_access_config" {
      for_each = var.ipv6 ? [1] : []
      content {
        external_ipv6               = google_compute_address.v6[each.key].address
        external_ipv6_prefix_length = 96
        network_tier                = "PREMIUM"
      }
    }
  }

  metadata = {
    startup-script         = module.firstboot[each.key].startup_script
    user-data              = module.firstboot[each.key].cloud_config
    enable-oslogin         = "TRUE"
    block-project-ssh-keys = "TRUE"
  }

  service_account {
    email  = google_service_account.member[each.key].email
    scopes = ["cloud-platform"]
  }

  shielded_instance_config {
    enable_secure_boot = true
  }

  # The first boot's metadata and a newer image must not replace a member.
  lifecycle {
    ignore_changes = [metadata["startup-script"], metadata["user-data"], boot_disk[0].initialize_params[0].image]
  }

  depends_on = [google_secret_manager_secret_iam_member.take, google_project_iam_member.operations]
}
