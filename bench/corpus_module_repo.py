"""A module repository for the generated corpus (imported by corpus_gen.py).

The other shape real corpora are made of (terraform-aws-modules and the like): a root module
whose long variables.tf feeds submodules, each guarded by `count = var.create ? 1 : 0`, and
examples/ that call the root module several times with different DR settings. A linter has
to resolve variables through two levels of module calls here, and the files are long: real
module files average ~2.8 KB (2,580 files, 7.2 MB in issue 6's reference corpus).
"""
import os

REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"]

# (name, type, default, description); "{x}" defaults are drawn per repository.
DB_VARS = [
    ("identifier", "string", None, "The name of the RDS instance"),
    ("engine", "string", None, "The database engine to use"),
    ("engine_version", "string", None, "The engine version to use"),
    ("instance_class", "string", None, "The instance type of the RDS instance"),
    ("allocated_storage", "number", None, "The allocated storage in gigabytes"),
    ("max_allocated_storage", "number", "0", "Upper limit to which RDS can scale the storage"),
    ("storage_type", "string", "null", "One of standard, gp2, gp3 or io1"),
    ("storage_encrypted", "bool", "{encrypted}", "Specifies whether the DB instance is encrypted"),
    ("kms_key_id", "string", "null", "The ARN for the KMS encryption key"),
    ("db_name", "string", "null", "The DB name to create"),
    ("username", "string", "null", "Username for the master DB user"),
    ("manage_master_user_password", "bool", "true", "Manage the master password with Secrets Manager"),
    ("port", "string", "null", "The port on which the DB accepts connections"),
    ("vpc_security_group_ids", "list(string)", "[]", "List of VPC security groups to associate"),
    ("db_subnet_group_name", "string", "null", "Name of DB subnet group"),
    ("parameter_group_name", "string", "null", "Name of the DB parameter group to associate"),
    ("availability_zone", "string", "null", "The Availability Zone of the RDS instance"),
    ("multi_az", "bool", "false", "Specifies if the RDS instance is multi-AZ"),
    ("iops", "number", "null", "The amount of provisioned IOPS"),
    ("publicly_accessible", "bool", "false", "Bool to control if instance is publicly accessible"),
    ("monitoring_interval", "number", "0", "Interval in seconds for Enhanced Monitoring metrics"),
    ("monitoring_role_arn", "string", "null", "ARN of the IAM role for Enhanced Monitoring"),
    ("allow_major_version_upgrade", "bool", "false", "Indicates that major version upgrades are allowed"),
    ("auto_minor_version_upgrade", "bool", "true", "Minor engine upgrades are applied automatically"),
    ("apply_immediately", "bool", "false", "Apply modifications immediately"),
    ("maintenance_window", "string", "null", "The window to perform maintenance in"),
    ("snapshot_identifier", "string", "null", "Create this database from a snapshot"),
    ("copy_tags_to_snapshot", "bool", "false", "Copy all instance tags to snapshots"),
    ("skip_final_snapshot", "bool", "{skip}", "Whether a final DB snapshot is skipped before deletion"),
    ("final_snapshot_identifier_prefix", "string", '"final"', "The name prefix of the final snapshot"),
    ("performance_insights_enabled", "bool", "false", "Specifies whether Performance Insights are enabled"),
    ("performance_insights_retention_period", "number", "7", "Days to retain Performance Insights data"),
    ("replicate_source_db", "string", "null", "Specifies that this resource is a replica of another database"),
    ("backup_retention_period", "number", "{retention}", "The days to retain backups for"),
    ("backup_window", "string", "null", "The daily time range during which backups are taken"),
    ("enabled_cloudwatch_logs_exports", "list(string)", "[]", "Log types to export to CloudWatch"),
    ("deletion_protection", "bool", "{protect}", "The database can't be deleted when this is true"),
    ("delete_automated_backups", "bool", "{delete_backups}", "Remove automated backups immediately after deletion"),
    ("ca_cert_identifier", "string", "null", "The identifier of the CA certificate"),
    ("timeouts", "map(string)", "{{}}", "Updated Terraform resource management timeouts"),
    ("tags", "map(string)", "{{}}", "A mapping of tags to assign to all resources"),
]
ROOT_VARS = [
    ("create_db_subnet_group", "bool", "true", "Whether to create a database subnet group"),
    ("subnet_ids", "list(string)", "[]", "A list of VPC subnet IDs"),
    ("db_subnet_group_use_name_prefix", "bool", "true", "Use the name as a prefix"),
    ("create_db_parameter_group", "bool", "true", "Whether to create a database parameter group"),
    ("family", "string", "null", "The family of the DB parameter group"),
    ("parameters", "list(map(string))", "[]", "A list of DB parameters to apply"),
    ("create_backup_bucket", "bool", "true", "Whether to create the bucket that keeps exports"),
    ("backup_bucket_expiration_days", "number", "{expiry}", "Days after which exports expire"),
    ("backup_bucket_versioning", "string", '"{versioning}"', "Versioning status of the export bucket"),
    ("create_db_instance", "bool", "true", "Whether to create a database instance"),
]
OUTPUTS = ["address", "arn", "endpoint", "id", "resource_id", "status", "name", "username", "port",
           "availability_zone", "hosted_zone_id"]

