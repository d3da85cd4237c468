# The failover runbook of the orders policy, with the last drill's figures, written next
# to the configuration (or pushed to a wiki) on every apply.
data "dr_runbook" "orders" {
  policy_id      = dr_policy.orders.id
  drill_report   = dr_drill.orders.report
  dns_record     = "db.orders.example.com"
  hosted_zone_id = "Z0123456789ABCDEFGHIJ"
  notify         = "#orders-incident"
}

output "orders_runbook" {
  value = data.dr_runbook.orders.markdown
}
