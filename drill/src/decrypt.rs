//! Streaming decryption of `openssl enc` files: the encrypted backups of
//! `pg_dump -Fc | gzip | openssl enc -aes-256-cbc -pbkdf2 -k "$PASS"`.
//!
//! The format (OpenSSL 1.1 and 3): `Salted__`, an 8-byte salt, then the ciphertext. Key and
//! IV come from the passphrase and the salt, either through `EVP_BytesToKey` (one round of
//! the digest, OpenSSL's default without `-pbkdf2`) or through PBKDF2-HMAC with the digest
//! (`-pbkdf2`, 10,000 iterations unless `-iter`). The digest is SHA-256 since OpenSSL 1.1.0
//! (`-md` changes it; MD5 was 1.0's). CBC output carries PKCS#7 padding; CTR none.
//!
//! The cryptography is the maintained RustCrypto crates': `aes` for the block cipher, `cbc`
//! and `ctr` (`Ctr128BE`: OpenSSL increments the whole IV as one 128-bit big-endian counter)
//! for the modes, `block-padding`'s PKCS#7 check (through `cbc`) for the last block, and
//! `pbkdf2` over `hmac`. Only `EVP_BytesToKey`, OpenSSL's own key derivation, is written out
//! here: a hash loop of a few lines that no maintained crate offers on its own.
//!
//! [`Decryptor`] works chunk by chunk, so a dump is never held in memory nor written to
//! disk in plaintext.

use std::str::FromStr;

use cbc::cipher::array::Array;
use cbc::cipher::block_padding::{Padding, Pkcs7};
use cbc::cipher::{BlockModeDecrypt, KeyIvInit, StreamCipher};
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

/// AES in CBC mode, decrypting.
enum Cbc {
    A128(cbc::Decryptor<aes::Aes128>),
    A192(cbc::Decryptor<aes::Aes192>),
    A256(cbc::Decryptor<aes::Aes256>),
}

impl Cbc {
    /// Decrypts whole blocks in place, chaining from the previous call.
    fn decrypt_blocks(&mut self, blocks: &mut [aes::Block]) {
        match self {
            Cbc::A128(d) => d.decrypt_blocks(blocks),
            Cbc::A192(d) => d.decrypt_blocks(blocks),
            Cbc::A256(d) => d.decrypt_blocks(blocks),
        }
    }
}

/// AES in CTR mode with OpenSSL's counter: the whole IV, 128-bit big-endian.
enum Ctr {
    A128(ctr::Ctr128BE<aes::Aes128>),
    A192(ctr::Ctr128BE<aes::Aes192>),
    A256(ctr::Ctr128BE<aes::Aes256>),
}

impl Ctr {
    /// XORs the next keystream bytes into `buf`. The keystream lasts 2^128 blocks (the
    /// counter wraps like OpenSSL's), so it cannot run out on a real file.
    fn apply_keystream(&mut self, buf: &mut [u8]) {
        match self {
            Ctr::A128(c) => c.apply_keystream(buf),
            Ctr::A192(c) => c.apply_keystream(buf),
            Ctr::A256(c) => c.apply_keystream(buf),
        }
    }
}

enum Mode {
    /// `pending` holds the input not decrypted yet: at least the last whole block is kept
    /// back, since it may be the padded one.
    Cbc {
        cbc: Cbc,
        pending: Vec<u8>,
    },
    Ctr(Ctr),
}

