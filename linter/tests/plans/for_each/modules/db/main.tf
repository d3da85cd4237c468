variable "name" {}
resource "aws_db_instance" "this" {
  count               = 1
  identifier          = var.name
  engine              = "postgres"
  instance_class      = "db.t3.micro"
  allocated_storage   = 20
  username            = "u"
  password            = "not-a-secret-0000"
  deletion_protection = false
}
