//! Streaming decryption of `openssl enc` files: the encrypted backups of
//! `pg_dump -Fc | gzip | openssl enc -aes-256-cbc -pbkdf2 -k "$PASS"`.
//!
//! The format (OpenSSL 1.1 and 3): `Salted__`, an 8-byte salt, then the ciphertext. Key and
//! IV come from the passphrase and the salt, either through `EVP_BytesToKey` (one round of
//! the digest, OpenSSL's default without `-pbkdf2`) or through PBKDF2-HMAC with the digest
//! (`-pbkdf2`, 10,000 iterations unless `-iter`). The digest is SHA-256 since OpenSSL 1.1.0
//! (`-md` changes it; MD5 was 1.0's). CBC output carries PKCS#7 padding; CTR none.
//!
//! [`Decryptor`] works chunk by chunk, so a dump is never held in memory nor written to
//! disk in plaintext.

use std::str::FromStr;

use aes::cipher::{BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use hmac::{Hmac, Mac};
use sha2::Digest;

use crate::Secret;

/// The header of a salted `openssl enc` file.
pub const MAGIC: &[u8; 8] = b"Salted__";
/// Magic plus salt.
pub const HEADER_LEN: usize = 16;
/// `openssl enc -pbkdf2`'s iteration count when `-iter` is not given.
pub const DEFAULT_PBKDF2_ITER: u32 = 10_000;

/// The `-cipher` of `openssl enc` (the names it takes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cipher {
    /// `aes-128-cbc`.
    Aes128Cbc,
    /// `aes-192-cbc`.
    Aes192Cbc,
    /// `aes-256-cbc`.
    Aes256Cbc,
    /// `aes-128-ctr`.
    Aes128Ctr,
    /// `aes-192-ctr`.
    Aes192Ctr,
    /// `aes-256-ctr`.
    Aes256Ctr,
}

/// Every supported cipher name, for messages and docs.
pub const CIPHERS: &[&str] = &[
    "aes-128-cbc",
    "aes-192-cbc",
    "aes-256-cbc",
    "aes-128-ctr",
    "aes-192-ctr",
    "aes-256-ctr",
];

impl FromStr for Cipher {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.to_ascii_lowercase().trim_start_matches('-') {
            "aes-128-cbc" | "aes128" => Cipher::Aes128Cbc,
            "aes-192-cbc" | "aes192" => Cipher::Aes192Cbc,
            "aes-256-cbc" | "aes256" => Cipher::Aes256Cbc,
            "aes-128-ctr" => Cipher::Aes128Ctr,
            "aes-192-ctr" => Cipher::Aes192Ctr,
            "aes-256-ctr" => Cipher::Aes256Ctr,
            _ => {
                return Err(format!(
                    "openssl_cipher = {s:?} is not supported: use one of {}",
                    CIPHERS.join(", ")
                ))
            }
        })
    }
}

impl Cipher {
    fn key_len(self) -> usize {
        match self {
            Cipher::Aes128Cbc | Cipher::Aes128Ctr => 16,
            Cipher::Aes192Cbc | Cipher::Aes192Ctr => 24,
            Cipher::Aes256Cbc | Cipher::Aes256Ctr => 32,
        }
    }

    fn is_ctr(self) -> bool {
        matches!(
            self,
            Cipher::Aes128Ctr | Cipher::Aes192Ctr | Cipher::Aes256Ctr
        )
    }
}

/// The `-md` of `openssl enc`: the digest of the key derivation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyDigest {
    /// `md5` (OpenSSL 1.0's default).
    Md5,
    /// `sha1`.
    Sha1,
    /// `sha256` (the default since OpenSSL 1.1.0).
    Sha256,
    /// `sha512`.
    Sha512,
}

impl FromStr for KeyDigest {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.to_ascii_lowercase().replace('-', "").as_str() {
            "md5" => KeyDigest::Md5,
            "sha1" => KeyDigest::Sha1,
            "sha256" => KeyDigest::Sha256,
            "sha512" => KeyDigest::Sha512,
            _ => {
                return Err(format!(
                    "digest = {s:?} is not supported: use sha256 (OpenSSL's default since 1.1), md5, sha1 or sha512"
                ))
            }
        })
    }
}

/// How a backup was encrypted, and the passphrase (read from the environment at apply).
#[derive(Debug, Clone)]
pub struct Decrypt {
    /// The cipher.
    pub cipher: Cipher,
    /// The key-derivation digest.
    pub digest: KeyDigest,
    /// `Some(iterations)` for `-pbkdf2`; `None` for `EVP_BytesToKey`.
    pub pbkdf2_iter: Option<u32>,
    /// The passphrase (`-k`, `-pass env:…`).
    pub passphrase: Secret,
}

