module "orders_db" {
  source = "./modules/db"
  providers = {
    aws    = aws
    aws.dr = aws.dr
  }

  identifier     = "orders"
  retention_days = 14
}

# The primary backup bucket: dr_policy.orders owns its versioning, encryption,
# replication and retention, so no aws_s3_bucket_* resource sets them too (DR015).
resource "aws_s3_bucket" "backups" {
  bucket = "orders-backups"
}

# The replication destination in the DR region.
resource "aws_s3_bucket" "backups_dr" {
  provider = aws.dr
  bucket   = "orders-backups-dr"
}

resource "aws_s3_bucket_versioning" "backups_dr" {
  provider = aws.dr
  bucket   = aws_s3_bucket.backups_dr.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "backups_dr" {
  provider = aws.dr
  bucket   = aws_s3_bucket.backups_dr.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = "alias/backups-dr"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "backups_dr" {
  provider = aws.dr
  bucket   = aws_s3_bucket.backups_dr.id

  rule {
    id     = "expire"
    status = "Enabled"
    filter {}

    expiration {
      days = 35
    }

    noncurrent_version_expiration {
      noncurrent_days = 7
    }
  }
}

resource "dr_policy" "orders" {
  name        = "orders"
  rpo         = "15m"
  rto         = "1h"
  owners      = ["alice@example.com", "team-orders-oncall@example.com"]
  runbook_url = "https://wiki.example.com/runbooks/orders"

  rds {
    instance_identifier   = module.orders_db.identifier
    backup_retention_days = 14

    # The instance is encrypted and KMS keys are regional: the replica needs a key of
    # us-west-2 (the provider refuses the plan without one).
    cross_region_replica {
      region     = "us-west-2"
      kms_key_id = "arn:aws:kms:us-west-2:123456789012:key/5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e"
    }
  }

  s3 {
    bucket = aws_s3_bucket.backups.bucket

    encryption {
      kms_key_id = "alias/backups"
    }

    replication {
      destination_bucket       = aws_s3_bucket.backups_dr.bucket
      destination_region       = "us-west-2"
      role_arn                 = "arn:aws:iam::123456789012:role/s3-replication"
      replication_time_control = true
      # The bucket is encrypted with a KMS key: its replicas need a key of us-west-2 (DR018).
      replica_kms_key_id = "arn:aws:kms:us-west-2:123456789012:key/8c1f2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
    }

    retention {
      daily   = 30
      weekly  = 12
      monthly = 12
    }
  }
}

resource "dr_drill" "orders" {
  policy_id = dr_policy.orders.id
  interval  = "90d"
  rpo       = "15m"
  rto       = "1h"

  postgres_dump {
    s3_uri = "s3://orders-backups/daily/"
  }

  target {
    host         = "restore-test.internal"
    username     = "drill"
    password_env = "DRILL_PG_PASSWORD"
  }

  verify {
    name   = "orders present"
    sql    = "SELECT count(*) FROM orders"
    expect = "> 0"
  }
}

# The checkout sessions: application state the database backups do not hold.
resource "aws_dynamodb_table" "sessions" {
  name         = "orders-sessions"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }
}

# The billing database (encrypted, in eu-west-1) replicated here: KMS keys are regional,
# so the replica names a key of us-west-2 (DR019).
resource "aws_db_instance" "billing_replica" {
  provider            = aws.dr
  identifier          = "billing-replica"
  replicate_source_db = "arn:aws:rds:eu-west-1:123456789012:db:billing"
  instance_class      = "db.t3.micro"
  storage_encrypted   = true
  kms_key_id          = "arn:aws:kms:us-west-2:123456789012:key/0d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a"
  deletion_protection = true
}
