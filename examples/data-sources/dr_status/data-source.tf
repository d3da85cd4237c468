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

  # Drills are judged by their signed evidence records (only those that verify count).
  # Optional once the drill has run (it tags its evidence location on the policy's
  # resources); named here, the records are read before the first run too.
  evidence_uris = [dr_drill.orders_evidence.evidence[0].s3_uri]

  # A MySQL binlog archive (a mysql_binlog drill's binlog_uri and base_dump_uri): its
  # newest file's age is a figure, and a hole since the newest dump fails the preflight.
  binlog_archive {
    binlog_uri    = "s3://orders-backups/mysql-binlog/"
    base_dump_uri = "s3://orders-backups/mysql-full/"
  }

  # Where a restore would land, from the drill's own attributes: each group must exist in
  # the DR region, and the class be offered there (checked before the first drill too).
  restore_target {
    region                 = "us-west-2"
    db_subnet_group_name   = "orders-dr-private"
    vpc_security_group_ids = ["sg-0a1b2c3d4e5f60718"]
    parameter_group_name   = "orders-pg15"
    instance_class         = "db.r6g.large"
  }
}

check "orders_rpo" {
  assert {
    condition     = data.dr_status.orders.rpo_met
    error_message = data.dr_status.orders.summary
  }
}

# The restore path, read on every plan: DR-region KMS keys enabled, replication
# destinations versioned, WAL and binlog archives without holes, the newest dump, base
# backup and automated snapshot within the RPO, restore targets present. `restorable` is
# null when a check could not be read, so compare with true: unknown warns too.
check "orders_restorable" {
  assert {
    condition     = data.dr_status.orders.restorable == true
    error_message = data.dr_status.orders.summary
  }
}

# Overdue, failing, or a newest record that does not verify: warns on every plan.
# `drill_current` is null when the evidence could not be read, so compare with true.
check "orders_drilled" {
  assert {
    condition     = data.dr_status.orders.drill_current == true
    error_message = "orders: no verified passing drill within drill_interval: ${data.dr_status.orders.summary}"
  }
}
