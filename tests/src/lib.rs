//! Test harness for drkit's acceptance tests and demo: real servers, started on free
//! loopback ports and stopped when their guard drops (also when a test panics).
//!
//! - [`Moto`]: a moto server standing in for AWS (RDS and S3).
//! - [`Postgres`]: a throwaway PostgreSQL 15 cluster with password authentication.
//! - [`MariaDb`]: a throwaway MariaDB 10.11 server with password authentication, its
//!   binary log on when asked, for MySQL drills.
//! - [`ArchivingPostgres`]: a PostgreSQL 15 cluster archiving its WAL into moto S3, with
//!   real `pg_basebackup -Ft -z` runs, for PITR drills.
//! - [`FaultProxy`]: a loopback proxy in front of moto that throttles, fails, stalls and
//!   resets a share of requests, or holds one answer while a test interrupts the client.
//! - [`HttpsReceiver`]: a local HTTPS webhook receiver with its own CA (trusted through
//!   `SSL_CERT_FILE`) that answers a script of statuses and records the payloads.
//! - [`RdsCopyProxy`]: a proxy in front of moto that makes a drill's restored
//!   `drkit-drill-*` instance answer SQL from a local PostgreSQL or MariaDB, and plays the DR
//!   region's replicated automated backups.
//! - [`inventory`]: the DR-relevant AWS state read through the SDK, for comparing runs.
//! - [`Terraform`]: a temporary working directory whose CLI config points `drkit/dr` at the
//!   freshly built provider through `dev_overrides`, or at a filesystem or network mirror
//!   holding a release (installed by `terraform init`, as users do).
//! - [`StaticHttps`]: a directory served over HTTPS on loopback with a test CA (a
//!   `network_mirror`).
//!
//! Tools are found through [`tools`]; a missing tool is a loud error naming the install
//! step, never a skipped test.

mod fault_proxy;
mod https_receiver;
mod inventory;
mod mariadb;
mod moto;
mod postgres;
mod rds_copy_proxy;
mod static_https;
mod terraform;
pub mod test_ca;
pub mod tools;
mod wal_archive;

pub use fault_proxy::{
    sequential_round_trips, Fault, FaultConfig, FaultProxy, Latency, Seen, Timed,
};
pub use https_receiver::{HttpsReceiver, Received};
pub use inventory::inventory;
pub use mariadb::{MariaDb, MariaDbOptions};
pub use moto::Moto;
pub use postgres::Postgres;
pub use rds_copy_proxy::{rewrite_endpoints, RdsCopyProxy, ReplicatedBackup};
pub use static_https::StaticHttps;
pub use terraform::{
    dev_overrides_config, filesystem_mirror_config, network_mirror_config, Output, Terraform,
};
pub use wal_archive::{s3_client, upload_base_backup, ArchivingPostgres, WalCompression};
