//! Indexes of one configuration, built once and shared by every rule, so that no rule
//! scans all resources per resource: resources by type, `dr_policy` blocks by the database
//! or bucket they name, split `aws_s3_bucket_*` resources by bucket, replications by source
//! and destination, database copies by source, drill and runbook targets. Each lookup
//! answers what the scan it replaces answered ([`Context::names`] semantics: a reference
//! by address, a string by identity or ARN).

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::context::{arn_resource_name, Context, Mode, Resource};
use crate::eval::Value;
use crate::finding::Location;

/// How a value may name a resource.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// By reference: the resource's address.
    Addr(String),
    /// By a string: the resource's identity (name, identifier), directly or in an ARN.
    Name(String),
}

/// The keys a value names a resource by; `None` when the value cannot name one knowably
/// (unknown, null, a number).
pub fn value_keys(v: &Value) -> Option<Vec<Key>> {
    match v {
        Value::Ref(r) => Some(vec![Key::Addr(r.address.clone())]),
        Value::String(s) => {
            let mut keys = vec![Key::Name(s.clone())];
            if let Some(n) = arn_resource_name(s).filter(|n| *n != s) {
                keys.push(Key::Name(n.to_string()));
            }
            Some(keys)
        }
        _ => None,
    }
}

/// The keys a resource is named by.
pub fn resource_keys(res: &Resource) -> impl Iterator<Item = Key> + '_ {
    std::iter::once(Key::Addr(res.address.clone()))
        .chain(res.identity().map(|id| Key::Name(id.to_string())))
}

/// Values indexed by the keys they name resources with.
#[derive(Debug, Default)]
pub struct Named<T> {
    by_key: HashMap<Key, Vec<T>>,
    /// Some value is a string: it names nothing of a resource without a known identity,
    /// but whether it names that one cannot be known.
    pub strings: bool,
    /// Some value cannot be known at all.
    pub unknown: bool,
}

impl<T: Copy + Ord> Named<T> {
    fn new() -> Self {
        Named {
            by_key: HashMap::default(),
            strings: false,
            unknown: false,
        }
    }

    /// Adds `item`, named by `value`.
    fn add(&mut self, value: Option<&Value>, item: T) {
        match value.and_then(value_keys) {
            Some(keys) => {
                self.strings |= matches!(value, Some(Value::String(_)));
                for k in keys {
                    self.add_key(k, item);
                }
            }
            None => self.unknown = true,
        }
    }

    fn add_key(&mut self, key: Key, item: T) {
        let items = self.by_key.entry(key).or_default();
        if items.last() != Some(&item) {
            items.push(item);
        }
    }

