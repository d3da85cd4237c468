//! Lifecycle retention: `retention` blocks become S3 lifecycle rules, and rules read back
//! from S3 become blocks again (for drift and import).
//!
//! Rules are identified by ID, never by position, so the order S3 returns them in never
//! causes a diff. drkit's rules carry IDs starting with `drkit:`; rules with other IDs
//! belong to someone else and are kept untouched when the provider writes the lifecycle
//! configuration.

use std::collections::BTreeMap;

use super::s3::{Rule, RULE_ID_PREFIX};

/// The archive class used when `archive_after_days` is set without a class.
pub const DEFAULT_ARCHIVE_CLASS: &str = "GLACIER";

/// The grandfather-father-son periods: the prefix each keeps its objects under, and how
/// many days one unit lasts. A month counts 31 days and a year 365 days, so `yearly = 7`
/// keeps 2555 days, the compliance minimum, and no object expires before its time.
pub const GFS_PERIODS: [(&str, u32); 4] = [
    ("daily", 1),
    ("weekly", 7),
    ("monthly", 31),
    ("yearly", 365),
];

/// A `retention` block with every value known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Retention {
    /// Explicit form: key prefix (empty for the whole bucket).
    pub prefix: Option<String>,
    /// Days before the archive transition.
    pub archive_after_days: Option<u32>,
    /// Archive storage class (default `GLACIER`).
    pub archive_storage_class: Option<String>,
    /// Explicit form: days before expiry.
    pub expire_days: Option<u32>,
    /// Days before noncurrent versions expire.
    pub noncurrent_expire_days: Option<u32>,
    /// GFS form: days of `daily/` objects kept.
    pub daily: Option<u32>,
    /// GFS form: weeks of `weekly/` objects kept.
    pub weekly: Option<u32>,
    /// GFS form: months of `monthly/` objects kept.
    pub monthly: Option<u32>,
    /// GFS form: years of `yearly/` objects kept.
    pub yearly: Option<u32>,
}

impl Retention {
    /// True for the grandfather-father-son form.
    pub fn is_gfs(&self) -> bool {
        self.gfs_counts().iter().any(Option::is_some)
    }

    fn gfs_counts(&self) -> [Option<u32>; 4] {
        [self.daily, self.weekly, self.monthly, self.yearly]
    }

    /// The lifecycle rules this block stands for.
    pub fn rules(&self) -> Vec<Rule> {
        let class = || {
            self.archive_after_days.map(|_| {
                self.archive_storage_class
                    .clone()
                    .unwrap_or_else(|| DEFAULT_ARCHIVE_CLASS.to_string())
            })
        };
        if self.is_gfs() {
            GFS_PERIODS
                .iter()
                .zip(self.gfs_counts())
                .filter_map(|((period, unit), count)| {
                    let expire = count? * unit;
                    // A transition must come before the expiry; shorter periods skip it.
                    let archive = self.archive_after_days.filter(|a| *a < expire);
                    Some(Rule {
                        id: format!("{RULE_ID_PREFIX}gfs:{period}"),
                        prefix: format!("{period}/"),
                        expire_days: Some(expire),
                        archive_after_days: archive,
                        archive_storage_class: archive.and(class()),
                        noncurrent_expire_days: self.noncurrent_expire_days,
                    })
                })
                .collect()
        } else {
            let prefix = self.prefix.clone().unwrap_or_default();
            vec![Rule {
                id: format!("{RULE_ID_PREFIX}prefix:{prefix}"),
                prefix,
                expire_days: self.expire_days,
                archive_after_days: self.archive_after_days,
                archive_storage_class: class(),
                noncurrent_expire_days: self.noncurrent_expire_days,
            }]
        }
    }
}

/// All rules of a bucket's `retention` blocks, sorted by ID.
pub fn rules_of(blocks: &[Retention]) -> Vec<Rule> {
    let mut rules: Vec<Rule> = blocks.iter().flat_map(Retention::rules).collect();
    rules.sort();
    rules
}

/// Longest expiry and whether anything is archived, as the tier model wants them.
pub fn summary(rules: &[Rule]) -> (Option<u32>, bool) {
    let expire = rules.iter().filter_map(|r| r.expire_days).max();
    let archives = rules.iter().any(|r| r.archive_after_days.is_some());
    (expire, archives)
}

