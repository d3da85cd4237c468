//! `.drlint.toml`: discovery, parsing with exact error positions, and rule selectors.
//!
//! The file is found by walking up from the first linted path to the repository root (the
//! first directory holding `.git`) or the filesystem root; `--config FILE` replaces the
//! search. Every value is checked here, so a typo in a rule code or a severity is reported
//! as `file:line:col: message` before anything is linted.
//!
//! ```toml
//! select = ["ALL"]
//! ignore = ["DR013"]
//! min_retention_days = 14
//! dr_regions = ["eu-west-1"]
//! var_files = ["env/prod.tfvars"]
//! exclude = ["examples/**", ".terraform"]
//! fail_on = "error"
//! baseline = "drlint-baseline.json"
//!
//! [severity]
//! DR010 = "error"
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::finding::Severity;
use crate::render::RuleMeta;

/// The file name searched for when no `--config` is given.
pub const FILE_NAME: &str = ".drlint.toml";

/// The severity gate: findings at or above it make the exit status 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    /// Fail on findings of this severity or worse.
    At(Severity),
    /// Never fail because of findings (file errors still exit 2).
    Never,
}

impl FailOn {
    /// Whether a finding of `severity` trips the gate.
    pub fn trips(self, severity: Severity) -> bool {
        match self {
            FailOn::At(gate) => severity >= gate,
            FailOn::Never => false,
        }
    }
}

impl std::str::FromStr for FailOn {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "never" | "none" => Ok(FailOn::Never),
            other => other.parse::<Severity>().map(FailOn::At).map_err(|_| {
                format!(
                    "unknown level {other:?}: use \"note\", \"warning\", \"error\" or \"never\""
                )
            }),
        }
    }
}

/// A checked `.drlint.toml`. Paths in it are resolved against the file's directory.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Where it was read from.
    pub path: PathBuf,
    /// Rule codes to run, expanded from selectors (`ALL`, `DR01`, `DR003`); `None` if unset.
    pub select: Option<Vec<String>>,
    /// Rule codes to skip, expanded from selectors.
    pub ignore: Vec<String>,
    /// Per-rule severities.
    pub severity: BTreeMap<String, Severity>,
    /// DR004's minimum backup retention.
    pub min_retention_days: Option<u32>,
    /// Regions that count as DR regions.
    pub dr_regions: Option<Vec<String>>,
    /// `*.tfvars` files, in order.
    pub var_files: Vec<PathBuf>,
    /// Files to leave out of the report.
    pub exclude: Vec<Exclude>,
    /// The severity gate.
    pub fail_on: Option<FailOn>,
    /// The baseline (`--baseline`) every run applies.
    pub baseline: Option<PathBuf>,
}

/// A problem in a configuration file, with its position when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line and column, when the problem has a position.
    pub position: Option<(usize, usize)>,
    /// What is wrong and what to write instead.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, col)) => {
                write!(f, "{}:{line}:{col}: {}", self.path.display(), self.message)
            }
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    select: Option<Vec<Spanned<String>>>,
    ignore: Option<Vec<Spanned<String>>>,
    severity: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
    min_retention_days: Option<Spanned<i64>>,
    dr_regions: Option<Vec<Spanned<String>>>,
    var_files: Option<Vec<Spanned<String>>>,
    exclude: Option<Vec<Spanned<String>>>,
    fail_on: Option<Spanned<String>>,
    baseline: Option<Spanned<String>>,
}

/// Finds `.drlint.toml` in `start` (a file's directory when it is a file) or the nearest
/// directory above it, stopping at the repository root (a directory with `.git`).
pub fn discover(start: &Path) -> Option<PathBuf> {
    let start = if start.as_os_str().is_empty() {
        Path::new(".")
    } else {
        start
    };
    let absolute = std::path::absolute(start).ok()?;
    let mut dir = if absolute.is_dir() {
        absolute.as_path()
    } else {
        absolute.parent()?
    };
    loop {
        let candidate = dir.join(FILE_NAME);
        if candidate.is_file() {
            return Some(candidate);
        }
        if dir.join(".git").exists() {
            return None;
        }
        dir = dir.parent()?;
    }
}

/// Reads and checks a configuration file; `rules` is the catalog rule codes are checked
/// against.
pub fn load(path: &Path, rules: &[RuleMeta]) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        path: path.to_path_buf(),
        position: None,
        message: format!("cannot read the configuration: {e}"),
    })?;
    parse(path, &text, rules)
}

