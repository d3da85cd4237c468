//! Plan's defaults: what an unset attribute of every block becomes, and the computed
//! attributes the tier model gives. Pure: no AWS call.

use tf_provider::value::Value;
use tf_provider::Diagnostics;

use crate::state::dr_policy::{PolicyState, RdsClusterBlock, SourceSettingsState};

use super::blocks::DEFAULT_RETENTION_DAYS;
use super::desired::Desired;
use super::s3;
use super::validate::{assess_policy, copy_region, Regions};

/// A static default: applies on every plan while the config is null, so a value changed
/// outside Terraform (read into the prior state) is planned back to the default.
pub(super) fn default<T>(v: &mut Value<T>, config: &Value<T>, value: T) {
    if config.is_null() {
        *v = Value::Value(value);
    }
}

/// A derived default: follows its source on every plan while the config is null.
pub(super) fn derived<T: Clone>(v: &mut Value<T>, config: &Value<T>, from: &Value<T>) {
    if config.is_null() {
        *v = from.clone();
    }
}

/// A value read from the live resources (or left to AWS): unknown until then.
pub(super) fn unknown_if_missing<T>(v: &mut Value<T>, config: &Value<T>) {
    if config.is_null() && v.is_null() {
        *v = Value::Unknown;
    }
}

/// Fills `proposed` with defaults where the configuration is null (never where it is set).
pub(super) fn fill_defaults(proposed: &mut PolicyState, config: &PolicyState, regions: &Regions) {
    let dr = regions.dr.map(str::to_string);
    default(&mut proposed.compliance, &config.compliance, false);
    default(
        &mut proposed.delete_replicas_on_destroy,
        &config.delete_replicas_on_destroy,
        false,
    );

    if let (Value::Value(ps), Value::Value(cs)) = (proposed.rds.as_mut(), config.rds.as_ref()) {
        for (p, c) in ps.iter_mut().zip(cs.iter()) {
            settings_defaults(&mut p.settings, &c.settings);
            let source_id = p.instance_identifier.clone();
            let retention = p.settings.backup_retention_days;
            if let (Value::Value(pr), Value::Value(cr)) = (
                p.cross_region_replica.as_mut(),
                c.cross_region_replica.as_ref(),
            ) {
                if let Some(dr) = &dr {
                    default(&mut pr.region, &cr.region, dr.clone());
                }
                derived(
                    &mut pr.identifier,
                    &cr.identifier,
                    &source_id.clone().map(|id| format!("{id}-dr")),
                );
                unknown_if_missing(&mut pr.instance_class, &cr.instance_class);
                derived(
                    &mut pr.backup_retention_days,
                    &cr.backup_retention_days,
                    &retention,
                );
            }
            if let (Value::Value(pb), Value::Value(cb)) = (
                p.cross_region_backups.as_mut(),
                c.cross_region_backups.as_ref(),
            ) {
                if let Some(dr) = &dr {
                    default(&mut pb.region, &cb.region, dr.clone());
                }
                derived(&mut pb.retention_days, &cb.retention_days, &retention);
            }
        }
    }
    fill_cluster_defaults(proposed, config, regions);
    if let (Value::Value(ps), Value::Value(cs)) = (proposed.s3.as_mut(), config.s3.as_ref()) {
        for (p, c) in ps.iter_mut().zip(cs.iter()) {
            default(&mut p.versioning, &c.versioning, true);
            if let (Value::Value(pr), Value::Value(cr)) =
                (p.replication.as_mut(), c.replication.as_ref())
            {
                if let Some(dr) = &dr {
                    default(
                        &mut pr.destination_region,
                        &cr.destination_region,
                        dr.clone(),
                    );
                }
                default(
                    &mut pr.storage_class,
                    &cr.storage_class,
                    s3::DEFAULT_STORAGE_CLASS.to_string(),
                );
                default(
                    &mut pr.replication_time_control,
                    &cr.replication_time_control,
                    false,
                );
                default(
                    &mut pr.delete_marker_replication,
                    &cr.delete_marker_replication,
                    false,
                );
            }
        }
    }
}

/// Sets `tier`, `estimated_rpo` and `estimated_rto` from the tier model.
pub(super) fn set_model_outputs(s: &mut PolicyState, regions: &Regions) {
    if Desired::from_state(&mut Diagnostics::default(), s).is_none() {
        s.tier = Value::Unknown;
        s.estimated_rpo = Value::Unknown;
        s.estimated_rto = Value::Unknown;
        return;
    }
    let a = assess_policy(s, Some(regions));
    s.tier = Value::Value(a.tier.name().to_string());
    s.estimated_rpo = Value::Value(a.estimated_rpo.map(|d| d.to_string()).unwrap_or_default());
    s.estimated_rto = Value::Value(a.estimated_rto.map(|d| d.to_string()).unwrap_or_default());
}

/// The global cluster a source joins by default.
pub(super) fn default_global_identifier(source: &str) -> String {
    format!("{source}-global")
}

/// Plan: defaults of an `rds` or `rds_cluster` block's source settings; the backup window
/// is unknown until the live source is read when not configured.
fn settings_defaults(p: &mut SourceSettingsState, c: &SourceSettingsState) {
    default(
        &mut p.backup_retention_days,
        &c.backup_retention_days,
        DEFAULT_RETENTION_DAYS,
    );
    default(&mut p.deletion_protection, &c.deletion_protection, true);
    default(&mut p.copy_tags_to_snapshot, &c.copy_tags_to_snapshot, true);
    unknown_if_missing(&mut p.backup_window, &c.backup_window);
}

/// Plan: defaults of the `rds_cluster` blocks where the configuration is null.
pub(super) fn fill_cluster_defaults(
    proposed: &mut PolicyState,
    config: &PolicyState,
    regions: &Regions,
) {
    let (Value::Value(ps), Value::Value(cs)) =
        (proposed.rds_cluster.as_mut(), config.rds_cluster.as_ref())
    else {
        return;
    };
    for (p, c) in ps.iter_mut().zip(cs.iter()) {
        settings_defaults(&mut p.settings, &c.settings);
        let source_id = p.cluster_identifier.clone();
        if let (Value::Value(pg), Value::Value(cg)) =
            (p.global_secondary.as_mut(), c.global_secondary.as_ref())
        {
            if let Some(dr) = regions.dr {
                default(&mut pg.region, &cg.region, dr.to_string());
            }
            derived(
                &mut pg.cluster_identifier,
                &cg.cluster_identifier,
                &source_id.map(|id| format!("{id}-dr")),
            );
            // Read from the live source below (the global cluster it already belongs to).
            unknown_if_missing(
                &mut pg.global_cluster_identifier,
                &cg.global_cluster_identifier,
            );
        }
    }
}

/// The region and identifier of a block's secondary, when both are known.
pub(super) fn secondary_of(b: &RdsClusterBlock, regions: &Regions) -> Option<(String, String)> {
    let g = b.global_secondary.as_ref_option()?;
    let region = copy_region(&g.region, Some(regions))?;
    let id = match &g.cluster_identifier {
        Value::Value(id) => id.clone(),
        Value::Null => format!("{}-dr", b.cluster_identifier.as_ref_option()?),
        Value::Unknown => return None,
    };
    Some((region, id))
}
