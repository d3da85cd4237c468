# Orders: lose at most 15 minutes, be back within an hour.
# drlint:ignore DR011 drilled by dr_drill.orders in examples/resources/dr_drill, applied with this file
resource "dr_policy" "orders" {
  name        = "orders"
  rpo         = "15m"
  rto         = "1h"
  owners      = ["alice@example.com", "bob@example.com"]
  runbook_url = "https://wiki.example.com/runbooks/orders"

  rds {
    instance_identifier   = "orders-db"
    backup_retention_days = 14
    backup_window         = "03:00-04:00"

    # A read replica in the DR region (provider dr_region), created from the source ARN.
    cross_region_replica {
      instance_class = "db.r6g.large"
      kms_key_id     = "arn:aws:kms:us-west-2:123456789012:key/0f3c1a2b-dr"
    }
  }

  s3 {
    bucket = "orders-backups"

    encryption {
      kms_key_id = "arn:aws:kms:us-east-1:123456789012:key/8d7e6f5a-s3"
    }

    # An RPO between 15m and 1h needs Replication Time Control.
    replication {
      destination_bucket       = "orders-backups-dr"
      role_arn                 = "arn:aws:iam::123456789012:role/s3-replication"
      storage_class            = "STANDARD_IA"
      replication_time_control = true
      # Objects encrypted with a KMS key replicate only with a key of the DR region.
      replica_kms_key_id = "arn:aws:kms:us-west-2:123456789012:key/4b3a2c1d-dr"
    }

    # WAL segments: archived after 30 days, gone after 90.
    retention {
      prefix                 = "wal/"
      archive_after_days     = 30
      archive_storage_class  = "GLACIER"
      expire_days            = 90
      noncurrent_expire_days = 7
    }

    # Base backups, grandfather-father-son: daily/, weekly/, monthly/ and yearly/ prefixes.
    retention {
      daily              = 30
      weekly             = 12
      monthly            = 12
      yearly             = 7
      archive_after_days = 90
    }
  }

  timeouts {
    create = "90m"
  }
}
