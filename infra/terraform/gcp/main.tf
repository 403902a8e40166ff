# One NTP-MC member on GCP (skeleton: not validated, terraform is not
# installed where this was written). One e2-micro is always free in
# us-west1, us-central1 and us-east1. Open: UDP 123 (NTP), UDP 51820
# (WireGuard), TCP 4460 (cluster joins dial the public endpoint).
terraform {
  required_providers {
    google = { source = "hashicorp/google" }
  }
}

variable "project" {}
variable "region" { default = "us-central1" }
variable "zone" { default = "us-central1-a" }
variable "node_name" {}
variable "join_token" { sensitive = true }
variable "package_url" {}
# Fixed, non-smearing upstream servers (docs/pool.md): never pool.ntp.org.
variable "upstreams" {
  type    = list(string)
  default = ["sth1.ntp.se", "sth2.ntp.se", "ptbtime1.ptb.de", "time.nist.gov"]
}

provider "google" {
  project = var.project
  region  = var.region
}

resource "google_compute_firewall" "ntpnode" {
  name    = "ntpnode-${var.node_name}"
  network = "default"
  allow {
    protocol = "udp"
    ports    = ["123", "51820"]
  }
  allow {
    protocol = "tcp"
    ports    = ["4460"]
  }
  source_ranges = ["0.0.0.0/0"]
  target_tags   = ["ntpnode"]
}

resource "google_compute_instance" "ntpnode" {
  name         = "ntpnode-${var.node_name}"
  machine_type = "e2-micro"
  zone         = var.zone
  tags         = ["ntpnode"]
  boot_disk {
    initialize_params {
      image = "debian-cloud/debian-12"
      size  = 10
    }
  }
  network_interface {
    network = "default"
    access_config {} # ephemeral public IP (changes after stop/start)
  }
  metadata = {
    user-data = templatefile("${path.module}/../../cloud-init/ntpnode-join.yaml.tftpl", {
      node_name   = var.node_name
      provider    = "gcp"
      region      = var.region
      join_token  = var.join_token
      package_url = var.package_url
      upstreams   = var.upstreams
    })
  }
}

output "public_ip" {
  value = google_compute_instance.ntpnode.network_interface[0].access_config[0].nat_ip
}
