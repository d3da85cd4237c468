//! `drkit`: checks and reports the evidence `dr_drill` leaves in S3, for auditors and CI.
//! A thin shell over `drkit_drill::evidence`; AWS is configured as for the AWS CLI.

mod aws;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use drkit_drill::evidence::{self, Audit, AuditOptions, Chain, Location, PublicKey};

const AFTER_HELP: &str = "\
Exit status: 0 every record verified, 1 a record failed (each is named with why),
2 usage or access errors (bucket or key unreadable, no credentials).

AWS configuration as for the AWS CLI: AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL,
~/.aws/config and ~/.aws/credentials. Docs: docs/drkit-cli.md.";

#[derive(Parser, Debug)]
#[command(
    name = "drkit",
    version,
    about = "Verify and report the signed, hash-chained evidence of DR drills.",
    after_help = AFTER_HELP
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Drill evidence in S3 (`dr_drill` `evidence { }`).
    #[command(subcommand)]
    Evidence(EvidenceCommand),
}

#[derive(Subcommand, Debug)]
enum EvidenceCommand {
    /// Check every record: its KMS signature, the hash chain, Object Lock retention
    /// against what it declares, and that no record was overwritten.
    Verify {
        /// `s3://bucket/prefix/`: the `evidence` block's `s3_uri`.
        s3_uri: String,
        #[command(flatten)]
        select: Select,
        /// Minimum retention in days from each drill's start, beyond what records declare.
        #[arg(long, value_name = "DAYS")]
        retain_days: Option<u32>,
        /// `text` or `json`.
        #[arg(long, value_enum, default_value_t = VerifyFormat::Text)]
        format: VerifyFormat,
    },
    /// Write one self-contained report: per drill the history, RTO/RPO charts against
    /// targets and failures, and the records answering each control (SOC 2 A1.3, ISO
    /// 27001 A.5.30/A.8.13, PCI DSS 12.10.2, DORA Art. 12).
    Report {
        /// `s3://bucket/prefix/`.
        s3_uri: String,
        #[command(flatten)]
        select: Select,
        /// The file to write (`-`: standard output).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// `html` (one file, opens offline) or `json`.
        #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
        format: ReportFormat,
    },
}

/// Which records, and which key to trust.
#[derive(clap::Args, Debug)]
struct Select {
    /// Only this drill's records (its folder under the prefix).
    #[arg(long, value_name = "NAME")]
    drill: Option<String>,
    /// Verify offline with this public key (DER or PEM, from `aws kms get-public-key`)
    /// instead of calling kms:Verify.
    #[arg(long, value_name = "FILE", conflicts_with = "key_id")]
    public_key: Option<PathBuf>,
    /// Trust only this KMS key (ARN, or key id): records signed by another fail.
    #[arg(long, value_name = "KEY")]
    key_id: Option<String>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum VerifyFormat {
    Text,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum ReportFormat {
    Html,
    Json,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with status 0; usage errors to stderr with 2.
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("drkit: error: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("drkit: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(command: Command) -> Result<ExitCode> {
    let Command::Evidence(command) = command;
    match command {
        EvidenceCommand::Verify {
            s3_uri,
            select,
            retain_days,
            format,
        } => {
            let (chains, audit) = load_and_audit(&s3_uri, &select, retain_days).await?;
            print_verdict(&s3_uri, &chains, &audit, format)
        }
        EvidenceCommand::Report {
            s3_uri,
            select,
            out,
            format,
        } => {
            let (chains, audit) = load_and_audit(&s3_uri, &select, None).await?;
            let text = match format {
                ReportFormat::Html => evidence::report_html(&s3_uri, &chains, &audit),
                ReportFormat::Json => {
                    serde_json::to_string_pretty(&evidence::report_json(&s3_uri, &chains, &audit))?
                }
            };
            if out.as_os_str() == "-" {
                std::io::stdout().lock().write_all(text.as_bytes())?;
            } else {
                std::fs::write(&out, text).with_context(|| format!("writing {}", out.display()))?;
                eprintln!(
                    "drkit: wrote {} ({} records of {} drills)",
                    out.display(),
                    audit.records.len(),
                    chains.len()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Reads every record below `s3_uri` and checks it.
async fn load_and_audit(
    s3_uri: &str,
    select: &Select,
    retain_days: Option<u32>,
) -> Result<(Vec<Chain>, Audit)> {
    let location = Location::parse(s3_uri).map_err(anyhow::Error::msg)?;
    let public_key = match &select.public_key {
        Some(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            Some(PublicKey::parse(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?)
        }
        None => None,
    };
    let base = aws::load().await;
    let region = evidence::bucket_region(&aws::s3(&base, None), &location.bucket)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.detail))?;
    let s3 = aws::s3(&base, Some(&region));
    let chains = evidence::load_chains(&s3, &location, select.drill.as_deref(), true)
        .await
        .map_err(anyhow::Error::msg)?;
    let kms_for = |region: &str| aws::kms(&base, region);
    let audit = evidence::audit(
        &chains,
        &AuditOptions {
            public_key,
            key_id: select.key_id.clone(),
            kms: &kms_for,
            min_retain_days: retain_days,
        },
    )
    .await;
    Ok((chains, audit))
}

fn print_verdict(
    s3_uri: &str,
    chains: &[Chain],
    audit: &Audit,
    format: VerifyFormat,
) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    let bad = audit.bad().count();
    let code = if bad > 0 || audit.records.is_empty() {
        ExitCode::from(1)
    } else if !audit.errors.is_empty() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    };
    if format == VerifyFormat::Json {
        serde_json::to_writer_pretty(&mut out, audit)?;
        writeln!(out)?;
        return Ok(code);
    }
    for r in audit.bad() {
        for p in &r.problems {
            writeln!(
                out,
                "FAIL {}/{}: {}: {}",
                r.drill, r.run_id, p.kind, p.detail
            )?;
        }
    }
    for e in &audit.errors {
        eprintln!("drkit: error: {e}");
    }
    if audit.records.is_empty() {
        writeln!(out, "FAIL no evidence records under {s3_uri}")?;
        return Ok(code);
    }
    let keys: Vec<&str> = audit.keys.iter().map(String::as_str).collect();
    if bad == 0 && audit.errors.is_empty() {
        writeln!(
            out,
            "OK {} records of {} drills under {s3_uri}: signatures valid ({}), chains intact, locked as declared",
            audit.records.len(),
            chains.len(),
            keys.join(", ")
        )?;
    } else if bad > 0 {
        writeln!(
            out,
            "{bad} of {} records failed verification under {s3_uri}",
            audit.records.len()
        )?;
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }

    #[test]
    fn no_s3_uri_is_a_usage_error() {
        let e = <super::Cli as clap::Parser>::try_parse_from(["drkit", "evidence", "verify"])
            .unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }
}