/// Checks configuration text that was read from `path`.
pub fn parse(path: &Path, text: &str, rules: &[RuleMeta]) -> Result<Config, ConfigError> {
    let err = |span: Option<Range<usize>>, message: String| ConfigError {
        path: path.to_path_buf(),
        position: span.map(|s| line_col(text, s.start)),
        message,
    };
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        err(
            e.span(),
            e.message()
                .trim()
                .replace('\n', " ")
                .replace("  ", " ")
                .replace("expected i64", "expected an integer")
                .replace("expected a sequence", "expected an array")
                .replace("expected a string", "expected a quoted string"),
        )
    })?;
    let base = path.parent().unwrap_or(Path::new("")).to_path_buf();
    let mut config = Config {
        path: path.to_path_buf(),
        ..Config::default()
    };

    let expand_all = |items: Vec<Spanned<String>>| -> Result<Vec<String>, ConfigError> {
        let mut codes = Vec::new();
        for item in items {
            let span = item.span();
            let found = expand_selector(item.get_ref(), rules).map_err(|m| err(Some(span), m))?;
            for code in found {
                if !codes.contains(&code) {
                    codes.push(code);
                }
            }
        }
        Ok(codes)
    };
    if let Some(select) = raw.select {
        config.select = Some(expand_all(select)?);
    }
    if let Some(ignore) = raw.ignore {
        config.ignore = expand_all(ignore)?;
    }
    for (code, level) in raw.severity.unwrap_or_default() {
        let code_span = code.span();
        let key = code.into_inner().to_ascii_uppercase();
        if rules.iter().all(|r| r.code != key) {
            return Err(err(Some(code_span), unknown_code_message(&key, rules)));
        }
        let level_span = level.span();
        let severity = level
            .get_ref()
            .parse::<Severity>()
            .map_err(|m| err(Some(level_span), m))?;
        config.severity.insert(key, severity);
    }
    if let Some(days) = raw.min_retention_days {
        let span = days.span();
        let value = *days.get_ref();
        if !(1..=35).contains(&value) {
            return Err(err(
                Some(span),
                format!(
                    "min_retention_days = {value} is out of range: RDS keeps automated backups \
                     for 1 to 35 days"
                ),
            ));
        }
        config.min_retention_days = Some(value as u32);
    }
    if let Some(regions) = raw.dr_regions {
        let mut out = Vec::new();
        for region in regions {
            let span = region.span();
            let name = region.into_inner();
            check_region(&name).map_err(|m| err(Some(span), m))?;
            out.push(name);
        }
        config.dr_regions = Some(out);
    }
    for file in raw.var_files.unwrap_or_default() {
        let span = file.span();
        if file.get_ref().is_empty() {
            return Err(err(Some(span), "a var file path is empty".into()));
        }
        config.var_files.push(base.join(file.get_ref()));
    }
    for pattern in raw.exclude.unwrap_or_default() {
        let span = pattern.span();
        let glob = Exclude::new(pattern.get_ref(), &base).map_err(|m| err(Some(span), m))?;
        config.exclude.push(glob);
    }
    if let Some(file) = raw.baseline {
        if file.get_ref().is_empty() {
            return Err(err(Some(file.span()), "the baseline path is empty".into()));
        }
        config.baseline = Some(base.join(file.get_ref()));
    }
    if let Some(level) = raw.fail_on {
        let span = level.span();
        config.fail_on = Some(level.get_ref().parse().map_err(|m| err(Some(span), m))?);
    }
    Ok(config)
}

/// Expands a rule selector into rule codes: `ALL`, an exact code (`DR003`, any case) or a
/// code prefix (`DR01` = DR010–DR015). A selector matching nothing is an error.
pub fn expand_selector(selector: &str, rules: &[RuleMeta]) -> Result<Vec<String>, String> {
    let wanted = selector.trim().to_ascii_uppercase();
    if wanted == "ALL" {
        return Ok(rules.iter().map(|r| r.code.to_string()).collect());
    }
    if let Some(rule) = rules
        .iter()
        .find(|r| r.code == wanted || r.name == selector.trim())
    {
        return Ok(vec![rule.code.to_string()]);
    }
    let by_prefix: Vec<String> = if wanted.len() >= 2 && wanted.starts_with("DR") {
        rules
            .iter()
            .filter(|r| r.code.starts_with(&wanted))
            .map(|r| r.code.to_string())
            .collect()
    } else {
        Vec::new()
    };
    if by_prefix.is_empty() {
        Err(unknown_code_message(selector.trim(), rules))
    } else {
        Ok(by_prefix)
    }
}

/// "unknown rule code X; valid codes: ..." — shared by the config, the CLI and `explain`.
pub fn unknown_code_message(code: &str, rules: &[RuleMeta]) -> String {
    let valid: Vec<&str> = rules.iter().map(|r| r.code).collect();
    format!(
        "unknown rule code {code:?}; valid codes are {} (or ALL)",
        valid.join(", ")
    )
}

