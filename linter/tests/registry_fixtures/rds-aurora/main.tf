locals {
  create = var.create

  is_serverless = var.engine_mode == "serverless"
}

resource "aws_rds_cluster" "this" {
  count = local.create ? 1 : 0

  backup_retention_period       = var.backup_retention_period
  cluster_identifier            = var.cluster_use_name_prefix ? null : var.name
  copy_tags_to_snapshot         = var.copy_tags_to_snapshot
  delete_automated_backups      = var.delete_automated_backups
  deletion_protection           = var.deletion_protection
  engine                        = var.engine
  engine_mode                   = var.engine_mode
  final_snapshot_identifier     = "final-${var.name}"
  global_cluster_identifier     = var.global_cluster_identifier
  kms_key_id                    = var.kms_key_id
  replication_source_identifier = var.replication_source_identifier
  skip_final_snapshot           = var.skip_final_snapshot
  storage_encrypted             = var.storage_encrypted

  lifecycle {
    ignore_changes = [
      replication_source_identifier,
      global_cluster_identifier,
    ]
  }
}
