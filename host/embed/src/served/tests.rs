//! What a misbehaving guest can send the served imports: records the native
//! types cannot hold, handles the host never gave out. Each gets a
//! `store-error` (or, where the WIT has none, a trap error), never a panic,
//! and nothing is written.
#![allow(clippy::result_large_err)]

use std::time::Duration;

use gossip_persistence::{
    DoneLedgerInspect, FindingsConformanceProbe, InMemoryDoneLedger, InMemoryFindingsSink, StoreControl,
};
use wasmtime::component::Resource;

use super::bindings::gossip::persistence::done_ledger::{HostDoneLedger, HostDoneWrite};
use super::bindings::gossip::persistence::findings::HostFindingsSink;
use super::bindings::types as wit;
use super::runtime::{ServedConfig, ServedState};

fn state() -> (ServedState, InMemoryDoneLedger, InMemoryFindingsSink) {
    let (ledger, sink) = (InMemoryDoneLedger::new(), InMemoryFindingsSink::new());
    let config = ServedConfig { write_timeout: Duration::from_millis(100), ..ServedConfig::default() };
    (ServedState::new(ledger.clone(), sink.clone(), config), ledger, sink)
}

fn d(byte: u8) -> wit::Digest {
    crate::convert::wit_digest(&[byte; 32])
}

fn done_row(status: u8, findings_count: u32, error_code: Option<&str>) -> wit::DoneRecord {
    wit::DoneRecord {
        key: wit::DoneKey { tenant_id: d(1), policy_hash: d(2), ovid_hash: d(3) },
        status,
        bytes_scanned: 10,
        findings_count,
        provenance: wit::Provenance { run_id: 1, shard_id: 0, fence_epoch: 1, started_at: 1, finished_at: 2 },
        error_code: error_code.map(str::to_owned),
    }
}

fn upsert(
    state: &mut ServedState,
    row: wit::DoneRecord,
) -> Result<Resource<super::resources::DoneWrite>, wit::StoreError> {
    let ledger = HostDoneLedger::new(state).expect("a ledger handle");
    HostDoneLedger::batch_upsert(state, ledger, vec![row]).expect("no trap")
}

#[test]
fn invalid_done_rows_get_the_store_error_a_component_store_gives_and_write_nothing() {
    let (mut state, ledger, _) = state();
    let unknown = upsert(&mut state, done_row(99, 0, None)).map(|_| ()).unwrap_err();
    assert!(matches!(unknown, wit::StoreError::Boundary(wit::BoundaryError::UnknownStatusRank(99))), "{unknown:?}");
    // Scanned clean (rank 10) with findings.
    let count = upsert(&mut state, done_row(10, 3, None)).map(|_| ()).unwrap_err();
    assert!(
        matches!(&count, wit::StoreError::BatchValidation(wit::InputError::InconsistentFindingsCount(m)) if m.status == 10 && m.findings_count == 3),
        "{count:?}"
    );
    // Failed (rank 1) with an error code that is not allowed.
    let code = upsert(&mut state, done_row(1, 0, Some("bad\ncode"))).map(|_| ()).unwrap_err();
    assert!(matches!(code, wit::StoreError::BatchValidation(wit::InputError::InvalidByte(_))), "{code:?}");
    let too_many = {
        let handle = HostDoneLedger::new(&mut state).expect("a ledger handle");
        let rows = vec![done_row(10, 0, None); gossip_persistence::RECOMMENDED_MAX_BATCH_SIZE + 1];
        HostDoneLedger::batch_upsert(&mut state, handle, rows).expect("no trap").map(|_| ()).unwrap_err()
    };
    assert!(matches!(too_many, wit::StoreError::BatchValidation(wit::InputError::BatchTooLarge(_))), "{too_many:?}");
    assert!(ledger.snapshot().expect("readable").is_empty(), "a refused row was written");
}

