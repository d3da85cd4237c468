terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "5.100.0" }
  }
}
provider "aws" {
  region                      = "us-east-1"
  access_key                  = "x"
  secret_key                  = "y"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}
variable "regions" {
  default = { blue = "a", green = "b" }
}
module "db" {
  source   = "./modules/db"
  for_each = var.regions
  name     = each.key
}
