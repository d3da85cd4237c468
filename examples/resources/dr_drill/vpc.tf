# The region-loss restore as it would really run: from the automated backups replicated
# into us-west-2, into the DR VPC's private subnets, behind the database security group,
# with the production parameter group. The groups are created in us-west-2 by the
# network's own configuration (aws_db_subnet_group, aws_security_group,
# aws_db_parameter_group); reference their outputs here.
resource "dr_drill" "orders_dr_region" {
  policy_id = dr_policy.orders.id
  interval  = "90d"

  rds {
    instance_identifier     = "orders-db"
    region                  = "us-west-2"
    from_replicated_backups = true
    instance_class          = "db.r6g.large"

    db_subnet_group_name   = "orders-dr-private"
    vpc_security_group_ids = ["sg-0a1b2c3d4e5f60718"]
    parameter_group_name   = "orders-pg15"
  }
}

# Every plan checks that the restore could still land there: each group exists in
# us-west-2, the security group is in the subnet group's VPC, the class is offered.
data "dr_status" "orders_dr_region" {
  policy_id = dr_policy.orders.id

  restore_target {
    region                 = dr_drill.orders_dr_region.rds[0].region
    db_subnet_group_name   = dr_drill.orders_dr_region.rds[0].db_subnet_group_name
    vpc_security_group_ids = dr_drill.orders_dr_region.rds[0].vpc_security_group_ids
    parameter_group_name   = dr_drill.orders_dr_region.rds[0].parameter_group_name
    instance_class         = dr_drill.orders_dr_region.rds[0].instance_class
  }
}

check "orders_dr_region_restorable" {
  assert {
    condition     = data.dr_status.orders_dr_region.restorable == true
    error_message = data.dr_status.orders_dr_region.summary
  }
}
