terraform {
  required_providers {
    aws = {
      source                = "hashicorp/aws"
      configuration_aliases = [aws.dr]
    }
  }
}

variable "identifier" {
  type = string
}

variable "retention_days" {
  type    = number
  default = 7
}

resource "aws_db_instance" "main" {
  identifier                = var.identifier
  engine                    = "postgres"
  instance_class            = "db.t3.micro"
  allocated_storage         = 20
  storage_encrypted         = true
  backup_retention_period   = var.retention_days
  deletion_protection       = true
  delete_automated_backups  = false
  skip_final_snapshot       = false
  final_snapshot_identifier = "${var.identifier}-final"
  copy_tags_to_snapshot     = true
}

output "identifier" {
  value = aws_db_instance.main.identifier
}
