//! The harness's servers answer real requests and are gone afterwards, also after a panic.

use std::panic::{catch_unwind, AssertUnwindSafe};

use drkit_testkit::{tools::process_alive, MariaDb, Moto, Postgres};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn moto_answers_s3_through_the_sdk_and_stops_on_drop() {
    let moto = Moto::start().unwrap();
    let pid = moto.pid();
    runtime().block_on(async {
        let s3 = moto.s3("us-east-1").await;
        s3.create_bucket().bucket("plumbing").send().await.unwrap();
        let listed = s3.list_buckets().send().await.unwrap();
        let names: Vec<_> = listed.buckets().iter().filter_map(|b| b.name()).collect();
        assert_eq!(names, ["plumbing"]);
    });
    assert!(
        moto.log_text().contains("PUT /plumbing"),
        "moto logs each request"
    );
    drop(moto);
    assert!(
        !process_alive(pid),
        "moto_server {pid} still runs after drop"
    );
}

#[test]
fn moto_stops_when_the_test_panics() {
    let mut pid = None;
    let result = catch_unwind(AssertUnwindSafe(|| {
        let moto = Moto::start().unwrap();
        pid = Some(moto.pid());
        panic!("a failing test");
    }));
    assert!(result.is_err());
    let pid = pid.unwrap();
    assert!(
        !process_alive(pid),
        "moto_server {pid} survived a panicking test"
    );
}

#[test]
fn postgres_answers_a_select_with_password_auth_and_stops_on_drop() {
    let pg = Postgres::start().unwrap();
    assert_eq!(pg.psql("postgres", "SELECT 40 + 2").unwrap(), "42");
    assert!(pg
        .psql("postgres", "SHOW server_version")
        .unwrap()
        .starts_with("15."));
    // Password authentication is on: a wrong password is refused.
    let refused = pg
        .client("psql")
        .env("PGPASSWORD", "wrong")
        .args(["-X", "-At", "-d", "postgres", "-c", "SELECT 1"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("password authentication failed"));
    let pid = pg.pid().unwrap();
    drop(pg);
    assert!(!process_alive(pid), "postgres {pid} still runs after drop");
}

#[test]
fn postgres_stops_when_the_test_panics() {
    let mut pid = None;
    let result = catch_unwind(AssertUnwindSafe(|| {
        let pg = Postgres::start().unwrap();
        pid = Some(pg.pid().unwrap());
        panic!("a failing test");
    }));
    assert!(result.is_err());
    let pid = pid.unwrap();
    assert!(
        !process_alive(pid),
        "postgres {pid} survived a panicking test"
    );
}

#[test]
fn mariadb_checks_passwords_writes_a_binlog_when_asked_and_is_removed_on_drop() {
    let db = MariaDb::start_with_binlog().unwrap();
    assert_eq!(db.sql(None, "SELECT 40 + 2").unwrap(), "42");
    assert!(db
        .sql(None, "SELECT VERSION()")
        .unwrap()
        .starts_with("10.11"));
    assert_eq!(
        db.sql(None, "SELECT @@log_bin, @@binlog_format").unwrap(),
        "1\tROW"
    );
    // Grants are checked: a wrong password is refused, and root has no way in over TCP.
    for (user, password) in [(db.user(), "wrong"), ("root", "")] {
        let refused = db
            .client("mariadb")
            .unwrap()
            .arg(format!("--user={user}"))
            .env("MYSQL_PWD", password)
            .args(["-e", "SELECT 1"])
            .output()
            .unwrap();
        assert!(!refused.status.success(), "{user} got in");
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("Access denied"),
            "{}",
            String::from_utf8_lossy(&refused.stderr)
        );
    }
    let (pid, dir) = (db.pid(), db.data_dir());
    drop(db);
    assert!(!process_alive(pid), "mariadbd {pid} still runs after drop");
    assert!(!dir.exists(), "{} left behind", dir.display());
}

#[test]
fn mariadb_stops_when_the_test_panics() {
    let mut pid = None;
    let result = catch_unwind(AssertUnwindSafe(|| {
        let db = MariaDb::start().unwrap();
        pid = Some(db.pid());
        panic!("a failing test");
    }));
    assert!(result.is_err());
    let pid = pid.unwrap();
    assert!(
        !process_alive(pid),
        "mariadbd {pid} survived a panicking test"
    );
}