    /// The items whose value names `res` (`names == Some(true)`), in order, once each.
    pub fn naming(&self, res: &Resource) -> Vec<T> {
        let mut out: Vec<T> = resource_keys(res)
            .filter_map(|k| self.by_key.get(&k))
            .flatten()
            .copied()
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether some value names `res`.
    pub fn names(&self, res: &Resource) -> bool {
        resource_keys(res).any(|k| self.by_key.contains_key(&k))
    }

    /// Whether some value might name `res` without it being knowable (`names == None`).
    pub fn may_name(&self, res: &Resource) -> bool {
        self.unknown || (self.strings && res.identity().is_none())
    }
}

/// One replication rule's destination, read once.
#[derive(Debug)]
pub struct Rep {
    /// The resource that configures it.
    pub config: usize,
    /// The source bucket, when resolvable.
    pub source: Option<usize>,
    /// The destination (`arn:aws:s3:::name` or a reference).
    pub destination: Value,
    /// Where the destination is written.
    pub at: Location,
}

/// The `dr_policy` block types and the attribute each names its resource by.
pub const POLICY_BLOCKS: &[(&str, &str)] = &[
    ("rds", "instance_identifier"),
    ("rds_cluster", "cluster_identifier"),
    ("s3", "bucket"),
];

/// Split bucket configuration types whose `bucket` the index resolves.
pub const BUCKET_CONFIGS: &[&str] = &[
    "aws_s3_bucket_lifecycle_configuration",
    "aws_s3_bucket_replication_configuration",
    "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_versioning",
];

/// Everything indexed.
#[derive(Debug, Default)]
pub struct Index {
    /// Managed resources by type, in configuration order.
    managed: HashMap<String, Vec<usize>>,
    /// Data sources by type.
    data: HashMap<String, Vec<usize>>,
    /// `dr_policy` blocks by (block type): (policy, block position in its body).
    policy_blocks: HashMap<&'static str, Named<(usize, usize)>>,
    /// Some `dr_policy` of a block type has a block whose identifier cannot be known, or
    /// dynamic content.
    policy_unknown: HashSet<&'static str>,
    /// Split bucket configurations by type.
    bucket_configs: HashMap<&'static str, Named<usize>>,
    /// Buckets by identity (first in order).
    bucket_by_name: HashMap<String, usize>,
    /// Every enabled replication rule.
    pub replications: Vec<Rep>,
    /// Replications by source bucket (positions in `replications`).
    pub replications_by_source: HashMap<usize, Vec<usize>>,
    /// Some replication's source bucket cannot be resolved.
    pub replication_source_unknown: bool,
    /// Replication destinations (split, inline, and `dr_policy` `destination_bucket`).
    pub replication_destinations: Named<usize>,
    /// Bucket names `dr_drill` sources restore from.
    pub drill_buckets: HashSet<String>,
    /// Database replicas by the source they name.
    pub replicas: Named<usize>,
    /// `aws_db_instance_automated_backups_replication` by source.
    pub backup_replications: Named<usize>,
    /// Some automated-backups replication has no source at all.
    pub backup_replication_without_source: bool,
    /// `aws_backup_selection` `resources` entries.
    pub backup_selected: Named<usize>,
    /// Some backup selection selects without a readable `resources` list (tags, all).
    pub backup_selects_any: bool,
    /// Regions `aws_backup_plan` copy actions copy to (`None`: unknown).
    pub backup_copy_regions: Vec<Option<String>>,
    /// Aurora global database members: each `aws_rds_cluster`'s part in its global
    /// cluster, by position.
    pub global_roles: HashMap<usize, GlobalRole>,
}

/// An `aws_rds_cluster`'s part in an Aurora global database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GlobalRole {
    /// The writer: the global cluster's `source_db_cluster_identifier`, or the member that
    /// creates the data (master credentials, a snapshot), or the first member. Its
    /// secondaries in this configuration, by position.
    Primary(Vec<usize>),
    /// A secondary cluster (the primary's position): a copy, like a read replica.
    Secondary(usize),
    /// A member of a global cluster that cannot be told (an unknown identifier).
    Unknown,
}

impl Index {
    /// Builds the index of `ctx` in one pass over its resources (and a second over the
    /// few kinds that refer to others).
    pub fn new(ctx: &Context) -> Index {
        let mut ix = Index::default();
        for (i, r) in ctx.resources.iter().enumerate() {
            let by_kind = match r.mode {
                Mode::Managed => &mut ix.managed,
                Mode::Data => &mut ix.data,
            };
            match by_kind.get_mut(r.kind.as_str()) {
                Some(list) => list.push(i),
                None => {
                    by_kind.insert(r.kind.clone(), vec![i]);
                }
            }
        }
        ix.index_policies(ctx);
        ix.index_buckets(ctx);
        ix.index_databases(ctx);
        ix
    }

    /// Managed resources of `kind`, in configuration order.
    pub fn managed_of(&self, kind: &str) -> &[usize] {
        self.managed.get(kind).map_or(&[], Vec::as_slice)
    }

    /// Data sources of `kind`.
    pub fn data_of(&self, kind: &str) -> &[usize] {
        self.data.get(kind).map_or(&[], Vec::as_slice)
    }

    /// `dr_policy` blocks of `block` type naming `res`: (policy, block position).
    pub fn policy_blocks(&self, block: &str, res: &Resource) -> Vec<(usize, usize)> {
        self.policy_blocks
            .get(block)
            .map_or_else(Vec::new, |n| n.naming(res))
    }

    /// Whether some `dr_policy` block of `block` type has an identifier that cannot be
    /// known.
    pub fn policy_unknown(&self, block: &str) -> bool {
        self.policy_unknown.contains(block)
    }

