variable "create" {
  type    = bool
  default = true
}

variable "identifier" {
  type = string
}

variable "engine" {
  type    = string
  default = ""
}

variable "deletion_protection" {
  type    = bool
  default = false
}

variable "backup_retention_period" {
  type    = number
  default = null
}

variable "delete_automated_backups" {
  type    = bool
  default = true
}

variable "replicate_source_db" {
  type    = string
  default = null
}

variable "kms_key_id" {
  type    = string
  default = null
}

variable "timeouts" {
  type = map(string)
  default = {
    create = "40m"
    delete = "40m"
    update = "80m"
  }
}

locals {
  is_mssql = element(split("-", var.engine), 0) == "sqlserver"
}

resource "aws_db_instance" "this" {
  count = var.create && false == local.is_mssql ? 1 : 0

  identifier               = var.identifier
  engine                   = var.engine
  storage_encrypted        = true
  copy_tags_to_snapshot    = true
  deletion_protection      = var.deletion_protection
  backup_retention_period  = var.backup_retention_period
  delete_automated_backups = var.delete_automated_backups
  replicate_source_db      = var.replicate_source_db
  kms_key_id               = var.kms_key_id

  timeouts {
    create = lookup(var.timeouts, "create", null)
    delete = lookup(var.timeouts, "delete", null)
  }
}

# The same instance for SQL Server (the module kept a copy for its `timezone`).
resource "aws_db_instance" "this_mssql" {
  count = var.create && local.is_mssql ? 1 : 0

  identifier               = var.identifier
  engine                   = var.engine
  storage_encrypted        = true
  copy_tags_to_snapshot    = true
  deletion_protection      = var.deletion_protection
  backup_retention_period  = var.backup_retention_period
  delete_automated_backups = var.delete_automated_backups
  replicate_source_db      = var.replicate_source_db
  kms_key_id               = var.kms_key_id

  timeouts {
    create = lookup(var.timeouts, "create", null)
    delete = lookup(var.timeouts, "delete", null)
  }
}
