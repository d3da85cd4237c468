//! KMS signatures of records: signed with `kms:Sign`, checked with `kms:Verify` or offline
//! with the key's public half (`kms:GetPublicKey`, DER or PEM) on ring.
//!
//! What is signed is a short statement naming the record's SHA-256 (`MessageType RAW`, so
//! KMS hashes it with SHA-256 itself): records outgrow the 4 KiB a RAW message may have,
//! and the statement reads the same to KMS, moto and an offline verifier.

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{MessageType, SigningAlgorithmSpec};
use base64::Engine;
use serde::{Deserialize, Serialize};
use spki::ObjectIdentifier;

use super::aws_error;

/// `format` of a `.sig` file.
pub const SIGNATURE_FORMAT: &str = "drkit-evidence-signature/1";

/// The algorithms drkit signs with, in order of preference (the first the key offers).
const ALGORITHMS: [SigningAlgorithmSpec; 2] = [
    SigningAlgorithmSpec::EcdsaSha256,
    SigningAlgorithmSpec::RsassaPssSha256,
];

/// A `.sig` file: which key and algorithm signed which statement, and the signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// [`SIGNATURE_FORMAT`].
    pub format: String,
    /// ARN of the KMS key.
    pub key_id: String,
    /// `ECDSA_SHA_256` or `RSASSA_PSS_SHA_256`.
    pub signing_algorithm: String,
    /// The statement signed: [`signed_message`] of the record's SHA-256.
    pub message: String,
    /// The signature, base64.
    pub signature: String,
}

/// The statement signed for a record whose bytes hash to `record_sha256`.
pub fn signed_message(record_sha256: &str) -> String {
    format!("{} sha256:{record_sha256}", super::RECORD_FORMAT)
}

/// The first of [`ALGORITHMS`] that a key offers.
pub(crate) fn choose_algorithm(offered: &[SigningAlgorithmSpec]) -> Option<SigningAlgorithmSpec> {
    ALGORITHMS.into_iter().find(|a| offered.contains(a))
}

/// Signs the statement of a record with `kms:Sign`.
pub(crate) async fn sign(
    kms: &aws_sdk_kms::Client,
    key_arn: &str,
    algorithm: &SigningAlgorithmSpec,
    record_sha256: &str,
) -> Result<Signature, String> {
    let message = signed_message(record_sha256);
    let out = kms
        .sign()
        .key_id(key_arn)
        .message(Blob::new(message.as_bytes()))
        .message_type(MessageType::Raw)
        .signing_algorithm(algorithm.clone())
        .send()
        .await
        .map_err(|e| format!("kms:Sign with {key_arn}: {}", aws_error(&e)))?;
    let signature = out
        .signature()
        .ok_or_else(|| format!("kms:Sign with {key_arn} returned no signature"))?;
    Ok(Signature {
        format: SIGNATURE_FORMAT.into(),
        key_id: out.key_id().unwrap_or(key_arn).to_string(),
        signing_algorithm: algorithm.as_str().to_string(),
        message,
        signature: base64::engine::general_purpose::STANDARD.encode(signature.as_ref()),
    })
}

impl Signature {
    /// The raw signature bytes.
    fn bytes(&self) -> Result<Vec<u8>, String> {
        base64::engine::general_purpose::STANDARD
            .decode(&self.signature)
            .map_err(|e| format!("the signature is not base64: {e}"))
    }

    /// Checks the signature with `kms:Verify` against `key_id` (the key the auditor
    /// trusts; by default the one the `.sig` names). `Ok(false)`: it does not verify.
    pub async fn verify_with_kms(
        &self,
        kms: &aws_sdk_kms::Client,
        key_id: &str,
    ) -> Result<bool, String> {
        let sig = match self.bytes() {
            Ok(s) if !s.is_empty() => s,
            _ => return Ok(false),
        };
        let result = kms
            .verify()
            .key_id(key_id)
            .message(Blob::new(self.message.as_bytes()))
            .message_type(MessageType::Raw)
            .signature(Blob::new(sig))
            .signing_algorithm(SigningAlgorithmSpec::from(self.signing_algorithm.as_str()))
            .send()
            .await;
        match result {
            Ok(out) => Ok(out.signature_valid()),
            // KMS answers an invalid signature with this error rather than `false`.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_kms_invalid_signature_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(format!("kms:Verify with {key_id}: {}", aws_error(&e))),
        }
    }