/// Decrypts an `openssl enc` stream chunk by chunk.
pub struct Decryptor {
    mode: Mode,
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
            Some(iter) => derive_pbkdf2(settings.digest, pass, salt, iter, &mut material),
            None => match settings.digest {
                KeyDigest::Md5 => bytes_to_key::<md5::Md5>(pass, salt, &mut material),
                KeyDigest::Sha1 => bytes_to_key::<sha1::Sha1>(pass, salt, &mut material),
                KeyDigest::Sha256 => bytes_to_key::<sha2::Sha256>(pass, salt, &mut material),
                KeyDigest::Sha512 => bytes_to_key::<sha2::Sha512>(pass, salt, &mut material),
            },
        }
        let (key, iv) = material.split_at(key_len);
        // Key and IV lengths are the cipher's by construction.
        let cbc = |cbc| Mode::Cbc {
            cbc,
            pending: Vec::new(),
        };
        let mode = match settings.cipher {
            Cipher::Aes128Cbc => cbc(Cbc::A128(
                KeyIvInit::new_from_slices(key, iv).expect(LENGTHS),
            )),
            Cipher::Aes192Cbc => cbc(Cbc::A192(
                KeyIvInit::new_from_slices(key, iv).expect(LENGTHS),
            )),
            Cipher::Aes256Cbc => cbc(Cbc::A256(
                KeyIvInit::new_from_slices(key, iv).expect(LENGTHS),
            )),
            Cipher::Aes128Ctr => Mode::Ctr(Ctr::A128(
                KeyIvInit::new_from_slices(key, iv).expect(LENGTHS),
            )),
            Cipher::Aes192Ctr => Mode::Ctr(Ctr::A192(
                KeyIvInit::new_from_slices(key, iv).expect(LENGTHS),
            )),
            Cipher::Aes256Ctr => Mode::Ctr(Ctr::A256(
                KeyIvInit::new_from_slices(key, iv).expect(LENGTHS),
            )),
        };
        Ok(Decryptor { mode })
    }

    /// Decrypts `input`, appending what is final to `out`.
    pub fn update(&mut self, input: &[u8], out: &mut Vec<u8>) {
        match &mut self.mode {
            Mode::Ctr(ctr) => {
                let start = out.len();
                out.extend_from_slice(input);
                ctr.apply_keystream(&mut out[start..]);
            }
            Mode::Cbc { cbc, pending } => {
                pending.extend_from_slice(input);
                // Keep at least one whole block back: the last one carries the padding.
                let whole = pending.len() / 16 * 16;
                let ready = if whole == pending.len() {
                    whole.saturating_sub(16)
                } else {
                    whole
                };
                let start = out.len();
                out.extend_from_slice(&pending[..ready]);
                let (blocks, rest) = Array::slice_as_chunks_mut(&mut out[start..]);
                debug_assert!(rest.is_empty(), "ready is a whole number of blocks");
                cbc.decrypt_blocks(blocks);
                pending.drain(..ready);
            }
        }
    }

    /// Ends the stream: checks and strips CBC padding.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), DecryptError> {
        let Mode::Cbc { cbc, pending } = &mut self.mode else {
            return Ok(());
        };
        let Ok(last) = aes::Block::try_from(pending.as_slice()) else {
            return Err(if pending.is_empty() {
                DecryptError::BadDecrypt
            } else {
                DecryptError::Truncated
            });
        };
        pending.clear();
        let mut last = [last];
        cbc.decrypt_blocks(&mut last);
        // A strict PKCS#7 check: every padding byte must equal the padding length.
        let plain = Pkcs7::unpad(&last[0]).map_err(|_| DecryptError::BadDecrypt)?;
        out.extend_from_slice(plain);
        Ok(())
    }
}

const LENGTHS: &str = "key and IV lengths are the cipher's";

/// An `openssl enc` stream as a [`std::io::Read`] of its plaintext: for pipelines of
/// readers (decrypt, then gunzip, then parse). A wrong key or a cut file is an
/// `InvalidData` error whose message is the [`DecryptError`].
pub struct DecryptingReader<R> {
    inner: R,
    decryptor: Decryptor,
    buf: Vec<u8>,
    out: Vec<u8>,
    pos: usize,
    done: bool,
}

