# AWS only; the variables both clouds take are in shared-variables.tf.

variable "region" {
  description = "The AWS region of these members."
  type        = string
  default     = "eu-north-1"
  validation {
    condition     = can(regex("^(us|eu|ap|ca|sa|me|af|il|mx)-(north|south|east|west|central|northeast|southeast|southwest|northwest)-[1-9]$", var.region))
    error_message = "region: an AWS region name such as us-east-1 or eu-north-1."
  }
}

variable "instance_type" {
  description = "t2.micro or t3.micro are free-tier eligible (750 hours a month for 12 months; t3.micro where a region has no t2). The package is amd64: no Graviton (t4g) types."
  type        = string
  default     = "t3.micro"
  validation {
    condition     = contains(["t2.micro", "t3.micro", "t3a.micro", "t3.small", "t3a.small"], var.instance_type)
    error_message = "instance_type: t2.micro or t3.micro (free tier), or t3a.micro, t3.small, t3a.small (paid); amd64 only, the package is built for amd64."
  }
}

variable "vpc_cidr" {
  description = "The fleet's own VPC (it gets an Amazon IPv6 block as well)."
  type        = string
  default     = "10.123.0.0/16"
  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && can(regex("^[0-9.]+/(1[6-9]|2[0-4])$", var.vpc_cidr))
    error_message = "vpc_cidr: an IPv4 network from /16 to /24, like 10.123.0.0/16."
  }
}

variable "ipv6" {
  description = "Give every member an IPv6 address (kept across stop/start) and open NTP on it."
  type        = bool
  default     = true
}

variable "ssm_agent_url" {
  description = "With admin_access = \"ssm\": the amazon-ssm-agent .deb the VMs install (Debian's AMIs have no SSM agent). Empty: Amazon's regional URL."
  type        = string
  default     = ""
  validation {
    condition     = var.ssm_agent_url == "" || can(regex("^https://[^[:space:]]+\\.deb$", var.ssm_agent_url))
    error_message = "ssm_agent_url: empty, or an https:// URL of a .deb."
  }
}
