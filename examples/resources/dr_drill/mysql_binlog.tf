# Every 30 days, recover the shop database to a random second since the oldest full dump:
# restore that dump into a temporary MariaDB server, replay the archived binlogs up to the
# chosen second, check the result, and remove the server. Fails the scheduled apply when a
# binlog is missing from the archive (naming it), or when the RPO or RTO is missed.
#
# The backups:
#   mariadb-dump --single-transaction --master-data=2 --databases shop | gzip \
#     | aws s3 cp - s3://shop-backups/full/shop-$(date +%F).sql.gz
#   mariadb-binlog --read-from-remote-server --raw --stop-never ... (files synced to
#     s3://shop-backups/binlog/ as mysql-bin.000042, ...)
resource "dr_drill" "shop_pitr" {
  policy_id = dr_policy.orders.id
  rpo       = dr_policy.orders.rpo
  rto       = dr_policy.orders.rto
  interval  = "30d"

  mysql_binlog {
    base_dump_uri = "s3://shop-backups/full/"
    binlog_uri    = "s3://shop-backups/binlog/"
    target_time   = "random"
  }

  verify {
    name   = "orders present"
    sql    = "SELECT count(*) FROM orders"
    expect = "> 0"
  }

  freshness_sql = "SELECT max(created_at) FROM orders"
}
