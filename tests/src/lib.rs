//! Test harness for drkit's acceptance tests and demo: real servers, started on free
//! loopback ports and stopped when their guard drops (also when a test panics).
//!
//! - [`Moto`]: a moto server standing in for AWS (RDS and S3).
//! - [`Postgres`]: a throwaway PostgreSQL 15 cluster with password authentication.
//! - [`ArchivingPostgres`]: a PostgreSQL 15 cluster archiving its WAL into moto S3, with
//!   real `pg_basebackup -Ft -z` runs, for PITR drills.
//! - [`FaultProxy`]: a loopback proxy in front of moto that throttles, fails, stalls and
//!   resets a share of requests, or holds one answer while a test interrupts the client.
//! - [`inventory`]: the DR-relevant AWS state read through the SDK, for comparing runs.
//! - [`Terraform`]: a temporary working directory whose CLI config points `drkit/dr` at the
//!   freshly built provider through `dev_overrides`.
//!
//! Tools are found through [`tools`]; a missing tool is a loud error naming the install
//! step, never a skipped test.

mod fault_proxy;
mod inventory;
mod moto;
mod postgres;
mod terraform;
pub mod tools;
mod wal_archive;

pub use fault_proxy::{Fault, FaultConfig, FaultProxy, Seen};
pub use inventory::inventory;
pub use moto::Moto;
pub use postgres::Postgres;
pub use terraform::{dev_overrides_config, Output, Terraform};
pub use wal_archive::{s3_client, upload_base_backup, ArchivingPostgres, WalCompression};
