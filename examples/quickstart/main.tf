# Quickstart: the orders service's disaster-recovery policy, a drill that restores last
# night's dump and measures RTO/RPO, and the failover runbook.
terraform {
  required_providers {
    dr = {
      source = "drkit/dr"
    }
  }
}

provider "dr" {
  region    = "us-east-1"
  dr_region = "us-west-2"

  dynamic "endpoints" {
    for_each = var.aws_endpoint == null ? [] : [var.aws_endpoint]
    content {
      rds        = endpoints.value
      s3         = endpoints.value
      cloudwatch = endpoints.value
      kms        = endpoints.value
    }
  }
}

# RPO 15 minutes and RTO 1 hour: the tier model requires a cross-region read replica for
# the database and replication with Replication Time Control for the backup bucket.
resource "dr_policy" "orders" {
  name   = "orders"
  rpo    = "15m"
  rto    = "1h"
  owners = ["alice@example.com", "oncall-orders@example.com"]

  rds {
    instance_identifier   = "orders-db"
    backup_retention_days = 14

    cross_region_replica {}
  }

  s3 {
    bucket = "orders-backups"

    replication {
      destination_bucket       = "orders-backups-dr"
      destination_region       = "us-west-2"
      role_arn                 = "arn:aws:iam::123456789012:role/s3-replication"
      replication_time_control = true
    }

    retention {
      daily  = 30
      weekly = 12
    }
  }
}
