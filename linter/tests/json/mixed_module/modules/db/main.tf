variable "protect" {
  type    = bool
  default = true
}

resource "aws_db_instance" "this" {
  identifier          = "orders"
  engine              = "postgres"
  instance_class      = "db.t3.micro"
  deletion_protection = var.protect
}
