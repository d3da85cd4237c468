//! Which objects of an S3 listing the drills restore: the dump a `postgres_dump` or
//! `mysql_dump` drill takes under its prefix, and the folders a `postgres_pitr` drill
//! counts as base backups. Pure functions over a listing, public so that `dr_status`'s
//! freshness preflight judges exactly the objects a drill would restore.

use std::collections::HashMap;

use time::OffsetDateTime;

/// One object of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Its key.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
    /// `LastModified`: when its upload finished.
    pub modified: OffsetDateTime,
}

/// The object a dump drill of `prefix` restores: the object the prefix names exactly
/// (`daily/db.sql`, not a newer `daily/db.sql.bak` beside it), else the newest by
/// `LastModified`. Folder markers (`.../`) and empty objects are never dumps.
pub fn dump<'a>(prefix: &str, listed: &'a [Listed]) -> Option<&'a Listed> {
    let dumps = listed
        .iter()
        .filter(|o| !o.key.ends_with('/') && o.size > 0);
    let mut newest: Option<&Listed> = None;
    for o in dumps {
        if o.key == prefix {
            return Some(o);
        }
        if newest.is_none_or(|n| n.modified < o.modified) {
            newest = Some(o);
        }
    }
    newest
}

/// A folder of a base-backup listing that holds a base backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupFolder {
    /// The folder's key prefix, without the trailing `/` (empty at the bucket's root).
    pub folder: String,
    /// The backup's `base.tar.gz` (or `base.tar`).
    pub base: Listed,
    /// Every file of the folder: its name -> its key.
    pub files: HashMap<String, String>,
}

/// The base backups of a listing: each folder holding `base.tar.gz` (or `base.tar`), as
/// `pg_basebackup -Ft [-z]` writes one per run. Ordered by folder.
pub fn base_backups(listed: &[Listed]) -> Vec<BackupFolder> {
    let mut folders: HashMap<&str, HashMap<String, &Listed>> = HashMap::new();
    for l in listed {
        let (folder, name) = l.key.rsplit_once('/').unwrap_or(("", &l.key));
        folders
            .entry(folder)
            .or_default()
            .insert(name.to_string(), l);
    }
    let mut out: Vec<BackupFolder> = folders
        .into_iter()
        .filter_map(|(folder, files)| {
            let base = files.get("base.tar.gz").or_else(|| files.get("base.tar"))?;
            Some(BackupFolder {
                folder: folder.to_string(),
                base: (*base).clone(),
                files: files
                    .iter()
                    .map(|(name, l)| (name.clone(), l.key.clone()))
                    .collect(),
            })
        })
        .collect();
    out.sort_by(|a, b| a.folder.cmp(&b.folder));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(key: &str, size: u64, min: i64) -> Listed {
        Listed {
            key: key.into(),
            size,
            modified: OffsetDateTime::UNIX_EPOCH + time::Duration::minutes(min),
        }
    }

    #[test]
    fn the_newest_non_empty_object_is_the_dump() {
        let listed = [
            l("daily/", 0, 9),
            l("daily/a.dump", 10, 1),
            l("daily/b.dump", 10, 5),
            l("daily/c.dump", 0, 8),
        ];
        assert_eq!(dump("daily/", &listed).unwrap().key, "daily/b.dump");
        assert_eq!(dump("daily/", &listed[..1]), None);
    }

    #[test]
    fn a_prefix_naming_an_object_takes_that_object() {
        let listed = [l("daily/db.sql", 10, 1), l("daily/db.sql.bak", 10, 5)];
        assert_eq!(dump("daily/db.sql", &listed).unwrap().key, "daily/db.sql");
    }

    #[test]
    fn base_backups_are_folders_holding_a_base_tar() {
        let listed = [
            l("base/2026-12-01/base.tar.gz", 10, 1),
            l("base/2026-12-01/pg_wal.tar.gz", 10, 1),
            l("base/2026-12-02/base.tar", 10, 2),
            l("base/2026-12-03/pg_wal.tar.gz", 10, 3),
            l("base/notes.txt", 10, 4),
        ];
        let found = base_backups(&listed);
        let folders: Vec<&str> = found.iter().map(|b| b.folder.as_str()).collect();
        assert_eq!(folders, ["base/2026-12-01", "base/2026-12-02"]);
        assert_eq!(found[0].base.key, "base/2026-12-01/base.tar.gz");
        assert_eq!(
            found[0].files["pg_wal.tar.gz"],
            "base/2026-12-01/pg_wal.tar.gz"
        );
    }
}