    /// Checks the signature with the key's public half (DER SubjectPublicKeyInfo, as
    /// `kms:GetPublicKey` returns it, or PEM). RSA-PSS expects KMS's salt length (32
    /// bytes for SHA-256).
    pub fn verify_offline(&self, public_key: &PublicKey) -> Result<bool, String> {
        let algorithm: &dyn ring::signature::VerificationAlgorithm =
            match (self.signing_algorithm.as_str(), public_key.kind) {
                ("ECDSA_SHA_256", KeyKind::EcP256) => &ring::signature::ECDSA_P256_SHA256_ASN1,
                ("RSASSA_PSS_SHA_256", KeyKind::Rsa) => &ring::signature::RSA_PSS_2048_8192_SHA256,
                (alg, kind) => {
                    return Err(format!(
                        "signed with {alg}, which a {} public key cannot verify",
                        kind.name()
                    ))
                }
            };
        let Ok(sig) = self.bytes() else {
            return Ok(false);
        };
        Ok(
            ring::signature::UnparsedPublicKey::new(algorithm, &public_key.raw)
                .verify(self.message.as_bytes(), &sig)
                .is_ok(),
        )
    }
}

/// What a public key is, as far as verification cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Rsa,
    EcP256,
}

impl KeyKind {
    fn name(self) -> &'static str {
        match self {
            KeyKind::Rsa => "RSA",
            KeyKind::EcP256 => "NIST P-256",
        }
    }
}

/// A KMS key's public half, ready for ring.
#[derive(Debug, Clone)]
pub struct PublicKey {
    kind: KeyKind,
    /// PKCS#1 `RSAPublicKey` or the uncompressed EC point: what ring verifies with.
    raw: Vec<u8>,
}

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const PRIME256V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");

impl PublicKey {
    /// From `kms:GetPublicKey`'s DER, a PEM `PUBLIC KEY` file, or the base64 text
    /// `aws kms get-public-key --output text --query PublicKey` prints.
    pub fn parse(bytes: &[u8]) -> Result<PublicKey, String> {
        let text = std::str::from_utf8(bytes).map(str::trim).unwrap_or("");
        let der = if text.starts_with("-----BEGIN") {
            let (label, der) = spki::der::pem::decode_vec(text.as_bytes())
                .map_err(|e| format!("not a PEM public key: {e}"))?;
            if label != "PUBLIC KEY" {
                return Err(format!(
                    "a PEM \"{label}\", not a \"PUBLIC KEY\" (SubjectPublicKeyInfo)"
                ));
            }
            der
        } else if !text.is_empty() && text.bytes().all(|b| b.is_ascii_graphic()) {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|e| format!("neither DER, PEM nor base64: {e}"))?
        } else {
            bytes.to_vec()
        };
        let info = spki::SubjectPublicKeyInfoRef::try_from(der.as_slice()).map_err(|e| {
            format!("not a SubjectPublicKeyInfo (kms:GetPublicKey's PublicKey): {e}")
        })?;
        let kind = match info.algorithm.oid {
            RSA_ENCRYPTION => KeyKind::Rsa,
            EC_PUBLIC_KEY if info.algorithm.parameters_oid().ok() == Some(PRIME256V1) => {
                KeyKind::EcP256
            }
            EC_PUBLIC_KEY => {
                return Err(
                    "an elliptic-curve key on a curve other than NIST P-256 (ECC_NIST_P256): verify it with kms:Verify instead".into(),
                )
            }
            oid => return Err(format!("a key of algorithm {oid}, neither RSA nor EC")),
        };
        Ok(PublicKey {
            kind,
            raw: info.subject_public_key.raw_bytes().to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecdsa_is_preferred_and_symmetric_algorithms_are_not_chosen() {
        assert_eq!(
            choose_algorithm(&[
                SigningAlgorithmSpec::RsassaPssSha256,
                SigningAlgorithmSpec::EcdsaSha256
            ]),
            Some(SigningAlgorithmSpec::EcdsaSha256)
        );
        assert_eq!(
            choose_algorithm(&[
                SigningAlgorithmSpec::RsassaPkcs1V15Sha256,
                SigningAlgorithmSpec::RsassaPssSha256
            ]),
            Some(SigningAlgorithmSpec::RsassaPssSha256)
        );
        assert_eq!(choose_algorithm(&[SigningAlgorithmSpec::EcdsaSha384]), None);
    }

    #[test]
    fn garbage_is_not_a_public_key() {
        assert!(PublicKey::parse(b"\x01\x02").is_err());
        let err =
            PublicKey::parse(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
                .unwrap_err();
        assert!(err.contains("CERTIFICATE") || err.contains("PEM"), "{err}");
    }
}
