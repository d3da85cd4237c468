module "orders_db" {
  source = "./modules/db"
  providers = {
    aws    = aws
    aws.dr = aws.dr
  }

  identifier     = "orders"
  retention_days = 1
}

resource "aws_s3_bucket" "backups" {
  bucket = "orders-backups"
}

resource "aws_s3_bucket" "backups_copy" {
  provider = aws.dr
  bucket   = "orders-backups-copy"
}

resource "aws_s3_bucket_replication_configuration" "backups" {
  bucket = aws_s3_bucket.backups.id
  role   = "arn:aws:iam::123456789012:role/s3-replication"

  rule {
    id     = "all"
    status = "Enabled"

    # The dumps are SSE-KMS encrypted, but the destination names no replica key: S3
    # refuses this configuration (DR018).
    source_selection_criteria {
      sse_kms_encrypted_objects {
        status = "Enabled"
      }
    }

    destination {
      bucket = aws_s3_bucket.backups_copy.arn
    }
  }
}

resource "dr_policy" "orders" {
  name   = "orders"
  rpo    = "5m"
  rto    = "30m"
  owners = ["alice@example.com"]

  rds {
    instance_identifier   = "orders"
    backup_retention_days = 14
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
}

# A DR replica of the billing database, which is encrypted and lives in eu-west-1. KMS keys
# are regional and no key of this region is named: AWS refuses the replica (DR019).
resource "aws_db_instance" "billing_replica" {
  identifier          = "billing-replica"
  replicate_source_db = "arn:aws:rds:eu-west-1:123456789012:db:billing"
  instance_class      = "db.t3.micro"
  storage_encrypted   = true
  deletion_protection = true
}
