# Every plan (a scheduled `terraform plan`, or Terraform Cloud's continuous validation)
# measures the data a disaster would cost right now, and warns when it exceeds the
# policy's RPO. A failed check warns; it never fails the plan.
data "dr_status" "orders" {
  policy_id = dr_policy.orders.id
  window    = "15m" # CloudWatch figures are the Maximum over this window

  # What the drills restore from, by the drills' own attributes: the newest dump and
  # base backup there must be younger than the policy's RPO (known before the first drill).
  dump_uris = [
    dr_drill.orders.postgres_dump[0].s3_uri,
    dr_drill.orders_mysql.mysql_dump[0].s3_uri,
  ]
  base_backup_uris = [dr_drill.orders_pitr.postgres_pitr[0].base_backup_uri]
  wal_archive_uris = [dr_drill.orders_pitr.postgres_pitr[0].wal_archive_uri]
}

check "orders_rpo" {
  assert {
    condition     = data.dr_status.orders.rpo_met
    error_message = data.dr_status.orders.summary
  }
}

# The restore path, read on every plan: DR-region KMS keys enabled, replication
# destinations versioned, WAL archives without holes, the newest dump, base backup and
# automated snapshot within the RPO. `restorable` is null when a check
# could not be read, so compare with true: unknown warns too.
check "orders_restorable" {
  assert {
    condition     = data.dr_status.orders.restorable == true
    error_message = data.dr_status.orders.summary
  }
}
