# Every 7 days, restore the newest base backup plus the WAL archive to a random point in
# time on a temporary PostgreSQL server, check it, and fail the scheduled apply when the
# recovery is slower than the policy's RTO or loses more than its RPO.
#
# The backups are the classic continuous-archiving setup:
#   pg_basebackup -D /backups/$(date +%FT%H%M) -Ft -z   (uploaded as one folder per run)
#   archive_command = 'aws s3 cp %p s3://orders-wal-archive/main/%f'
resource "dr_drill" "orders_pitr" {
  policy_id = dr_policy.orders.id
  rpo       = dr_policy.orders.rpo
  rto       = dr_policy.orders.rto
  interval  = "7d"

  report_file = "${path.root}/drill-reports/orders-pitr.json"

  postgres_pitr {
    base_backup_uri = "s3://orders-pg-backups/base/"
    wal_archive_uri = "s3://orders-wal-archive/main/"
    target_time     = "random"
    database        = "orders"
  }

  verify {
    name   = "orders table readable"
    sql    = "SELECT count(*) FROM orders"
    expect = ">= 0"
  }
}

# What a disaster would lose right now (the newest archived segment's age), next to the
# measured RPO of the restore itself.
output "orders_wal_archive_lag_seconds" {
  value = dr_drill.orders_pitr.archive_lag_seconds
}
