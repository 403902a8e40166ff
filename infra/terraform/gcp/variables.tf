# GCP only; the variables both clouds take are in shared-variables.tf.

variable "project" {
  description = "The GCP project id."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project))
    error_message = "project: a GCP project id (6 to 30 characters: lower-case letters, digits, '-')."
  }
}

variable "region" {
  description = "One e2-micro a month is always free in us-west1, us-central1 and us-east1 only."
  type        = string
  default     = "us-central1"
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]$", var.region))
    error_message = "region: a GCP region name such as us-central1."
  }
}

variable "zone" {
  description = "The zone, in var.region."
  type        = string
  default     = "us-central1-a"
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]-[a-z]$", var.zone))
    error_message = "zone: a GCP zone name such as us-central1-a."
  }
}

variable "machine_type" {
  description = "e2-micro is always free (one per billing account, in the three regions above); e2-small and e2-medium are paid."
  type        = string
  default     = "e2-micro"
  validation {
    condition     = contains(["e2-micro", "e2-small", "e2-medium"], var.machine_type)
    error_message = "machine_type: e2-micro (always free in us-west1, us-central1, us-east1), e2-small or e2-medium."
  }
}

variable "subnet_cidr" {
  description = "The fleet's subnet (dual-stack with var.ipv6)."
  type        = string
  default     = "10.124.0.0/24"
  validation {
    condition     = can(cidrhost(var.subnet_cidr, 0)) && can(regex("^[0-9.]+/(1[6-9]|2[0-9])$", var.subnet_cidr))
    error_message = "subnet_cidr: an IPv4 network from /16 to /29, like 10.124.0.0/24."
  }
}

variable "ipv6" {
  description = "A static external IPv6 address per member (a dual-stack subnet) and NTP open on it."
  type        = bool
  default     = true
}
