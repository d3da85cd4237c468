provider "aws" {
  region = "us-east-1"
}

# Meant as the DR region, but copied from the primary block.
provider "aws" {
  alias  = "dr"
  region = "us-east-1"
}

provider "dr" {
  region    = "us-east-1"
  dr_region = "us-west-2"
}