    /// Split configurations of `kind` for `bucket`, when `kind` is indexed.
    pub fn bucket_configs(&self, kind: &str) -> Option<&Named<usize>> {
        self.bucket_configs.get(kind)
    }

    /// The first bucket named `name`.
    pub fn bucket_named(&self, name: &str) -> Option<usize> {
        self.bucket_by_name.get(name).copied()
    }

    fn index_policies(&mut self, ctx: &Context) {
        for &(block, _) in POLICY_BLOCKS {
            self.policy_blocks.insert(block, Named::new());
        }
        for &p in self.managed_of("dr_policy").to_vec().iter() {
            let policy = &ctx.resources[p];
            let dynamic = policy.body.has_dynamic();
            for (b, (kind, node)) in policy.body.blocks.iter().enumerate() {
                let Some(&(block, key)) = POLICY_BLOCKS.iter().find(|(k, _)| k == kind) else {
                    continue;
                };
                let named = self.policy_blocks.get_mut(block).expect("inserted above");
                match node.value(key) {
                    Some(v) if value_keys(v).is_some() => {
                        for k in value_keys(v).into_iter().flatten() {
                            named.add_key(k, (p, b));
                        }
                    }
                    // `policy_identifier_unknown`: a missing or unknown identifier.
                    Some(v) if v.is_known() || v.as_ref().is_some() => {}
                    _ => {
                        self.policy_unknown.insert(block);
                    }
                }
            }
            if dynamic {
                for &(block, _) in POLICY_BLOCKS {
                    self.policy_unknown.insert(block);
                }
            }
            for s in policy.body.blocks("s3") {
                for rep in s.blocks("replication") {
                    if let Some(v) = rep.value("destination_bucket") {
                        if let Some(keys) = value_keys(v) {
                            for k in keys {
                                self.replication_destinations.add_key(k, p);
                            }
                        }
                    }
                }
            }
        }
        for &d in self.managed_of("dr_drill").to_vec().iter() {
            for (block, key) in DRILL_BACKUP_URIS {
                for b in ctx.resources[d].body.blocks(block) {
                    if let Some(name) = b.value(key).and_then(Value::as_str).and_then(s3_uri_bucket)
                    {
                        self.drill_buckets.insert(name.to_string());
                    }
                }
            }
        }
    }

    fn index_buckets(&mut self, ctx: &Context) {
        let buckets = self.managed_of("aws_s3_bucket").to_vec();
        // Buckets whose name cannot be evaluated, by module and expression text: a split
        // resource written the same way belongs to them (`facts::config_names`).
        let mut by_text: HashMap<(&str, &str), Vec<usize>> = HashMap::default();
        for &b in &buckets {
            let bucket = &ctx.resources[b];
            if let Some(id) = bucket.identity() {
                self.bucket_by_name.entry(id.to_string()).or_insert(b);
            }
            if let Some(a) = bucket.body.attr("bucket") {
                if a.value.is_unknown() {
                    if let Some(text) = ctx.expression_text(bucket, a) {
                        by_text.entry((&*bucket.module, text)).or_default().push(b);
                    }
                }
            }
        }
        for &kind in BUCKET_CONFIGS {
            let mut named = Named::new();
            for &c in self.managed_of(kind).to_vec().iter() {
                let config = &ctx.resources[c];
                let value = config.value("bucket");
                let owners = value
                    .filter(|v| v.is_unknown())
                    .and_then(|_| ctx.expression_text(config, config.body.attr("bucket")?))
                    .and_then(|text| by_text.get(&(&*config.module, text)));
                match owners {
                    Some(owners) => {
                        for &o in owners {
                            named.add_key(Key::Addr(ctx.resources[o].address.clone()), c);
                        }
                    }
                    None => named.add(value, c),
                }
            }
            self.bucket_configs.insert(kind, named);
        }
        let source_of = |v: &Value| -> Option<usize> {
            if let Some(t) = ctx.target_index(v) {
                return Some(t);
            }
            match v {
                Value::String(s) => {
                    let direct = self.bucket_by_name.get(s.as_str()).copied();
                    let by_arn =
                        arn_resource_name(s).and_then(|n| self.bucket_by_name.get(n).copied());
                    direct.into_iter().chain(by_arn).min()
                }
                _ => None,
            }
        };
        let mut reps = Vec::new();
        for &c in self.managed_of("aws_s3_bucket_replication_configuration") {
            let r = &ctx.resources[c];
            let source = r.value("bucket").and_then(source_of);
            for rule in r.body.blocks("rule").filter(|r| !is_disabled(r)) {
                for dest in rule.blocks("destination") {
                    if let Some(attr) = dest.attr("bucket") {
                        reps.push(Rep {
                            config: c,
                            source,
                            destination: attr.value.clone(),
                            at: attr.value_loc,
                        });
                    }
                }
            }
        }
        for &b in &buckets {
            for rc in ctx.resources[b].body.blocks("replication_configuration") {
                for rule in rc.blocks("rules").filter(|r| !is_disabled(r)) {
                    for dest in rule.blocks("destination") {
                        if let Some(attr) = dest.attr("bucket") {
                            reps.push(Rep {
                                config: b,
                                source: Some(b),
                                destination: attr.value.clone(),
                                at: attr.value_loc,
                            });
                        }
                    }
                }
            }
        }
        for (i, rep) in reps.iter().enumerate() {
            match rep.source {
                Some(src) => self.replications_by_source.entry(src).or_default().push(i),
                None => self.replication_source_unknown = true,
            }
            if let Some(keys) = value_keys(&rep.destination) {
                for k in keys {
                    self.replication_destinations.add_key(k, usize::MAX - i);
                }
            }
        }
        self.replications = reps;
    }

