//! The 32-byte identifier newtypes. Public ids print only a 4-byte prefix;
//! the restricted ones (derived from secret material) print nothing at all.

use core::fmt;

use super::hashing::CanonicalBytes;

fn write_prefix(f: &mut fmt::Formatter<'_>, name: &str, bytes: &[u8; 32]) -> fmt::Result {
    write!(f, "{name}(")?;
    for b in &bytes[..4] {
        write!(f, "{b:02x}")?;
    }
    f.write_str("..)")
}

/// Hashes an id as its 32 bytes alone. The derived `Hash` of `[u8; 32]`
/// writes the length first, which a fixed size makes redundant, and which
/// costs the store's table hasher a 128-bit shift per id in a wasm32 guest
/// (foldhash buffers small integer writes in a `u128`): a fifth of a
/// replayed findings batch in the component went to hashing keys.
fn write_id<H: core::hash::Hasher>(bytes: &[u8; 32], state: &mut H) {
    state.write(bytes);
}

macro_rules! define_id_32 {
    ($($(#[$meta:meta])* $name:ident;)+) => {$(
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
        pub struct $name([u8; 32]);

        impl core::hash::Hash for $name {
            fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
                write_id(&self.0, state);
            }
        }

        impl $name {
            /// All zero bytes; as valid as any other id.
            pub const ZERO: Self = Self([0; 32]);

            /// Any 32 bytes; derived ids are not checked here.
            pub const fn from_bytes(bytes: [u8; 32]) -> Self {
                Self(bytes)
            }

            /// The raw bytes, in the order ids compare and hash.
            pub const fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_prefix(f, stringify!($name), &self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self, f)
            }
        }

        impl CanonicalBytes for $name {
            fn write_canonical(&self, hasher: &mut blake3::Hasher) {
                hasher.update(&self.0);
            }
        }
    )+};
}

define_id_32! {
    /// Opaque tenant identity (any 32 bytes).
    TenantId;
    /// Digest of the detection policy in force.
    PolicyHash;
    /// Connector-independent identity of a scanned item.
    StableItemId;
    /// Identity of one version of an object.
    ObjectVersionId;
    /// Digest of a connector instance id.
    ConnectorInstanceIdHash;
    /// Identity of a detection rule.
    RuleFingerprint;
    /// Content-addressed finding id (tenant, item, rule, secret).
    FindingId;
    /// Content-addressed occurrence id (finding, version, span).
    OccurrenceId;
    /// Content-addressed observation id (tenant, policy, occurrence).
    ObservationId;
    /// The done-ledger's object-version key (item + strength + version).
    OvidHash;
}

macro_rules! define_id_32_restricted {
    ($($(#[$meta:meta])* $name:ident;)+) => {$(
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
        pub struct $name([u8; 32]);

        impl core::hash::Hash for $name {
            fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
                write_id(&self.0, state);
            }
        }

        impl $name {
            pub(crate) const fn from_bytes_internal(bytes: [u8; 32]) -> Self {
                Self(bytes)
            }

            /// The raw bytes; never log or format them (`docs/contract.md §1.4`).
            pub const fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }

        impl CanonicalBytes for $name {
            fn write_canonical(&self, hasher: &mut blake3::Hasher) {
                hasher.update(&self.0);
            }
        }
    )+};
}

define_id_32_restricted! {
    /// The engine's digest of a normalized secret. Sensitive: never printed.
    NormHash;
    /// A tenant-keyed hash of a secret. Sensitive: never printed.
    SecretHash;
}

impl NormHash {
    /// Wraps the engine's digest of the normalized secret; no further hashing.
    pub const fn from_digest(digest: [u8; 32]) -> Self {
        Self::from_bytes_internal(digest)
    }
}

impl SecretHash {
    /// Rebuilds a secret hash read back from a persisted row or a wire format.
    /// New secret hashes come from [`key_secret_hash`](super::key_secret_hash).
    pub const fn from_persisted_bytes(bytes: [u8; 32]) -> Self {
        Self::from_bytes_internal(bytes)
    }
}

/// A tenant's secret key. No `Ord`, `Hash` or canonical encoding, so it can
/// never be sorted into a log or hashed into an id; equality is constant-time.
#[derive(Clone, Copy)]
pub struct TenantSecretKey([u8; 32]);

impl TenantSecretKey {
    /// Any 32 bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw key; never log or format it.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl PartialEq for TenantSecretKey {
    fn eq(&self, other: &Self) -> bool {
        // Accumulate every byte difference so the time taken does not depend
        // on where the first differing byte is; black_box stops the compiler
        // from turning the fold back into an early-exit comparison.
        let diff = self.0.iter().zip(other.0.iter()).fold(0u8, |acc, (a, b)| acc | core::hint::black_box(a ^ b));
        core::hint::black_box(diff) == 0
    }
}

impl Eq for TenantSecretKey {}

impl fmt::Debug for TenantSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TenantSecretKey([redacted])")
    }
}
