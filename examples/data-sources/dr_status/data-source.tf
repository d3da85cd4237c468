# Every plan (a scheduled `terraform plan`, or Terraform Cloud's continuous validation)
# measures the data a disaster would cost right now, and warns when it exceeds the
# policy's RPO. A failed check warns; it never fails the plan.
data "dr_status" "orders" {
  policy_id = dr_policy.orders.id
  window    = "15m" # CloudWatch figures are the Maximum over this window

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
# destinations versioned, WAL archives without holes, restore targets present.
# `restorable` is null when a check could not be read, so compare with true: unknown
# warns too.
check "orders_restorable" {
  assert {
    condition     = data.dr_status.orders.restorable == true
    error_message = data.dr_status.orders.summary
  }
}
