provider "aws" {
  region = "us-east-1"
}

provider "aws" {
  alias  = "dr"
  region = "us-west-2"
}

provider "dr" {
  region    = "us-east-1"
  dr_region = "us-west-2"
}
