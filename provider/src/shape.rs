//! Shape checks on single strings (regions, URLs, identifiers, KMS keys): pure functions
//! with no dependency on the rest of the crate, so every layer above (state, the policy
//! and drill logic, the resources, the provider block) shares one definition of each shape.

/// True for names shaped like AWS regions (`us-east-1`, `eu-central-2`, `us-gov-west-1`).
pub fn is_region_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

/// True for an `http://` or `https://` URL with a host (and no whitespace).
pub fn is_http_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !r.contains(char::is_whitespace)
    })
}

/// RDS instance and cluster identifiers: a letter, then letters, digits and single `-`, at
/// most 63 characters, not ending in `-`.
pub fn is_rds_identifier(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphabetic()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        && !s.ends_with('-')
        && !s.contains("--")
}

/// S3 bucket names: 3 to 63 lowercase letters, digits, `-` and `.`, starting and ending
/// with a letter or digit.
pub fn is_bucket_name(s: &str) -> bool {
    let b = s.as_bytes();
    (3..=63).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-' || *c == b'.')
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

/// Policy names go into tags and the import ID: letters, digits, `_`, `.`, `-`.
pub fn is_policy_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"_.-".contains(&c))
}

/// RDS instance classes: `db.<family>.<size>`, e.g. `db.r6g.large`.
pub fn is_instance_class(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 3
        && parts[0] == "db"
        && parts[1..].iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        })
}

/// DB subnet group names: 1 to 255 letters, digits, spaces, `.`, `_` and `-`.
pub fn is_db_subnet_group_name(s: &str) -> bool {
    (1..=255).contains(&s.len())
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b" ._-".contains(&c))
}

/// DB (cluster) parameter group names: a letter, then letters, digits, single `-` and `.`
/// (the defaults are `default.postgres15`), at most 255 characters, not ending in `-`.
pub fn is_parameter_group_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 255
        && b[0].is_ascii_alphabetic()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'.')
        && !s.ends_with('-')
        && !s.contains("--")
}

/// VPC security group IDs: `sg-` and 8 or 17 lowercase hex digits.
pub fn is_security_group_id(s: &str) -> bool {
    s.strip_prefix("sg-").is_some_and(|hex| {
        matches!(hex.len(), 8 | 17)
            && hex
                .bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
    })
}

/// A KMS key ARN, `arn:PARTITION:kms:REGION:ACCOUNT:key/ID` (or `:alias/NAME`).
pub fn is_kms_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "kms"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|c| c.is_ascii_digit())
        && ["key/", "alias/"].iter().any(|p| {
            parts[5]
                .strip_prefix(p)
                .is_some_and(|rest| !rest.is_empty())
        })
}

/// A KMS key of the bucket's own region: a key ID, `alias/NAME` or a key ARN.
pub fn is_kms_key(s: &str) -> bool {
    if s.starts_with("arn:") {
        return is_kms_arn(s);
    }
    !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-_/".contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restore_placement_names() {
        assert!(is_db_subnet_group_name("dr private_1.a"));
        assert!(!is_db_subnet_group_name(""));
        assert!(!is_db_subnet_group_name("subnet/group"));
        assert!(is_parameter_group_name("default.postgres15"));
        assert!(is_parameter_group_name("orders-pg15"));
        for bad in ["", "1pg", "pg-", "pg--15", "pg_15"] {
            assert!(!is_parameter_group_name(bad), "{bad}");
        }
        assert!(is_security_group_id("sg-0123abcd"));
        assert!(is_security_group_id("sg-438c8024a6d6ce450"));
        for bad in ["", "sg-", "0123abcd", "sg-0123ABCD", "sg-0123abc", "my-sg"] {
            assert!(!is_security_group_id(bad), "{bad}");
        }
    }

    #[test]
    fn region_names() {
        for ok in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "ap-southeast-4",
        ] {
            assert!(is_region_name(ok), "{ok}");
        }
        for bad in ["", "us-east", "US-EAST-1", "us_east_1", "us--1"] {
            assert!(!is_region_name(bad), "{bad}");
        }
    }
}