impl<R: std::io::Read> DecryptingReader<R> {
    /// Reads the header of `inner` and derives the key; fails like [`Decryptor::new`].
    pub fn new(mut inner: R, settings: &Decrypt) -> Result<Self, DecryptError> {
        let mut header = [0u8; HEADER_LEN];
        inner
            .read_exact(&mut header)
            .map_err(|_| DecryptError::NotSalted)?;
        Ok(DecryptingReader {
            decryptor: Decryptor::new(settings, &header)?,
            inner,
            buf: vec![0; 256 * 1024],
            out: Vec::new(),
            pos: 0,
            done: false,
        })
    }
}

impl<R: std::io::Read> std::io::Read for DecryptingReader<R> {
    fn read(&mut self, into: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.out.len() && !self.done {
            self.out.clear();
            self.pos = 0;
            let n = self.inner.read(&mut self.buf)?;
            if n == 0 {
                self.done = true;
                self.decryptor.finish(&mut self.out).map_err(|e| {
                    std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string())
                })?;
            } else {
                self.decryptor.update(&self.buf[..n], &mut self.out);
            }
        }
        let n = into.len().min(self.out.len() - self.pos);
        into[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// PBKDF2-HMAC with `digest` (`openssl enc -pbkdf2 -md digest -iter rounds`).
fn derive_pbkdf2(digest: KeyDigest, pass: &[u8], salt: &[u8], rounds: u32, out: &mut [u8]) {
    match digest {
        KeyDigest::Md5 => pbkdf2::pbkdf2_hmac::<md5::Md5>(pass, salt, rounds, out),
        KeyDigest::Sha1 => pbkdf2::pbkdf2_hmac::<sha1::Sha1>(pass, salt, rounds, out),
        KeyDigest::Sha256 => pbkdf2::pbkdf2_hmac::<sha2::Sha256>(pass, salt, rounds, out),
        KeyDigest::Sha512 => pbkdf2::pbkdf2_hmac::<sha2::Sha512>(pass, salt, rounds, out),
    }
}

/// OpenSSL's `EVP_BytesToKey` with one iteration: D_i = H(D_{i-1} || pass || salt), the
/// key then the IV taken from D_1 || D_2 || ….
///
/// OpenSSL's legacy key derivation, kept for `openssl enc` without `-pbkdf2`; it is a plain
/// hash loop over the maintained digest crates, so no extra crate is warranted for it.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }

    #[test]
    fn pbkdf2_matches_rfc_6070() {
        // RFC 6070's HMAC-SHA1 vectors, through the same dispatch `-pbkdf2 -md sha1` takes.
        let cases: &[(&[u8], &[u8], u32, &str)] = &[
            (
                b"password",
                b"salt",
                1,
                "0c60c80f961f0e71f3a9b524af6012062fe037a6",
            ),
            (
                b"password",
                b"salt",
                2,
                "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957",
            ),
            (
                b"password",
                b"salt",
                4096,
                "4b007901b765489abead49d926f721d065a429c1",
            ),
            // Longer than one HMAC output: the second block's index is used.
            (
                b"passwordPASSWORDpassword",
                b"saltSALTsaltSALTsaltSALTsaltSALTsalt",
                4096,
                "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038",
            ),
            (
                b"pass\0word",
                b"sa\0lt",
                4096,
                "56fa6aa75548099dcc37d7f03425e0c3",
            ),
        ];
        for &(pass, salt, rounds, want) in cases {
            let mut out = vec![0u8; want.len() / 2];
            derive_pbkdf2(KeyDigest::Sha1, pass, salt, rounds, &mut out);
            assert_eq!(hex(&out), want, "{pass:?} {salt:?} {rounds}");
        }
    }

    /// `bytes_to_key` against `openssl enc -aes-256-cbc -md md5 -k password -S 0102030405060708 -P`.
    #[test]
    fn bytes_to_key_matches_openssl() {
        let mut out = [0u8; 48];
        bytes_to_key::<md5::Md5>(b"password", &unhex("0102030405060708"), &mut out);
        assert_eq!(hex(&out[..32]), EVP_MD5_KEY);
        assert_eq!(hex(&out[32..]), EVP_MD5_IV);
    }

    const EVP_MD5_KEY: &str = "e7b0971e52ca5cc8d0539fb3412f6316f7ba2e6ee293d9f3457b99436b51ce02";
    const EVP_MD5_IV: &str = "8d450e2ed75a84a923d4eac9fe49226b";

    /// The plaintext of the ciphertexts below: 101 bytes, not a whole number of blocks.
    fn chunked_plaintext() -> Vec<u8> {
        (0u32..101).map(|i| ((i * 37 + 11) % 256) as u8).collect()
    }

    /// Made by `openssl enc -aes-256-cbc -pbkdf2 -iter 1000 -md sha256 -k chunked`.
    const CBC_FILE: &str = "53616c7465645f5f0f85feef097dfe80a6fddd574335a78778c1ae455b116001d859413894cf3f254d48212f26a73e884866168ef22f1d10f0a094ee0260f00f093cb1ae3fa650e730f2c7bbcca4458545652c91c34e1299663c23165f60430e716e1017adc2171b7b882fa078e2cf7918a9ed32ce0de5f26158ae8fa0dde1aa";
    /// Made by `openssl enc -aes-192-ctr -pbkdf2 -iter 1000 -md sha256 -k chunked`.
    const CTR_FILE: &str = "53616c7465645f5fb71149cc0b32aae234f62d08324b5df1b1deb2faaf2b8a9f9e5fdc4fe81f2232f6f0433d2907863f66beb4e003c03b6320860fe6314de8a70581accc6def18a67d4f020402cc9ae7dee3c4188a7f583d89a8ca6a3e5b3a3ea726af428a92bc24055d122b1f7dadb826da1656ae";

    fn decrypt_in_chunks(
        cipher: Cipher,
        file: &[u8],
        chunk: usize,
    ) -> Result<Vec<u8>, DecryptError> {
        let settings = Decrypt {
            cipher,
            digest: KeyDigest::Sha256,
            pbkdf2_iter: Some(1000),
            passphrase: Secret::new("chunked"),
        };
        let mut d = Decryptor::new(&settings, &file[..HEADER_LEN])?;
        let mut out = Vec::new();
        for piece in file[HEADER_LEN..].chunks(chunk) {
            d.update(piece, &mut out);
        }
        d.finish(&mut out)?;
        Ok(out)
    }

    #[test]
    fn odd_sized_chunks_decrypt_like_one_call() {
        for (cipher, file) in [(Cipher::Aes256Cbc, CBC_FILE), (Cipher::Aes192Ctr, CTR_FILE)] {
            let file = unhex(file);
            let whole = decrypt_in_chunks(cipher, &file, file.len()).expect("decrypts");
            assert_eq!(whole, chunked_plaintext(), "{cipher:?} in one call");
            for chunk in [1, 7, 16, 33] {
                assert_eq!(
                    decrypt_in_chunks(cipher, &file, chunk).expect("decrypts"),
                    whole,
                    "{cipher:?} in {chunk}-byte chunks"
                );
            }
        }
    }

    #[test]
    fn cbc_with_the_wrong_passphrase_or_a_cut_tail_is_refused() {
        let file = unhex(CBC_FILE);
        let settings = Decrypt {
            cipher: Cipher::Aes256Cbc,
            digest: KeyDigest::Sha256,
            pbkdf2_iter: Some(1000),
            passphrase: Secret::new("not it"),
        };
        let mut d = Decryptor::new(&settings, &file[..HEADER_LEN]).expect("salted");
        let mut out = Vec::new();
        d.update(&file[HEADER_LEN..], &mut out);
        assert_eq!(d.finish(&mut out), Err(DecryptError::BadDecrypt));
        assert_eq!(
            decrypt_in_chunks(Cipher::Aes256Cbc, &file[..file.len() - 5], 7),
            Err(DecryptError::Truncated)
        );
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