/// Why a file does not decrypt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecryptError {
    /// No `Salted__` header.
    #[error("it is not an `openssl enc` file with a salt (no `Salted__` header): remove `decrypt`, or encrypt with `openssl enc` without -nosalt")]
    NotSalted,
    /// The padding at the end is wrong: another key, cipher, digest or derivation.
    #[error("bad decrypt: the key, openssl_cipher, digest or pbkdf2 setting is not the one the backup was encrypted with")]
    BadDecrypt,
    /// A CBC file whose length is not a whole number of blocks.
    #[error("the file is truncated (its length is not a whole number of cipher blocks)")]
    Truncated,
}

enum Aes {
    A128(aes::Aes128),
    A192(aes::Aes192),
    A256(aes::Aes256),
}

impl Aes {
    fn new(key: &[u8]) -> Aes {
        // The key length is the cipher's by construction.
        match key.len() {
            16 => Aes::A128(aes::Aes128::new_from_slice(key).expect("16-byte key")),
            24 => Aes::A192(aes::Aes192::new_from_slice(key).expect("24-byte key")),
            _ => Aes::A256(aes::Aes256::new_from_slice(key).expect("32-byte key")),
        }
    }

    fn decrypt(&self, block: &mut [u8; 16]) {
        let b: &mut aes::Block = block.into();
        match self {
            Aes::A128(c) => c.decrypt_block(b),
            Aes::A192(c) => c.decrypt_block(b),
            Aes::A256(c) => c.decrypt_block(b),
        }
    }

    fn encrypt(&self, block: &mut [u8; 16]) {
        let b: &mut aes::Block = block.into();
        match self {
            Aes::A128(c) => c.encrypt_block(b),
            Aes::A192(c) => c.encrypt_block(b),
            Aes::A256(c) => c.encrypt_block(b),
        }
    }
}

/// Decrypts an `openssl enc` stream chunk by chunk.
pub struct Decryptor {
    aes: Aes,
    ctr: bool,
    /// CBC: the previous ciphertext block. CTR: the counter block.
    state: [u8; 16],
    /// Input not yet decrypted: CBC keeps the last block back (it may be the padded one).
    pending: Vec<u8>,
    /// CTR: keystream bytes of the current counter block not used yet.
    keystream: [u8; 16],
    used: usize,
}

impl Decryptor {
    /// A decryptor for a file whose first [`HEADER_LEN`] bytes are `header`.
    pub fn new(settings: &Decrypt, header: &[u8]) -> Result<Decryptor, DecryptError> {
        if header.len() < HEADER_LEN || &header[..8] != MAGIC {
            return Err(DecryptError::NotSalted);
        }
        let salt = &header[8..HEADER_LEN];
        let key_len = settings.cipher.key_len();
        let mut material = vec![0u8; key_len + 16];
        let pass = settings.passphrase.expose().as_bytes();
        match settings.pbkdf2_iter {
            Some(iter) => match settings.digest {
                KeyDigest::Md5 => pbkdf2::<Hmac<md5::Md5>>(pass, salt, iter, &mut material),
                KeyDigest::Sha1 => pbkdf2::<Hmac<sha1::Sha1>>(pass, salt, iter, &mut material),
                KeyDigest::Sha256 => pbkdf2::<Hmac<sha2::Sha256>>(pass, salt, iter, &mut material),
                KeyDigest::Sha512 => pbkdf2::<Hmac<sha2::Sha512>>(pass, salt, iter, &mut material),
            },
            None => match settings.digest {
                KeyDigest::Md5 => bytes_to_key::<md5::Md5>(pass, salt, &mut material),
                KeyDigest::Sha1 => bytes_to_key::<sha1::Sha1>(pass, salt, &mut material),
                KeyDigest::Sha256 => bytes_to_key::<sha2::Sha256>(pass, salt, &mut material),
                KeyDigest::Sha512 => bytes_to_key::<sha2::Sha512>(pass, salt, &mut material),
            },
        }
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&material[key_len..]);
        Ok(Decryptor {
            aes: Aes::new(&material[..key_len]),
            ctr: settings.cipher.is_ctr(),
            state: iv,
            pending: Vec::new(),
            keystream: [0; 16],
            used: 16,
        })
    }

    /// Decrypts `input`, appending what is final to `out`.
    pub fn update(&mut self, input: &[u8], out: &mut Vec<u8>) {
        if self.ctr {
            for &byte in input {
                if self.used == 16 {
                    self.keystream = self.state;
                    self.aes.encrypt(&mut self.keystream);
                    // openssl's CTR: the whole IV is a 128-bit big-endian counter.
                    for b in self.state.iter_mut().rev() {
                        *b = b.wrapping_add(1);
                        if *b != 0 {
                            break;
                        }
                    }
                    self.used = 0;
                }
                out.push(byte ^ self.keystream[self.used]);
                self.used += 1;
            }
            return;
        }
        self.pending.extend_from_slice(input);
        // Keep at least one whole block back: the last one carries the padding.
        let whole = self.pending.len() / 16 * 16;
        let ready = if whole == self.pending.len() {
            whole.saturating_sub(16)
        } else {
            whole
        };
        for chunk in self.pending[..ready].chunks_exact(16) {
            let mut block = [0u8; 16];
            block.copy_from_slice(chunk);
            self.aes.decrypt(&mut block);
            for (p, s) in block.iter_mut().zip(self.state.iter()) {
                *p ^= s;
            }
            self.state.copy_from_slice(chunk);
            out.extend_from_slice(&block);
        }
        self.pending.drain(..ready);
    }

    /// Ends the stream: checks and strips CBC padding.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), DecryptError> {
        if self.ctr {
            return Ok(());
        }
        if self.pending.len() != 16 {
            return Err(if self.pending.is_empty() {
                DecryptError::BadDecrypt
            } else {
                DecryptError::Truncated
            });
        }
        let mut block = [0u8; 16];
        block.copy_from_slice(&self.pending);
        self.pending.clear();
        self.aes.decrypt(&mut block);
        for (p, s) in block.iter_mut().zip(self.state.iter()) {
            *p ^= s;
        }
        let pad = usize::from(block[15]);
        if pad == 0 || pad > 16 || block[16 - pad..].iter().any(|&b| usize::from(b) != pad) {
            return Err(DecryptError::BadDecrypt);
        }
        out.extend_from_slice(&block[..16 - pad]);
        Ok(())
    }
}

