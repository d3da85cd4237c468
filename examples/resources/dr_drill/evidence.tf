# The quarterly drill with evidence an auditor accepts: every run, passed or failed, leaves
# a record signed by a KMS key and chained to the previous one, locked for seven years.
# Check them with `drkit evidence verify s3://acme-dr-evidence/drills/`; render the report
# with `drkit evidence report s3://acme-dr-evidence/drills/ --out drills.html`.
#
# The bucket is created with Object Lock (aws_s3_bucket { object_lock_enabled = true }) and
# the key is asymmetric:
#   aws_kms_key { key_usage = "SIGN_VERIFY", customer_master_key_spec = "ECC_NIST_P256" }
resource "dr_drill" "orders_evidence" {
  policy_id = dr_policy.orders.id
  interval  = "90d"

  rds {
    instance_identifier = "orders-db"
    restore_time        = "random"
  }

  target {
    host         = "orders-db.cluster.internal"
    username     = "drill"
    password_env = "DRILL_PG_PASSWORD"
  }

  verify {
    name   = "orders restored"
    sql    = "SELECT count(*) FROM orders"
    expect = "> 0"
  }

  evidence {
    s3_uri      = "s3://acme-dr-evidence/drills/"
    retain_days = 2555
    lock_mode   = "COMPLIANCE"
    kms_key_id  = "arn:aws:kms:us-east-1:123456789012:key/0b6f8f2e-4f6a-4c43-9d1b-2f0e5d7c1a11"
    name        = "orders-rds"
  }
}
