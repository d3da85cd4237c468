locals {
  archive_name = "orders-wal-archive"
}

resource "aws_s3_bucket" "data" {
  bucket = "orders-data"
}

module "db" {
  source = "./modules/db"
}
