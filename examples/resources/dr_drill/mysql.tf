# Every 30 days, restore last night's MySQL dump into a scratch database on the drill
# server, check it, and fail the scheduled apply when the restore is slower than the
# policy's RTO or the dump older than its RPO.
#
# The backups are the classic nightly pipeline:
#   mysqldump --single-transaction --routines orders | gzip \
#     | openssl enc -aes-256-cbc -pbkdf2 -pass env:BACKUP_PASS \
#     | aws s3 cp - s3://orders-backups/mysql/orders-$(date +%F).sql.gz.enc
resource "dr_drill" "orders_mysql" {
  policy_id = dr_policy.orders.id
  rpo       = dr_policy.orders.rpo
  rto       = dr_policy.orders.rto
  interval  = "30d"

  mysql_dump {
    s3_uri = "s3://orders-backups/mysql/"

    decrypt {
      openssl_cipher = "aes-256-cbc"
      key_env        = "BACKUP_PASS"
      pbkdf2         = true
    }
  }

  # A MySQL 8 or MariaDB server kept for drills; the drill creates and drops its own
  # drkit_drill_<run> database there.
  target {
    engine       = "mysql"
    host         = "drill-mysql.internal.example.com"
    username     = "drill"
    password_env = "DRILL_MYSQL_PASSWORD"
    tls_mode     = "require" # never fall back to plain text (require_secure_transport)
  }

  verify {
    name   = "orders restored"
    sql    = "SELECT count(*) FROM orders"
    expect = "> 0"
  }

  # The integration tests read MYSQL_HOST, MYSQL_TCP_PORT, MYSQL_PWD, MYSQL_DATABASE.
  verify {
    name    = "smoke tests"
    command = ["./smoke.sh", "--mysql"]
    timeout = "10m"
  }

  freshness_sql = "SELECT max(created_at) FROM orders"
}
