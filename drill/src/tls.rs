//! TLS of the SQL connections a drill makes to a target or restored copy, named after libpq's
//! `sslmode` because most users know it, and the same for both engines:
//!
//! | `tls_mode`    | encrypted                     | server certificate checked        |
//! |---------------|-------------------------------|-----------------------------------|
//! | `disable`     | never                         | -                                 |
//! | `prefer`      | when the server offers TLS    | no                                |
//! | `require`     | always (fails without TLS)    | no                                |
//! | `verify-ca`   | always                        | chain to `tls_ca_file` (or system)|
//! | `verify-full` | always                        | chain and host name               |
//!
//! `prefer` is the default, as in libpq: RDS (whose PostgreSQL 15+ forces TLS and whose
//! MySQL 8.4 requires secure transport) offers TLS, so a default drill encrypts there, and a
//! server without TLS still works. The Rust clients use rustls on ring (as the webhook); the
//! spawned tools get the same setting as `PGSSLMODE`/`PGSSLROOTCERT` or client flags.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// How a connection uses TLS (libpq's `sslmode` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsMode {
    /// Plain text only.
    Disable,
    /// TLS when the server offers it, else plain; the certificate is not checked.
    #[default]
    Prefer,
    /// TLS or fail; the certificate is not checked.
    Require,
    /// TLS, and the certificate chains to a trusted CA.
    VerifyCa,
    /// TLS, the certificate chains to a trusted CA and names the host connected to.
    VerifyFull,
}

/// The names `tls_mode` takes.
pub const TLS_MODES: &[&str] = &["disable", "prefer", "require", "verify-ca", "verify-full"];

impl TlsMode {
    /// The libpq name (`PGSSLMODE`).
    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::Disable => "disable",
            TlsMode::Prefer => "prefer",
            TlsMode::Require => "require",
            TlsMode::VerifyCa => "verify-ca",
            TlsMode::VerifyFull => "verify-full",
        }
    }

    /// The certificate is checked against trusted CAs.
    pub fn verifies(self) -> bool {
        matches!(self, TlsMode::VerifyCa | TlsMode::VerifyFull)
    }

    /// A connection without TLS is an error.
    pub fn requires(self) -> bool {
        !matches!(self, TlsMode::Disable | TlsMode::Prefer)
    }

    /// MySQL's `--ssl-mode` name, for `MYSQL_SSL_MODE` of command checks.
    pub fn mysql_name(self) -> &'static str {
        match self {
            TlsMode::Disable => "DISABLED",
            TlsMode::Prefer => "PREFERRED",
            TlsMode::Require => "REQUIRED",
            TlsMode::VerifyCa => "VERIFY_CA",
            TlsMode::VerifyFull => "VERIFY_IDENTITY",
        }
    }
}

