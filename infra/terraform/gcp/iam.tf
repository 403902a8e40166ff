# Each member's service account: least privilege for what runs on it.
# - The rotation's provider hooks (infra/providers/gcp: gcloud compute
#   instances start / stop / describe / delete): a custom role with exactly
#   compute.instances.start, .stop, .get and .delete (emergency-shutdown
#   --destroy), granted on each of the fleet's instances (not the project),
#   and compute.zoneOperations.get on the project (gcloud waits for the
#   operation it started); for `release`, compute.addresses.list and
#   compute.regionOperations.get on the project and compute.addresses.delete
#   on the fleet's own addresses only (an IAM condition on their names).
# - The join token slot: a joining member may access and destroy versions
#   of its own secret only; the first member may add versions to the
#   others'.

data "google_project" "this" {}

resource "google_service_account" "member" {
  for_each     = toset(var.members)
  account_id   = "${var.fleet}-${each.key}"
  display_name = "NTP-MC member ${each.key}"
  lifecycle {
    precondition {
      condition     = length("${var.fleet}-${each.key}") >= 6 && length("${var.fleet}-${each.key}") <= 30
      error_message = "\"${var.fleet}-${each.key}\" must be 6 to 30 characters (a service account id): lengthen or shorten fleet or the member's name."
    }
  }
}

resource "google_project_iam_custom_role" "hooks" {
  role_id     = "${replace("${var.fleet}_${var.region}", "-", "_")}_rotation_hooks"
  title       = "NTP-MC rotation hooks"
  description = "Start, stop, describe and delete one NTP-MC instance"
  permissions = ["compute.instances.start", "compute.instances.stop", "compute.instances.get", "compute.instances.delete"]
}

# The gcp hook's `release` (emergency-shutdown --destroy): list the
# region's addresses (a project-level permission) and delete the fleet's
# own, named FLEET-MEMBER-v4/-v6 (the condition), following the regional
# operation gcloud starts.
resource "google_project_iam_custom_role" "addresses" {
  role_id     = "${replace("${var.fleet}_${var.region}", "-", "_")}_addresses"
  title       = "NTP-MC address lookup"
  description = "Find the fleet's static addresses and follow regional operations"
  permissions = ["compute.addresses.list", "compute.regionOperations.get"]
}

resource "google_project_iam_custom_role" "release" {
  role_id     = "${replace("${var.fleet}_${var.region}", "-", "_")}_release"
  title       = "NTP-MC address release"
  description = "Release the fleet's own static addresses"
  permissions = ["compute.addresses.delete"]
}

resource "google_project_iam_member" "addresses" {
  for_each = toset(var.members)
  project  = var.project
  role     = google_project_iam_custom_role.addresses.id
  member   = "serviceAccount:${google_service_account.member[each.key].email}"
}

resource "google_project_iam_member" "release" {
  for_each = toset(var.members)
  project  = var.project
  role     = google_project_iam_custom_role.release.id
  member   = "serviceAccount:${google_service_account.member[each.key].email}"
  condition {
    title      = "the fleet's own addresses"
    expression = "resource.name.startsWith(\"projects/${var.project}/regions/${var.region}/addresses/${var.fleet}-\")"
  }
}

resource "google_project_iam_custom_role" "operations" {
  role_id     = "${replace("${var.fleet}_${var.region}", "-", "_")}_operations"
  title       = "NTP-MC zone operations"
  description = "Follow the operations the rotation hooks start"
  permissions = ["compute.zoneOperations.get"]
}

resource "google_project_iam_member" "operations" {
  for_each = toset(var.members)
  project  = var.project
  role     = google_project_iam_custom_role.operations.id
  member   = "serviceAccount:${google_service_account.member[each.key].email}"
}

# every member's account on every member's instance (the leader may be any)
resource "google_compute_instance_iam_member" "hooks" {
  for_each      = { for p in setproduct(var.members, var.members) : "${p[0]}/${p[1]}" => p }
  zone          = var.zone
  instance_name = google_compute_instance.member[each.value[0]].name
  role          = google_project_iam_custom_role.hooks.id
  member        = "serviceAccount:${google_service_account.member[each.value[1]].email}"
}

resource "google_secret_manager_secret" "join" {
  for_each  = local.secret
  secret_id = each.value
  labels    = { ntpmc-fleet = var.fleet }
  replication {
    auto {}
  }
  depends_on = [google_project_service.api]
}

locals {
  take = flatten([for m in local.joiners : [
    for r in ["roles/secretmanager.secretAccessor", "roles/secretmanager.secretVersionManager"] : { member = m, role = r }
  ]])
}

resource "google_secret_manager_secret_iam_member" "take" {
  for_each  = { for t in local.take : "${t.member}/${t.role}" => t }
  secret_id = google_secret_manager_secret.join[each.value.member].id
  role      = each.value.role
  member    = "serviceAccount:${google_service_account.member[each.value.member].email}"
}

resource "google_secret_manager_secret_iam_member" "publish" {
  for_each  = local.first_here ? toset(local.joiners) : toset([])
  secret_id = google_secret_manager_secret.join[each.key].id
  role      = "roles/secretmanager.secretVersionAdder"
  member    = "serviceAccount:${google_service_account.member[var.first_member].email}"
}
