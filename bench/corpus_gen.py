#!/usr/bin/env python3
"""Writes a deterministic, realistic Terraform corpus for the drlint benchmarks.

    bench/corpus_gen.py --files 1000 --seed 7 --out bench/corpus/1000

Each "repository" is a root module with variables, locals, provider aliases in several
regions, a local module call, RDS instances and clusters, S3 buckets with the split
aws_s3_bucket_* resources (and some legacy inline blocks), count/for_each, dynamic blocks,
heredocs and templates, a mix of good and bad DR settings, and plenty of unrelated VPC,
IAM and EKS resources, as real repositories have. Every other repository is a module
repository instead (corpus_module_repo.py): a root module with a long variables.tf, four
submodules, and examples that call it several times. Same seed and size, same bytes.
"""
import argparse
import os
import random

import corpus_module_repo

REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"]


def providers(rng):
    primary, dr = rng.sample(REGIONS, 2)
    if rng.random() < 0.15:
        dr = primary  # the copy-paste mistake DR001 catches
    return f'''provider "aws" {{
  region = var.region
}}

provider "aws" {{
  alias  = "dr"
  region = "{dr}"
}}

variable "region" {{
  type    = string
  default = "{primary}"
}}

variable "env" {{
  type    = string
  default = "{rng.choice(["prod", "staging", "dev"])}"
}}

locals {{
  name_prefix = "${{var.env}}-{rng.choice(["orders", "billing", "search", "auth", "ledger"])}"
  common_tags = {{
    Environment = var.env
    Team        = "{rng.choice(["payments", "core", "data", "platform"])}"
    ManagedBy   = "terraform"
  }}
}}
'''


def database(rng, i):
    good = rng.random() < 0.5
    retention = rng.choice([14, 30]) if good else rng.choice([0, 1, 3])
    extra = ""
    if good:
        extra += "  deletion_protection      = true\n  delete_automated_backups = false\n  storage_encrypted        = true\n"
    elif rng.random() < 0.5:
        extra += "  skip_final_snapshot = true\n"
    replica = ""
    if rng.random() < 0.4:
        replica = f'''
resource "aws_db_instance" "db{i}_replica" {{
  provider            = aws.dr
  replicate_source_db = aws_db_instance.db{i}.arn
  instance_class      = "db.r6g.large"
  deletion_protection = true
  storage_encrypted   = true
}}
'''
    return f'''resource "aws_db_instance" "db{i}" {{
  identifier              = "${{local.name_prefix}}-db{i}"
  engine                  = "postgres"
  engine_version          = "15.4"
  instance_class          = var.env == "prod" ? "db.r6g.xlarge" : "db.t3.medium"
  allocated_storage       = {rng.choice([20, 100, 500])}
  backup_retention_period = {retention}
{extra}  tags                    = merge(local.common_tags, {{ Name = "db{i}" }})

  lifecycle {{
    ignore_changes = [engine_version]
  }}
}}
{replica}'''


def cluster(rng, i):
    return f'''resource "aws_rds_cluster" "aurora{i}" {{
  cluster_identifier      = "${{local.name_prefix}}-aurora{i}"
  engine                  = "aurora-postgresql"
  master_username         = "app"
  manage_master_user_password = true
  backup_retention_period = {rng.choice([1, 7, 35])}
  deletion_protection     = {rng.choice(["true", "false"])}
  storage_encrypted       = true
  skip_final_snapshot     = {rng.choice(["true", "false"])}
}}
'''


