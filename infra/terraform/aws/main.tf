# One NTP-MC member on AWS (skeleton: not validated, terraform is not
# installed where this was written). t3.micro is free-tier eligible (750
# instance-hours a month for 12 months). Open: UDP 123 (NTP), UDP 51820
# (WireGuard), TCP 4460 (cluster joins dial the public endpoint).
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

variable "region" { default = "us-east-1" }
variable "node_name" {}
variable "join_token" { sensitive = true }
variable "package_url" {}
# Fixed, non-smearing upstream servers (docs/pool.md): never pool.ntp.org.
variable "upstreams" {
  type    = list(string)
  default = ["sth1.ntp.se", "sth2.ntp.se", "ptbtime1.ptb.de", "time.nist.gov"]
}
variable "instance_type" { default = "t3.micro" }

provider "aws" { region = var.region }

data "aws_ami" "debian12" {
  most_recent = true
  owners      = ["136693071363"] # Debian
  filter {
    name   = "name"
    values = ["debian-12-amd64-*"]
  }
}

resource "aws_security_group" "ntpnode" {
  name = "ntpnode-${var.node_name}"
  ingress {
    from_port   = 123
    to_port     = 123
    protocol    = "udp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  ingress {
    from_port        = 123
    to_port          = 123
    protocol         = "udp"
    ipv6_cidr_blocks = ["::/0"]
  }
  ingress {
    from_port   = 51820
    to_port     = 51820
    protocol    = "udp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  ingress {
    from_port   = 4460
    to_port     = 4460
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_instance" "ntpnode" {
  ami                    = data.aws_ami.debian12.id
  instance_type          = var.instance_type
  vpc_security_group_ids = [aws_security_group.ntpnode.id]
  user_data = templatefile("${path.module}/../../cloud-init/ntpnode-join.yaml.tftpl", {
    node_name   = var.node_name
    provider    = "aws"
    region      = var.region
    join_token  = var.join_token
    package_url = var.package_url
    upstreams   = var.upstreams
  })
  tags = { Name = "ntpnode-${var.node_name}" }
}

output "public_ip" { value = aws_instance.ntpnode.public_ip }
