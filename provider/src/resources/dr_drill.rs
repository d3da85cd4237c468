//! `resource "dr_drill"`: restores a backup into a temporary copy, verifies it, measures the
//! real RTO and RPO against the targets, tears everything down, and fails the apply when a
//! target is missed. The engine is the `drkit-drill` crate; this module maps Terraform's
//! configuration and state onto it.
//!
//! A drill is an event: create runs it, read returns the recorded figures (no AWS call),
//! destroy forgets them. Any change of what is drilled, or an `interval` coming due, plans a
//! replacement, so a scheduled `terraform apply` is the drill's cron.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration as StdDuration;

use drkit_drill::{DrillReport, HistoryEntry};
use drlint::model::Duration;
use tf_provider::schema::{AttributeConstraint, AttributeType, NestedBlock, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{map, AttributePath, Diagnostics, Resource};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::aws::SharedClients;
use crate::diagnostics::error;
use crate::state::dr_drill::{
    DecryptBlock, DrillState, EvidenceBlock, HistoryState, MysqlBinlogBlock, MysqlDumpBlock,
    PitrBlock, RdsBlock, Seconds, VerifyBlock, VerifyResultState,
};

// ---------------------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------------------

use crate::schema_helpers::{attr, block};

/// Default number of runs kept in `history`.
const DEFAULT_HISTORY: i64 = 8;

/// An `rds` block names one source: an instance or an Aurora cluster.
fn validate_rds_cluster(diags: &mut Diagnostics, r: &RdsBlock, rp: &AttributePath) {
    match (&r.instance_identifier, &r.cluster_identifier) {
        (Value::Null, Value::Null) => diags.add_error(error(
            "Missing source",
            "An rds drill restores an instance (instance_identifier) or an Aurora cluster (cluster_identifier): set one.",
            // An unset attribute: Terraform quotes the block it belongs in.
            rp.clone().attribute("instance_identifier"),
        )),
        (Value::Value(_), Value::Value(_)) => diags.add_error(error(
            "Two sources",
            "Set instance_identifier or cluster_identifier, not both: a drill restores one source.",
            rp.clone().attribute("cluster_identifier"),
        )),
        _ => {}
    }
    if r.cluster_identifier.is_null() && r.db_cluster_parameter_group_name.is_value() {
        diags.add_error(error(
            "db_cluster_parameter_group_name needs a cluster",
            "db_cluster_parameter_group_name is the parameter group of a restored Aurora cluster: remove it, or restore a cluster (cluster_identifier). An instance's parameter group is parameter_group_name.",
            rp.clone().attribute("db_cluster_parameter_group_name"),
        ));
    }
    if let Some(id) = r.cluster_identifier.as_ref_option() {
        if !crate::shape::is_rds_identifier(id) {
            diags.add_error(error(
                "Invalid cluster_identifier",
                format!("{id:?} is not an RDS identifier: 1–63 letters, digits or hyphens, starting with a letter."),
                rp.clone().attribute("cluster_identifier"),
            ));
        }
        for (attr, set) in [
            ("region", r.region.is_value()),
            (
                "from_replicated_backups",
                r.from_replicated_backups == Value::Value(true),
            ),
        ] {
            if set {
                diags.add_error(error(
                    format!("{attr} does not apply to a cluster"),
                    format!("Aurora restores a cluster to a point in time in its own region only: remove {attr} (an Aurora Global Database secondary is the region-loss copy; the runbook fails over to it)."),
                    rp.clone().attribute(attr),
                ));
            }
        }
    }
}

/// `target { tls_mode }`.
const TLS_MODE_TARGET: &str = "TLS of every connection to the server: the drill's own queries, `pg_restore`/`psql` (`PGSSLMODE`, `PGSSLROOTCERT`), the `mariadb`/`mysql` client, and the environment of `command` checks. libpq's `sslmode` names, for both engines: `disable`; `prefer` (default, as libpq's: TLS when the server offers it, plain text otherwise, the certificate not checked); `require` (TLS or fail, the certificate not checked); `verify-ca` (the certificate chains to `tls_ca_file`, else to the system's CAs); `verify-full` (and it names `host`). Not for `rds` drills: their copy's TLS is `rds { tls_mode }`.";
/// `rds { tls_mode }`.
const TLS_MODE_RDS: &str = "TLS of the checks' connections to the restored copy (queries, `freshness_sql`, `command` checks), with `target`'s credentials: `disable`, `prefer`, `require`, `verify-ca` or `verify-full`, as libpq's `sslmode`. Default `prefer`: every RDS instance offers TLS, so the checks are encrypted and pass `rds.force_ssl = 1` (RDS for PostgreSQL 15+) and `require_secure_transport = ON` (RDS for MySQL 8.4); `verify-full` with AWS's bundle in `tls_ca_file` also proves the server is the copy.";
/// `tls_ca_file` in `target` and `rds`.
const TLS_CA_FILE: &str = "PEM bundle of the CAs `verify-ca` and `verify-full` trust, e.g. AWS's RDS global bundle (`https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem`, downloaded beside the configuration); relative to Terraform's working directory. Read at plan: a missing file, or one without a certificate, is an error. Only with `verify-ca`/`verify-full`. Default: the system's CA certificates.";

/// `tls_mode` and `tls_ca_file` of a `target` or `rds` block: a known mode, and a readable CA
/// bundle used only where certificates are verified.
fn validate_tls(
    diags: &mut Diagnostics,
    mode: &Value<String>,
    ca_file: &Value<String>,
    at: &AttributePath,
) {
    let parsed = match mode.as_ref_option() {
        Some(m) => match m.parse::<drkit_drill::TlsMode>() {
            Ok(mode) => Some(mode),
            Err(e) => {
                diags.add_error(error(
                    "Invalid tls_mode",
                    e,
                    at.clone().attribute("tls_mode"),
                ));
                return;
            }
        },
        None if mode.is_unknown() => return,
        None => Some(drkit_drill::TlsMode::default()),
    };
    let (Some(mode), Some(file)) = (parsed, ca_file.as_ref_option()) else {
        return;
    };
    let path = at.clone().attribute("tls_ca_file");
    if !mode.verifies() {
        diags.add_error(error(
            "tls_ca_file without verification",
            format!("tls_ca_file is trusted only by tls_mode = \"verify-ca\" or \"verify-full\", but tls_mode is \"{mode}\": set tls_mode = \"verify-full\" to check the server's certificate against it, or remove tls_ca_file."),
            path,
        ));
    } else if let Err(e) = drkit_drill::tls::read_ca_file(std::path::Path::new(file)) {
        diags.add_error(error("Invalid tls_ca_file", e, path));
    }
}

/// The `dr_drill` schema.
pub fn schema() -> Schema {
    use AttributeConstraint::{Computed, Optional, OptionalComputed, Required};
    use AttributeType::{Bool, List, Map, Number, Object, Set, String as Str};

    let rds = block(
        "Restore an RDS instance into a temporary instance `drkit-drill-<run>` (tagged \
         `drkit:drill`), wait until it is available, verify, and delete it with no final \
         snapshot.",
        map! {
            "instance_identifier" => attr(Str, Optional, "Source DB instance, in the provider's `region`. Set this or `cluster_identifier`."),
            "cluster_identifier" => attr(Str, Optional, "Source Aurora DB cluster, in the provider's `region`, instead of an instance: restored to the point in time (or its newest cluster snapshot) into a temporary cluster `drkit-drill-<run>` plus one instance `drkit-drill-<run>-1` (class `instance_class`, default the class of the source's first instance), verified through the cluster endpoint (`verify` blocks and `freshness_sql` as for an instance, with `target`), then both deleted with no final snapshot. Aurora restores in the source's region, so `region` and `from_replicated_backups` do not apply."),
            "region" => attr(Str, Optional, "Region to restore in: the DR region proves the region-loss path. Default: the source's region."),
            "restore_time" => attr(Str, Optional, "`latest` (default), `random` (a point inside the retention window), `snapshot` (the newest snapshot) or an RFC 3339 time."),
            "instance_class" => attr(Str, Optional, "Class of the temporary instance. Default: the source's."),
            "from_replicated_backups" => attr(Bool, Optional, "Restore from the automated backups replicated into `region` (cross-region backup replication)."),
            "expect_retention_days" => attr(Number, Optional, "The retention the policy promises (e.g. `dr_policy.x.rds[0].backup_retention_days`): the report notes it when the earliest restorable point is younger."),
            "db_subnet_group_name" => attr(Str, Optional, "DB subnet group the temporary copy is restored into, in the region it is restored in (`region`, else the source's): the VPC a real restore would use. Default: RDS's default (the default VPC). The drill fails when RDS reports the copy elsewhere; `dr_status`'s `restore_target` checks on every plan that it still exists."),
            "vpc_security_group_ids" => attr(Set(Box::new(Str)), Optional, "VPC security group IDs (`sg-...`) of the temporary copy, in the subnet group's VPC. Default: the VPC's default security group."),
            "parameter_group_name" => attr(Str, Optional, "DB parameter group of the temporary instance (of an Aurora copy's instance), in the region it is restored in. Default: the engine's default parameter group."),
            "db_cluster_parameter_group_name" => attr(Str, Optional, "DB cluster parameter group of the temporary Aurora cluster (`cluster_identifier` only). Default: the engine's default."),
            "tls_mode" => attr(Str, Optional, TLS_MODE_RDS),
            "tls_ca_file" => attr(Str, Optional, TLS_CA_FILE),
        },
    );
    let mut dump = block(
        "Restore the newest object under an S3 prefix (`pg_dump -Fc`, plain SQL, gzipped or \
         not, optionally `openssl enc`-encrypted) into a scratch database `drkit_drill_<run>` \
         on `target`, verify, and drop it.",
        map! {
            "s3_uri" => attr(Str, Required, "`s3://bucket/prefix/`: the newest object below it is restored."),
            "region" => attr(Str, Optional, "Region of the bucket. Default: the provider's `region`."),
        },
    );
    dump.blocks = map! { "decrypt" => NestedBlock::Optional(decrypt_schema()) };
    let mut mysql_dump = block(
        "Restore the newest `mysqldump`/`mariadb-dump` SQL file under an S3 prefix (plain or \
         gzip, optionally `openssl enc`-encrypted) into a scratch database `drkit_drill_<run>` \
         on a MySQL or MariaDB `target`, streamed through the `mariadb` client (`mysql` for \
         `engine = \"mysql\"`, each falling back to the other), verify, and drop it. A dump \
         made with `--databases` is pointed at the scratch database (its `CREATE`/`DROP`/\
         `USE` of its own database are rewritten); a dump of several databases is refused. \
         A dump whose header says mysqldump wrote it but which ends without its \
         `-- Dump completed` line is truncated and fails the drill.",
        map! {
            "s3_uri" => attr(Str, Required, "`s3://bucket/prefix/`: the newest object below it is restored; a URI naming an object exactly restores that object."),
            "region" => attr(Str, Optional, "Region of the bucket. Default: the provider's `region`."),
            "dump_time_zone" => attr(Str, Optional, "UTC offset of the dumping host's clock, e.g. `+02:00`: mysqldump writes `-- Dump completed on` in that host's local time, without an offset, and the RPO is measured from it. Default `UTC`. A completion time later than the object's upload is not believed: the drill dates the dump by LastModified and says so."),
        },
    );
    mysql_dump.blocks = map! { "decrypt" => NestedBlock::Optional(decrypt_schema()) };
    let pitr = block(
        "Point-in-time recovery from a `pg_basebackup -Ft -z` base backup and the WAL archive \
         its `archive_command` fills: the newest base backup that ended before the target is \
         extracted into a temporary data directory, a temporary server of its major version \
         (on a free loopback port, private socket directory, as `postgres` when run as root, \
         `archive_mode = off`) replays the archive up to `target_time` and is promoted, \
         verified, stopped and removed. The WAL sequence is checked before anything starts: \
         a gap fails the drill and names the first missing segment.",
        map! {
            "base_backup_uri" => attr(Str, Required, "`s3://bucket/prefix/`: one folder per `pg_basebackup -Ft -z` run (`base.tar.gz`, `pg_wal.tar.gz`, `backup_manifest`)."),
            "wal_archive_uri" => attr(Str, Required, "`s3://bucket/prefix/`: where `archive_command` uploads `%f` (plain, `.gz` or `.zst`), with `.history` and `.backup` files."),
            "target_time" => attr(Str, Optional, "`latest` (default: the end of the archive), `random` (a uniformly random point between the oldest base backup's end and the newest segment; the report names it) or an RFC 3339 time."),
            "region" => attr(Str, Optional, "Region of both buckets. Default: the provider's `region`."),
            "pg_bin_dir" => attr(Str, Optional, "Directory of the `postgres` server binary of the backup's major version. Default: `/usr/lib/postgresql/<PG_VERSION>/bin`."),
            "database" => attr(Str, Optional, "Database of the restored copy that `verify` and `freshness_sql` run in. Default `postgres`."),
            "username" => attr(Str, Optional, "Role of the restored copy the checks connect as (trusted over the private socket; no password). Default `postgres`."),
        },
    );
    let mut mysql_binlog = block(
        "Point-in-time recovery of MySQL/MariaDB from a full dump taken with \
         `--single-transaction --source-data=2` (`--master-data=2` on MariaDB and older MySQL) \
         and the binlog files archived after it: the newest dump uploaded before the target \
         is restored into a temporary MariaDB server (bootstrapped in a temporary directory, \
         free loopback port, as `mysql` when run as root, no binary log of its own), the \
         archived binlogs are replayed from the dump's `CHANGE MASTER TO`/`CHANGE REPLICATION \
         SOURCE TO` coordinates with `mariadb-binlog --start-position --stop-datetime` into \
         it, checked, and the server is removed. The sequence is checked before anything \
         starts: a missing file fails the drill and is named, as is an archive that does not \
         start at the dump's file, a dump without coordinates and a truncated binlog. \
         Checks run in the first database the dump creates (take it with `--databases`).",
        map! {
            "base_dump_uri" => attr(Str, Required, "`s3://bucket/prefix/` of the full dumps (`mysqldump`/`mariadb-dump --single-transaction --source-data=2 --databases ...`, plain or gzip); a URI naming an object exactly uses that dump."),
            "binlog_uri" => attr(Str, Required, "`s3://bucket/prefix/` of the archived binlog files, named as the server names them (`mysql-bin.000042`, any basename), plain or `.gz`, directly under the prefix (as `mysqlbinlog --read-from-remote-server --raw --stop-never` or a copy job writes them)."),
            "target_time" => attr(Str, Optional, "`latest` (default: the end of the archive), `random` (a uniformly random point between the oldest dump's upload and the newest binlog's; the report names it) or an RFC 3339 time. Binlog times have whole seconds: the target's second is replayed."),
            "region" => attr(Str, Optional, "Region of both buckets. Default: the provider's `region`."),
            "bin_dir" => attr(Str, Optional, "Directory of `mariadbd`, `mariadb-install-db` and `mariadb-binlog`. Default: PATH, then `/usr/sbin`, `/usr/bin`."),
        },
    );
    mysql_binlog.blocks = map! { "decrypt" => NestedBlock::Optional(decrypt_schema()) };
    let target = block(
        "The server a dump is restored onto (for `rds`, the credentials to verify the \
         restored instance with). The password is read from `password_env` at apply time \
         and never stored.",
        map! {
            "engine" => attr(Str, Optional, "`postgres`, `mysql` or `mariadb`: the protocol of the checks, the restore tools, and the environment of `command` checks (`PG*`, or `MYSQL_HOST`, `MYSQL_TCP_PORT`, `MYSQL_PWD`, `MYSQL_DATABASE`, `MYSQL_USER`). Default `postgres`, or `mysql` with a `mysql_dump` source. For `rds`, the restored instance's engine decides."),
            "host" => attr(Str, Required, "Host name or address."),
            "port" => attr(Number, Optional, "Port. Default 5432 (PostgreSQL) or 3306 (MySQL, MariaDB)."),
            "database" => attr(Str, Optional, "Database to connect to; the drill creates and drops its own scratch database next to it. Default `postgres`; none for MySQL and MariaDB (an `rds` drill's checks then qualify their tables, e.g. `shop.orders`)."),
            "username" => attr(Str, Required, "User; needs CREATEDB."),
            "password_env" => attr(Str, Optional, "Name of the environment variable holding the password (never the password itself)."),
            "pg_bin_dir" => attr(Str, Optional, "Directory of `pg_restore` and `psql`. Default: PATH, then `/usr/lib/postgresql/<newest>/bin`."),
            "tls_mode" => attr(Str, Optional, TLS_MODE_TARGET),
            "tls_ca_file" => attr(Str, Optional, TLS_CA_FILE),
        },
    );
    let verify = block(
        "A check of the restored copy, either a query (`sql` and `expect`) or an integration \
         test (`command`); the drill fails unless it passes. Checks run in order and stop at \
         the first failure.",
        map! {
            "name" => attr(Str, Required, "Name shown in reports."),
            "sql" => attr(Str, Optional, "SQL to run, e.g. `SELECT count(*) FROM orders` (with `expect`)."),
            "expect" => attr(Str, Optional, "`> 0`, `= 42`, `!= 0`, `>= 1`, `rows >= 1`, `= 'ok'`: compared with the first column of the first row, or with the row count for `rows`."),
            "command" => attr(List(Box::new(Str)), Optional, "An integration test instead of `sql`: program and arguments, e.g. `[\"./smoke.sh\", \"--fast\"]` (no shell; write `[\"sh\", \"-c\", \"...\"]` for one). It runs with `PGHOST`, `PGPORT`, `PGDATABASE`, `PGUSER` and `PGPASSWORD` of the restored copy and passes when it exits 0; the last 20 lines of its output go into the report with the password replaced by `***`."),
            "timeout" => attr(Str, Optional, "Limit of `command`, e.g. `30s`; its whole process group is killed after it. Default `5m`."),
            "working_dir" => attr(Str, Optional, "Working directory of `command`. Default: Terraform's working directory (the root module; write `\"${path.module}\"` for a script beside a child module)."),
        },
    );
    let evidence = block(
        "Tamper-evident evidence of every run, passed or failed: one JSON record \
         `<prefix><name>/<run_id>.json` (the drill, policy and targets, the source and exact \
         recovery point, start and end, phases, measured RTO/RPO and whether each was met, \
         every check, what was created and the proof it was torn down, the drkit version, and \
         the SHA-256 of the drill's previous record), signed with `kms:Sign` (`<run_id>.sig`) \
         and written under S3 Object Lock. Checked at plan (the bucket has Object Lock, the \
         key is an enabled asymmetric SIGN_VERIFY key in the bucket's region). A record that \
         cannot be written is a warning and a note in the report, never a lost drill; the next \
         run links to the newest record that exists. `drkit evidence verify` checks them.",
        map! {
            "s3_uri" => attr(Str, Required, "`s3://bucket/prefix/` in a bucket with S3 Object Lock enabled (`aws_s3_bucket.object_lock_enabled = true`); the prefix, if any, ends in `/`."),
            "retain_days" => attr(Number, Required, "Object Lock retention of each record and signature, in days (1–36500), e.g. `2555` (7 years)."),
            "lock_mode" => attr(Str, Required, "`COMPLIANCE` (nobody, the root user included, can delete a record or shorten its retention) or `GOVERNANCE` (users with `s3:BypassGovernanceRetention` can)."),
            "kms_key_id" => attr(Str, Required, "An asymmetric KMS key with KeyUsage `SIGN_VERIFY` (KeySpec `ECC_NIST_P256`, signed `ECDSA_SHA_256`; or `RSA_2048/3072/4096`, signed `RSASSA_PSS_SHA_256`), in the bucket's region: key id, ARN or `alias/NAME`."),
            "name" => attr(Str, Optional, "The drill's folder and hash chain under the prefix. Default: `policy_id`. Give each drill of one policy its own name, so their runs form separate chains."),
        },
    );
    let result_type = Object(map! {
        "name" => Str, "expect" => Str, "value" => Str, "passed" => Bool, "at" => Str
    });
    let history_type = Object(map! {
        "started_at" => Str, "measured_rto_seconds" => Number, "measured_rpo_seconds" => Number, "passed" => Bool
    });
    let mut root = block(
        "A restore drill: proves that a backup restores, measures the real RTO and RPO, \
         tears down what it created (also on failure or interrupt) and fails the apply when a \
         target is missed.",
        map! {
            "id" => attr(Str, Computed, "Run id of the recorded drill."),
            "policy_id" => attr(Str, Required, "The `dr_policy` this drill exercises (`dr_policy.x.id`)."),
            "rpo" => attr(Str, Optional, "RPO target to measure against, e.g. `15m`. Default: the `rpo` of the policy `policy_id` names, read from the `drkit:targets` tag it writes on its resources (the report says where the target came from)."),
            "rto" => attr(Str, Optional, "RTO target to measure against, e.g. `1h`. Default: the policy's `rto`, like `rpo`."),
            "interval" => attr(Str, Optional, "How often to drill, e.g. `90d` (at least `1h`). When the last run is older, plan shows a replacement, so a scheduled apply re-runs it."),
            "triggers" => attr(Map(Box::new(Str)), Optional, "Values whose change re-runs the drill (like `terraform_data`'s `triggers_replace`)."),
            "fail_on_target_miss" => attr(Bool, OptionalComputed, "Fail the apply when a target is missed. Default `true`. The figures are recorded either way."),
            "report_file" => attr(Str, Optional, "Write the JSON report here, and a markdown summary beside it (`.md`). History survives replacement through this file."),
            "webhook_url" => attr(Str, Optional, "POST the outcome here after each run: a Slack incoming-webhook URL (`https://hooks.slack.com/services/...`) or any `https://`/`http://` receiver. Trusts the system store plus `SSL_CERT_FILE`; 10 s per attempt, 4 attempts with backoff on 429/5xx honouring `Retry-After`. A failed post is a warning and a note in the report, never a failed drill."),
            "webhook_format" => attr(Str, Optional, "`slack` (default): a Slack message with `text` and `blocks` (verdict, RTO and RPO against targets, phases, failed checks). `json`: `text` plus the whole `report`, for other receivers."),
            "freshness_sql" => attr(Str, Optional, "Query returning the newest timestamp of the restored data, e.g. `SELECT max(created_at) FROM orders`; its age is the measured RPO."),
            "history_size" => attr(Number, OptionalComputed, "Runs kept in `history`. Default 8."),
            "timeout" => attr(Str, Optional, "Limit for the whole drill (teardown still runs after it). Default `2h`."),
            "started_at" => attr(Str, Computed, "Start of the recorded run (RFC 3339)."),
            "finished_at" => attr(Str, Computed, "End of the recorded run, teardown included."),
            "next_due" => attr(Str, Computed, "When `interval` makes the next run due (empty without `interval`)."),
            "measured_rto_seconds" => attr(Number, Computed, "Restore start to the last verification passing, in seconds."),
            "measured_rpo_seconds" => attr(Number, Computed, "Age of the newest data recovered, in seconds."),
            "rto_met" => attr(Bool, Computed, "Measured RTO within `rto`."),
            "rpo_met" => attr(Bool, Computed, "Measured RPO within `rpo`."),
            "passed" => attr(Bool, Computed, "The restore worked, every check passed, every target was met."),
            "verify_results" => attr(List(Box::new(result_type)), Computed, "Each verification: name, expect, value, passed, at."),
            "history" => attr(List(Box::new(history_type)), Computed, "The last runs, newest first, for trends."),
            "report" => attr(Str, Computed, "The whole report as JSON: phases, figures, checks, teardown, notes."),
            "evidence_uri" => attr(Str, Computed, "`s3://` of the recorded run's evidence record (null without `evidence`, or when it could not be written)."),
            "archive_lag_seconds" => attr(Number, Computed, "postgres_pitr and mysql_binlog: age of the newest archived WAL segment or binlog file when the drill listed the archive, the data a disaster would lose right now (compare with `rpo`). Null for other sources."),
        },
    );
    root.blocks = map! {
        "rds" => NestedBlock::Optional(rds),
        "postgres_dump" => NestedBlock::Optional(dump),
        "postgres_pitr" => NestedBlock::Optional(pitr),
        "mysql_dump" => NestedBlock::Optional(mysql_dump),
        "mysql_binlog" => NestedBlock::Optional(mysql_binlog),
        "target" => NestedBlock::Optional(target),
        "verify" => NestedBlock::List(verify),
        "evidence" => NestedBlock::Optional(evidence)
    };
    Schema {
        version: 0,
        block: root,
    }
}

/// `decrypt { }` inside a dump source.
fn decrypt_schema() -> tf_provider::schema::Block {
    use AttributeConstraint::{Optional, Required};
    use AttributeType::{Bool, Number, String as Str};
    block(
        "The dump is an `openssl enc` file (`pg_dump -Fc | gzip | openssl enc -aes-256-cbc \
         -pbkdf2 -pass env:BACKUP_PASS`). It is decrypted (and gunzipped) while streamed into \
         `pg_restore`/`psql`: no plaintext copy touches the disk. The passphrase is read from \
         `key_env` at apply time and never stored.",
        map! {
            "openssl_cipher" => attr(Str, Required, "The cipher given to `openssl enc`: `aes-256-cbc`, `aes-192-cbc`, `aes-128-cbc`, `aes-256-ctr`, `aes-192-ctr` or `aes-128-ctr`."),
            "key_env" => attr(Str, Required, "Name of the environment variable holding the passphrase (`-k`/`-pass`), e.g. `BACKUP_PASS`; never the passphrase itself."),
            "pbkdf2" => attr(Bool, Optional, "The file was made with `-pbkdf2` (PBKDF2-HMAC). Default `false`: OpenSSL's legacy `EVP_BytesToKey` with one round."),
            "iter" => attr(Number, Optional, "`-iter` of `-pbkdf2`. Default 10000 (OpenSSL's)."),
            "digest" => attr(Str, Optional, "`-md` of the key derivation: `sha256` (default, OpenSSL 1.1 and 3), `md5` (OpenSSL 1.0), `sha1` or `sha512`."),
        },
    )
}

// ---------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------

fn duration(diags: &mut Diagnostics, v: &Value<String>, path: &'static str) -> Option<Duration> {
    let s = v.as_ref_option()?;
    match s.parse::<Duration>() {
        Ok(d) => Some(d),
        Err(e) => {
            diags.add_error(error(
                format!("Invalid {path}"),
                format!("{path} = {s:?}: {e}"),
                AttributePath::new(path),
            ));
            None
        }
    }
}

/// An error unless a set string has some text: `advice` says what to write instead.
fn not_empty(
    diags: &mut Diagnostics,
    v: &Value<String>,
    attr: &str,
    advice: &str,
    path: AttributePath,
) {
    if v.as_ref_option().is_some_and(|s| s.trim().is_empty()) {
        diags.add_error(error(
            format!("Invalid {attr}"),
            format!("{attr} is empty: {advice}"),
            path,
        ));
    }
}

/// An error for a region not shaped like an AWS region.
fn region(diags: &mut Diagnostics, v: &Value<String>, path: AttributePath) {
    if let Some(r) = v.as_ref_option() {
        if !crate::shape::is_region_name(r) {
            diags.add_error(error(
                "Invalid region",
                format!("region = {r:?} is not an AWS region name such as \"us-west-2\"."),
                path,
            ));
        }
    }
}

/// An error for a whole number outside `min..=max` (or a fraction).
fn whole(
    diags: &mut Diagnostics,
    v: &Value<i64>,
    attr: &str,
    min: i64,
    max: i64,
    path: AttributePath,
) {
    if let Some(d) = crate::schema_helpers::not_whole(v, attr, path.clone()) {
        diags.add_error(d);
    } else if let Value::Value(n) = v {
        if !(min..=max).contains(n) {
            diags.add_error(error(
                format!("Invalid {attr}"),
                format!("{attr} = {n}: must be {min}-{max}"),
                path,
            ));
        }
    }
}

/// An error unless `uri` is `s3://bucket/prefix/` with a valid bucket name.
fn s3_uri(diags: &mut Diagnostics, v: &Value<String>, attr: &str, path: AttributePath) {
    let Some(uri) = v.as_ref_option() else {
        return;
    };
    let bucket = uri
        .strip_prefix("s3://")
        .map(|rest| rest.split('/').next().unwrap_or(""));
    if !bucket.is_some_and(crate::shape::is_bucket_name) {
        let detail = match bucket {
            Some(b) if !b.is_empty() => format!(
                "{attr} = {uri:?}: {b:?} is not an S3 bucket name (3–63 lowercase letters, digits, '.' or '-'); write s3://bucket/prefix/"
            ),
            _ => format!("{attr} = {uri:?}: write s3://bucket/prefix/"),
        };
        diags.add_error(error(format!("Invalid {attr}"), detail, path));
    }
}

/// `latest`, `random` or an RFC 3339 time.
fn target_time(diags: &mut Diagnostics, v: &Value<String>, path: AttributePath) {
    if let Some(t) = v.as_ref_option() {
        if !matches!(t.as_str(), "latest" | "random") && OffsetDateTime::parse(t, &Rfc3339).is_err()
        {
            diags.add_error(error(
                "Invalid target_time",
                format!("target_time = {t:?}: use \"latest\", \"random\" or an RFC 3339 time such as \"2026-11-01T03:00:00Z\"."),
                path,
            ));
        }
    }
}

/// `mysql_binlog { }`: its URIs, target time, region, decrypt block; it needs no target.
fn validate_mysql_binlog(diags: &mut Diagnostics, b: &MysqlBinlogBlock, c: &DrillState) {
    let bp = || AttributePath::new("mysql_binlog").index(0);
    s3_uri(
        diags,
        &b.base_dump_uri,
        "base_dump_uri",
        bp().attribute("base_dump_uri"),
    );
    s3_uri(
        diags,
        &b.binlog_uri,
        "binlog_uri",
        bp().attribute("binlog_uri"),
    );
    region(diags, &b.region, bp().attribute("region"));
    target_time(diags, &b.target_time, bp().attribute("target_time"));
    not_empty(
        diags,
        &b.bin_dir,
        "bin_dir",
        "name the directory of mariadbd, mariadb-install-db and mariadb-binlog, or remove it to search PATH.",
        bp().attribute("bin_dir"),
    );
    if let Value::Value(decrypt) = &b.decrypt {
        validate_decrypt(diags, decrypt, bp().attribute("decrypt").index(0));
    }
    if !c.target.is_null() && !c.target.is_unknown() {
        diags.add_error(error(
            "Target not used",
            "A mysql_binlog drill restores onto a temporary MariaDB server it starts and removes itself: remove the target block.",
            AttributePath::new("target"),
        ));
    }
}

fn validate_pitr(diags: &mut Diagnostics, p: &PitrBlock) {
    let pp = || AttributePath::new("postgres_pitr").index(0);
    s3_uri(
        diags,
        &p.base_backup_uri,
        "base_backup_uri",
        pp().attribute("base_backup_uri"),
    );
    s3_uri(
        diags,
        &p.wal_archive_uri,
        "wal_archive_uri",
        pp().attribute("wal_archive_uri"),
    );
    region(diags, &p.region, pp().attribute("region"));
    target_time(diags, &p.target_time, pp().attribute("target_time"));
    for (v, attr, advice) in [
        (&p.pg_bin_dir, "pg_bin_dir", "name the directory of the `postgres` binary of the backup's major version, or remove it for /usr/lib/postgresql/<PG_VERSION>/bin."),
        (&p.database, "database", "name the database of the restored copy the checks run in, or remove it for `postgres`."),
        (&p.username, "username", "name a role of the restored copy, or remove it for `postgres`."),
    ] {
        not_empty(diags, v, attr, advice, pp().attribute(attr));
    }
}

/// Checks shapes and values; unknown values are skipped (checked again at apply).
pub fn validate(diags: &mut Diagnostics, c: &DrillState) {
    not_empty(
        diags,
        &c.policy_id,
        "policy_id",
        "pass the policy this drill exercises, e.g. dr_policy.orders.id.",
        AttributePath::new("policy_id"),
    );
    duration(diags, &c.rpo, "rpo");
    duration(diags, &c.rto, "rto");
    if let Some(d) = duration(diags, &c.timeout, "timeout") {
        if d.as_secs() == 0 {
            diags.add_error(error(
                "Invalid timeout",
                "timeout = \"0\" would stop the drill before it restores anything: use a duration such as \"2h\", or remove it for the default.",
                AttributePath::new("timeout"),
            ));
        }
    }
    not_empty(
        diags,
        &c.report_file,
        "report_file",
        "name a file such as \"drill-reports/orders.json\", or remove it.",
        AttributePath::new("report_file"),
    );
    not_empty(
        diags,
        &c.freshness_sql,
        "freshness_sql",
        "write a query returning the newest timestamp, e.g. SELECT max(created_at) FROM orders, or remove it to date the data by the backup.",
        AttributePath::new("freshness_sql"),
    );
    whole(
        diags,
        &c.history_size,
        "history_size",
        1,
        100,
        AttributePath::new("history_size"),
    );
    if let Some(d) = duration(diags, &c.interval, "interval") {
        if d.as_secs() < 3600 {
            diags.add_error(error(
                "Interval too short",
                format!("interval = {d}: drills restore real data; run them at most hourly (interval >= 1h)."),
                AttributePath::new("interval"),
            ));
        }
    }
    let sources = [
        !c.rds.is_null(),
        !c.postgres_dump.is_null(),
        !c.postgres_pitr.is_null(),
        !c.mysql_dump.is_null(),
        !c.mysql_binlog.is_null(),
    ];
    let unknown = c.rds.is_unknown()
        || c.postgres_dump.is_unknown()
        || c.postgres_pitr.is_unknown()
        || c.mysql_dump.is_unknown()
        || c.mysql_binlog.is_unknown();
    if !unknown && sources.iter().filter(|s| **s).count() != 1 {
        diags.add_error(error(
            "One source block required",
            "Write exactly one of `rds { }`, `postgres_dump { }`, `postgres_pitr { }`, `mysql_dump { }` or `mysql_binlog { }`: what the drill restores.",
            AttributePath::root(),
        ));
    }
    if let Value::Value(d) = &c.mysql_dump {
        validate_mysql_dump(diags, d, c);
    }
    if let Value::Value(p) = &c.postgres_pitr {
        validate_pitr(diags, p);
    }
    if let Value::Value(b) = &c.mysql_binlog {
        validate_mysql_binlog(diags, b, c);
    }
    if let Value::Value(d) = &c.postgres_dump {
        if let Some(uri) = d.s3_uri.as_ref_option() {
            let bucket = uri
                .strip_prefix("s3://")
                .map(|rest| rest.split('/').next().unwrap_or(""));
            if !bucket.is_some_and(crate::shape::is_bucket_name) {
                let detail = match bucket {
                    Some(b) if !b.is_empty() => format!(
                        "s3_uri = {uri:?}: {b:?} is not an S3 bucket name (3–63 lowercase letters, digits, '.' or '-'); write s3://bucket/prefix/"
                    ),
                    _ => format!("s3_uri = {uri:?}: write s3://bucket/prefix/"),
                };
                diags.add_error(error(
                    "Invalid s3_uri",
                    detail,
                    AttributePath::new("postgres_dump")
                        .index(0)
                        .attribute("s3_uri"),
                ));
            }
        }
        region(
            diags,
            &d.region,
            AttributePath::new("postgres_dump")
                .index(0)
                .attribute("region"),
        );
        if let Value::Value(decrypt) = &d.decrypt {
            validate_decrypt(
                diags,
                decrypt,
                AttributePath::new("postgres_dump")
                    .index(0)
                    .attribute("decrypt")
                    .index(0),
            );
        }
        if c.target.is_null() {
            diags.add_error(error(
                "Missing target",
                "A postgres_dump drill restores onto a PostgreSQL server: add a `target { host, username, password_env }` block.",
                AttributePath::new("target"),
            ));
        }
    }
    if let Value::Value(r) = &c.rds {
        let rp = AttributePath::new("rds").index(0);
        validate_rds_cluster(diags, r, &rp);
        if let Some(id) = r.instance_identifier.as_ref_option() {
            if !crate::shape::is_rds_identifier(id) {
                diags.add_error(error(
                    "Invalid instance_identifier",
                    format!("{id:?} is not an RDS identifier: 1–63 letters, digits or hyphens, starting with a letter."),
                    rp.clone().attribute("instance_identifier"),
                ));
            }
        }
        region(diags, &r.region, rp.clone().attribute("region"));
        r.placement().validate(diags, &rp);
        validate_tls(diags, &r.tls_mode, &r.tls_ca_file, &rp);
        if let Some(class) = r.instance_class.as_ref_option() {
            if !crate::shape::is_instance_class(class) {
                diags.add_error(error(
                    "Invalid instance_class",
                    format!("{class:?} is not an RDS instance class: write it like \"db.t3.medium\" (with the \"db.\" prefix), or remove it to use the source's class."),
                    rp.clone().attribute("instance_class"),
                ));
            }
        }
        if r.from_replicated_backups == Value::Value(true) && r.region.is_null() {
            diags.add_error(error(
                "Replicated backups need a region",
                "from_replicated_backups restores from the automated backups replicated into another region: set region to that region (the policy's cross_region_backups region).",
                rp.clone().attribute("from_replicated_backups"),
            ));
        }
        whole(
            diags,
            &r.expect_retention_days,
            "expect_retention_days",
            1,
            35,
            rp.clone().attribute("expect_retention_days"),
        );
        if let Some(t) = r.restore_time.as_ref_option() {
            if !matches!(t.as_str(), "latest" | "random" | "snapshot")
                && OffsetDateTime::parse(t, &Rfc3339).is_err()
            {
                diags.add_error(error(
                    "Invalid restore_time",
                    format!("restore_time = {t:?}: use \"latest\", \"random\", \"snapshot\" or an RFC 3339 time such as \"2026-11-01T03:00:00Z\"."),
                    AttributePath::new("rds").index(0).attribute("restore_time"),
                ));
            }
        }
    }
    if let Value::Value(t) = &c.target {
        let tp = AttributePath::new("target").index(0);
        if let Some(e) = t.engine.as_ref_option() {
            match e.parse::<drkit_drill::Engine>() {
                Err(err) => diags.add_error(error(
                    "Invalid engine",
                    err,
                    tp.clone().attribute("engine"),
                )),
                Ok(engine) if engine.is_mysql() && !c.postgres_dump.is_null() => {
                    diags.add_error(error(
                        "Engine does not match the source",
                        format!("engine = {e:?}, but postgres_dump restores onto a PostgreSQL server: remove engine, or use mysql_dump for a MySQL dump."),
                        tp.clone().attribute("engine"),
                    ))
                }
                Ok(engine) if engine.is_mysql() && !t.pg_bin_dir.is_null() => {
                    diags.add_error(error(
                        "pg_bin_dir on a MySQL target",
                        "pg_bin_dir is the directory of pg_restore and psql: remove it (MySQL drills find the mariadb or mysql client on PATH).",
                        tp.clone().attribute("pg_bin_dir"),
                    ))
                }
                Ok(_) => {}
            }
        }
        not_empty(
            diags,
            &t.host,
            "host",
            "name the PostgreSQL server to restore onto.",
            tp.clone().attribute("host"),
        );
        not_empty(
            diags,
            &t.username,
            "username",
            "name a user with CREATEDB on the target.",
            tp.clone().attribute("username"),
        );
        not_empty(
            diags,
            &t.database,
            "database",
            "name the database to connect to, or remove it for `postgres`.",
            tp.clone().attribute("database"),
        );
        not_empty(
            diags,
            &t.pg_bin_dir,
            "pg_bin_dir",
            "name the directory of pg_restore and psql, or remove it to search PATH.",
            tp.clone().attribute("pg_bin_dir"),
        );
        env_name(
            diags,
            &t.password_env,
            "password_env",
            "DRILL_PG_PASSWORD",
            "password",
            tp.clone().attribute("password_env"),
        );
        whole(
            diags,
            &t.port,
            "port",
            1,
            65535,
            tp.clone().attribute("port"),
        );
        if c.rds.is_null() {
            validate_tls(diags, &t.tls_mode, &t.tls_ca_file, &tp);
        } else {
            for (attr, v) in [("tls_mode", &t.tls_mode), ("tls_ca_file", &t.tls_ca_file)] {
                if !v.is_null() {
                    diags.add_error(error(
                        format!("{attr} belongs in the rds block"),
                        format!("In an rds drill the target block gives only the credentials; the checks connect to the restored copy, whose TLS is set in the rds block: move {attr} into rds {{ }}."),
                        tp.clone().attribute(attr),
                    ));
                }
            }
        }
    }
    if let Value::Value(list) = &c.verify {
        let mut names = HashMap::new();
        for (i, v) in list.iter().enumerate() {
            if let Value::Value(v) = v {
                let vp = AttributePath::new("verify").index(i as i64);
                if let Some(name) = v.name.as_ref_option() {
                    if name.trim().is_empty() {
                        diags.add_error(error(
                            "Invalid verify name",
                            "name is empty: say what the check proves, e.g. \"orders restored\"; reports and verify_results show it.",
                            vp.clone().attribute("name"),
                        ));
                    } else if let Some(first) = names.insert(name.clone(), i) {
                        diags.add_error(error(
                            "Check named twice",
                            format!("{name:?} is already the name of verify[{first}]: give each check its own name, so reports and verify_results tell them apart."),
                            vp.clone().attribute("name"),
                        ));
                    }
                }
                not_empty(
                    diags,
                    &v.sql,
                    "sql",
                    "write the query to run against the restored copy, e.g. SELECT count(*) FROM orders.",
                    vp.clone().attribute("sql"),
                );
                validate_check(diags, v, vp.clone());
                if let Some(e) = v.expect.as_ref_option() {
                    if let Err(err) = e.parse::<drkit_drill::Expect>() {
                        diags.add_error(error(
                            "Invalid expect",
                            err.to_string(),
                            AttributePath::new("verify")
                                .index(i as i64)
                                .attribute("expect"),
                        ));
                    }
                }
            }
        }
    }
    if let Value::Value(e) = &c.evidence {
        validate_evidence(diags, e);
    }
    if let Some(url) = c.webhook_url.as_ref_option() {
        if !crate::shape::is_http_url(url) {
            diags.add_error(error(
                "Invalid webhook_url",
                format!("webhook_url = {url:?}: write an https:// (or http://) URL with a host, such as a Slack incoming webhook \"https://hooks.slack.com/services/T000/B000/XXXX\""),
                AttributePath::new("webhook_url"),
            ));
        }
    }
    if let Some(f) = c.webhook_format.as_ref_option() {
        if let Err(e) = f.parse::<drkit_drill::WebhookFormat>() {
            diags.add_error(error(
                "Invalid webhook_format",
                e,
                AttributePath::new("webhook_format"),
            ));
        }
    }
}

/// `evidence { }`: shapes only; the bucket and key are checked against AWS at plan.
fn validate_evidence(diags: &mut Diagnostics, e: &EvidenceBlock) {
    let ep = || AttributePath::new("evidence").index(0);
    s3_uri(diags, &e.s3_uri, "s3_uri", ep().attribute("s3_uri"));
    if let Some(uri) = e.s3_uri.as_ref_option() {
        if let Err(err) = drkit_drill::evidence::Location::parse(uri) {
            if uri.starts_with("s3://") && uri.trim_start_matches("s3://").contains('/') {
                diags.add_error(error("Invalid s3_uri", err, ep().attribute("s3_uri")));
            }
        }
    }
    whole(
        diags,
        &e.retain_days,
        "retain_days",
        1,
        i64::from(drkit_drill::evidence::MAX_RETAIN_DAYS),
        ep().attribute("retain_days"),
    );
    if let Some(mode) = e.lock_mode.as_ref_option() {
        if let Err(err) = mode.parse::<drkit_drill::evidence::LockMode>() {
            diags.add_error(error("Invalid lock_mode", err, ep().attribute("lock_mode")));
        }
    }
    if let Some(key) = e.kms_key_id.as_ref_option() {
        let arn_not_kms = key.starts_with("arn:") && key.split(':').nth(2) != Some("kms");
        if key.trim().is_empty() || arn_not_kms {
            diags.add_error(error(
                "Invalid kms_key_id",
                format!("kms_key_id = {key:?}: name an asymmetric SIGN_VERIFY KMS key by id, ARN (arn:aws:kms:REGION:ACCOUNT:key/ID) or alias/NAME."),
                ep().attribute("kms_key_id"),
            ));
        }
    }
    if let Some(name) = e.name.as_ref_option() {
        let bad = name.trim().is_empty() || name.contains('/') || name == "." || name == "..";
        if bad {
            diags.add_error(error(
                "Invalid name",
                format!("name = {name:?}: the drill's folder under the prefix, one path segment without \"/\", e.g. \"orders-restore\"; or remove it for policy_id."),
                ep().attribute("name"),
            ));
        }
    }
}

/// An error unless a set string names an environment variable.
fn env_name(
    diags: &mut Diagnostics,
    v: &Value<String>,
    attr: &str,
    example: &str,
    what: &str,
    path: AttributePath,
) {
    if let Some(env) = v.as_ref_option() {
        let looks_like_name = !env.is_empty()
            && env
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_');
        if !looks_like_name {
            diags.add_error(error(
                format!("Invalid {attr}"),
                format!("{attr} names an environment variable (letters, digits, underscores), e.g. {example}; never put the {what} itself in configuration."),
                path,
            ));
        }
    }
}

/// `mysql_dump { }`: its URI, region, time zone and decrypt block, and a MySQL target.
fn validate_mysql_dump(diags: &mut Diagnostics, d: &MysqlDumpBlock, c: &DrillState) {
    let mp = || AttributePath::new("mysql_dump").index(0);
    s3_uri(diags, &d.s3_uri, "s3_uri", mp().attribute("s3_uri"));
    region(diags, &d.region, mp().attribute("region"));
    if let Some(z) = d.dump_time_zone.as_ref_option() {
        if let Err(e) = drkit_drill::parse_utc_offset(z) {
            diags.add_error(error(
                "Invalid dump_time_zone",
                e,
                mp().attribute("dump_time_zone"),
            ));
        }
    }
    if let Value::Value(decrypt) = &d.decrypt {
        validate_decrypt(diags, decrypt, mp().attribute("decrypt").index(0));
    }
    match &c.target {
        Value::Null => diags.add_error(error(
            "Missing target",
            "A mysql_dump drill restores onto a MySQL or MariaDB server: add a `target { engine, host, username, password_env }` block.",
            AttributePath::new("target"),
        )),
        Value::Value(t) if t.engine.as_ref_option().map(String::as_str) == Some("postgres") => {
            diags.add_error(error(
                "Engine does not match the source",
                "engine = \"postgres\", but mysql_dump restores onto a MySQL or MariaDB server: set engine = \"mysql\" or \"mariadb\".",
                AttributePath::new("target").index(0).attribute("engine"),
            ))
        }
        _ => {}
    }
}

/// `postgres_dump { decrypt { } }`.
fn validate_decrypt(diags: &mut Diagnostics, d: &DecryptBlock, path: AttributePath) {
    if let Some(c) = d.openssl_cipher.as_ref_option() {
        if let Err(e) = c.parse::<drkit_drill::decrypt::Cipher>() {
            diags.add_error(error(
                "Unsupported openssl_cipher",
                e,
                path.clone().attribute("openssl_cipher"),
            ));
        }
    }
    if let Some(m) = d.digest.as_ref_option() {
        if let Err(e) = m.parse::<drkit_drill::decrypt::KeyDigest>() {
            diags.add_error(error(
                "Unsupported digest",
                e,
                path.clone().attribute("digest"),
            ));
        }
    }
    env_name(
        diags,
        &d.key_env,
        "key_env",
        "BACKUP_PASS",
        "passphrase",
        path.clone().attribute("key_env"),
    );
    whole(
        diags,
        &d.iter,
        "iter",
        1,
        10_000_000,
        path.clone().attribute("iter"),
    );
    if !d.iter.is_null()
        && !d.iter.is_unknown()
        && d.pbkdf2 != Value::Value(true)
        && !d.pbkdf2.is_unknown()
    {
        diags.add_error(error(
            "iter without pbkdf2",
            "iter is the -iter of `openssl enc -pbkdf2`: set pbkdf2 = true, or remove iter (EVP_BytesToKey uses one round).",
            path.attribute("iter"),
        ));
    }
}

/// `verify { }`: a query (`sql` and `expect`) or a `command`, not both.
fn validate_check(diags: &mut Diagnostics, v: &VerifyBlock, vp: AttributePath) {
    let has_command = !v.command.is_null();
    let has_sql = !v.sql.is_null();
    if has_command && (has_sql || !v.expect.is_null()) {
        diags.add_error(error(
            "Both a query and a command",
            "A verify block runs either a query (`sql` and `expect`) or an integration test (`command`): split it into two verify blocks.",
            vp.clone().attribute("command"),
        ));
    } else if !has_command {
        if !has_sql {
            diags.add_error(error(
                "Nothing to verify",
                "Write `sql` and `expect` (a query and what it must return), or `command` (an integration test that must exit 0).",
                vp.clone().attribute("sql"),
            ));
        } else if v.expect.is_null() {
            diags.add_error(error(
                "Missing expect",
                "A query check needs `expect`, e.g. \"> 0\", \"= 2500\" or \"rows >= 1\".",
                vp.clone().attribute("expect"),
            ));
        }
    }
    if let Value::Value(argv) = &v.command {
        let empty_program = argv
            .first()
            .is_none_or(|p| p.as_ref_option().is_some_and(|p| p.trim().is_empty()));
        if empty_program {
            diags.add_error(error(
                "Invalid command",
                "command is a list: the program, then its arguments, e.g. [\"./smoke.sh\", \"--fast\"].",
                vp.clone().attribute("command"),
            ));
        }
    }
    for (attr, value) in [("timeout", &v.timeout), ("working_dir", &v.working_dir)] {
        if !value.is_null() && !has_command {
            diags.add_error(error(
                format!("{attr} without command"),
                format!("{attr} applies to `command` checks only: remove it, or add command."),
                vp.clone().attribute(attr),
            ));
        }
    }
    not_empty(
        diags,
        &v.working_dir,
        "working_dir",
        "name a directory, or remove it for Terraform's working directory.",
        vp.clone().attribute("working_dir"),
    );
    if let Some(t) = v.timeout.as_ref_option() {
        match t.parse::<Duration>() {
            Ok(d) if d.as_secs() > 0 => {}
            Ok(_) => diags.add_error(error(
                "Invalid timeout",
                "timeout = \"0\" would kill the command at once: use a duration such as \"30s\", or remove it for 5m.",
                vp.attribute("timeout"),
            )),
            Err(e) => diags.add_error(error(
                "Invalid timeout",
                format!("timeout = {t:?}: {e}"),
                vp.attribute("timeout"),
            )),
        }
    }
}

// ---------------------------------------------------------------------------------------
// The resource
// ---------------------------------------------------------------------------------------

/// `resource "dr_drill"`.
#[derive(Debug, Clone)]
pub struct DrDrill {
    clients: SharedClients,
}

impl DrDrill {
    /// A drill resource over the provider's shared clients.
    pub fn new(clients: SharedClients) -> Self {
        DrDrill { clients }
    }
}

/// Why a drill with no target at all is a warning.
const NO_TARGET: &str = "Neither this drill nor its policy sets an RPO or RTO, so the measured figures are compared with nothing and the drill cannot miss a target: set rpo and rto (e.g. rpo = dr_policy.orders.rpo), or name in policy_id a dr_policy whose resources carry its drkit:targets tag.";

/// Warns at plan time when neither the drill nor its policy has a target.
async fn warn_without_targets(clients: &SharedClients, diags: &mut Diagnostics, s: &DrillState) {
    let untargeted = s.rpo.is_null() && s.rto.is_null();
    // An unknown policy_id is a policy created in this apply: its tags are there by apply.
    if !untargeted || !s.policy_id.is_value() {
        return;
    }
    let Some(clients) = clients.get() else { return };
    if crate::drill_targets::lookup(clients, s).await.is_none() {
        diags.add_warning(error(
            "Drill without a target",
            NO_TARGET,
            AttributePath::new("rpo"),
        ));
    }
}

/// Arguments whose change plans a replacement (a new drill); the others update in place.
const REPLACING: &[&str] = &[
    "policy_id",
    "rpo",
    "rto",
    "triggers",
    "freshness_sql",
    "timeout",
    "rds",
    "postgres_dump",
    "postgres_pitr",
    "mysql_dump",
    "mysql_binlog",
    "target",
    "verify",
];

fn computed_unknown(s: &mut DrillState) {
    s.id = Value::Unknown;
    s.started_at = Value::Unknown;
    s.finished_at = Value::Unknown;
    s.next_due = Value::Unknown;
    s.measured_rto_seconds = Value::Unknown;
    s.measured_rpo_seconds = Value::Unknown;
    s.rto_met = Value::Unknown;
    s.rpo_met = Value::Unknown;
    s.passed = Value::Unknown;
    s.verify_results = Value::Unknown;
    s.history = Value::Unknown;
    s.report = Value::Unknown;
    s.archive_lag_seconds = Value::Unknown;
    s.evidence_uri = Value::Unknown;
}

fn defaults(s: &mut DrillState) {
    if s.fail_on_target_miss.is_null() {
        s.fail_on_target_miss = Value::Value(true);
    }
    if s.history_size.is_null() {
        s.history_size = Value::Value(DEFAULT_HISTORY);
    }
}

/// Whether `interval` has elapsed since the recorded run.
fn due(state: &DrillState, now: OffsetDateTime) -> bool {
    let Some(next) = state.next_due.as_ref_option() else {
        return false;
    };
    OffsetDateTime::parse(next, &Rfc3339).is_ok_and(|n| now >= n)
}

#[async_trait::async_trait]
impl Resource for DrDrill {
    type State<'a> = DrillState;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(schema())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        validate(diags, &config);
        Some(())
    }

    async fn plan_create<'a>(
        &self,
        diags: &mut Diagnostics,
        proposed: Self::State<'a>,
        _config: Self::State<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let mut planned = proposed;
        defaults(&mut planned);
        warn_without_targets(&self.clients, diags, &planned).await;
        crate::drill_evidence::check(&self.clients, diags, &planned).await;
        computed_unknown(&mut planned);
        Some((planned, ValueEmpty::Null))
    }

    async fn plan_update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Self::State<'a>,
        proposed: Self::State<'a>,
        _config: Self::State<'a>,
        _private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>, Vec<AttributePath>)> {
        let mut planned = proposed;
        defaults(&mut planned);
        let mut replace: Vec<AttributePath> = Vec::new();
        let as_json = |s: &DrillState| serde_json::to_value(s).unwrap_or_default();
        let (old, new) = (as_json(&prior), as_json(&planned));
        for key in REPLACING {
            if old.get(key) != new.get(key) {
                replace.push(AttributePath::new(*key));
            }
        }
        if due(&prior, OffsetDateTime::now_utc()) {
            // Like time_rotating: the recorded run is too old, so a new one is planned.
            replace.push(AttributePath::new("next_due"));
        }
        if replace.is_empty() {
            // Nothing to re-run: keep the recorded figures; only report_file, webhook_url,
            // fail_on_target_miss, interval or history_size change in place.
            let mut kept = prior.clone();
            kept.interval = planned.interval.clone();
            kept.report_file = planned.report_file.clone();
            kept.webhook_url = planned.webhook_url.clone();
            kept.webhook_format = planned.webhook_format.clone();
            kept.fail_on_target_miss = planned.fail_on_target_miss;
            kept.history_size = planned.history_size;
            kept.evidence = planned.evidence.clone();
            kept.next_due = next_due(&kept.started_at, &kept.interval);
            return Some((kept, ValueEmpty::Null, vec![]));
        }
        warn_without_targets(&self.clients, diags, &planned).await;
        crate::drill_evidence::check(&self.clients, diags, &planned).await;
        computed_unknown(&mut planned);
        Some((planned, ValueEmpty::Null, replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: Self::State<'a>,
        _private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<Self::PrivateState<'a>> {
        Some(ValueEmpty::Null)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: Self::State<'a>,
        _config: Self::State<'a>,
        _private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let clients = crate::aws::clients(&self.clients, diags)?;
        validate(diags, &planned);
        if !diags.errors.is_empty() {
            return None;
        }
        let mut spec = crate::drill::spec(diags, clients, &planned)?;
        // Without rpo/rto the drill measures against its policy's targets.
        let mut targets_from = None;
        if planned.rpo.is_null() || planned.rto.is_null() {
            if let Some(found) = crate::drill_targets::lookup(clients, &planned).await {
                spec.targets.rpo = spec.targets.rpo.or(found.rpo);
                spec.targets.rto = spec.targets.rto.or(found.rto);
                targets_from = Some(found.from);
            }
        }
        let drill_clients = crate::drill::DrillClients::load(clients, &spec).await;
        let regions = crate::drill::regions(&spec);
        let swept =
            drkit_drill::sweep_leftovers(&drill_clients, &regions, spec.target.as_ref()).await;
        for s in &swept {
            tracing::warn!("removed a leftover of an interrupted drill: {s}");
        }
        let cancel = tf_provider::stop_token();
        let (mut report, failure) = match drkit_drill::run(&spec, &drill_clients, &cancel).await {
            Ok(r) => (r, None),
            Err(f) => (f.report, Some(f.error)),
        };
        report.targets_from = targets_from;
        if spec.targets.rpo.is_none() && spec.targets.rto.is_none() {
            report.notes.push(NO_TARGET.into());
            diags.add_warning(error(
                "Drill without a target",
                NO_TARGET,
                AttributePath::new("rpo"),
            ));
        }
        if !swept.is_empty() {
            report.notes.push(format!(
                "removed leftovers of an interrupted drill: {}",
                swept.join(", ")
            ));
        }
        let history_size = planned
            .history_size
            .as_ref_option()
            .copied()
            .unwrap_or(DEFAULT_HISTORY)
            .max(0) as usize;
        let report_file = planned.report_file.as_ref_option().map(PathBuf::from);
        // The outcome on the policy's resources, for dr_status's drill_current. An
        // interrupted drill has no outcome to record (and Terraform is waiting to exit).
        if let Some(policy) = planned
            .policy_id
            .as_ref_option()
            .filter(|_| !cancel.is_cancelled())
        {
            let evidence = crate::drill_evidence::config(&planned).map(|c| c.s3_uri);
            let recorded =
                crate::drill_record::record(clients, policy, &report, evidence.as_deref()).await;
            let problems = recorded.problems;
            if recorded.tagged == 0 && problems.is_empty() {
                report.notes.push(format!(
                    "outcome not recorded: no resource carries drkit:policy = {policy:?} (apply the dr_policy), so dr_status's drill_current cannot see this run"
                ));
            }
            if !problems.is_empty() {
                let text = format!(
                    "dr_status's last_drill_at and drill_current will not see this run on: {}",
                    problems.join("; ")
                );
                report.notes.push(format!(
                    "outcome not recorded on the policy's resources: {text}"
                ));
                diags.add_warning(error(
                    "Drill outcome not recorded on the policy's resources",
                    text,
                    AttributePath::new("policy_id"),
                ));
            }
        }
        report.history = crate::drill::history(report_file.as_deref(), &report, history_size);
        // Evidence before the webhook and report file, so they carry a failure's note.
        let evidence =
            crate::drill_evidence::write(clients, &planned, &report, failure.as_deref()).await;
        let evidence_uri = match evidence {
            Some(Ok(written)) => Some(written.record_uri),
            Some(Err(e)) => {
                report.notes.push(format!("evidence not written: {e}"));
                diags.add_warning(error(
                    "Could not write the drill evidence",
                    format!("{e}\n\nThe drill's outcome is unaffected; it is in the state. The next run links to the newest record that exists."),
                    AttributePath::new("evidence").index(0).attribute("s3_uri"),
                ));
                None
            }
            None => None,
        };
        if let Some(url) = planned.webhook_url.as_ref_option() {
            // A failed post never fails the drill: a note in the report and a warning.
            let format = planned
                .webhook_format
                .as_ref_option()
                .and_then(|f| f.parse().ok())
                .unwrap_or_default();
            if let Err(e) = drkit_drill::post_webhook(url, &report, format).await {
                report.notes.push(format!("webhook not delivered: {e}"));
                diags.add_warning(error(
                    "Could not post the drill report",
                    format!("{e}\n\nThe drill's outcome is unaffected; it is in the state and report_file."),
                    AttributePath::new("webhook_url"),
                ));
            }
        }
        if let Some(path) = &report_file {
            if let Err(e) = crate::drill::write_report(path, &report) {
                diags.add_warning(error(
                    "Could not write the drill report",
                    e,
                    AttributePath::new("report_file"),
                ));
            }
        }
        let mut state = recorded(planned.clone(), &report);
        state.evidence_uri = evidence_uri.map_or(Value::Null, Value::Value);
        if let Some(e) = failure {
            diags.add_error(error(
                "DR drill failed",
                format!("{e}\n\n{}", crate::drill::figures(&report)),
                AttributePath::root(),
            ));
        } else if report.rto_met == Some(false) || report.rpo_met == Some(false) {
            let text = format!(
                "The drill restored and verified, but missed its target.\n\n{}",
                crate::drill::figures(&report)
            );
            if planned.fail_on_target_miss != Value::Value(false) {
                diags.add_error(error(
                    "DR drill missed its target",
                    text,
                    AttributePath::root(),
                ));
            } else {
                diags.add_warning(error(
                    "DR drill missed its target",
                    text,
                    AttributePath::root(),
                ));
            }
        }
        // The state is returned even with an error: Terraform keeps the figures (the
        // resource is tainted, so the next apply drills again).
        Some((state, ValueEmpty::Null))
    }

    async fn read<'a>(
        &self,
        _diags: &mut Diagnostics,
        state: Self::State<'a>,
        _private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        Some((state, ValueEmpty::Null))
    }

    async fn update<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: Self::State<'a>,
        planned: Self::State<'a>,
        _config: Self::State<'a>,
        _private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        // Only settings that do not re-run the drill change in place (see plan_update).
        Some((planned, ValueEmpty::Null))
    }

    async fn destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: Self::State<'a>,
        _private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<()> {
        // The drill already tore down what it created; destroy forgets the figures.
        Some(())
    }
}

