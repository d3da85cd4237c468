variable "create" {
  type    = bool
  default = true
}

variable "name" {
  type    = string
  default = ""
}

variable "engine" {
  type    = string
  default = null
}

variable "engine_mode" {
  type    = string
  default = "provisioned"
}

variable "backup_retention_period" {
  description = "The days to retain backups for"
  type        = number
  default     = null
}

variable "delete_automated_backups" {
  type    = bool
  default = null
}

variable "deletion_protection" {
  description = "The default is `false`"
  type        = bool
  default     = null
}

variable "skip_final_snapshot" {
  type    = bool
  default = false
}

variable "storage_encrypted" {
  type    = bool
  default = true
}

variable "copy_tags_to_snapshot" {
  type    = bool
  default = null
}

variable "global_cluster_identifier" {
  type    = string
  default = null
}

variable "replication_source_identifier" {
  type    = string
  default = null
}

variable "cluster_use_name_prefix" {
  type    = bool
  default = false
}

variable "kms_key_id" {
  type    = string
  default = null
}