VERSIONS = """terraform {
  required_version = ">= 1.3"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}
"""

SUBNET_GROUP = """resource "aws_db_subnet_group" "this" {
  count = var.create ? 1 : 0

  name        = var.use_name_prefix ? null : lower(var.name)
  name_prefix = var.use_name_prefix ? "${lower(var.name)}-" : null
  description = coalesce(var.description, format("%s subnet group", var.name))
  subnet_ids  = var.subnet_ids

  tags = merge(var.tags, { "Name" = var.name })
}
"""

PARAMETER_GROUP = """resource "aws_db_parameter_group" "this" {
  count = var.create ? 1 : 0

  name_prefix = "${var.name}-"
  description = "Database parameter group for ${var.name}"
  family      = var.family

  dynamic "parameter" {
    for_each = var.parameters
    content {
      name         = parameter.value.name
      value        = parameter.value.value
      apply_method = lookup(parameter.value, "apply_method", null)
    }
  }

  tags = merge(var.tags, { "Name" = var.name })

  lifecycle {
    create_before_destroy = true
  }
}
"""

BACKUP_BUCKET = """resource "aws_s3_bucket" "this" {
  count = var.create ? 1 : 0

  bucket        = var.bucket
  force_destroy = false

  tags = var.tags
}

resource "aws_s3_bucket_versioning" "this" {
  count = var.create ? 1 : 0

  bucket = aws_s3_bucket.this[0].id
  versioning_configuration {
    status = var.versioning
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  count = var.create && var.expiration_days != null ? 1 : 0

  bucket = aws_s3_bucket.this[0].id

  rule {
    id     = "expire-exports"
    status = "Enabled"

    filter {}

    expiration {
      days = var.expiration_days
    }

    noncurrent_version_expiration {
      noncurrent_days = var.expiration_days
    }
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  count = var.create ? 1 : 0

  bucket                  = aws_s3_bucket.this[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

data "aws_iam_policy_document" "deny_insecure_transport" {
  statement {
    sid     = "denyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      "arn:aws:s3:::${var.bucket}",
      "arn:aws:s3:::${var.bucket}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  count = var.create ? 1 : 0

  bucket = aws_s3_bucket.this[0].id
  policy = data.aws_iam_policy_document.deny_insecure_transport.json
}
"""


def variable(name, typ, default, desc, fill):
    body = f'  description = "{desc}"\n  type        = {typ}\n'
    if default is not None:
        body += f"  default     = {default.format(**fill)}\n"
    return f'variable "{name}" {{\n{body}}}\n'


def variables(table, fill):
    return "\n".join(variable(*v, fill) for v in table)


def assignments(pairs):
    """Aligned `name = value` lines, as `terraform fmt` writes them."""
    width = max(len(n) for n, _ in pairs)
    return "".join(f"  {n:<{width}} = {v}\n" for n, v in pairs)


def outputs(value):
    return "\n".join(
        f'output "db_instance_{o}" {{\n  description = "The {o.replace("_", " ")} of the RDS instance"\n'
        f"  value       = {value.format(o=o)}\n}}\n"
        for o in OUTPUTS
    )