impl fmt::Display for TlsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TlsMode {
    type Err = String;
    fn from_str(s: &str) -> Result<TlsMode, String> {
        match s {
            "disable" => Ok(TlsMode::Disable),
            "prefer" => Ok(TlsMode::Prefer),
            "require" => Ok(TlsMode::Require),
            "verify-ca" => Ok(TlsMode::VerifyCa),
            "verify-full" => Ok(TlsMode::VerifyFull),
            _ => Err(format!(
                "tls_mode = {s:?}: use one of {} (libpq's sslmode names, for PostgreSQL and MySQL alike)",
                TLS_MODES
                    .iter()
                    .map(|m| format!("{m:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}

/// The TLS settings of a [`crate::Target`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tls {
    /// How TLS is used.
    pub mode: TlsMode,
    /// PEM bundle of the CAs trusted by `verify-ca`/`verify-full` (e.g. AWS's RDS global
    /// bundle); `None`: the system's roots.
    pub ca_file: Option<PathBuf>,
}

impl Tls {
    /// No TLS: the drill's own loopback servers (PITR, binlog replay).
    pub fn disabled() -> Tls {
        Tls {
            mode: TlsMode::Disable,
            ca_file: None,
        }
    }

    /// The setting as errors show it: `tls_mode = "verify-full"`.
    pub fn describe(&self) -> String {
        format!("tls_mode = \"{}\"", self.mode)
    }

    /// The CAs `verify-*` trusts: the bundle in `ca_file`, else the system's.
    pub(crate) fn roots(&self) -> Result<RootCertStore, String> {
        match &self.ca_file {
            Some(path) => {
                let mut roots = RootCertStore::empty();
                roots.add_parsable_certificates(read_ca_file(path)?);
                Ok(roots)
            }
            None => Ok(system_roots()),
        }
    }

    /// The rustls client configuration of this mode (not for `disable`).
    pub(crate) fn client_config(&self) -> Result<rustls::ClientConfig, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?;
        let webpki = if self.mode.verifies() {
            let verifier = WebPkiServerVerifier::builder_with_provider(
                Arc::new(self.roots()?),
                provider.clone(),
            )
            .build()
            .map_err(|e| format!("{}: no usable CA certificate: {e}", self.ca_name()))?;
            Some(verifier)
        } else {
            None
        };
        let verifier = Arc::new(Verifier {
            webpki,
            check_name: self.mode == TlsMode::VerifyFull,
            provider,
        });
        Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth())
    }

    /// The CAs trusted, as errors name them.
    pub(crate) fn ca_name(&self) -> String {
        match &self.ca_file {
            Some(p) => format!("tls_ca_file {}", p.display()),
            None => "the system's CA certificates".into(),
        }
    }

    /// A PEM bundle for tools that need a file (`PGSSLROOTCERT`, `--ssl-ca`): `ca_file`, or
    /// the system bundle for `verify-*` without one; `None` when nothing is verified.
    pub(crate) fn ca_bundle_for_tools(&self) -> Option<PathBuf> {
        if !self.mode.verifies() {
            return None;
        }
        self.ca_file.clone().or_else(|| {
            std::env::var_os("SSL_CERT_FILE")
                .map(PathBuf::from)
                .into_iter()
                .chain(SYSTEM_BUNDLES.iter().map(PathBuf::from))
                .find(|p| p.is_file())
        })
    }

    /// What to add to a connection error: which setting was in force, and, when a
    /// plain-text connection was refused, that the server wants TLS.
    pub(crate) fn explain(&self, server_message: &str) -> String {
        let lower = server_message.to_ascii_lowercase();
        let wants_tls = lower.contains("no encryption")
            || lower.contains("insecure transport")
            || lower.contains("ssl off")
            || lower.contains("secure transport");
        if self.mode == TlsMode::Disable && wants_tls {
            format!(
                " ({}: the server accepts TLS connections only; set tls_mode = \"require\", or \"verify-full\" with tls_ca_file)",
                self.describe()
            )
        } else if self.mode == TlsMode::Disable && lower.contains("access denied") {
            // MariaDB refuses plain text under require_secure_transport (and a user made
            // with REQUIRE SSL) as it refuses a wrong password.
            format!(
                " ({}: if the password is right, the server may accept TLS connections only (require_secure_transport, or a user created REQUIRE SSL); try tls_mode = \"require\")",
                self.describe()
            )
        } else if self.mode == TlsMode::Prefer && !wants_tls {
            String::new()
        } else if self.mode.verifies() {
            format!(" ({}, trusting {})", self.describe(), self.ca_name())
        } else {
            format!(" ({})", self.describe())
        }
    }
}

/// Bundles of the common distributions, for the system store when `SSL_CERT_FILE` replaces
/// it in `rustls-native-certs`, and for tools that need a file.
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// The system trust store plus the certificates in `SSL_CERT_FILE`.
pub(crate) fn system_roots() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(system_certificates());
    roots
}

/// The certificates of [`system_roots`].
pub(crate) fn system_certificates() -> Vec<CertificateDer<'static>> {
    // Reads SSL_CERT_FILE / SSL_CERT_DIR when set, else the platform's store.
    let native = rustls_native_certs::load_native_certs();
    for e in &native.errors {
        tracing::debug!(error = %e, "skipping an unreadable certificate source");
    }
    let mut certs = native.certs;
    if std::env::var_os("SSL_CERT_FILE").is_some() {
        if let Some(bundle) = SYSTEM_BUNDLES.iter().find(|p| Path::new(p).is_file()) {
            if let Ok(more) = CertificateDer::pem_file_iter(bundle) {
                certs.extend(more.flatten());
            }
        }
    }
    certs
}

/// The certificates of a PEM bundle; an error naming the file when it cannot be read or
/// holds none. Checked at plan and again when the drill connects.
pub fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = std::fs::read(path)
        .map_err(|e| format!("tls_ca_file {}: cannot read it: {e}", path.display()))?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        // The PEM parser's error quotes bytes, not text: say what is wrong instead.
        .map_err(|_| {
            format!(
                "tls_ca_file {}: not a valid PEM bundle (a certificate block is cut short or malformed)",
                path.display()
            )
        })?;
    if certs.is_empty() {
        return Err(format!(
            "tls_ca_file {}: no \"-----BEGIN CERTIFICATE-----\" in it: give a PEM bundle of CA certificates, such as AWS's https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem",
            path.display()
        ));
    }
    Ok(certs)
}

/// The server certificate check of a mode. `prefer` and `require` (`webpki: None`) accept
/// any certificate, libpq's meaning: encrypted against listening, not against a server in
/// the middle. `verify-ca` and `verify-full` check the chain with webpki; `verify-ca`
/// accepts a certificate for another name (as libpq's does). The handshake's signatures
/// are verified in every mode.
#[derive(Debug)]
struct Verifier {
    webpki: Option<Arc<WebPkiServerVerifier>>,
    check_name: bool,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(webpki) = &self.webpki else {
            return Ok(ServerCertVerified::assertion());
        };
        match webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.check_name => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_by_their_libpq_names_and_unknown_ones_are_listed() {
        for name in TLS_MODES {
            assert_eq!(name.parse::<TlsMode>().unwrap().as_str(), *name);
        }
        let err = "verify_full".parse::<TlsMode>().unwrap_err();
        assert!(err.contains("\"verify-full\""), "{err}");
        assert_eq!(TlsMode::default(), TlsMode::Prefer);
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate\n").unwrap();
        let err = read_ca_file(&path).unwrap_err();
        assert!(
            err.contains("ca.pem") && err.contains("BEGIN CERTIFICATE"),
            "{err}"
        );
        let err = read_ca_file(&dir.path().join("missing.pem")).unwrap_err();
        assert!(
            err.contains("missing.pem") && err.contains("cannot read"),
            "{err}"
        );
    }

    #[test]
    fn a_refused_plain_connection_says_the_server_wants_tls() {
        let tls = Tls::disabled();
        let hint = tls.explain("no pg_hba.conf entry for host \"127.0.0.1\", user \"postgres\", database \"postgres\", no encryption");
        assert!(hint.contains("accepts TLS connections only"), "{hint}");
        assert_eq!(Tls::default().explain("password authentication failed"), "");
    }
}
