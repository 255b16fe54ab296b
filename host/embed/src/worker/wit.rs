//! The worker's WIT types (`examples/scanning-worker/wit/worker.wit`,
//! interface `scanner`): bindgen's, re-exported, except the records that
//! carry a secret, which are written here so that their `Debug` can redact.
//!
//! Bindgen always derives a `Debug` that prints every field, and a
//! `secret`'s `secret-hash` must never be printed (the native `SecretHash`
//! prints `[redacted]`). These records are defined inside the exported
//! `scanner` interface, so bindgen's `with` cannot replace them; instead the
//! host calls `worker.scan`, the one function that takes them, through a
//! typed func over these types, which wasmtime checks against the
//! component's when the worker is instantiated, field names and order
//! included. Each is also checked against its generated twin's size and
//! alignment below, at compile time. Everything else mirrors bindgen's
//! output: field names as in the WIT, the same derives, the same `Debug`
//! format.

use core::fmt;

use wasmtime::component::{ComponentType, Lift, Lower};

pub use super::bindings::exports::gossip::scanning_worker::scanner::*;
use crate::wit_types::Redacted;

/// One secret the detection engine reported in an object version.
///
/// Its `Debug` prints `secret-hash` as `[redacted]`, as the native
/// `SecretHash` does.
#[derive(ComponentType, Lift, Lower)]
#[component(record)]
#[derive(Clone)]
pub struct Secret {
    /// The rule that matched.
    #[component(name = "rule-fingerprint")]
    pub rule_fingerprint: Digest,
    /// Tenant-keyed hash of the secret; never printed.
    #[component(name = "secret-hash")]
    pub secret_hash: Digest,
    /// Start of the span.
    #[component(name = "byte-offset")]
    pub byte_offset: u64,
    /// Length of the span; must not be zero.
    #[component(name = "byte-length")]
    pub byte_length: u64,
    /// Where it was seen, if known.
    #[component(name = "location")]
    pub location: Option<Location>,
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secret")
            .field("rule-fingerprint", &self.rule_fingerprint)
            .field("secret-hash", &Redacted)
            .field("byte-offset", &self.byte_offset)
            .field("byte-length", &self.byte_length)
            .field("location", &self.location)
            .finish()
    }
}

/// One object version and what the engine found in it.
#[derive(ComponentType, Lift, Lower)]
#[component(record)]
#[derive(Clone)]
pub struct ObjectScan {
    /// Connector-independent identity of the item.
    #[component(name = "stable-item-id")]
    pub stable_item_id: Digest,
    /// Identity of this version of it.
    #[component(name = "object-version-id")]
    pub object_version_id: Digest,
    /// Whether the version id is content-exact (strong) or weak.
    #[component(name = "strong-version")]
    pub strong_version: bool,
    /// Bytes the engine scanned.
    #[component(name = "bytes-scanned")]
    pub bytes_scanned: u64,
    /// The secrets found; empty for a clean object.
    #[component(name = "secrets")]
    pub secrets: Vec<Secret>,
}

impl fmt::Debug for ObjectScan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectScan")
            .field("stable-item-id", &self.stable_item_id)
            .field("object-version-id", &self.object_version_id)
            .field("strong-version", &self.strong_version)
            .field("bytes-scanned", &self.bytes_scanned)
            .field("secrets", &self.secrets)
            .finish()
    }
}

/// `worker.scan`'s parameters, as the host lowers them.
pub(crate) type ScanParams<'a> = (wasmtime::component::ResourceAny, ScanContext, &'a [ObjectScan]);

/// `worker.scan`'s result.
pub(crate) type ScanResults = (Result<ScanReport, WorkerError>,);

// Each type has its generated twin's canonical-ABI size and alignment (the
// twin is still generated, unused, in the bindings' `scanner` module).
const _: () = {
    use super::bindings::exports::gossip::scanning_worker::scanner as generated;
    assert!(<Secret as ComponentType>::SIZE32 == <generated::Secret as ComponentType>::SIZE32);
    assert!(<Secret as ComponentType>::ALIGN32 == <generated::Secret as ComponentType>::ALIGN32);
    assert!(<ObjectScan as ComponentType>::SIZE32 == <generated::ObjectScan as ComponentType>::SIZE32);
    assert!(<ObjectScan as ComponentType>::ALIGN32 == <generated::ObjectScan as ComponentType>::ALIGN32);
};

#[cfg(test)]
mod tests {
    use super::super::bindings::exports::gossip::scanning_worker::scanner as generated;
    use super::*;

    fn location() -> Option<Location> {
        Some(Location { display: "src/main.rs".to_owned(), url: None })
    }

    /// Bindgen's `Debug`, the hash's words replaced by `[redacted]`.
    #[test]
    fn debug_is_bindgens_but_for_the_secret_hash() {
        let hash = (0xC35A_912E_D748_B6F1, 2, 3, 4);
        let mine = Secret {
            rule_fingerprint: (5, 6, 7, 8),
            secret_hash: hash,
            byte_offset: 9,
            byte_length: 10,
            location: location(),
        };
        let theirs = generated::Secret {
            rule_fingerprint: (5, 6, 7, 8),
            secret_hash: hash,
            byte_offset: 9,
            byte_length: 10,
            location: location(),
        };
        let expected = format!("{theirs:?}").replace(&format!("{hash:?}"), "[redacted]");
        assert_ne!(expected, format!("{theirs:?}"));
        assert_eq!(format!("{mine:?}"), expected);

        let object = |secrets| ObjectScan {
            stable_item_id: (1, 1, 1, 1),
            object_version_id: (2, 2, 2, 2),
            strong_version: true,
            bytes_scanned: 11,
            secrets,
        };
        let generated_object = generated::ObjectScan {
            stable_item_id: (1, 1, 1, 1),
            object_version_id: (2, 2, 2, 2),
            strong_version: true,
            bytes_scanned: 11,
            secrets: vec![theirs.clone(), theirs],
        };
        let expected = format!("{generated_object:?}").replace(&format!("{hash:?}"), "[redacted]");
        assert_eq!(format!("{:?}", object(vec![mine.clone(), mine])), expected);
    }
}
