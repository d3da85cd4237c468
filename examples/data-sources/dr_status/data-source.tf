# Every plan (a scheduled `terraform plan`, or Terraform Cloud's continuous validation)
# measures the data a disaster would cost right now, and warns when it exceeds the
# policy's RPO. A failed check warns; it never fails the plan.
data "dr_status" "orders" {
  policy_id = dr_policy.orders.id
  window    = "15m" # CloudWatch figures are the Maximum over this window

  # A MySQL binlog archive (a mysql_binlog drill's binlog_uri and base_dump_uri): its
  # newest file's age is a figure, and a hole since the newest dump fails the preflight.
  binlog_archive {
    binlog_uri    = "s3://orders-backups/mysql-binlog/"
    base_dump_uri = "s3://orders-backups/mysql-full/"
  }
}

check "orders_rpo" {
  assert {
    condition     = data.dr_status.orders.rpo_met
    error_message = data.dr_status.orders.summary
  }
}

# The restore path, read on every plan: DR-region KMS keys enabled, replication
# destinations versioned, WAL archives without holes. `restorable` is null when a check
# could not be read, so compare with true: unknown warns too.
check "orders_restorable" {
  assert {
    condition     = data.dr_status.orders.restorable == true
    error_message = data.dr_status.orders.summary
  }
}
