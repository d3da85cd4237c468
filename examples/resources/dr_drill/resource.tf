# Restore last night's pg_dump into a scratch database every 30 days, check it, and fail
# the scheduled apply when the restore is slower than the policy's RTO.
resource "dr_drill" "orders" {
  policy_id = dr_policy.orders.id
  rpo       = dr_policy.orders.rpo
  rto       = dr_policy.orders.rto
  interval  = "30d"

  report_file = "${path.root}/drill-reports/orders.json"

  postgres_dump {
    s3_uri = "s3://orders-backups/daily/"
  }

  target {
    host         = "restore-test.internal"
    port         = 5432
    username     = "drill"
    password_env = "DRILL_PG_PASSWORD"
    # The server accepts TLS only; its certificate is signed by the company CA, installed
    # in the system's store (or name the bundle in tls_ca_file).
    tls_mode = "verify-full"
  }

  verify {
    name   = "orders restored"
    sql    = "SELECT count(*) FROM orders"
    expect = "> 0"
  }

  verify {
    name   = "schema migrations applied"
    sql    = "SELECT version FROM schema_migrations ORDER BY version DESC LIMIT 1"
    expect = "rows = 1"
  }

  freshness_sql = "SELECT max(created_at) FROM orders"
}

# The quarterly drill as teams run it: the encrypted nightly dump
# (pg_dump -Fc | gzip | openssl enc -aes-256-cbc -pbkdf2 -pass env:BACKUP_PASS), the
# integration tests against the restored copy, the outcome posted to Slack. Without
# rpo/rto, the drill measures against the policy's targets (from its drkit:targets tags).
resource "dr_drill" "orders_quarterly" {
  policy_id   = dr_policy.orders.id
  interval    = "90d"
  webhook_url = "https://hooks.slack.com/services/T0000/B0000/XXXXXXXX"

  postgres_dump {
    s3_uri = "s3://orders-backups/encrypted/"

    decrypt {
      openssl_cipher = "aes-256-cbc"
      key_env        = "BACKUP_PASS"
      pbkdf2         = true
    }
  }

  target {
    host         = "restore-test.internal"
    username     = "drill"
    password_env = "DRILL_PG_PASSWORD"
  }

  verify {
    name   = "orders restored"
    sql    = "SELECT count(*) FROM orders"
    expect = "> 0"
  }

  # Runs with PGHOST, PGPORT, PGDATABASE, PGUSER and PGPASSWORD of the copy, in
  # Terraform's working directory; passes when it exits 0.
  verify {
    name    = "integration tests"
    command = ["./smoke.sh", "--fast"]
    timeout = "10m"
  }
}
