//! Unit tests of validation, defaults, import IDs and drift bookkeeping: no AWS needed.

use drlint::model::Step;
use tf_provider::value::Value;
use tf_provider::Diagnostics;

use crate::state::dr_policy::{
    PolicyState, RdsBlock, ReplicaBlock, ReplicationBlock, RetentionBlock, S3Block, TimeoutsBlock,
};

use super::defaults::{fill_defaults, set_model_outputs};
use super::sync::Sync;
use super::validate::Regions;
use super::*;

fn s(v: &str) -> Value<String> {
    Value::Value(v.to_string())
}

fn base() -> PolicyState {
    PolicyState {
        name: s("orders"),
        rpo: s("15m"),
        rto: s("1h"),
        owners: Value::Value(vec![s("a"), s("b")]),
        rds: Value::Value(vec![RdsBlock {
            instance_identifier: s("orders-db"),
            cross_region_replica: Value::Value(ReplicaBlock::default()),
            ..Default::default()
        }]),
        s3: Value::Value(vec![]),
        ..Default::default()
    }
}

fn bucket(name: &str) -> S3Block {
    S3Block {
        bucket: s(name),
        replication: Value::Value(ReplicationBlock {
            destination_bucket: s(&format!("{name}-dr")),
            role_arn: s("arn:aws:iam::123456789012:role/r"),
            replication_time_control: Value::Value(true),
            ..Default::default()
        }),
        retention: Value::Value(vec![]),
        ..Default::default()
    }
}

const REGIONS: Regions<'static> = Regions {
    primary: "us-east-1",
    dr: Some("us-west-2"),
};

/// (path, summary) of every error.
fn errors(state: &PolicyState, regions: Option<&Regions>) -> Vec<(String, String)> {
    let mut diags = Diagnostics::default();
    validate(&mut diags, state, regions);
    diags
        .errors
        .iter()
        .map(|d| (d.attribute.to_string(), d.summary.to_string()))
        .collect()
}

fn paths(state: &PolicyState, regions: Option<&Regions>) -> Vec<String> {
    errors(state, regions).into_iter().map(|(p, _)| p).collect()
}

#[test]
fn a_sound_policy_validates_with_and_without_regions() {
    let mut p = base();
    p.s3 = Value::Value(vec![bucket("orders-backups")]);
    assert_eq!(errors(&p, None), vec![]);
    assert_eq!(errors(&p, Some(&REGIONS)), vec![]);
}

#[test]
fn model_paths_address_single_blocks_by_index() {
    let p = model_path(&[
        Step::Attr("rds"),
        Step::Index(0),
        Step::Attr("cross_region_replica"),
        Step::Attr("region"),
    ]);
    assert_eq!(p.to_string(), "rds[0].cross_region_replica[0].region");
    let p = model_path(&[Step::Attr("rds"), Step::Index(2)]);
    assert_eq!(p.to_string(), "rds[2].instance_identifier");
    let p = model_path(&[Step::Attr("s3"), Step::Index(1), Step::Attr("retention")]);
    assert_eq!(p.to_string(), "s3[1].retention[0]");
}

#[test]
fn the_same_region_replica_is_found_once_regions_are_known() {
    let mut p = base();
    if let Value::Value(rds) = p.rds.as_mut() {
        rds[0].cross_region_replica = Value::Value(ReplicaBlock {
            region: s("us-east-1"),
            ..Default::default()
        });
    }
    assert_eq!(paths(&p, None), Vec::<String>::new());
    assert_eq!(
        paths(&p, Some(&REGIONS)),
        ["rds[0].cross_region_replica[0].region"]
    );
}

#[test]
fn a_replica_without_any_dr_region_is_an_error_on_its_region() {
    let regions = Regions {
        primary: "us-east-1",
        dr: None,
    };
    assert_eq!(
        paths(&base(), Some(&regions)),
        ["rds[0].cross_region_replica[0].region"]
    );
}