#[test]
fn invalid_findings_rows_are_refused_and_write_nothing() {
    let (mut state, _, sink) = state();
    let occurrence = wit::Occurrence {
        tenant_id: d(1),
        occurrence_id: d(5),
        finding_id: d(4),
        object_version_id: d(6),
        byte_offset: 0,
        byte_length: 0,
    };
    let handle = HostFindingsSink::new(&mut state).expect("a sink handle");
    let zero = HostFindingsSink::upsert_batch(&mut state, handle, vec![], vec![occurrence], vec![]).expect("no trap");
    assert!(matches!(zero.map(|_| ()), Err(wit::StoreError::BatchValidation(wit::InputError::ZeroSpanLength))));
    let observation = wit::Observation {
        tenant_id: d(1),
        observation_id: d(7),
        occurrence_id: d(5),
        policy_hash: d(2),
        ovid_hash: d(3),
        run_id: 1,
        shard_id: 0,
        fence_epoch: 1,
        seen_at: 1,
        location: Some(wit::Location { display: String::new(), url: None }),
    };
    let handle = HostFindingsSink::new(&mut state).expect("a sink handle");
    let location =
        HostFindingsSink::upsert_batch(&mut state, handle, vec![], vec![], vec![observation]).expect("no trap");
    assert!(matches!(
        location.map(|_| ()),
        Err(wit::StoreError::Boundary(wit::BoundaryError::InvalidLocation(wit::FieldError::Empty(_))))
    ),);
    let counts = sink.durable_counts().expect("readable");
    assert_eq!((counts.findings, counts.occurrences, counts.observations), (0, 0, 0));
}

#[test]
fn handles_the_host_never_gave_out_get_errors_not_panics() {
    let (mut state, _, _) = state();
    let stranger = Resource::new_own(4242);
    let read = HostDoneLedger::batch_get(&mut state, stranger, d(1), d(2), vec![d(3)]).expect("no trap");
    assert!(matches!(read, Err(wit::StoreError::UnknownOperation(r)) if r.op_id == 0), "{read:?}");
    let sink = Resource::new_own(4243);
    let counts = HostFindingsSink::durable_counts(&mut state, sink).expect("no trap");
    assert!(matches!(counts, Err(wit::StoreError::UnknownOperation(r)) if r.op_id == 0), "{counts:?}");
    let polled = HostDoneWrite::poll(&mut state, Resource::new_own(4244)).expect("no trap");
    assert!(matches!(polled, Some(Err(wit::StoreError::UnknownOperation(_)))), "{polled:?}");
    // `operation-id` has no error to answer with: the call traps instead.
    assert!(HostDoneWrite::operation_id(&mut state, Resource::new_own(4245)).is_err());
    assert!(HostDoneWrite::drop(&mut state, Resource::new_own(4246)).is_ok());
}

#[test]
fn a_write_is_polled_to_its_outcome_once_and_a_pending_one_does_not_block() {
    let (mut state, ledger, _) = state();
    let write = upsert(&mut state, done_row(10, 0, None)).expect("accepted");
    let again = Resource::<super::resources::DoneWrite>::new_borrow(write.rep());
    let first = HostDoneWrite::poll(&mut state, write).expect("no trap");
    assert!(matches!(first, Some(Ok(r)) if r.record_count == 1 && r.scanned_count == 1), "{first:?}");
    let second = HostDoneWrite::poll(&mut state, again).expect("no trap");
    assert!(matches!(second, Some(Err(wit::StoreError::UnknownOperation(_)))), "{second:?}");

    ledger.delay_next_writes(1).expect("a control");
    let delayed = upsert(&mut state, done_row(11, 1, None)).expect("accepted");
    let later = Resource::<super::resources::DoneWrite>::new_borrow(delayed.rep());
    let started = std::time::Instant::now();
    let pending = HostDoneWrite::poll(&mut state, delayed).expect("no trap");
    assert!(pending.is_none(), "a delayed write was reported done: {pending:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "poll waited {:?}", started.elapsed());
    ledger.release_all(gossip_persistence::CompletionOrder::OldestFirst).expect("released");
    let released = HostDoneWrite::poll(&mut state, later).expect("no trap");
    assert!(matches!(released, Some(Ok(r)) if r.findings_count == 1), "{released:?}");
}
