use terraform_provider_dr::provider::DrProvider;

/// Terraform passes `TF_LOG` / `TF_LOG_PROVIDER` to plugins and copies their stderr into its
/// own log, so with `TF_LOG=DEBUG` the provider's AWS calls show there, as with the AWS
/// provider. `PLUGIN_LOG_FILE` (tf-provider's trace file) takes precedence.
fn init_logging() {
    use tracing::Level;
    if std::env::var_os("PLUGIN_LOG_FILE").is_some() {
        return;
    }
    let wanted = std::env::var("TF_LOG_PROVIDER")
        .or_else(|_| std::env::var("TF_LOG"))
        .unwrap_or_default()
        .to_ascii_uppercase();
    let level = match wanted.as_str() {
        "TRACE" | "JSON" => Level::TRACE,
        "DEBUG" => Level::DEBUG,
        "INFO" => Level::INFO,
        "WARN" => Level::WARN,
        "ERROR" => Level::ERROR,
        _ => return,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .try_init();
}

/// The release version, from `[workspace.package]` in the workspace's Cargo.toml.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `terraform-provider-dr --version` (or `-V`) prints `terraform-provider-dr VERSION` on
/// stdout and exits: no handshake, so it is safe to run by hand on an installed binary.
fn print_version_if_asked() -> bool {
    use std::io::Write;
    let asked = std::env::args()
        .skip(1)
        .any(|arg| arg == "--version" || arg == "-V");
    if asked {
        let _ = writeln!(std::io::stdout(), "terraform-provider-dr {VERSION}");
    }
    asked
}

/// Stack of each runtime thread. A drill is one deep async call chain (restore, wait,
/// placement checks, verify, teardown, evidence) whose future an unoptimised build keeps
/// uncompacted: tokio's 2 MiB default overflowed on Aurora drills in the debug build.
const THREAD_STACK_BYTES: usize = 16 * 1024 * 1024;

fn main() -> anyhow::Result<()> {
    if print_version_if_asked() {
        return Ok(());
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(THREAD_STACK_BYTES)
        .build()?
        .block_on(serve())
}

async fn serve() -> anyhow::Result<()> {
    init_logging();
    // Which build a bug report came from: Terraform copies this into its log.
    tracing::info!("terraform-provider-dr {VERSION} starting");
    // Ctrl-C reaches the whole process group, the plugin included. Like Go plugins, do not
    // die on it: Terraform sends StopProvider, and a running drill must tear down first.
    tokio::spawn(async {
        while tokio::signal::ctrl_c().await.is_ok() {
            tf_provider::stop_token().cancel();
        }
    });
    tf_provider::serve("dr", DrProvider::new()).await
}