#[test]
fn shapes_are_checked_on_their_attribute() {
    let mut p = base();
    p.name = s("orders:prod");
    p.runbook_url = s("wiki/orders");
    p.timeouts = Value::Value(TimeoutsBlock {
        create: s("an hour"),
        update: Value::Null,
    });
    if let Value::Value(rds) = p.rds.as_mut() {
        rds[0].instance_identifier = s("1db");
        rds[0].settings.backup_window = s("03:00-03:10");
    }
    let mut b = bucket("Orders_Backups");
    if let Value::Value(r) = b.replication.as_mut() {
        r.role_arn = s("replication-role");
        r.storage_class = s("COLD");
    }
    b.retention = Value::Value(vec![RetentionBlock {
        archive_after_days: Value::Value(90),
        expire_days: Value::Value(30),
        archive_storage_class: s("FRIDGE"),
        ..Default::default()
    }]);
    p.s3 = Value::Value(vec![b]);
    let got = paths(&p, None);
    for want in [
        "name",
        "runbook_url",
        "timeouts[0].create",
        "rds[0].instance_identifier",
        "rds[0].backup_window",
        "s3[0].bucket",
        "s3[0].replication[0].role_arn",
        "s3[0].replication[0].storage_class",
        "s3[0].retention[0].archive_storage_class",
        "s3[0].retention[0].archive_after_days",
    ] {
        assert!(
            got.contains(&want.to_string()),
            "{want} missing from {got:?}"
        );
    }
}

#[test]
fn duplicates_and_mixed_retention_forms_are_refused() {
    let mut p = base();
    if let Value::Value(rds) = p.rds.as_mut() {
        let again = rds[0].clone();
        rds.push(again);
    }
    let mut b = bucket("orders-backups");
    b.retention = Value::Value(vec![
        RetentionBlock {
            expire_days: Value::Value(30),
            daily: Value::Value(7),
            ..Default::default()
        },
        RetentionBlock {
            daily: Value::Value(7),
            ..Default::default()
        },
        RetentionBlock::default(),
    ]);
    p.s3 = Value::Value(vec![b.clone(), b]);
    let got = errors(&p, None);
    let summaries: Vec<&str> = got.iter().map(|(_, s)| s.as_str()).collect();
    for want in [
        "Instance named twice",
        "Bucket named twice",
        "Mixed retention forms",
        "Two GFS retention blocks",
        "Empty retention block",
    ] {
        assert!(summaries.contains(&want), "{want} missing from {got:?}");
    }
}

#[test]
fn unknown_values_defer_validation() {
    let mut p = base();
    p.rpo = Value::Unknown;
    p.compliance = Value::Value(true);
    if let Value::Value(rds) = p.rds.as_mut() {
        rds[0].instance_identifier = Value::Unknown;
        rds[0].settings.backup_retention_days = Value::Unknown;
        rds[0].cross_region_replica = Value::Unknown;
    }
    let mut b = bucket("orders-backups");
    b.retention = Value::Value(vec![RetentionBlock {
        expire_days: Value::Unknown,
        ..Default::default()
    }]);
    p.s3 = Value::Value(vec![b]);
    assert_eq!(errors(&p, Some(&REGIONS)), vec![]);
}

#[test]
fn defaults_fill_only_what_the_configuration_leaves_null() {
    let config = base();
    let mut proposed = base();
    fill_defaults(&mut proposed, &config, &REGIONS);
    let rds = &proposed.rds.as_ref_option().unwrap()[0];
    assert_eq!(rds.settings.backup_retention_days, Value::Value(7));
    assert_eq!(rds.settings.deletion_protection, Value::Value(true));
    assert_eq!(rds.settings.copy_tags_to_snapshot, Value::Value(true));
    assert!(
        rds.settings.backup_window.is_unknown(),
        "the instance's own window, read at plan"
    );
    let replica = rds.cross_region_replica.as_ref_option().unwrap();
    assert_eq!(replica.region, s("us-west-2"));
    assert_eq!(replica.identifier, s("orders-db-dr"));
    assert_eq!(replica.backup_retention_days, Value::Value(7));
    assert_eq!(proposed.compliance, Value::Value(false));

    // A value drifted into the prior state is planned back to the default.
    let mut drifted = base();
    if let Value::Value(rds) = drifted.rds.as_mut() {
        rds[0].settings.deletion_protection = Value::Value(false);
    }
    fill_defaults(&mut drifted, &config, &REGIONS);
    assert_eq!(
        drifted.rds.as_ref_option().unwrap()[0]
            .settings
            .deletion_protection,
        Value::Value(true)
    );
}

