output "members" {
  description = "Per member: the VM, its static addresses, its role in the first boot, its token slot."
  value = {
    for m in var.members : m => {
      instance_id     = aws_instance.member[m].id
      region          = var.region
      zone            = aws_instance.member[m].availability_zone
      public_ipv4     = aws_eip.member[m].public_ip
      public_ipv6     = var.ipv6 ? tolist(aws_network_interface.member[m].ipv6_addresses)[0] : null
      first_boot      = m == var.first_member ? "init" : "join"
      token_slot      = m == var.first_member ? null : "aws-ssm:${local.slot[m]}"
      instance_role   = aws_iam_role.member[m].arn
      overlay_address = m == var.first_member ? cidrhost(var.overlay_subnet, 1) : "given at join: ntpctl cluster status"
    }
  }
}

output "rotation_hooks" {
  description = "What infra/providers/aws needs to start, stop and describe each member."
  value = {
    for m in var.members : m => {
      provider    = "aws"
      region      = var.region
      instance_id = aws_instance.member[m].id
    }
  }
}

output "peer_cidrs" {
  description = "These members' static IPv4 addresses: the other cloud's peer_addresses."
  value       = [for m in var.members : "${aws_eip.member[m].public_ip}/32"]
}

output "admin" {
  description = "How to reach each member's ntpctl."
  value = {
    for m in var.members : m => (
      var.admin_access == "ssh" ? "ssh admin@${aws_eip.member[m].public_ip} sudo ntpctl cluster status" :
      var.admin_access == "ssm" ? "aws ssm start-session --region ${var.region} --target ${aws_instance.member[m].id}" :
      "no admin access (admin_access = none)"
    )
  }
}

output "publish_token_commands" {
  description = "Per joining member: how the operator publishes its token (members added later, or when the first member is in the other cloud; docs/deploy.md)."
  value = {
    for m in local.joiners : m => "aws ssm put-parameter --region ${var.region} --name ${local.slot[m]} --type SecureString --overwrite --value \"$(ssh admin@${local.first_here ? aws_eip.member[var.first_member].public_ip : "FIRST_MEMBER_IP"} sudo ntpctl token create --ttl ${var.token_ttl})\""
  }
}