fn next_due(started_at: &Value<String>, interval: &Value<String>) -> Value<String> {
    let (Some(start), Some(interval)) = (started_at.as_ref_option(), interval.as_ref_option())
    else {
        return Value::Null;
    };
    let (Ok(start), Ok(d)) = (
        OffsetDateTime::parse(start, &Rfc3339),
        interval.parse::<Duration>(),
    ) else {
        return Value::Null;
    };
    let next = start + StdDuration::from_secs(d.as_secs());
    next.format(&Rfc3339).map_or(Value::Null, Value::Value)
}

/// The planned state with the run's figures filled in.
fn recorded(mut s: DrillState, report: &DrillReport) -> DrillState {
    let opt = |v: Option<f64>| v.map_or(Value::Null, |x| Value::Value(Seconds(x)));
    let optb = |v: Option<bool>| v.map_or(Value::Null, Value::Value);
    s.id = Value::Value(report.run_id.clone());
    s.started_at = Value::Value(report.started_at.clone());
    s.finished_at = report.finished_at.clone().map_or(Value::Null, Value::Value);
    s.next_due = next_due(&s.started_at, &s.interval);
    s.measured_rto_seconds = opt(report.measured_rto_seconds);
    s.measured_rpo_seconds = opt(report.measured_rpo_seconds);
    s.rto_met = optb(report.rto_met);
    s.rpo_met = optb(report.rpo_met);
    s.passed = Value::Value(report.passed());
    s.verify_results = Value::Value(
        report
            .verify_results
            .iter()
            .map(|v| {
                Value::Value(VerifyResultState {
                    name: Value::Value(v.name.clone()),
                    expect: Value::Value(v.expect.clone()),
                    value: v
                        .value
                        .clone()
                        .or(v.error.clone())
                        .map_or(Value::Null, Value::Value),
                    passed: Value::Value(v.passed),
                    at: Value::Value(v.at.clone()),
                })
            })
            .collect(),
    );
    s.history = Value::Value(report.history.iter().map(history_state).collect());
    s.report = Value::Value(report.to_json().to_string());
    s.archive_lag_seconds = opt(report
        .pitr
        .as_ref()
        .and_then(|p| p.archive_lag_seconds)
        .or(report.binlog.as_ref().and_then(|b| b.archive_lag_seconds)));
    s
}