#[test]
fn desired_settings_resolve_defaults() {
    let mut p = base();
    fill_defaults(&mut p, &base(), &REGIONS);
    if let Value::Value(rds) = p.rds.as_mut() {
        rds[0].settings.backup_window = s("03:00-04:00");
        if let Value::Value(r) = rds[0].cross_region_replica.as_mut() {
            r.instance_class = s("db.t3.micro");
        }
    }
    let d = Desired::from_state(&mut Diagnostics::default(), &p).unwrap();
    assert!(
        d.targets.starts_with("rpo=15m rto=1h meta="),
        "{}",
        d.targets
    );
    let replica = d.rds[0].replica.as_ref().unwrap();
    assert_eq!(replica.region, "us-west-2");
    assert_eq!(replica.retention, 7);

    // Unknown values are refused at apply with a path.
    let mut unknown = p.clone();
    unknown.rpo = Value::Unknown;
    let mut diags = Diagnostics::default();
    assert!(Desired::from_state(&mut diags, &unknown).is_none());
    assert_eq!(diags.errors[0].attribute.to_string(), "rpo");
}

#[test]
fn import_ids_name_the_policy_and_its_resources() {
    let mut diags = Diagnostics::default();
    let state = import_state(&mut diags, "orders:rds=db1,db2:s3=bucket-a").unwrap();
    assert_eq!(state.name, s("orders"));
    let rds: Vec<_> = state
        .rds
        .as_ref_option()
        .unwrap()
        .iter()
        .map(|b| b.instance_identifier.clone())
        .collect();
    assert_eq!(rds, [s("db1"), s("db2")]);
    assert_eq!(state.s3.as_ref_option().unwrap()[0].bucket, s("bucket-a"));
    assert!(import_state(&mut diags, "orders:s3=bucket-a").is_some());

    for bad in [
        "",
        "orders",
        "orders:mysql=db1",
        "or ders:rds=db1",
        "orders:s3=UPPER",
    ] {
        let mut diags = Diagnostics::default();
        assert!(import_state(&mut diags, bad).is_none(), "{bad}");
        assert!(diags.errors[0].detail.contains("NAME:rds="), "{bad}");
    }
}

#[test]
fn drift_is_recorded_and_written_only_on_refresh() {
    let mut findings = Vec::new();
    let mut v = Value::Value(14i64);
    Sync {
        findings: &mut findings,
        write: false,
        import: false,
    }
    .field(&mut v, None, 3, || "retention".into());
    assert_eq!(v, Value::Value(14), "after apply the planned value stays");
    assert_eq!(findings, ["retention: is 3, the policy sets 14"]);

    let mut v = Value::Null;
    Sync {
        findings: &mut findings,
        write: true,
        import: false,
    }
    .field(&mut v, Some(true), false, || "deletion protection".into());
    assert_eq!(v, Value::Value(false), "a refresh writes the live value");

    let mut v: Value<String> = Value::Unknown;
    Sync {
        findings: &mut findings,
        write: false,
        import: false,
    }
    .field(&mut v, None, "03:00-04:00".into(), || "window".into());
    assert_eq!(v, s("03:00-04:00"), "unknown values are filled");
    assert_eq!(findings.len(), 2);
}

#[test]
fn model_outputs_are_unknown_until_everything_is_known() {
    let mut p = base();
    fill_defaults(&mut p, &base(), &REGIONS);
    if let Value::Value(rds) = p.rds.as_mut() {
        rds[0].settings.backup_window = s("03:00-04:00");
        if let Value::Value(r) = rds[0].cross_region_replica.as_mut() {
            r.instance_class = s("db.t3.micro");
        }
    }
    set_model_outputs(&mut p, &REGIONS);
    assert_eq!(p.tier, s("cross-region-replica"));
    assert_eq!(p.estimated_rpo, s("1m"));
    assert_eq!(p.estimated_rto, s("15m"));
    p.rto = Value::Unknown;
    set_model_outputs(&mut p, &REGIONS);
    assert!(p.tier.is_unknown());
}
