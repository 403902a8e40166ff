# NTP-MC members on AWS (docs/deploy.md). Each member is a Debian 12 VM
# in the fleet's own VPC with a static public IPv4 (an Elastic IP on its
# network interface, there before the VM boots) and, with var.ipv6, an
# IPv6 address of the interface; both survive a stop/start. The VM's
# first boot is infra/cloud-init (module firstboot): no join token is in
# its user data; a joining member takes its token once from its SSM
# parameter (SecureString, /FLEET/join/NAME), which the first member
# fills when it is in this cloud, or the operator (docs/deploy.md).
# Ports are literal numbers here (CI checks them): NTP 123/udp from
# anywhere; WireGuard 51820/udp and the cluster's join port 4460/tcp only
# from the members' own addresses; SSH 22/tcp only from admin_cidrs.

locals {
  first_here = contains(var.members, var.first_member)
  joiners    = [for m in var.members : m if m != var.first_member]
  slot       = { for m in var.members : m => "/${var.fleet}/join/${m}" }
  peer_cidrs = toset(concat([for m in var.members : "${aws_eip.member[m].public_ip}/32"], var.peer_addresses))
  ssm_agent  = var.ssm_agent_url != "" ? var.ssm_agent_url : "https://s3.${var.region}.amazonaws.com/amazon-ssm-${var.region}/latest/debian_amd64/amazon-ssm-agent.deb"
}

data "aws_caller_identity" "me" {}

data "aws_availability_zones" "up" {
  state = "available"
}

# Debian's own AMIs (account 136693071363, https://wiki.debian.org/Cloud/AmazonEC2Image)
data "aws_ami" "debian12" {
  most_recent = true
  owners      = ["136693071363"]
  filter {
    name   = "name"
    values = ["debian-12-amd64-*"]
  }
  filter {
    name   = "architecture"
    values = ["x86_64"]
  }
}

# ---- network: a VPC with an IPv6 block, one public subnet -------------------

resource "aws_vpc" "fleet" {
  cidr_block                       = var.vpc_cidr
  assign_generated_ipv6_cidr_block = true
  enable_dns_support               = true
  enable_dns_hostnames             = true
  tags                             = { Name = "${var.fleet}-vpc" }
  lifecycle {
    precondition {
      condition     = var.admin_access != "iap"
      error_message = "admin_access = \"iap\" is GCP's; on AWS use ssh, ssm or none."
    }
    precondition {
      condition     = var.admin_access != "ssh" || (length(var.admin_cidrs) > 0 && var.ssh_public_key != "")
      error_message = "admin_access = \"ssh\" needs admin_cidrs (where you connect from) and ssh_public_key."
    }
  }
}

resource "aws_internet_gateway" "fleet" {
  vpc_id = aws_vpc.fleet.id
  tags   = { Name = "${var.fleet}-igw" }
}

resource "aws_subnet" "public" {
  vpc_id                          = aws_vpc.fleet.id
  cidr_block                      = var.vpc_cidr
  ipv6_cidr_block                 = cidrsubnet(aws_vpc.fleet.ipv6_cidr_block, 8, 0)
  availability_zone               = data.aws_availability_zones.up.names[0]
  map_public_ip_on_launch         = false
  assign_ipv6_address_on_creation = var.ipv6
  tags                            = { Name = "${var.fleet}-public" }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.fleet.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.fleet.id
  }
  route {
    ipv6_cidr_block = "::/0"
    gateway_id      = aws_internet_gateway.fleet.id
  }
  tags = { Name = "${var.fleet}-public" }
}

resource "aws_route_table_association" "public" {
  subnet_id      = aws_subnet.public.id
  route_table_id = aws_route_table.public.id
}

# ---- the members' security group ------------------------------------------------

resource "aws_security_group" "member" {
  name        = "${var.fleet}-member"
  description = "NTP-MC members: NTP from anywhere, WireGuard and joins from the members"
  vpc_id      = aws_vpc.fleet.id
}

