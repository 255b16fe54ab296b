//! Canonical byte encoding and the BLAKE3 helpers every derived id goes through.

/// Writes a value's canonical bytes into a hasher: fixed-width integers are
/// little-endian with no prefix, 32-byte ids are raw, variable-length byte
/// strings carry a `u32` little-endian length prefix.
pub trait CanonicalBytes {
    /// Feeds exactly the canonical bytes, so equal values always hash equally.
    fn write_canonical(&self, hasher: &mut blake3::Hasher);
}

impl CanonicalBytes for u8 {
    fn write_canonical(&self, hasher: &mut blake3::Hasher) {
        hasher.update(&[*self]);
    }
}

impl CanonicalBytes for u32 {
    fn write_canonical(&self, hasher: &mut blake3::Hasher) {
        hasher.update(&self.to_le_bytes());
    }
}

impl CanonicalBytes for u64 {
    fn write_canonical(&self, hasher: &mut blake3::Hasher) {
        hasher.update(&self.to_le_bytes());
    }
}

impl CanonicalBytes for [u8; 32] {
    fn write_canonical(&self, hasher: &mut blake3::Hasher) {
        hasher.update(self);
    }
}

impl CanonicalBytes for [u8] {
    /// The derivations reject inputs longer than `MAX_DERIVATION_INPUT`, so
    /// their prefix is always the plain `u32` length. A longer string (only
    /// reachable by calling this directly) is written as the escape
    /// `u32::MAX` followed by its `u64` length: still injective, and never
    /// a panic.
    fn write_canonical(&self, hasher: &mut blake3::Hasher) {
        match u32::try_from(self.len()) {
            Ok(len) if len < u32::MAX => {
                hasher.update(&len.to_le_bytes());
            }
            _ => {
                hasher.update(&u32::MAX.to_le_bytes());
                hasher.update(&(self.len() as u64).to_le_bytes());
            }
        }
        hasher.update(self);
    }
}

/// A BLAKE3 hasher in derive-key mode for the given domain context.
pub fn domain_hasher(context: &str) -> blake3::Hasher {
    blake3::Hasher::new_derive_key(context)
}

/// The 32-byte output of a hasher.
pub fn finalize_32(hasher: &blake3::Hasher) -> [u8; 32] {
    *hasher.finalize().as_bytes()
}

/// The first 8 output bytes read as a little-endian `u64`.
pub fn finalize_64(hasher: &blake3::Hasher) -> u64 {
    let out = hasher.finalize();
    let mut word = [0u8; 8];
    word.copy_from_slice(&out.as_bytes()[..8]);
    u64::from_le_bytes(word)
}