def bucket(rng, i):
    kind = rng.choice(["backups", "wal-archive", "assets", "logs", "exports"])
    out = f'''resource "aws_s3_bucket" "b{i}" {{
  bucket = "${{local.name_prefix}}-{kind}-{i}"
  tags   = local.common_tags
}}
'''
    if rng.random() < 0.6:
        out += f'''
resource "aws_s3_bucket_versioning" "b{i}" {{
  bucket = aws_s3_bucket.b{i}.id
  versioning_configuration {{
    status = "{rng.choice(["Enabled", "Enabled", "Suspended"])}"
  }}
}}
'''
    if rng.random() < 0.5:
        out += f'''
resource "aws_s3_bucket_lifecycle_configuration" "b{i}" {{
  bucket = aws_s3_bucket.b{i}.id

  dynamic "rule" {{
    for_each = {{ daily = 35, monthly = 400 }}
    content {{
      id     = rule.key
      status = "Enabled"
      filter {{
        prefix = "${{rule.key}}/"
      }}
      expiration {{
        days = rule.value
      }}
    }}
  }}
}}
'''
    if rng.random() < 0.4:
        out += f'''
resource "aws_s3_bucket_server_side_encryption_configuration" "b{i}" {{
  bucket = aws_s3_bucket.b{i}.id
  rule {{
    apply_server_side_encryption_by_default {{
      sse_algorithm = "aws:kms"
    }}
  }}
}}
'''
    if rng.random() < 0.3:
        out += f'''
resource "aws_s3_bucket" "b{i}_dr" {{
  provider = aws.dr
  bucket   = "${{local.name_prefix}}-{kind}-{i}-dr"
}}

resource "aws_s3_bucket_replication_configuration" "b{i}" {{
  bucket = aws_s3_bucket.b{i}.id
  role   = aws_iam_role.replication.arn
  rule {{
    id     = "all"
    status = "Enabled"
    destination {{
      bucket        = aws_s3_bucket.b{i}_dr.arn
      storage_class = "STANDARD_IA"
    }}
  }}
}}
'''
    return out


def legacy_bucket(rng, i):
    return f'''resource "aws_s3_bucket" "legacy{i}" {{
  bucket = "legacy-dumps-{i}"
  acl    = "private"

  versioning {{
    enabled = {rng.choice(["true", "false"])}
  }}

  lifecycle_rule {{
    enabled = true
    expiration {{
      days = 90
    }}
  }}
}}
'''


def network(rng, i):
    return f'''resource "aws_vpc" "main{i}" {{
  cidr_block           = "10.{i % 250}.0.0/16"
  enable_dns_hostnames = true
  tags                 = merge(local.common_tags, {{ Name = "${{local.name_prefix}}-vpc" }})
}}

resource "aws_subnet" "private{i}" {{
  for_each          = toset(["a", "b", "c"])
  vpc_id            = aws_vpc.main{i}.id
  cidr_block        = cidrsubnet(aws_vpc.main{i}.cidr_block, 4, index(["a", "b", "c"], each.key))
  availability_zone = "${{var.region}}${{each.key}}"
}}

resource "aws_security_group" "db{i}" {{
  name   = "${{local.name_prefix}}-db{i}"
  vpc_id = aws_vpc.main{i}.id

  dynamic "ingress" {{
    for_each = [5432, 6432]
    content {{
      from_port   = ingress.value
      to_port     = ingress.value
      protocol    = "tcp"
      cidr_blocks = [aws_vpc.main{i}.cidr_block]
    }}
  }}
}}
'''


def iam(rng, i):
    return f'''resource "aws_iam_role" "svc{i}" {{
  name = "${{local.name_prefix}}-svc{i}"
  assume_role_policy = <<-EOT
    {{
      "Version": "2012-10-17",
      "Statement": [{{
        "Effect": "Allow",
        "Principal": {{ "Service": "eks.amazonaws.com" }},
        "Action": "sts:AssumeRole"
      }}]
    }}
  EOT
}}

resource "aws_iam_role_policy" "svc{i}" {{
  role = aws_iam_role.svc{i}.id
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:PutObject"]
      Resource = ["arn:aws:s3:::${{local.name_prefix}}-*/*"]
    }}]
  }})
}}
'''


