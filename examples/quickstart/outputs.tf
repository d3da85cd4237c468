output "tier" {
  description = "The weakest recovery mechanism across the policy's resources."
  value       = dr_policy.orders.tier
}

output "estimated_rpo" {
  value = dr_policy.orders.estimated_rpo
}

output "estimated_rto" {
  value = dr_policy.orders.estimated_rto
}

output "compliant" {
  value = dr_policy.orders.compliant
}

output "drill_measured_rto_seconds" {
  value = dr_drill.orders.measured_rto_seconds
}

output "drill_measured_rpo_seconds" {
  value = dr_drill.orders.measured_rpo_seconds
}

output "drill_rto_met" {
  value = dr_drill.orders.rto_met
}

output "drill_rpo_met" {
  value = dr_drill.orders.rpo_met
}

output "runbook" {
  description = "The failover runbook (markdown)."
  value       = data.dr_runbook.orders.markdown
}