def root_main():
    names = [n for n, *_ in DB_VARS if n not in ("db_subnet_group_name", "parameter_group_name")]
    locals_ = [("create", "local.create_db_instance"), ("db_subnet_group_name", "local.db_subnet_group_name"),
               ("parameter_group_name", "local.parameter_group_name")]
    return f"""locals {{
  create_db_instance   = var.create_db_instance
  db_subnet_group_name = var.replicate_source_db != null ? null : try(module.db_subnet_group.db_subnet_group_id, var.db_subnet_group_name)
  parameter_group_name = var.create_db_parameter_group ? module.db_parameter_group.db_parameter_group_id : var.parameter_group_name
}}

module "db_subnet_group" {{
  source = "./modules/db_subnet_group"

  create          = var.create_db_subnet_group && var.replicate_source_db == null
  name            = coalesce(var.db_subnet_group_name, var.identifier)
  use_name_prefix = var.db_subnet_group_use_name_prefix
  subnet_ids      = var.subnet_ids

  tags = var.tags
}}

module "db_parameter_group" {{
  source = "./modules/db_parameter_group"

  create     = var.create_db_parameter_group
  name       = coalesce(var.parameter_group_name, var.identifier)
  family     = var.family
  parameters = var.parameters

  tags = var.tags
}}

module "db_instance" {{
  source = "./modules/db_instance"

{assignments(locals_ + [(n, f"var.{n}") for n in names])}}}

module "backup_bucket" {{
  source = "./modules/backup_bucket"

  create          = var.create_backup_bucket
  bucket          = "${{var.identifier}}-backups"
  expiration_days = var.backup_bucket_expiration_days
  versioning      = var.backup_bucket_versioning

  tags = merge(var.tags, {{ Purpose = "backup" }})
}}
"""


def db_instance_main():
    skip = ("identifier", "final_snapshot_identifier_prefix", "monitoring_role_arn", "timeouts", "tags")
    width = max(len(n) for n, *_ in DB_VARS)
    attrs = "".join(f"  {n:<{width}} = var.{n}\n" for n, *_ in DB_VARS if n not in skip)
    return f"""locals {{
  monitoring_role_arn       = var.create_monitoring_role ? aws_iam_role.enhanced_monitoring[0].arn : var.monitoring_role_arn
  final_snapshot_identifier = var.skip_final_snapshot ? null : "${{var.final_snapshot_identifier_prefix}}-${{var.identifier}}-${{try(random_id.snapshot_identifier[0].hex, "")}}"
}}

resource "random_id" "snapshot_identifier" {{
  count = var.create && !var.skip_final_snapshot ? 1 : 0

  keepers = {{
    id = var.identifier
  }}
  byte_length = 4
}}

data "aws_partition" "current" {{}}

data "aws_iam_policy_document" "enhanced_monitoring" {{
  statement {{
    actions = ["sts:AssumeRole"]

    principals {{
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }}
  }}
}}

resource "aws_iam_role" "enhanced_monitoring" {{
  count = var.create_monitoring_role ? 1 : 0

  name               = "${{var.identifier}}-monitoring"
  assume_role_policy = data.aws_iam_policy_document.enhanced_monitoring.json

  tags = merge({{ "Name" = format("%s", var.identifier) }}, var.tags)
}}

resource "aws_iam_role_policy_attachment" "enhanced_monitoring" {{
  count = var.create_monitoring_role ? 1 : 0

  role       = aws_iam_role.enhanced_monitoring[0].name
  policy_arn = "arn:${{data.aws_partition.current.partition}}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}}

resource "aws_db_instance" "this" {{
  count = var.create ? 1 : 0

  identifier                = var.identifier
  final_snapshot_identifier = local.final_snapshot_identifier
  monitoring_role_arn       = var.monitoring_interval > 0 ? local.monitoring_role_arn : null

{attrs}
  tags = merge(var.tags, {{ "Name" = format("%s", var.identifier) }})

  dynamic "timeouts" {{
    for_each = length(var.timeouts) > 0 ? [var.timeouts] : []

    content {{
      create = try(timeouts.value.create, null)
      delete = try(timeouts.value.delete, null)
      update = try(timeouts.value.update, null)
    }}
  }}

  lifecycle {{
    ignore_changes = [latest_restorable_time]
  }}
}}
"""


