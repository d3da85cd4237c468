# The live RPO on every plan: a scheduled `terraform plan` warns, naming the copy and the
# figure, whenever a disaster would now cost more data than the policy's 15 minutes.
check "orders_rpo" {
  data "dr_status" "orders" {
    policy_id = dr_policy.orders.id
  }

  assert {
    condition     = data.dr_status.orders.rpo_met
    error_message = data.dr_status.orders.summary
  }
}
