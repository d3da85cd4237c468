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