fn history_state(h: &HistoryEntry) -> Value<HistoryState> {
    Value::Value(HistoryState {
        started_at: Value::Value(h.started_at.clone()),
        measured_rto_seconds: h
            .measured_rto_seconds
            .map_or(Value::Null, |x| Value::Value(Seconds(x))),
        measured_rpo_seconds: h
            .measured_rpo_seconds
            .map_or(Value::Null, |x| Value::Value(Seconds(x))),
        passed: Value::Value(h.passed),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::dr_drill::{DumpBlock, TargetBlock};

    fn config(hcl_like: DrillState) -> Vec<String> {
        let mut diags = Diagnostics::default();
        validate(&mut diags, &hcl_like);
        diags
            .errors
            .iter()
            .map(|d| format!("{}: {}", d.summary, d.detail))
            .collect()
    }

    fn dump_drill() -> DrillState {
        DrillState {
            policy_id: Value::Value("orders".into()),
            postgres_dump: Value::Value(DumpBlock {
                s3_uri: Value::Value("s3://backups/daily/".into()),
                ..Default::default()
            }),
            target: Value::Value(TargetBlock {
                host: Value::Value("localhost".into()),
                username: Value::Value("drill".into()),
                password_env: Value::Value("DRILL_PG_PASSWORD".into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn pitr_drill() -> DrillState {
        DrillState {
            policy_id: Value::Value("orders".into()),
            postgres_pitr: Value::Value(PitrBlock {
                base_backup_uri: Value::Value("s3://pg-backups/base/".into()),
                wal_archive_uri: Value::Value("s3://wal-archive/".into()),
                target_time: Value::Value("random".into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_pitr_drill_needs_no_target_and_checks_its_values() {
        assert!(
            config(pitr_drill()).is_empty(),
            "{:?}",
            config(pitr_drill())
        );
        let mut d = pitr_drill();
        if let Value::Value(p) = &mut d.postgres_pitr {
            p.wal_archive_uri = Value::Value("wal-archive/".into());
            p.target_time = Value::Value("yesterday".into());
            p.username = Value::Value(" ".into());
        }
        let errors = config(d).join("\n");
        assert!(
            errors.contains("wal_archive_uri = \"wal-archive/\""),
            "{errors}"
        );
        assert!(errors.contains("target_time = \"yesterday\""), "{errors}");
        assert!(errors.contains("username is empty"), "{errors}");
        let mut both = pitr_drill();
        both.postgres_dump = dump_drill().postgres_dump;
        assert!(config(both).join("").contains("exactly one of"));
    }

    #[test]
    fn a_valid_drill_has_no_errors() {
        assert!(config(dump_drill()).is_empty());
    }

    #[test]
    fn invalid_values_are_reported_on_their_attribute() {
        let mut d = dump_drill();
        d.interval = Value::Value("5m".into());
        d.verify = Value::Value(vec![Value::Value(VerifyBlock {
            name: Value::Value("n".into()),
            sql: Value::Value("SELECT 1".into()),
            expect: Value::Value("about 5".into()),
            ..Default::default()
        })]);
        if let Value::Value(t) = &mut d.target {
            t.password_env = Value::Value("hunter2 with spaces".into());
        }
        let errors = config(d);
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].contains("interval >= 1h"));
    }

    #[test]
    fn exactly_one_source() {
        let mut d = dump_drill();
        d.postgres_dump = Value::Null;
        assert!(config(d)[0].contains("exactly one"));
    }

    /// Errors as `path: summary`.
    fn errors_at(d: &DrillState) -> Vec<String> {
        let mut diags = Diagnostics::default();
        validate(&mut diags, d);
        diags
            .errors
            .iter()
            .map(|e| format!("{:?}: {}", e.attribute, e.summary))
            .collect()
    }

    fn encrypted(cipher: &str) -> DrillState {
        let mut d = dump_drill();
        if let Value::Value(dump) = &mut d.postgres_dump {
            dump.decrypt = Value::Value(DecryptBlock {
                openssl_cipher: Value::Value(cipher.into()),
                key_env: Value::Value("BACKUP_PASS".into()),
                ..Default::default()
            });
        }
        d
    }

    #[test]
    fn an_unknown_cipher_is_refused_at_its_attribute() {
        assert!(config(encrypted("aes-256-cbc")).is_empty());
        let errors = errors_at(&encrypted("des-ede3-cbc"));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].contains("postgres_dump") && errors[0].contains("openssl_cipher"),
            "{errors:?}"
        );
        assert!(errors[0].contains("Unsupported openssl_cipher"));
    }

    #[test]
    fn iter_needs_pbkdf2_and_key_env_is_a_name() {
        let mut d = encrypted("aes-256-cbc");
        if let Value::Value(dump) = &mut d.postgres_dump {
            if let Value::Value(dec) = &mut dump.decrypt {
                dec.iter = Value::Value(1000);
                dec.key_env = Value::Value("s3cret pass".into());
            }
        }
        let errors = config(d);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors.iter().any(|e| e.contains("iter without pbkdf2")));
        assert!(errors.iter().any(|e| e.contains("Invalid key_env")));
    }

    fn check(sql: Option<&str>, expect: Option<&str>, command: Option<&[&str]>) -> DrillState {
        let v = |o: Option<&str>| o.map_or(Value::Null, |s| Value::Value(s.to_string()));
        let mut d = dump_drill();
        d.verify = Value::Value(vec![Value::Value(VerifyBlock {
            name: Value::Value("smoke".into()),
            sql: v(sql),
            expect: v(expect),
            command: command.map_or(Value::Null, |c| {
                Value::Value(c.iter().map(|a| Value::Value(a.to_string())).collect())
            }),
            ..Default::default()
        })]);
        d
    }

    #[test]
    fn a_verify_block_is_a_query_or_a_command() {
        assert!(config(check(None, None, Some(&["./smoke.sh", "--fast"]))).is_empty());
        assert!(config(check(Some("SELECT 1"), Some("= 1"), None)).is_empty());
        let both = errors_at(&check(Some("SELECT 1"), Some("= 1"), Some(&["true"])));
        assert!(
            both.len() == 1 && both[0].contains("command") && both[0].contains("Both a query"),
            "{both:?}"
        );
        let neither = errors_at(&check(None, None, None));
        assert!(neither[0].contains("Nothing to verify"), "{neither:?}");
        let no_expect = errors_at(&check(Some("SELECT 1"), None, None));
        assert!(no_expect[0].contains("expect"), "{no_expect:?}");
        let empty = errors_at(&check(None, None, Some(&[])));
        assert!(empty[0].contains("Invalid command"), "{empty:?}");
    }

    fn mysql_drill(engine: Option<&str>) -> DrillState {
        let mut d = dump_drill();
        d.postgres_dump = Value::Null;
        d.mysql_dump = Value::Value(MysqlDumpBlock {
            s3_uri: Value::Value("s3://mysql-backups/daily/".into()),
            ..Default::default()
        });
        if let Value::Value(t) = &mut d.target {
            t.engine = engine.map_or(Value::Null, |e| Value::Value(e.into()));
        }
        d
    }

    #[test]
    fn a_mysql_dump_drill_needs_a_mysql_target_and_checks_its_values() {
        assert!(
            config(mysql_drill(None)).is_empty(),
            "{:?}",
            config(mysql_drill(None))
        );
        assert!(config(mysql_drill(Some("mariadb"))).is_empty());
        let wrong = errors_at(&mysql_drill(Some("postgres")));
        assert!(
            wrong.len() == 1 && wrong[0].contains("engine") && wrong[0].contains("does not match"),
            "{wrong:?}"
        );
        let unknown = config(mysql_drill(Some("mysql8")));
        assert!(unknown[0].contains("\"mariadb\""), "{unknown:?}");
        let mut d = mysql_drill(Some("mysql"));
        if let Value::Value(m) = &mut d.mysql_dump {
            m.dump_time_zone = Value::Value("Europe/Berlin".into());
            m.s3_uri = Value::Value("mysql-backups/".into());
        }
        if let Value::Value(t) = &mut d.target {
            t.pg_bin_dir = Value::Value("/usr/lib/postgresql/15/bin".into());
        }
        let errors = errors_at(&d).join("\n");
        for attr in ["dump_time_zone", "s3_uri", "pg_bin_dir"] {
            assert!(errors.contains(attr), "{attr}: {errors}");
        }
        let mut no_target = mysql_drill(None);
        no_target.target = Value::Null;
        assert!(config(no_target)[0].contains("MySQL or MariaDB server"));
        // A postgres_dump cannot restore onto a MySQL server.
        let mut pg = dump_drill();
        if let Value::Value(t) = &mut pg.target {
            t.engine = Value::Value("mysql".into());
        }
        assert!(config(pg)[0].contains("restores onto a PostgreSQL server"));
    }

    fn with_tls(mode: Option<&str>, ca_file: Option<&str>) -> DrillState {
        let mut d = dump_drill();
        if let Value::Value(t) = &mut d.target {
            t.tls_mode = mode.map_or(Value::Null, |m| Value::Value(m.into()));
            t.tls_ca_file = ca_file.map_or(Value::Null, |f| Value::Value(f.into()));
        }
        d
    }

    #[test]
    fn tls_settings_are_checked_at_their_attribute() {
        let dir = tempfile::tempdir().unwrap();
        let not_pem = dir.path().join("bundle.txt");
        std::fs::write(&not_pem, "a key, not a certificate\n").unwrap();
        let cut = dir.path().join("cut.pem");
        std::fs::write(&cut, "-----BEGIN CERTIFICATE-----\nMIIB\n").unwrap();
        for mode in drkit_drill::tls::TLS_MODES {
            assert!(config(with_tls(Some(mode), None)).is_empty(), "{mode}");
        }
        let errors = errors_at(&with_tls(Some("verify_full"), None));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("tls_mode") && errors[0].ends_with("Invalid tls_mode"));
        // A CA file is read at plan: missing, or without a certificate.
        let missing = config(with_tls(Some("verify-ca"), Some("/nonexistent/ca.pem")));
        assert!(
            missing[0].contains("/nonexistent/ca.pem: cannot read it"),
            "{missing:?}"
        );
        let errors = config(with_tls(Some("verify-full"), not_pem.to_str()));
        assert!(
            errors[0].contains("no \"-----BEGIN CERTIFICATE-----\""),
            "{errors:?}"
        );
        let errors = config(with_tls(Some("verify-full"), cut.to_str()));
        assert!(
            errors[0].contains("cut.pem: not a valid PEM bundle"),
            "{errors:?}"
        );
        // A CA file that nothing would check against (the default mode is prefer).
        let errors = errors_at(&with_tls(None, not_pem.to_str()));
        assert!(
            errors[0].contains("tls_ca_file")
                && errors[0].ends_with("tls_ca_file without verification"),
            "{errors:?}"
        );
    }

    #[test]
    fn an_rds_drill_sets_tls_in_its_rds_block() {
        let mut d = with_tls(Some("require"), None);
        d.postgres_dump = Value::Null;
        d.rds = Value::Value(RdsBlock {
            instance_identifier: Value::Value("orders-db".into()),
            tls_mode: Value::Value("verify-full".into()),
            ..Default::default()
        });
        let errors = errors_at(&d);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].contains("tls_mode")
                && errors[0].ends_with("tls_mode belongs in the rds block"),
            "{errors:?}"
        );
        if let Value::Value(r) = &mut d.rds {
            r.tls_mode = Value::Value("verify-fully".into());
        }
        d.target = Value::Null;
        let errors = errors_at(&d);
        assert!(
            errors[0].contains("rds") && errors[0].ends_with("Invalid tls_mode"),
            "{errors:?}"
        );
    }

    #[test]
    fn webhooks_take_https() {
        let mut d = dump_drill();
        d.webhook_url = Value::Value("https://hooks.slack.com/services/T0/B0/X".into());
        assert!(config(d.clone()).is_empty());
        d.webhook_url = Value::Value("ftp://example.com".into());
        d.webhook_format = Value::Value("xml".into());
        assert_eq!(config(d).len(), 2);
    }

    #[test]
    fn next_due_adds_the_interval() {
        let due = next_due(
            &Value::Value("2026-01-01T00:00:00Z".into()),
            &Value::Value("90d".into()),
        );
        assert_eq!(due, Value::Value("2026-04-01T00:00:00Z".into()));
    }
}
