//! Shared setup of the `dr_drill` tests: a seeded `shop` database dumped to moto S3, the
//! drill configuration, and the scratch databases a drill leaves (or should not).
#![allow(dead_code)]

use drkit_testkit::{Moto, Postgres};

use crate::policy_support::PRIMARY;

/// The environment variable holding the target's password.
pub const PASSWORD_ENV: &str = "DRILL_PG_PASSWORD";

/// A `shop` database with 2,500 orders, and its `pg_dump -Fc` at
/// `s3://shop-backups/daily/shop.dump` in moto.
pub async fn seeded(moto: &Moto, pg: &Postgres) {
    pg.psql("postgres", "CREATE DATABASE shop").unwrap();
    pg.psql(
        "shop",
        "CREATE TABLE orders (id serial PRIMARY KEY, total numeric);
         INSERT INTO orders (total) SELECT g FROM generate_series(1, 2500) g;",
    )
    .unwrap();
    let out = pg
        .client("pg_dump")
        .args(["-Fc", "-d", "shop"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let s3 = moto.s3(PRIMARY).await;
    s3.create_bucket()
        .bucket("shop-backups")
        .send()
        .await
        .unwrap();
    s3.put_object()
        .bucket("shop-backups")
        .key("daily/shop.dump")
        .body(out.stdout.into())
        .send()
        .await
        .unwrap();
}

/// A `postgres_dump` drill of the `shop` dump onto `pg`, with `extra` arguments and
/// `checks` (verify blocks).
pub fn drill(pg: &Postgres, extra: &str, checks: &str) -> String {
    format!(
        r#"
resource "dr_drill" "shop" {{
  policy_id = "shop"
  rpo       = "1h"
  rto       = "10m"
  {extra}

  postgres_dump {{
    s3_uri = "s3://shop-backups/daily/"
  }}

  target {{
    host         = "{host}"
    port         = {port}
    username     = "{user}"
    password_env = "{PASSWORD_ENV}"
    pg_bin_dir   = "{bin}"
  }}
  {checks}
}}
"#,
        host = pg.host(),
        port = pg.port(),
        user = pg.user(),
        bin = pg.bin_dir().display(),
    )
}

/// The check that every order came back.
pub const COUNT_CHECK: &str = r#"
  verify {
    name   = "orders restored"
    sql    = "SELECT count(*) FROM orders"
    expect = "= 2500"
  }
"#;

/// The drills' scratch databases on `pg`.
pub fn scratch_dbs(pg: &Postgres) -> Vec<String> {
    pg.databases()
        .unwrap()
        .into_iter()
        .filter(|d| d.starts_with("drkit_drill_"))
        .collect()
}