/// Region names look like `eu-west-1` or `us-gov-west-1`.
pub fn check_region(name: &str) -> Result<(), String> {
    let parts: Vec<&str> = name.split('-').collect();
    let ok = parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not an AWS region name (like \"eu-west-1\")"
        ))
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, col)
}

/// An `exclude` glob: `*` and `?` stay within a path segment, `**` spans segments. A pattern
/// without `/` matches any segment (`.terraform`, `*_override.tf`); one with `/` matches the
/// path relative to the configuration's directory. A match on a directory covers everything
/// below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exclude {
    pattern: String,
    base: PathBuf,
}

impl Exclude {
    /// A glob relative to `base`.
    pub fn new(pattern: &str, base: &Path) -> Result<Self, String> {
        let pattern = pattern
            .trim()
            .trim_start_matches("./")
            .trim_end_matches('/');
        if pattern.is_empty() {
            return Err("an exclude pattern is empty".into());
        }
        Ok(Self {
            pattern: pattern.to_string(),
            base: std::path::absolute(base).unwrap_or_else(|_| base.to_path_buf()),
        })
    }

    /// Whether `file` (relative to the working directory, or absolute) is excluded.
    pub fn matches(&self, file: &Path) -> bool {
        let absolute = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
        let relative = absolute.strip_prefix(&self.base).unwrap_or(file);
        let segments: Vec<String> = relative
            .components()
            .filter_map(|c| match c {
                std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect();
        if !self.pattern.contains('/') {
            return segments.iter().any(|s| glob_match(&self.pattern, s));
        }
        // The path or any of its ancestors.
        (1..=segments.len()).any(|n| glob_match(&self.pattern, &segments[..n].join("/")))
    }
}

/// Glob matching on `/`-separated text: `**` (any segments), `*` and `?` (within a segment).
fn glob_match(pattern: &str, text: &str) -> bool {
    fn inner(p: &[u8], t: &[u8]) -> bool {
        if p.is_empty() {
            return t.is_empty();
        }
        if p.starts_with(b"**") {
            let rest = p[2..].strip_prefix(b"/").unwrap_or(&p[2..]);
            if rest.is_empty() {
                return true;
            }
            // `**` stands for zero or more whole segments.
            return inner(rest, t)
                || (0..t.len()).any(|i| t[i] == b'/' && inner(rest, &t[i + 1..]));
        }
        match p[0] {
            b'*' => (0..=t.len())
                .take_while(|&i| i == 0 || t[i - 1] != b'/')
                .any(|i| inner(&p[1..], &t[i..])),
            b'?' => !t.is_empty() && t[0] != b'/' && inner(&p[1..], &t[1..]),
            c => !t.is_empty() && t[0] == c && inner(&p[1..], &t[1..]),
        }
    }
    inner(pattern.as_bytes(), text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_segments_and_paths() {
        assert!(glob_match("*.tf", "main.tf"));
        assert!(!glob_match("*.tf", "a/main.tf"));
        assert!(glob_match("examples/**", "examples/a/b.tf"));
        assert!(glob_match("**/test/*.tf", "a/b/test/x.tf"));
        assert!(glob_match("**/test/*.tf", "test/x.tf"));
        assert!(glob_match("a/?.tf", "a/b.tf"));
        assert!(!glob_match("a/?.tf", "a/bc.tf"));
    }

    #[test]
    fn exclude_without_slash_matches_any_segment() {
        let e = Exclude::new(".terraform", Path::new("/repo")).unwrap();
        assert!(e.matches(Path::new("/repo/env/.terraform/modules/x/main.tf")));
        assert!(!e.matches(Path::new("/repo/env/main.tf")));
        let d = Exclude::new("legacy/", Path::new("/repo")).unwrap();
        assert!(d.matches(Path::new("/repo/legacy/db.tf")));
    }

    #[test]
    fn fail_on_parses_never() {
        assert_eq!("never".parse::<FailOn>(), Ok(FailOn::Never));
        assert!(FailOn::At(Severity::Warning).trips(Severity::Error));
        assert!(!FailOn::At(Severity::Error).trips(Severity::Warning));
        assert!("fatal".parse::<FailOn>().is_err());
    }

    #[test]
    fn unknown_key_reports_its_line() {
        let rules = crate::render::testing::rules();
        let e = parse(
            Path::new(".drlint.toml"),
            "select = []\nbogus = 1\n",
            &rules,
        )
        .unwrap_err();
        assert_eq!(e.position.map(|p| p.0), Some(2), "{e}");
        assert!(e.message.contains("bogus"), "{e}");
    }

    #[test]
    fn regions_are_checked() {
        assert!(check_region("eu-west-1").is_ok());
        assert!(check_region("us-gov-west-1").is_ok());
        assert!(check_region("Europe").is_err());
    }

    #[test]
    fn arbitrary_config_text_never_panics() {
        let pieces = [
            "select",
            "ignore",
            "[severity]",
            "DR010",
            "=",
            "\"",
            "[",
            "]",
            ",",
            "\n",
            " ",
            "min_retention_days",
            "99",
            "-1",
            "é",
            "exclude",
            "**",
            "fail_on",
            "{",
            "}",
            "#",
        ];
        let rules = crate::render::testing::rules();
        for seed in 0..2000 {
            let text = crate::suppress::tests::noise(seed, &pieces, (seed % 30) as usize);
            let _ = parse(Path::new(".drlint.toml"), &text, &rules);
        }
    }

    #[test]
    fn selectors_expand_to_codes() {
        let rules = crate::render::testing::rules();
        assert_eq!(
            expand_selector("ALL", &rules).unwrap(),
            ["DR000", "DR003", "DR010", "DR900", "DR901", "DR902"]
        );
        assert_eq!(expand_selector("dr003", &rules).unwrap(), ["DR003"]);
        assert_eq!(expand_selector("DR0", &rules).unwrap().len(), 3);
        assert_eq!(expand_selector("DR01", &rules).unwrap(), ["DR010"]);
        assert_eq!(
            expand_selector("no-cross-region-copy", &rules).unwrap(),
            ["DR010"]
        );
        let e = expand_selector("DR999", &rules).unwrap_err();
        assert!(e.contains("DR000, DR003, DR010"), "{e}");
    }

    #[test]
    fn every_key_is_read_and_paths_are_relative_to_the_file() {
        let rules = crate::render::testing::rules();
        let text = "select = [\"ALL\"]\nignore = [\"dr010\"]\nmin_retention_days = 14\ndr_regions = [\"eu-central-1\"]\nvar_files = [\"prod.tfvars\"]\nexclude = [\"examples/**\"]\nfail_on = \"error\"\nbaseline = \"drlint-baseline.json\"\n\n[severity]\ndr010 = \"note\"\n";
        let c = parse(Path::new("/repo/infra/.drlint.toml"), text, &rules).unwrap();
        assert_eq!(c.select.as_deref().map(<[String]>::len), Some(6));
        assert_eq!(c.ignore, ["DR010"]);
        assert_eq!(c.min_retention_days, Some(14));
        assert_eq!(c.dr_regions, Some(vec!["eu-central-1".to_string()]));
        assert_eq!(c.var_files, [PathBuf::from("/repo/infra/prod.tfvars")]);
        assert!(c.exclude[0].matches(Path::new("/repo/infra/examples/a/main.tf")));
        assert!(!c.exclude[0].matches(Path::new("/repo/examples/a/main.tf")));
        assert_eq!(c.fail_on, Some(FailOn::At(Severity::Error)));
        assert_eq!(
            c.baseline,
            Some(PathBuf::from("/repo/infra/drlint-baseline.json"))
        );
        assert_eq!(c.severity.get("DR010"), Some(&Severity::Note));
    }

    #[test]
    fn errors_point_at_the_value() {
        let rules = crate::render::testing::rules();
        let cases = [
            ("select = [\"DR003\", \"DR123\"]\n", (1, 20), "DR123"),
            ("[severity]\nDR010 = \"fatal\"\n", (2, 9), "fatal"),
            ("[severity]\nDR999 = \"error\"\n", (2, 1), "DR999"),
            ("min_retention_days = 90\n", (1, 22), "1 to 35"),
            ("min_retention_days = \"7d\"\n", (1, 22), "integer"),
            ("dr_regions = [\"eu-west-1\", \"moon\"]\n", (1, 28), "moon"),
            ("fail_on = \"sometimes\"\n", (1, 11), "never"),
            ("select = \"DR003\"\n", (1, 10), "array"),
            ("exclude = [\"\"]\n", (1, 12), "empty"),
        ];
        for (text, position, words) in cases {
            let e = parse(Path::new(".drlint.toml"), text, &rules).unwrap_err();
            assert_eq!(e.position, Some(position), "{text}: {e}");
            assert!(e.message.contains(words), "{text}: {e}");
            assert!(e
                .to_string()
                .starts_with(&format!(".drlint.toml:{}:{}: ", position.0, position.1)));
        }
        let e = parse(Path::new(".drlint.toml"), "select = [\n", &rules).unwrap_err();
        assert!(e.position.is_some(), "{e}");
    }
}
