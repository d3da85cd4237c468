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
  identifier              = var.identifier
  engine                  = "postgres"
  instance_class          = "db.t3.micro"
  allocated_storage       = 20
  backup_retention_period = var.retention_days
  skip_final_snapshot     = true
  copy_tags_to_snapshot   = false
}

resource "aws_db_instance" "replica" {
  provider            = aws.dr
  replicate_source_db = aws_db_instance.main.arn
  instance_class      = "db.t3.micro"
  deletion_protection = true
  storage_encrypted   = true
}
