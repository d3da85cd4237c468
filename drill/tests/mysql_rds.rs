//! An `rds` drill of a MySQL instance checks the restored copy over the MySQL protocol: moto
//! restores the instance, the testkit's RDS copy proxy points the copy's endpoint at a real
//! MariaDB holding the source's rows, and the drill's queries, `freshness_sql` and
//! `command` check run there. The protocol comes from the restored instance's engine, not
//! from the target block.

use std::time::Duration;

use drkit_drill::{
    run, CancellationToken, Clients, CommandCheck, DrillSpec, Engine, RdsSource, RestoreTime,
    Secret, Source, Target, Targets, Verify,
};
use drkit_testkit::{MariaDb, MariaDbOptions, Moto, RdsCopyProxy};

/// RDS through the copy proxy, S3 straight to moto.
struct ProxiedClients {
    rds: aws_sdk_rds::Client,
    s3: aws_sdk_s3::Client,
}

impl Clients for ProxiedClients {
    fn rds(&self, _: &str) -> aws_sdk_rds::Client {
        self.rds.clone()
    }
    fn s3(&self, _: &str) -> aws_sdk_s3::Client {
        self.s3.clone()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_rds_mysql_drill_verifies_the_copy_over_the_mysql_protocol() {
    // A server whose time_zone is not UTC: the drill must read TIMESTAMP values in UTC
    // whatever the server's (or the test machine's) zone is.
    let (moto, db) = (
        Moto::start().unwrap(),
        MariaDb::start_with(MariaDbOptions {
            time_zone: Some("+05:30".into()),
            ..MariaDbOptions::default()
        })
        .unwrap(),
    );
    db.sql(None, "CREATE DATABASE shop").unwrap();
    db.sql(
        Some("shop"),
        "CREATE TABLE orders (id INT PRIMARY KEY, created_at TIMESTAMP(6));
         INSERT INTO orders SELECT seq, NOW(6) - INTERVAL 300 SECOND FROM seq_1_to_750;",
    )
    .unwrap();
    let proxy = RdsCopyProxy::start(moto.port(), db.host(), db.port()).unwrap();
    let conf = aws_sdk_rds::config::Builder::from(&moto.sdk_config("us-east-1").await)
        .endpoint_url(proxy.endpoint())
        .build();
    let clients = ProxiedClients {
        rds: aws_sdk_rds::Client::from_conf(conf),
        s3: moto.s3("us-east-1").await,
    };
    clients
        .rds
        .create_db_instance()
        .db_instance_identifier("shop-db")
        .engine("mysql")
        .db_instance_class("db.t3.micro")
        .allocated_storage(20)
        .master_username("admin")
        .master_user_password("not-a-real-password")
        .backup_retention_period(7)
        .send()
        .await
        .unwrap();
    let smoke = Verify::command(
        "client sees the copy",
        CommandCheck {
            argv: vec![
                "sh".into(),
                "-c".into(),
                "test \"$(mariadb --no-defaults --protocol=TCP -h \"$MYSQL_HOST\" -P \"$MYSQL_TCP_PORT\" -u \"$MYSQL_USER\" -N -e 'SELECT count(*) FROM orders' \"$MYSQL_DATABASE\")\" = 750".into(),
            ],
            timeout: Duration::from_secs(30),
            working_dir: None,
        },
    );
    let spec = DrillSpec {
        name: "shop-rds".into(),
        source: Source::Rds(RdsSource {
            instance_identifier: "shop-db".into(),
            source_region: "us-east-1".into(),
            restore_region: None,
            restore_time: RestoreTime::Latest,
            instance_class: None,
            from_replicated_backups: false,
            promised_retention_days: None,
            placement: Default::default(),
        }),
        // As the provider builds it without `engine`: PostgreSQL's defaults.
        target: Some(Target {
            engine: Engine::Postgres,
            host: "ignored".into(),
            port: 5432,
            database: "shop".into(),
            username: db.user().into(),
            password: Some(Secret::new(db.password())),
            pg_bin_dir: None,
            tls: drkit_drill::Tls::default(),
        }),
        verify: vec![
            Verify::sql(
                "orders",
                "SELECT count(*) FROM orders",
                "= 750".parse().unwrap(),
            ),
            smoke,
        ],
        freshness_sql: Some("SELECT max(created_at) FROM orders".into()),
        targets: Targets {
            rpo: Some(Duration::from_secs(3600)),
            rto: Some(Duration::from_secs(3600)),
        },
        timeout: Duration::from_secs(300),
        run_id: "mysql-rds".into(),
    };
    let report = run(&spec, &clients, &CancellationToken::new())
        .await
        .unwrap_or_else(|f| panic!("{}: {:#?}", f.error, f.report));
    assert_eq!(report.verify_results[0].value.as_deref(), Some("750"));
    assert!(
        report.verify_results[1].passed,
        "{:?}",
        report.verify_results[1]
    );
    // The TIMESTAMP column's newest row is 300 s old, read in UTC (not 5.5 h younger).
    let rpo = report.measured_rpo_seconds.unwrap();
    assert!((299.0..360.0).contains(&rpo), "RPO {rpo}");
    let left: Vec<String> = clients
        .rds
        .describe_db_instances()
        .send()
        .await
        .unwrap()
        .db_instances()
        .iter()
        .filter_map(|d| d.db_instance_identifier().map(str::to_string))
        .collect();
    assert_eq!(left, ["shop-db"], "the temporary instance is gone");
}