def module_call(rng, call, k, engine):
    """One `module` block of an example: the root module with good or bad DR settings."""
    port = 5432 if engine == "postgres" else 3306
    lines = [f'  identifier = "${{local.name}}-{call.replace("_", "-")}"', ""]
    if call == "db_disabled":
        lines += ["  create_db_instance = false", ""]
    if call == "db_replica":
        lines += ["  providers = {", "    aws = aws.region2", "  }", "",
                  "  replicate_source_db = module.db.db_instance_arn", ""]
    version = rng.choice(["14.10", "15.4", "16.1"]) if engine == "postgres" else "8.0.35"
    lines += [
        f'  engine                = "{engine}"',
        f'  engine_version        = "{version}"',
        f'  family                = "{engine}{version.split(".")[0]}"',
        f'  instance_class        = "{rng.choice(["db.t4g.large", "db.r6g.large", "db.m6g.xlarge"])}"',
        f"  allocated_storage     = {rng.choice([20, 100])}",
        f"  max_allocated_storage = {rng.choice([100, 500])}",
        "",
        f'  db_name  = "completeDb{k}"',
        f'  username = "complete_{engine}"',
        f"  port     = {port}",
        "",
        "  multi_az               = true",
        "  db_subnet_group_name   = module.vpc.database_subnet_group",
        "  vpc_security_group_ids = [module.security_group.security_group_id]",
        "",
        '  maintenance_window              = "Mon:00:00-Mon:03:00"',
        '  backup_window                   = "03:00-06:00"',
        f'  enabled_cloudwatch_logs_exports = ["{engine}", "upgrade"]',
        "",
    ]
    if rng.random() < 0.5:
        lines += ["  backup_retention_period  = 14", "  skip_final_snapshot      = false",
                  "  deletion_protection      = true", "  delete_automated_backups = false",
                  "  storage_encrypted        = true"]
    elif rng.random() < 0.5:
        lines += ["  backup_retention_period = 1", "  skip_final_snapshot     = true",
                  "  deletion_protection     = false"]
    lines += [
        "",
        "  performance_insights_enabled          = true",
        "  performance_insights_retention_period = 7",
        "  monitoring_interval                   = 60",
        "",
        "  parameters = [",
        "    {",
        '      name  = "autovacuum"',
        "      value = 1",
        "    },",
        "    {",
        '      name  = "client_encoding"',
        '      value = "utf8"',
        "    }",
        "  ]",
        "",
        "  tags = local.tags",
    ]
    return f'module "{call}" {{\n  source = "../../"\n\n' + "\n".join(lines) + "\n}\n"


def example_main(rng, name, engine, calls):
    primary, dr = rng.sample(REGIONS, 2)
    port = 5432 if engine == "postgres" else 3306
    return f"""provider "aws" {{
  region = local.region
}}

provider "aws" {{
  alias  = "region2"
  region = "{dr}"
}}

locals {{
  name   = "{name}"
  region = "{primary}"

  tags = {{
    Name       = local.name
    Example    = local.name
    Repository = "https://github.com/example/terraform-aws-rds"
  }}
}}

################################################################################
# Supporting Resources
################################################################################

module "vpc" {{
  source  = "terraform-aws-modules/vpc/aws"
  version = "~> 5.0"

  name = local.name
  cidr = "10.{rng.randint(0, 250)}.0.0/18"

  azs              = ["${{local.region}}a", "${{local.region}}b", "${{local.region}}c"]
  public_subnets   = [for k in range(3) : cidrsubnet("10.99.0.0/18", 8, k)]
  private_subnets  = [for k in range(3) : cidrsubnet("10.99.0.0/18", 8, k + 3)]
  database_subnets = [for k in range(3) : cidrsubnet("10.99.0.0/18", 8, k + 6)]

  create_database_subnet_group = true

  tags = local.tags
}}

module "security_group" {{
  source  = "terraform-aws-modules/security-group/aws"
  version = "~> 5.0"

  name        = local.name
  description = "Complete {engine} example security group"
  vpc_id      = module.vpc.vpc_id

  ingress_with_cidr_blocks = [
    {{
      from_port   = {port}
      to_port     = {port}
      protocol    = "tcp"
      description = "Database access from within VPC"
      cidr_blocks = module.vpc.vpc_cidr_block
    }},
  ]

  tags = local.tags
}}

################################################################################
# RDS Module
################################################################################

""" + "\n".join(calls)


