//! The three reference redaction checks: `Debug` output of secret-derived
//! values must not contain their bytes in any common encoding. They need no
//! store, so they run the same for every backend.

use gossip_persistence::identity::NormHash;

use super::error::CheckFailure;
use super::harness::fixture;
use crate::backend::Backend;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Standard-alphabet base64 without padding.
fn base64_unpadded(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, &b)| acc | (u32::from(b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
        }
    }
    out
}

/// The first encoding of `secret` found in `debug_output`: full hex or the
/// hex of the first 8 bytes (both case-insensitive), or unpadded base64
/// (case-sensitive, only when at least 4 characters long).
pub fn find_leak(debug_output: &str, secret: &[u8]) -> Option<String> {
    let lower = debug_output.to_ascii_lowercase();
    let full_hex = hex(secret);
    if !secret.is_empty() && lower.contains(&full_hex) {
        return Some(full_hex);
    }
    let prefix_hex = hex(&secret[..secret.len().min(8)]);
    if !prefix_hex.is_empty() && lower.contains(&prefix_hex) {
        return Some(prefix_hex);
    }
    let b64 = base64_unpadded(secret);
    (b64.len() >= 4 && debug_output.contains(&b64)).then_some(b64)
}

fn assert_redacted(case: &'static str, debug_output: String, secret: &[u8]) -> Result<(), CheckFailure> {
    match find_leak(&debug_output, secret) {
        None => Ok(()),
        Some(leaked_fragment) => Err(CheckFailure::RedactionLeak { case, debug_output, leaked_fragment }),
    }
}

pub(crate) fn norm_hash<B: Backend>(_: &B) -> Result<(), CheckFailure> {
    let norm = NormHash::from_digest([0xE7; 32]);
    assert_redacted("redaction/norm-hash", format!("{norm:?}"), norm.as_bytes())
}

pub(crate) fn secret_hash<B: Backend>(_: &B) -> Result<(), CheckFailure> {
    let fx = fixture(0x77, "redaction/secret-hash:fixture")?;
    assert_redacted("redaction/secret-hash", format!("{:?}", fx.secret_hash), fx.secret_hash.as_bytes())
}

pub(crate) fn finding_record<B: Backend>(_: &B) -> Result<(), CheckFailure> {
    let fx = fixture(0x77, "redaction/finding-record:fixture")?;
    assert_redacted("redaction/finding-record", format!("{:?}", fx.finding), fx.secret_hash.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_known_vectors() {
        assert_eq!(base64_unpadded(b""), "");
        assert_eq!(base64_unpadded(b"f"), "Zg");
        assert_eq!(base64_unpadded(b"fo"), "Zm8");
        assert_eq!(base64_unpadded(b"foo"), "Zm9v");
        assert_eq!(base64_unpadded(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_unpadded(&[0xff, 0xfe]), "//4");
    }

    #[test]
    fn every_encoding_is_caught() {
        let secret: Vec<u8> = (1..=32).collect();
        assert_eq!(find_leak("Secret([redacted])", &secret), None);
        assert!(find_leak(&format!("X({})", hex(&secret).to_uppercase()), &secret).is_some());
        assert_eq!(find_leak("X(0102030405060708..)", &secret).as_deref(), Some("0102030405060708"));
        assert!(find_leak(&format!("X({})", base64_unpadded(&secret)), &secret).is_some());
        // A four-byte prefix, as public ids print, is not a leak.
        assert_eq!(find_leak("X(01020304..)", &secret), None);
    }
}
