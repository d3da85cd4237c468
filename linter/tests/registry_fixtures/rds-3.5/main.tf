variable "identifier" {
  type = string
}

variable "engine" {
  type    = string
  default = null
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

variable "create_db_instance" {
  type    = bool
  default = true
}

module "db_instance" {
  source = "./modules/db_instance"

  create                   = var.create_db_instance
  identifier               = var.identifier
  engine                   = var.engine
  deletion_protection      = var.deletion_protection
  backup_retention_period  = var.backup_retention_period
  delete_automated_backups = var.delete_automated_backups
  replicate_source_db      = var.replicate_source_db
  kms_key_id               = var.kms_key_id
}
