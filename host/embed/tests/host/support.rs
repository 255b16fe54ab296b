//! Shared fixtures: the compiled component, and small record builders.

use std::sync::OnceLock;

use gossip_host::{ComponentRuntime, RuntimeConfig};
use gossip_persistence::done_ledger::{
    DoneLedgerErrorCode, DoneLedgerKey, DoneLedgerProvenance, DoneLedgerRecord, DoneLedgerStatus,
};
use gossip_persistence::identity::{FenceEpoch, LogicalTime, OvidHash, PolicyHash, RunId, ShardId, TenantId};

/// The bundled component, compiled once for the whole test binary.
pub fn runtime() -> &'static ComponentRuntime {
    static RUNTIME: OnceLock<ComponentRuntime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        ComponentRuntime::from_bytes("component", gossip_artifacts::STORE, RuntimeConfig::default())
            .expect("the bundled component loads")
    })
}

/// The broken fixture, compiled once.
pub fn broken_runtime() -> &'static ComponentRuntime {
    static RUNTIME: OnceLock<ComponentRuntime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        ComponentRuntime::from_file(gossip_artifacts::BROKEN_PATH, RuntimeConfig::default())
            .expect("the broken fixture loads (it only traps when called)")
    })
}

pub fn id(byte: u8) -> [u8; 32] {
    [byte; 32]
}

pub fn key(tenant: u8, policy: u8, ovid: u8) -> DoneLedgerKey {
    DoneLedgerKey::new(
        TenantId::from_bytes(id(tenant)),
        PolicyHash::from_bytes(id(policy)),
        OvidHash::from_bytes(id(ovid)),
    )
}

pub fn provenance(started: u64, finished: u64) -> DoneLedgerProvenance {
    DoneLedgerProvenance::new(
        RunId::from_raw(7),
        ShardId::from_raw(3),
        FenceEpoch::from_raw(1),
        LogicalTime::from_raw(started),
        LogicalTime::from_raw(finished),
    )
}

/// A valid scanned-clean row.
pub fn clean(key: DoneLedgerKey) -> DoneLedgerRecord {
    DoneLedgerRecord::try_new(key, DoneLedgerStatus::ScannedClean, 100, 0, provenance(1, 2), None).expect("valid row")
}

/// A valid failed-permanent row with the given error code.
pub fn failed(key: DoneLedgerKey, code: &str) -> DoneLedgerRecord {
    let code = DoneLedgerErrorCode::try_new(code).expect("valid code");
    DoneLedgerRecord::try_new(key, DoneLedgerStatus::FailedPermanent, 10, 0, provenance(1, 2), Some(code))
        .expect("valid row")
}
