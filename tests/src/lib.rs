//! Test harness for drkit's acceptance tests and demo: real servers, started on free
//! loopback ports and stopped when their guard drops (also when a test panics).
//!
//! - [`Moto`]: a moto server standing in for AWS (RDS and S3).
//! - [`Postgres`]: a throwaway PostgreSQL 15 cluster with password authentication.
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

pub use fault_proxy::{
    sequential_round_trips, Fault, FaultConfig, FaultProxy, Latency, Seen, Timed,
};
pub use inventory::inventory;
pub use moto::Moto;
pub use postgres::Postgres;
pub use terraform::{dev_overrides_config, Output, Terraform};