/// Rebuilds `retention` blocks from drkit's rules read back from S3 (import, drift).
/// GFS rules are gathered into one block; each explicit rule becomes its own block.
pub fn blocks_of(rules: &[Rule]) -> Vec<Retention> {
    let mut explicit = Vec::new();
    let mut gfs: Option<Retention> = None;
    let mut by_id: BTreeMap<&str, &Rule> = BTreeMap::new();
    for rule in rules {
        by_id.insert(&rule.id, rule);
    }
    for rule in by_id.values() {
        let Some(rest) = rule.id.strip_prefix(RULE_ID_PREFIX) else {
            continue;
        };
        if let Some(period) = rest.strip_prefix("gfs:") {
            let Some((_, unit)) = GFS_PERIODS.iter().find(|(p, _)| *p == period) else {
                continue;
            };
            let block = gfs.get_or_insert_with(Retention::default);
            let count = rule.expire_days.map(|d| d.div_ceil(*unit));
            match period {
                "daily" => block.daily = count,
                "weekly" => block.weekly = count,
                "monthly" => block.monthly = count,
                _ => block.yearly = count,
            }
            if rule.archive_after_days.is_some() {
                block.archive_after_days = rule.archive_after_days;
                block.archive_storage_class = rule.archive_storage_class.clone();
            }
            block.noncurrent_expire_days = rule.noncurrent_expire_days;
        } else if let Some(prefix) = rest.strip_prefix("prefix:") {
            explicit.push(Retention {
                prefix: (!prefix.is_empty()).then(|| prefix.to_string()),
                archive_after_days: rule.archive_after_days,
                archive_storage_class: rule.archive_storage_class.clone(),
                expire_days: rule.expire_days,
                noncurrent_expire_days: rule.noncurrent_expire_days,
                ..Default::default()
            });
        }
    }
    explicit.extend(gfs);
    explicit
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gfs() -> Retention {
        Retention {
            daily: Some(30),
            weekly: Some(12),
            monthly: Some(12),
            yearly: Some(7),
            ..Default::default()
        }
    }

    #[test]
    fn gfs_becomes_one_rule_per_prefix() {
        let rules = gfs().rules();
        let got: Vec<(&str, Option<u32>)> = rules
            .iter()
            .map(|r| (r.prefix.as_str(), r.expire_days))
            .collect();
        assert_eq!(
            got,
            [
                ("daily/", Some(30)),
                ("weekly/", Some(84)),
                ("monthly/", Some(372)),
                ("yearly/", Some(2555))
            ]
        );
        assert_eq!(summary(&rules), (Some(2555), false));
    }

    #[test]
    fn gfs_archive_applies_where_it_precedes_expiry() {
        let mut r = gfs();
        r.archive_after_days = Some(90);
        let rules = r.rules();
        let archived: Vec<&str> = rules
            .iter()
            .filter(|r| r.archive_after_days.is_some())
            .map(|r| r.prefix.as_str())
            .collect();
        assert_eq!(archived, ["monthly/", "yearly/"]);
        assert_eq!(
            r.rules()[3].archive_storage_class.as_deref(),
            Some(DEFAULT_ARCHIVE_CLASS)
        );
    }

    #[test]
    fn blocks_round_trip_through_rules_in_any_order() {
        let explicit = Retention {
            prefix: Some("logs/".into()),
            expire_days: Some(365),
            archive_after_days: Some(30),
            archive_storage_class: Some("DEEP_ARCHIVE".into()),
            noncurrent_expire_days: Some(7),
            ..Default::default()
        };
        let blocks = vec![explicit.clone(), gfs()];
        let mut rules = rules_of(&blocks);
        rules.reverse();
        assert_eq!(blocks_of(&rules), blocks);
    }

    #[test]
    fn foreign_rules_are_ignored() {
        let foreign = Rule {
            id: "someone-else".into(),
            prefix: "tmp/".into(),
            expire_days: Some(1),
            archive_after_days: None,
            archive_storage_class: None,
            noncurrent_expire_days: None,
        };
        assert!(blocks_of(&[foreign]).is_empty());
    }
}
