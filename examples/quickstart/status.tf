# The live RPO on every plan: a scheduled `terraform plan` warns, naming the copy and the
# figure, whenever a disaster would now cost more data than the policy's 15 minutes.
# The data source sits outside the check block so that a plan with nothing to change
# stays empty (`-detailed-exitcode` 0); nested in the check, Terraform re-reads it during
# every apply and reports every plan as a change.
data "dr_status" "orders" {
  policy_id = dr_policy.orders.id

  # The prefix the drill restores from: the preflight checks that its newest dump is
  # younger than the policy's RPO (a data source cannot read the drill's state itself).
  dump_uris = [dr_drill.orders.postgres_dump[0].s3_uri]
}

check "orders_rpo" {
  assert {
    condition     = data.dr_status.orders.rpo_met
    error_message = data.dr_status.orders.summary
  }
}

# The restore path on every plan (reads only): the DR region's KMS keys enabled, the
# replication destination versioned, the newest dump and automated snapshot within the RPO. Null (a check that could not be read) warns too.
check "orders_restorable" {
  assert {
    condition     = data.dr_status.orders.restorable == true
    error_message = data.dr_status.orders.summary
  }
}