def write(rng, root):
    """Writes one module repository under `root`; returns how many files it wrote."""
    fill = {
        "encrypted": rng.choice(["true", "false"]),
        "skip": rng.choice(["true", "false"]),
        "retention": rng.choice(["0", "1", "7", "14"]),
        "protect": rng.choice(["true", "false"]),
        "delete_backups": rng.choice(["true", "false"]),
        "expiry": rng.choice(["30", "90", "null"]),
        "versioning": rng.choice(["Enabled", "Suspended"]),
    }
    flag = [("create", "bool", "true", "Whether to create this resource or not")]
    files = {
        "versions.tf": VERSIONS,
        "variables.tf": variables(DB_VARS + ROOT_VARS, fill),
        "main.tf": root_main(),
        "outputs.tf": outputs("module.db_instance.db_instance_{o}")
        + '\noutput "backup_bucket_arn" {\n  description = "The ARN of the bucket for exports"\n'
        "  value       = module.backup_bucket.arn\n}\n",
        "modules/db_instance/main.tf": db_instance_main(),
        "modules/db_instance/variables.tf": variables(
            flag + [("create_monitoring_role", "bool", "false", "Create an IAM role for Enhanced Monitoring")]
            + DB_VARS, fill),
        "modules/db_instance/outputs.tf": outputs("try(aws_db_instance.this[0].{o}, null)"),
        "modules/db_instance/versions.tf": VERSIONS,
        "modules/db_subnet_group/main.tf": SUBNET_GROUP,
        "modules/db_subnet_group/variables.tf": variables(flag + [
            ("name", "string", '""', "The name of the DB subnet group"),
            ("use_name_prefix", "bool", "true", "Whether to use `name` as a prefix of a unique name"),
            ("description", "string", "null", "The description of the DB subnet group"),
            ("subnet_ids", "list(string)", "[]", "A list of VPC subnet IDs"),
            ("tags", "map(string)", "{{}}", "A mapping of tags to assign to the resource"),
        ], fill),
        "modules/db_subnet_group/outputs.tf": 'output "db_subnet_group_id" {\n  description = "The db subnet group name"\n'
        "  value       = try(aws_db_subnet_group.this[0].id, null)\n}\n",
        "modules/db_parameter_group/main.tf": PARAMETER_GROUP,
        "modules/db_parameter_group/variables.tf": variables(flag + [
            ("name", "string", '""', "The name of the DB parameter group"),
            ("family", "string", "null", "The family of the DB parameter group"),
            ("parameters", "list(map(string))", "[]", "A list of DB parameter maps to apply"),
            ("tags", "map(string)", "{{}}", "A mapping of tags to assign to the resource"),
        ], fill),
        "modules/db_parameter_group/outputs.tf": 'output "db_parameter_group_id" {\n  description = "The db parameter group id"\n'
        "  value       = try(aws_db_parameter_group.this[0].id, null)\n}\n",
        "modules/backup_bucket/main.tf": BACKUP_BUCKET,
        "modules/backup_bucket/variables.tf": variables(flag + [
            ("bucket", "string", None, "The name of the bucket"),
            ("expiration_days", "number", "null", "Days after which objects expire; null keeps them"),
            ("versioning", "string", '"Enabled"', "Versioning status: Enabled or Suspended"),
            ("tags", "map(string)", "{{}}", "A mapping of tags to assign to the bucket"),
        ], fill),
        "modules/backup_bucket/outputs.tf": 'output "arn" {\n  description = "The ARN of the bucket"\n'
        "  value       = try(aws_s3_bucket.this[0].arn, null)\n}\n",
    }
    for name in rng.sample(["complete-postgres", "complete-mysql", "replica-postgres", "cross-region", "defaults"], 3):
        engine = "mysql" if "mysql" in name else "postgres"
        picked = ["db"] + rng.sample(["db_default", "db_disabled", "db_replica"], rng.randint(1, 2))
        calls = [module_call(rng, call, k, engine) for k, call in enumerate(picked)]
        files[f"examples/{name}/main.tf"] = example_main(rng, name, engine, calls)
        files[f"examples/{name}/outputs.tf"] = outputs("module.db.db_instance_{o}")
        files[f"examples/{name}/versions.tf"] = VERSIONS
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    return len(files)
