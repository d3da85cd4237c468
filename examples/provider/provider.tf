terraform {
  required_providers {
    dr = {
      source = "drkit/dr"
    }
  }
}

# Credentials come from the standard AWS chain (environment, profile, SSO, instance role).
provider "dr" {
  region    = "us-east-1" # where the instances and buckets live
  dr_region = "us-west-2" # where their copies go

  # Optional:
  # profile     = "prod"
  # max_retries = 25
  # read_budget = "10s" # time per optional read of a plan (dr_status, runbook figures)
  # endpoints {
  #   rds = "http://localhost:5000" # LocalStack, moto or a proxy
  #   s3  = "http://localhost:5000"
  #   cloudwatch = "http://localhost:5000" # the metrics dr_status reads
  #   kms        = "http://localhost:5000" # keys: the preflight's DescribeKey, evidence signing
  #   ec2        = "http://localhost:5000" # security groups of dr_status restore_target checks
  # }
}
