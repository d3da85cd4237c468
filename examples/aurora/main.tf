# Payments on Aurora PostgreSQL: lose at most a minute, be back within ten.
#
# The cluster becomes the primary of an Aurora Global Database; a secondary cluster in
# us-west-2 receives its storage-level replication (lag typically under a second), and a
# reader there is ready to take writes after `aws rds failover-global-cluster` (see the
# runbook below).
terraform {
  required_providers {
    dr = { source = "drkit/dr" }
  }
}

provider "dr" {
  region    = "us-east-1"
  dr_region = "us-west-2"
}

resource "dr_policy" "payments" {
  name        = "payments"
  rpo         = "1m"
  rto         = "10m"
  owners      = ["alice@example.com", "bob@example.com"]
  runbook_url = "https://wiki.example.com/runbooks/payments"

  rds_cluster {
    cluster_identifier    = "payments"
    backup_retention_days = 14
    backup_window         = "03:00-04:00"

    global_secondary {
      # Defaults: region = dr_region, cluster_identifier = "payments-dr",
      # global_cluster_identifier = "payments-global".
      instance_class = "db.r6g.large"
      kms_key_id     = "arn:aws:kms:us-west-2:123456789012:key/6a5b4c3d-dr"
    }
  }
}

# Every 30 days: restore the cluster to its latest restorable time into a temporary
# cluster and instance, measure the RTO against the policy's, and remove both again.
resource "dr_drill" "payments" {
  policy_id = dr_policy.payments.id
  interval  = "30d"

  rds {
    cluster_identifier = "payments"
    instance_class     = "db.r6g.large"
  }
}

# The failover commands (failover-global-cluster, switchover-global-cluster for drills),
# rendered from the live clusters.
data "dr_runbook" "payments" {
  policy_id = dr_policy.payments.id
}

output "tier" {
  value = dr_policy.payments.tier # "aurora-global-database"
}