/// OpenSSL's `EVP_BytesToKey` with one iteration: D_i = H(D_{i-1} || pass || salt).
fn bytes_to_key<D: Digest>(pass: &[u8], salt: &[u8], out: &mut [u8]) {
    let mut prev: Vec<u8> = Vec::new();
    let mut filled = 0;
    while filled < out.len() {
        let mut h = D::new();
        h.update(&prev);
        h.update(pass);
        h.update(salt);
        prev = h.finalize().to_vec();
        let n = prev.len().min(out.len() - filled);
        out[filled..filled + n].copy_from_slice(&prev[..n]);
        filled += n;
    }
}

/// PBKDF2 (RFC 8018) with the HMAC `M`.
fn pbkdf2<M: Mac + hmac::KeyInit + Clone>(pass: &[u8], salt: &[u8], rounds: u32, out: &mut [u8]) {
    let prf = <M as hmac::KeyInit>::new_from_slice(pass).expect("HMAC takes keys of any length");
    let mut index = 1u32;
    let mut filled = 0;
    while filled < out.len() {
        let mut u = prf
            .clone()
            .chain_update(salt)
            .chain_update(index.to_be_bytes())
            .finalize()
            .into_bytes()
            .to_vec();
        let mut t = u.clone();
        for _ in 1..rounds.max(1) {
            u = prf
                .clone()
                .chain_update(&u)
                .finalize()
                .into_bytes()
                .to_vec();
            for (a, b) in t.iter_mut().zip(&u) {
                *a ^= b;
            }
        }
        let n = t.len().min(out.len() - filled);
        out[filled..filled + n].copy_from_slice(&t[..n]);
        filled += n;
        index += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pbkdf2_matches_rfc_6070() {
        // RFC 6070 test vector 2 (HMAC-SHA1, 2 iterations).
        let mut out = [0u8; 20];
        pbkdf2::<Hmac<sha1::Sha1>>(b"password", b"salt", 2, &mut out);
        let hex: String = out.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957");
    }

    #[test]
    fn names_parse_like_openssl_writes_them() {
        assert_eq!("aes-256-cbc".parse(), Ok(Cipher::Aes256Cbc));
        assert_eq!("-aes-128-ctr".parse(), Ok(Cipher::Aes128Ctr));
        assert!("chacha20"
            .parse::<Cipher>()
            .unwrap_err()
            .contains("aes-256-cbc"));
        assert_eq!("SHA-256".parse(), Ok(KeyDigest::Sha256));
        assert!("whirlpool".parse::<KeyDigest>().is_err());
    }

    #[test]
    fn a_file_without_salt_header_is_refused() {
        let d = Decrypt {
            cipher: Cipher::Aes256Cbc,
            digest: KeyDigest::Sha256,
            pbkdf2_iter: None,
            passphrase: Secret::new("x"),
        };
        assert!(matches!(
            Decryptor::new(&d, b"PGDMP\x01\x0e\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
            Err(DecryptError::NotSalted)
        ));
    }
}
