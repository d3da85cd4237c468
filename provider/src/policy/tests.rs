//! Unit tests of validation, defaults and import IDs: no AWS needed.

use super::*;

fn base() -> PolicyState {
    PolicyState {
        name: Value::Value("orders".into()),
        rpo: Value::Value("15m".into()),
        rto: Value::Value("1h".into()),
        owners: Value::Value(vec![Value::Value("a".into()), Value::Value("b".into())]),
        rds: Value::Value(vec![RdsBlock {
            instance_identifier: Value::Value("orders-db".into()),
            cross_region_replica: Value::Value(ReplicaBlock::default()),
            ..Default::default()
        }]),
        s3: Value::Value(vec![]),
        ..Default::default()
    }
}

const REGIONS: Regions<'static> = Regions {
    primary: "us-east-1",
    dr: Some("us-west-2"),
};

fn errors(s: &PolicyState, regions: Option<&Regions>) -> Vec<(String, String)> {
    let mut diags = Diagnostics::default();
    validate(&mut diags, s, regions);
    diags
        .errors
        .iter()
        .map(|d| (d.attribute.to_string(), d.detail.to_string()))
        .collect()
}

#[test]
fn a_sound_policy_validates() {
    assert_eq!(errors(&base(), Some(&REGIONS)), vec![]);
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
}