def eks(rng, i):
    return f'''resource "aws_eks_cluster" "c{i}" {{
  name     = "${{local.name_prefix}}-eks{i}"
  role_arn = aws_iam_role.svc{i}.arn
  version  = "1.29"

  vpc_config {{
    subnet_ids = [for s in aws_subnet.private{i} : s.id]
  }}
}}

resource "aws_eks_node_group" "ng{i}" {{
  cluster_name    = aws_eks_cluster.c{i}.name
  node_group_name = "default"
  node_role_arn   = aws_iam_role.svc{i}.arn
  subnet_ids      = [for s in aws_subnet.private{i} : s.id]
  scaling_config {{
    desired_size = 3
    max_size     = 6
    min_size     = 2
  }}
}}
'''


def policy(rng, i):
    owners = '["a@example.com", "b@example.com"]' if rng.random() < 0.7 else '["a@example.com"]'
    return f'''resource "dr_policy" "p{i}" {{
  name   = "${{local.name_prefix}}-p{i}"
  rpo    = "{rng.choice(["5m", "15m", "1h", "4h"])}"
  rto    = "{rng.choice(["30m", "1h", "4h"])}"
  owners = {owners}

  rds {{
    instance_identifier   = aws_db_instance.db{i}.identifier
    backup_retention_days = 14
  }}
}}
'''


MODULE = '''variable "name" {
  type = string
}

variable "retention" {
  type    = number
  default = 7
}

resource "aws_db_instance" "this" {
  identifier              = var.name
  engine                  = "postgres"
  instance_class          = "db.t3.medium"
  backup_retention_period = var.retention
  deletion_protection     = true
}

output "identifier" {
  value = aws_db_instance.this.identifier
}
'''

FILE_KINDS = [
    ("database", database, 3),
    ("cluster", cluster, 1),
    ("bucket", bucket, 3),
    ("legacy", legacy_bucket, 1),
    ("network", network, 3),
    ("iam", iam, 3),
    ("eks", eks, 2),
    ("policy", policy, 1),
]


def generate(files, seed, out):
    rng = random.Random(seed)
    # Two shapes of repository, alternating: an infrastructure repository of ~20 files
    # (providers.tf, a module with one file, the rest resources) and a module repository of
    # 27 longer files (corpus_module_repo), as public corpora mix them.
    written = 0
    repo = 0
    weights = [w for _, _, w in FILE_KINDS]
    while written < files:
        if repo % 2 == 1 and files - written >= 27:
            written += corpus_module_repo.write(rng, os.path.join(out, f"modules{repo:04d}"))
            repo += 1
            continue
        root = os.path.join(out, f"repo{repo:04d}")
        os.makedirs(os.path.join(root, "modules", "db"), exist_ok=True)
        with open(os.path.join(root, "providers.tf"), "w") as f:
            f.write(providers(rng))
        with open(os.path.join(root, "modules", "db", "main.tf"), "w") as f:
            f.write(MODULE)
        with open(os.path.join(root, "module_call.tf"), "w") as f:
            f.write(
                'module "reporting_db" {\n  source    = "./modules/db"\n'
                f'  name      = "${{local.name_prefix}}-reporting"\n  retention = {rng.choice([1, 7, 14])}\n}}\n\n'
                'resource "aws_iam_role" "replication" {\n  name               = "${local.name_prefix}-replication"\n'
                '  assume_role_policy = "{}"\n}\n'
            )
        written += 3
        for n in range(min(17, max(files - written, 0))):
            name, fn, _ = rng.choices(FILE_KINDS, weights=weights)[0]
            i = n
            body = fn(rng, i)
            if name == "policy":
                body = database(rng, i) + "\n" + body
            if name == "eks":
                body = iam(rng, i) + "\n" + network(rng, i) + "\n" + body
            with open(os.path.join(root, f"{name}_{n:02d}.tf"), "w") as f:
                f.write(body)
            written += 1
        repo += 1
    return written


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    if os.path.exists(args.out) and os.listdir(args.out):
        raise SystemExit(f"{args.out} is not empty: remove it first (output must be reproducible)")
    n = generate(args.files, args.seed, args.out)
    print(f"wrote {n} .tf files to {args.out}")


if __name__ == "__main__":
    main()