resource "aws_vpc_security_group_egress_rule" "all_v4" {
  security_group_id = aws_security_group.member.id
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "all_v6" {
  security_group_id = aws_security_group.member.id
  ip_protocol       = "-1"
  cidr_ipv6         = "::/0"
}

resource "aws_vpc_security_group_ingress_rule" "ntp_v4" {
  security_group_id = aws_security_group.member.id
  description       = "NTP"
  ip_protocol       = "udp"
  from_port         = 123
  to_port           = 123
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "ntp_v6" {
  count             = var.ipv6 ? 1 : 0
  security_group_id = aws_security_group.member.id
  description       = "NTP over IPv6"
  ip_protocol       = "udp"
  from_port         = 123
  to_port           = 123
  cidr_ipv6         = "::/0"
}

resource "aws_vpc_security_group_ingress_rule" "wireguard" {
  for_each          = local.peer_cidrs
  security_group_id = aws_security_group.member.id
  description       = "WireGuard from a member"
  ip_protocol       = "udp"
  from_port         = 51820
  to_port           = 51820
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "cluster" {
  for_each          = local.peer_cidrs
  security_group_id = aws_security_group.member.id
  description       = "cluster joins from a member"
  ip_protocol       = "tcp"
  from_port         = 4460
  to_port           = 4460
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "ssh" {
  for_each          = var.admin_access == "ssh" ? toset(var.admin_cidrs) : toset([])
  security_group_id = aws_security_group.member.id
  description       = "SSH from the operators"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv4         = strcontains(each.value, ":") ? null : each.value
  cidr_ipv6         = strcontains(each.value, ":") ? each.value : null
}

# ---- per member: its interface with the static addresses, the VM --------------

resource "aws_network_interface" "member" {
  for_each           = toset(var.members)
  subnet_id          = aws_subnet.public.id
  security_groups    = [aws_security_group.member.id]
  ipv6_address_count = var.ipv6 ? 1 : 0
  tags               = { Name = "${var.fleet}-${each.key}" }
}

# On the interface before the VM exists: its first boot already has it.
resource "aws_eip" "member" {
  for_each          = toset(var.members)
  domain            = "vpc"
  network_interface = aws_network_interface.member[each.key].id
  # the tag lets the hooks release it (emergency-shutdown --destroy)
  tags       = { Name = "${var.fleet}-${each.key}", ntpmc-fleet = var.fleet }
  depends_on = [aws_internet_gateway.fleet]
}

resource "aws_key_pair" "admin" {
  count      = var.admin_access == "ssh" ? 1 : 0
  key_name   = "${var.fleet}-admin"
  public_key = var.ssh_public_key
}

module "firstboot" {
  source   = "../modules/firstboot"
  for_each = toset(var.members)
  settings = merge(
    {
      NTPMC_ROLE           = each.key == var.first_member ? "init" : "join"
      NTPMC_NODE_NAME      = each.key
      NTPMC_PROVIDER       = "aws"
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
      NTPMC_TOKEN_SLOT = "aws-ssm:${local.slot[each.key]}"
      NTPMC_TOKEN_WAIT = tostring(var.token_wait_seconds)
    },
    var.admin_access == "ssm" ? { NTPMC_EXTRA_DEB_URL = local.ssm_agent } : {},
  )
  upstreams    = var.upstreams
  publish      = each.key == var.first_member ? [for j in local.joiners : "aws-ssm:${local.slot[j]}"] : []
  extra_config = var.extra_config
}

resource "aws_instance" "member" {
  for_each             = toset(var.members)
  ami                  = data.aws_ami.debian12.id
  instance_type        = var.instance_type
  iam_instance_profile = aws_iam_instance_profile.member[each.key].name
  key_name             = var.admin_access == "ssh" ? aws_key_pair.admin[0].key_name : null
  user_data            = module.firstboot[each.key].cloud_config

  network_interface {
    network_interface_id = aws_network_interface.member[each.key].id
    device_index         = 0
  }

  # IMDSv2 only; the first boot and the public-IP helper use it
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  # "unlimited" (t3's default) bills CPU credits beyond the free tier
  credit_specification {
    cpu_credits = "standard"
  }

  root_block_device {
    volume_type = "gp3"
    volume_size = 8
    encrypted   = true
  }

  tags = {
    Name         = "${var.fleet}-${each.key}"
    ntpmc-fleet  = var.fleet
    ntpmc-member = each.key
  }

  # The user data matters at the first boot only, and a newer Debian AMI
  # must not replace a running member: both are ignored after creation.
  lifecycle {
    ignore_changes = [ami, user_data]
  }

  depends_on = [aws_eip.member, aws_route_table_association.public]
}