    fn index_databases(&mut self, ctx: &Context) {
        for kind in ["aws_db_instance", "aws_rds_cluster"] {
            let key = if kind == "aws_db_instance" {
                "replicate_source_db"
            } else {
                "replication_source_identifier"
            };
            for &r in self.managed_of(kind).to_vec().iter() {
                if let Some(v) = ctx.resources[r].value(key).filter(|v| v.is_given()) {
                    match value_keys(v) {
                        Some(_) => self.replicas.add(Some(v), r),
                        // Unknown (neither known nor a reference): it may copy anything.
                        None if !v.is_known() && v.as_ref().is_none() => {
                            self.replicas.unknown = true
                        }
                        None => {}
                    }
                }
            }
        }
        for &r in self
            .managed_of("aws_db_instance_automated_backups_replication")
            .to_vec()
            .iter()
        {
            match ctx.resources[r].value("source_db_instance_arn") {
                Some(v) => self.backup_replications.add(Some(v), r),
                None => self.backup_replication_without_source = true,
            }
        }
        for &s in self.managed_of("aws_backup_selection").to_vec().iter() {
            match ctx.resources[s].value("resources").and_then(Value::as_list) {
                Some(list) => {
                    for v in list {
                        self.backup_selected.add(Some(v), s);
                    }
                }
                None => self.backup_selects_any = true,
            }
        }
        self.index_global_clusters(ctx);
        for &p in self.managed_of("aws_backup_plan").to_vec().iter() {
            for rule in ctx.resources[p].body.blocks("rule") {
                for copy in rule.blocks("copy_action") {
                    if let Some(v) = copy.value("destination_vault_arn") {
                        let region = ctx.region_of(v);
                        if !self.backup_copy_regions.contains(&region) {
                            self.backup_copy_regions.push(region);
                        }
                    }
                }
            }
        }
    }
}

