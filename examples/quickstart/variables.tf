variable "aws_endpoint" {
  description = "AWS API endpoint for RDS, S3 and CloudWatch (a local moto or LocalStack); null for real AWS."
  type        = string
  default     = null
}

variable "drill_host" {
  description = "PostgreSQL server the drill restores the nightly dump onto."
  type        = string
}

variable "drill_port" {
  description = "Port of the drill server."
  type        = number
  default     = 5432
}

variable "drill_user" {
  description = "User on the drill server (needs CREATEDB); its password comes from DRILL_PG_PASSWORD."
  type        = string
  default     = "postgres"
}

variable "drill_webhook_url" {
  description = "Slack incoming webhook (or any https:// receiver) the drill posts its outcome to; null for none."
  type        = string
  default     = null
}
