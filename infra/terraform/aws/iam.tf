# Each member's instance role: least privilege for what runs on it.
# - The rotation's provider hooks (infra/providers/aws: aws ec2
#   start-instances / stop-instances / describe-instances, and for
#   ntpctl emergency-shutdown --destroy terminate-instances and
#   disassociate-address / release-address): only instances and Elastic
#   IPs tagged ntpmc-fleet = this fleet (infra/providers/aws-iam-policy.json
#   is the same for a fleet set up by hand); describe has no
#   resource-level permissions in EC2, so it is allowed on "*".
# - The join token slot: a joining member may read and delete its own SSM
#   parameter only; the first member may put the others'. SecureString
#   parameters use the account's AWS-managed key aws/ssm, whose key policy
#   lets SSM use it for the account's principals (no kms: statement).
# - With admin_access = "ssm": AmazonSSMManagedInstanceCore (Session
#   Manager).

data "aws_iam_policy_document" "ec2_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "member" {
  for_each           = toset(var.members)
  name               = "${var.fleet}-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
}

resource "aws_iam_instance_profile" "member" {
  for_each = toset(var.members)
  name     = "${var.fleet}-${each.key}"
  role     = aws_iam_role.member[each.key].name
}

data "aws_iam_policy_document" "hooks" {
  statement {
    sid       = "StartStopTheFleet"
    actions   = ["ec2:StartInstances", "ec2:StopInstances", "ec2:TerminateInstances"]
    resources = ["arn:aws:ec2:*:${data.aws_caller_identity.me.account_id}:instance/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/ntpmc-fleet"
      values   = [var.fleet]
    }
  }
  statement {
    sid       = "ReleaseTheFleetsAddresses"
    actions   = ["ec2:DisassociateAddress", "ec2:ReleaseAddress"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/ntpmc-fleet"
      values   = [var.fleet]
    }
  }
  statement {
    sid       = "Describe"
    actions   = ["ec2:DescribeInstances", "ec2:DescribeInstanceStatus", "ec2:DescribeAddresses"]
    resources = ["*"]
  }
}

resource "aws_iam_policy" "hooks" {
  name        = "${var.fleet}-${var.region}-rotation-hooks"
  description = "NTP-MC provider hooks: start/stop/terminate/describe the fleet's own instances, release its addresses"
  policy      = data.aws_iam_policy_document.hooks.json
}

resource "aws_iam_role_policy_attachment" "hooks" {
  for_each   = toset(var.members)
  role       = aws_iam_role.member[each.key].name
  policy_arn = aws_iam_policy.hooks.arn
}

data "aws_iam_policy_document" "slot" {
  for_each = toset(var.members)
  dynamic "statement" {
    for_each = each.key == var.first_member ? [] : [1]
    content {
      sid       = "TakeOwnJoinToken"
      actions   = ["ssm:GetParameter", "ssm:DeleteParameter"]
      resources = ["arn:aws:ssm:${var.region}:${data.aws_caller_identity.me.account_id}:parameter${local.slot[each.key]}"]
    }
  }
  dynamic "statement" {
    for_each = each.key == var.first_member && length(local.joiners) > 0 ? [1] : []
    content {
      sid       = "PublishJoinTokens"
      actions   = ["ssm:PutParameter"]
      resources = [for j in local.joiners : "arn:aws:ssm:${var.region}:${data.aws_caller_identity.me.account_id}:parameter${local.slot[j]}"]
    }
  }
}

resource "aws_iam_role_policy" "slot" {
  for_each = { for m in var.members : m => m if m != var.first_member || length(local.joiners) > 0 }
  name     = "join-token-slot"
  role     = aws_iam_role.member[each.key].id
  policy   = data.aws_iam_policy_document.slot[each.key].json
}

resource "aws_iam_role_policy_attachment" "ssm" {
  for_each   = var.admin_access == "ssm" ? toset(var.members) : toset([])
  role       = aws_iam_role.member[each.key].name
  policy_arn = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
}
