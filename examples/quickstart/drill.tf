# Every 30 days, restore the newest nightly pg_dump into a scratch database, check it, and
# fail the apply when the restore is slower than the policy's RTO or older than its RPO.
resource "dr_drill" "orders" {
  policy_id = dr_policy.orders.id
  rpo       = dr_policy.orders.rpo
  rto       = dr_policy.orders.rto
  interval  = "30d"

  # The outcome as a Slack message (verdict, RTO and RPO against the targets, phases,
  # failed checks); a failed post only warns.
  webhook_url = var.drill_webhook_url

  postgres_dump {
    s3_uri = "s3://orders-backups/daily/"
  }

  target {
    host         = var.drill_host
    port         = var.drill_port
    username     = var.drill_user
    password_env = "DRILL_PG_PASSWORD"
  }

  verify {
    name   = "orders restored"
    sql    = "SELECT count(*) FROM orders"
    expect = "> 0"
  }

  verify {
    name   = "orders from the last day"
    sql    = "SELECT count(*) FROM orders WHERE created_at > now() - interval '1 day'"
    expect = "> 0"
  }

  freshness_sql = "SELECT max(created_at) FROM orders"
}

data "dr_runbook" "orders" {
  policy_id    = dr_policy.orders.id
  drill_report = dr_drill.orders.report
  notify       = "#orders-incident"
}
