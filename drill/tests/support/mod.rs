//! What the drill tests share: AWS clients on moto, and files encrypted by the real
//! `openssl enc`.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Write;

use drkit_drill::Clients;
use drkit_testkit::Moto;

/// RDS and S3 clients on moto for us-east-1 and us-west-2.
pub struct MotoClients {
    rds: HashMap<String, aws_sdk_rds::Client>,
    s3: HashMap<String, aws_sdk_s3::Client>,
}

impl MotoClients {
    /// Clients for both regions.
    pub async fn new(moto: &Moto) -> Self {
        let mut rds = HashMap::new();
        let mut s3 = HashMap::new();
        for region in ["us-east-1", "us-west-2"] {
            rds.insert(region.to_string(), moto.rds(region).await);
            s3.insert(region.to_string(), moto.s3(region).await);
        }
        MotoClients { rds, s3 }
    }
}

impl Clients for MotoClients {
    fn rds(&self, region: &str) -> aws_sdk_rds::Client {
        self.rds[region].clone()
    }
    fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        self.s3[region].clone()
    }
}

/// `bytes` encrypted by the real `openssl enc` CLI with `args` and passphrase `pass`.
pub fn openssl_enc(bytes: &[u8], args: &[&str], pass: &str) -> Vec<u8> {
    let mut child = std::process::Command::new("openssl")
        .arg("enc")
        .args(args)
        .args(["-pass", "env:DRKIT_TEST_PASS"])
        .env("DRKIT_TEST_PASS", pass)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the openssl CLI is installed (scripts/setup)");
    let mut stdin = child.stdin.take().unwrap();
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(&out.stdout[..8], b"Salted__");
    out.stdout
}
