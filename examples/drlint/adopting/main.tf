# A repository that had findings before drlint was adopted. They are recorded in
# drlint-baseline.json (`drlint --write-baseline drlint-baseline.json`), which
# .drlint.toml names, so the gate fails only on findings that are new.

provider "aws" {
  region = "us-east-1"
}

# Known: deletion protection is off on the reporting replica's source; tracked in OPS-812.
resource "aws_db_instance" "reports" {
  identifier              = "reports"
  engine                  = "postgres"
  instance_class          = "db.t3.micro"
  backup_retention_period = 14
  deletion_protection     = false
}

# Known: the export bucket predates the versioning policy.
resource "aws_s3_bucket" "exports" {
  bucket = "acme-reports-exports"
}