impl Index {
    /// Groups `aws_rds_cluster` members by global cluster and picks each group's primary.
    fn index_global_clusters(&mut self, ctx: &Context) {
        let globals = self.managed_of("aws_rds_global_cluster").to_vec();
        // A global cluster by its identifier as a string, for members that name it so.
        let by_name: HashMap<&str, usize> = globals
            .iter()
            .filter_map(|&g| {
                ctx.resources[g]
                    .str("global_cluster_identifier")
                    .map(|n| (n, g))
            })
            .collect();
        // Group key: the global cluster resource's position, or a name outside this
        // configuration.
        let mut groups: HashMap<Result<usize, String>, Vec<usize>> = HashMap::default();
        let mut order: Vec<Result<usize, String>> = Vec::new();
        let clusters = self.managed_of("aws_rds_cluster").to_vec();
        for &c in &clusters {
            let Some(v) = ctx.resources[c].value("global_cluster_identifier") else {
                continue;
            };
            let key = match v {
                _ if !v.is_given() => continue,
                Value::Ref(_) => match ctx.target_index(v) {
                    Some(g) => Ok(g),
                    None => {
                        self.global_roles.insert(c, GlobalRole::Unknown);
                        continue;
                    }
                },
                Value::String(s) => match by_name.get(s.as_str()) {
                    Some(&g) => Ok(g),
                    None => Err(s.clone()),
                },
                _ => {
                    self.global_roles.insert(c, GlobalRole::Unknown);
                    continue;
                }
            };
            if !groups.contains_key(&key) {
                order.push(key.clone());
            }
            groups.entry(key).or_default().push(c);
        }
        // A global cluster made from an existing cluster names it as its source; that
        // cluster is the primary whether or not it names the global cluster back.
        for &g in &globals {
            let Some(source) = ctx.resources[g].value("source_db_cluster_identifier") else {
                continue;
            };
            let primary = match ctx.target_index(source) {
                Some(t) => Some(t),
                None => clusters
                    .iter()
                    .copied()
                    .find(|&c| ctx.names(source, &ctx.resources[c]) == Some(true)),
            };
            let members = groups.entry(Ok(g)).or_default();
            if let Some(p) = primary {
                members.retain(|&m| m != p);
                members.insert(0, p);
            } else {
                // The source cannot be told: no member's part can.
                for &m in members.iter() {
                    self.global_roles.insert(m, GlobalRole::Unknown);
                }
                members.clear();
            }
            if !order.contains(&Ok(g)) {
                order.push(Ok(g));
            }
        }
        for key in order {
            let Some(members) = groups.get(&key).filter(|m| !m.is_empty()) else {
                continue;
            };
            let sourced = matches!(key, Ok(g) if ctx.resources[g].value("source_db_cluster_identifier").is_some());
            let writes = |&c: &usize| {
                let r = &ctx.resources[c];
                WRITER_ATTRIBUTES
                    .iter()
                    .any(|k| r.value(k).is_some_and(|v| !matches!(v, Value::Null)))
            };
            let primary = if sourced {
                members[0]
            } else {
                members.iter().copied().find(writes).unwrap_or(members[0])
            };
            let secondaries: Vec<usize> =
                members.iter().copied().filter(|&m| m != primary).collect();
            for &s in &secondaries {
                self.global_roles.insert(s, GlobalRole::Secondary(primary));
            }
            self.global_roles
                .insert(primary, GlobalRole::Primary(secondaries));
        }
    }
}

/// A replication rule written with `status = "Disabled"`: it copies nothing. (A dynamic
/// rule or an unknown status may be enabled.)
pub fn is_disabled(rule: &crate::context::Node) -> bool {
    !rule.dynamic
        && rule
            .value("status")
            .and_then(Value::as_str)
            .is_some_and(|s| s.eq_ignore_ascii_case("disabled"))
}

/// Attributes only the writer of an Aurora global database sets: the data comes from
/// them (new credentials, a snapshot). A secondary takes its data from the primary.
pub const WRITER_ATTRIBUTES: &[&str] = &[
    "master_username",
    "master_password",
    "manage_master_user_password",
    "snapshot_identifier",
];

/// The bucket named by an S3 URI `s3://bucket/prefix`.
pub fn s3_uri_bucket(uri: &str) -> Option<&str> {
    uri.strip_prefix("s3://")?.split('/').next()
}

/// The source blocks and S3 URI attributes of `dr_drill` that name backup buckets: the
/// dump a `postgres_dump` restores, the base backups and WAL archive a `postgres_pitr`
/// replays.
pub const DRILL_BACKUP_URIS: &[(&str, &str)] = &[
    ("postgres_dump", "s3_uri"),
    ("postgres_pitr", "base_backup_uri"),
    ("postgres_pitr", "wal_archive_uri"),
];
