variable "create_bucket" {
  description = "Whether to create the bucket"
  type        = bool
  default     = true
}

variable "is_directory_bucket" {
  description = "Whether the bucket is an S3 Express directory bucket"
  type        = bool
  default     = false
}

variable "bucket" {
  description = "The bucket's name"
  type        = string
  default     = null
}

variable "versioning" {
  description = "Versioning settings: enabled or status, mfa_delete, mfa"
  type        = map(string)
  default     = {}
}
