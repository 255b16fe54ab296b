//! Runs the scenario's steps against one pair of store implementations and
//! checks every step's `expect`.

use std::collections::HashMap;
use std::fmt::Display;

use anyhow::{Context, anyhow, bail, ensure};
use gossip_host::ComponentRuntime;
use gossip_persistence::findings::FindingsUpsertBatch;
use gossip_persistence::identity::{FindingId, ObservationId, OccurrenceId, OvidHash, PolicyHash, TenantId};
use gossip_persistence::{
    CommitHandle, CompletionOrder, DoneLedger, DoneLedgerInspect, FindingsConformanceProbe, FindingsInspect,
    FindingsSink, InMemoryDoneLedger, InMemoryFindingsSink, PendingWriteId, StoreControl, TrackedHandle,
};
use gossip_suite::{AsStoreError, SuiteLedger, SuiteSink};
use serde_json::{Map, Value, json};

use super::wire::{self, field, list, object, text, u64_value, uint, uint_field};

/// Where the scenario's stores come from.
pub trait Stores {
    type Ledger: SuiteLedger;
    type Sink: SuiteSink;
    fn ledger(&self, auto_complete: bool) -> anyhow::Result<Self::Ledger>;
    fn sink(&self, auto_complete: bool) -> anyhow::Result<Self::Sink>;
}

/// The reference stores, in process.
pub struct Native;

impl Stores for Native {
    type Ledger = InMemoryDoneLedger;
    type Sink = InMemoryFindingsSink;

    fn ledger(&self, auto_complete: bool) -> anyhow::Result<InMemoryDoneLedger> {
        Ok(InMemoryDoneLedger::with_auto_complete(auto_complete))
    }

    fn sink(&self, auto_complete: bool) -> anyhow::Result<InMemoryFindingsSink> {
        Ok(InMemoryFindingsSink::with_auto_complete(auto_complete))
    }
}

/// The wasmtime host's component stores, each in its own instance.
pub struct Component(pub &'static ComponentRuntime);

impl Stores for Component {
    type Ledger = gossip_host::ComponentDoneLedger;
    type Sink = gossip_host::ComponentFindingsSink;

    fn ledger(&self, auto_complete: bool) -> anyhow::Result<Self::Ledger> {
        Ok(self.0.new_ledger_with_auto_complete(auto_complete)?)
    }

    fn sink(&self, auto_complete: bool) -> anyhow::Result<Self::Sink> {
        Ok(self.0.new_sink_with_auto_complete(auto_complete)?)
    }
}

/// An accepted write whose outcome has not been taken yet.
enum Handle<S: Stores> {
    Ledger { store: String, handle: <S::Ledger as DoneLedger>::CommitHandle },
    Sink { store: String, handle: <S::Sink as FindingsSink>::CommitHandle },
}

/// An error as the scenario writes it; one without a WIT `store-error`
/// reading (a trap, a protocol break) is never an expected outcome.
fn error_value<E: AsStoreError + Display>(error: &E) -> anyhow::Result<Value> {
    match error.as_store_error() {
        Some(native) => wire::store_error_value(native),
        None => bail!("failed outside the contract: {error}"),
    }
}

fn order(value: &str) -> anyhow::Result<CompletionOrder> {
    match value {
        "oldest-first" => Ok(CompletionOrder::OldestFirst),
        "newest-first" => Ok(CompletionOrder::NewestFirst),
        other => bail!("unknown completion order {other:?}"),
    }
}

/// The listed records, the whole list `repeat` times over (for oversized batches).
fn records<T: Clone>(
    values: &[Value],
    repeat: Option<u64>,
    parse: impl Fn(&Value) -> anyhow::Result<T>,
) -> anyhow::Result<Vec<T>> {
    let once: Vec<T> = values.iter().map(parse).collect::<anyhow::Result<_>>()?;
    let times = usize::try_from(repeat.unwrap_or(1)).context("repeat")?;
    Ok(once.iter().cycle().take(once.len().saturating_mul(times)).cloned().collect())
}

/// The scenario's state on one backend: named stores and pending handles.
pub struct Runner<'s, S: Stores> {
    stores: &'s S,
    ledgers: HashMap<String, S::Ledger>,
    sinks: HashMap<String, S::Sink>,
    handles: HashMap<String, Handle<S>>,
}

/// Keys every step may carry besides its own.
const COMMON: [&str; 3] = ["op", "note", "expect"];

/// The keys `op` takes, and whether it reports a value (and so must have an
/// `expect`) or only succeeds.
fn signature(op: &str) -> anyhow::Result<(&'static [&'static str], bool)> {
    Ok(match op {
        "new-ledger" | "new-sink" => (&["store", "auto-complete"], false),
        "batch-upsert" => (&["store", "records", "repeat", "handle"], true),
        "upsert-batch" => (&["store", "findings", "occurrences", "observations", "handle"], true),
        "poll" => (&["handle"], true),
        "batch-get" => (&["store", "tenant", "policy", "ovids"], true),
        "list-done-hashes" | "count-done-hashes" => (&["store", "tenant", "policy"], true),
        "get-record" => (&["store", "key"], true),
        "get-finding" | "get-occurrence" | "get-observation" => (&["store", "tenant", "id"], true),
        "snapshot" | "durable-counts" | "findings-snapshot" | "occurrences-snapshot" | "observations-snapshot" => {
            (&["store"], true)
        }
        "set-auto-complete" => (&["store", "on"], false),
        "delay-next-writes" | "fail-next-submissions" | "fail-next-commits" => (&["store", "count"], false),
        "release-next" | "release-all" => (&["store", "order"], true),
        "release-specific" => (&["store", "op-id"], true),
        "pending-ids" | "pending-count" => (&["store"], true),
        other => bail!("unknown op {other:?}"),
    })
}

/// "step 12 (poll slow-3)": how failures name a step.
pub fn label(index: usize, step: &Value) -> String {
    let op = step.get("op").and_then(Value::as_str).unwrap_or("?");
    let target = ["handle", "store"].iter().find_map(|k| step.get(*k).and_then(Value::as_str)).unwrap_or("");
    format!("step {index} ({op} {target})")
}

impl<'s, S: Stores> Runner<'s, S> {
    pub fn new(stores: &'s S) -> Self {
        Self { stores, ledgers: HashMap::new(), sinks: HashMap::new(), handles: HashMap::new() }
    }

    /// Runs one step and compares its outcome with the step's `expect`.
    pub fn check(&mut self, step: &Value) -> anyhow::Result<()> {
        let op = step.get("op").and_then(Value::as_str).ok_or_else(|| anyhow!("a step needs an \"op\""))?;
        let (own, reports) = signature(op)?;
        let allowed: Vec<&str> = COMMON.iter().chain(own.iter()).copied().collect();
        let map = object(step, "step", &allowed)?;
        let actual = self.run(op, map)?;
        match (reports, map.get("expect"), actual) {
            (true, Some(expected), Some(actual)) => {
                let (expected, actual) = (wire::canonical(expected), wire::canonical(&actual));
                match wire::first_difference(&expected, &actual, "$") {
                    None => Ok(()),
                    Some(at) => bail!("outcome differs at {at}\n  expected: {expected}\n    actual: {actual}"),
                }
            }
            (true, None, _) => bail!("{op} reports an outcome, so the step needs an \"expect\""),
            (false, Some(_), _) => bail!("{op} reports nothing; remove its \"expect\""),
            (false, None, None) => Ok(()),
            (_, _, actual) => bail!("internal: {op} produced {actual:?}"),
        }
    }

    fn ledger(&self, map: &Map<String, Value>) -> anyhow::Result<&S::Ledger> {
        let name = text(map, "store")?;
        self.ledgers.get(name).ok_or_else(|| anyhow!("no ledger named {name:?}"))
    }

    fn sink(&self, map: &Map<String, Value>) -> anyhow::Result<&S::Sink> {
        let name = text(map, "store")?;
        self.sinks.get(name).ok_or_else(|| anyhow!("no findings sink named {name:?}"))
    }

    fn is_ledger(&self, map: &Map<String, Value>) -> anyhow::Result<bool> {
        let name = text(map, "store")?;
        match (self.ledgers.contains_key(name), self.sinks.contains_key(name)) {
            (true, false) => Ok(true),
            (false, true) => Ok(false),
            _ => bail!("no single store named {name:?}"),
        }
    }

    fn scope(map: &Map<String, Value>) -> anyhow::Result<(TenantId, PolicyHash)> {
        Ok((
            TenantId::from_bytes(wire::digest(field(map, "tenant")?)?),
            PolicyHash::from_bytes(wire::digest(field(map, "policy")?)?),
        ))
    }

    fn keep(&mut self, map: &Map<String, Value>, handle: Handle<S>) -> anyhow::Result<()> {
        let name = text(map, "handle")?;
        ensure!(!self.handles.contains_key(name), "handle name {name:?} is already in use");
        self.handles.insert(name.to_owned(), handle);
        Ok(())
    }

    /// What the step reports, in the scenario's JSON; None for a step that
    /// only has to succeed.
    fn run(&mut self, op: &str, map: &Map<String, Value>) -> anyhow::Result<Option<Value>> {
        let value = match op {
            "new-ledger" | "new-sink" => {
                let name = text(map, "store")?.to_owned();
                let auto = wire::boolean(map, "auto-complete")?;
                ensure!(
                    !self.ledgers.contains_key(&name) && !self.sinks.contains_key(&name),
                    "store name {name:?} is already in use"
                );
                if op == "new-ledger" {
                    self.ledgers.insert(name, self.stores.ledger(auto)?);
                } else {
                    self.sinks.insert(name, self.stores.sink(auto)?);
                }
                return Ok(None);
            }
            "batch-upsert" => {
                let repeat = map.get("repeat").map(uint).transpose()?;
                let rows = records(list(map, "records")?, repeat, wire::done_record)?;
                match self.ledger(map)?.batch_upsert(&rows) {
                    Ok(handle) => {
                        let op_id = handle.operation_id().as_raw();
                        let store = text(map, "store")?.to_owned();
                        self.keep(map, Handle::Ledger { store, handle })?;
                        json!({ "op-id": u64_value(op_id) })
                    }
                    Err(e) => json!({ "error": error_value(&e)? }),
                }
            }
            "upsert-batch" => {
                let findings = records(list(map, "findings")?, None, wire::finding)?;
                let occurrences = records(list(map, "occurrences")?, None, wire::occurrence)?;
                let observations = records(list(map, "observations")?, None, wire::observation)?;
                let batch = FindingsUpsertBatch::new(&findings, &occurrences, &observations);
                match self.sink(map)?.upsert_batch(batch) {
                    Ok(handle) => {
                        let op_id = handle.operation_id().as_raw();
                        let store = text(map, "store")?.to_owned();
                        self.keep(map, Handle::Sink { store, handle })?;
                        json!({ "op-id": u64_value(op_id) })
                    }
                    Err(e) => json!({ "error": error_value(&e)? }),
                }
            }
            "poll" => self.poll(text(map, "handle")?)?,
            "batch-get" => {
                let (tenant, policy) = Self::scope(map)?;
                let ovids: Vec<OvidHash> = list(map, "ovids")?
                    .iter()
                    .map(|v| wire::digest(v).map(OvidHash::from_bytes))
                    .collect::<anyhow::Result<_>>()?;
                let rows = self.ledger(map)?.batch_get(tenant, policy, &ovids)?;
                Value::Array(rows.iter().map(|r| r.as_ref().map_or(Value::Null, wire::done_record_value)).collect())
            }
            "list-done-hashes" => {
                let (tenant, policy) = Self::scope(map)?;
                let mut hashes = self.ledger(map)?.list_done_hashes(tenant, policy)?;
                // The contract leaves the order unspecified: compare as sets.
                hashes.sort();
                Value::Array(hashes.iter().map(|h| wire::hex(h.as_bytes())).collect())
            }
            "count-done-hashes" => {
                let (tenant, policy) = Self::scope(map)?;
                self.ledger(map)?.count_done_hashes(tenant, policy)?.map_or(Value::Null, |n| json!(n))
            }
            "get-record" => {
                let key = wire::done_key(field(map, "key")?)?;
                self.ledger(map)?.get_record(&key)?.as_ref().map_or(Value::Null, wire::done_record_value)
            }
            "snapshot" => Value::Array(self.ledger(map)?.snapshot()?.iter().map(wire::done_record_value).collect()),
            "durable-counts" => wire::counts_value(&self.sink(map)?.durable_counts()?),
            "get-finding" | "get-occurrence" | "get-observation" => {
                let tenant = TenantId::from_bytes(wire::digest(field(map, "tenant")?)?);
                let id = wire::digest(field(map, "id")?)?;
                let sink = self.sink(map)?;
                match op {
                    "get-finding" => {
                        sink.get_finding(tenant, FindingId::from_bytes(id))?.as_ref().map(wire::finding_value)
                    }
                    "get-occurrence" => {
                        sink.get_occurrence(tenant, OccurrenceId::from_bytes(id))?.as_ref().map(wire::occurrence_value)
                    }
                    _ => sink
                        .get_observation(tenant, ObservationId::from_bytes(id))?
                        .as_ref()
                        .map(wire::observation_value),
                }
                .unwrap_or(Value::Null)
            }
            "findings-snapshot" => {
                Value::Array(self.sink(map)?.findings_snapshot()?.iter().map(wire::finding_value).collect())
            }
            "occurrences-snapshot" => {
                Value::Array(self.sink(map)?.occurrences_snapshot()?.iter().map(wire::occurrence_value).collect())
            }
            "observations-snapshot" => {
                Value::Array(self.sink(map)?.observations_snapshot()?.iter().map(wire::observation_value).collect())
            }
            _ => return self.control(op, map),
        };
        Ok(Some(value))
    }

    /// The `controller` operations, on whichever kind of store is named.
    fn control(&mut self, op: &str, map: &Map<String, Value>) -> anyhow::Result<Option<Value>> {
        if self.is_ledger(map)? { control(self.ledger(map)?, op, map) } else { control(self.sink(map)?, op, map) }
    }

    /// Without blocking: a write still in its store's pending queue reports
    /// "pending"; a finished one hands out its outcome, once.
    fn poll(&mut self, name: &str) -> anyhow::Result<Value> {
        let (pending, op_id) = match self.handles.get(name) {
            None => bail!("no unsettled handle named {name:?}"),
            Some(Handle::Ledger { store, handle }) => {
                let ledger = self.ledgers.get(store).ok_or_else(|| anyhow!("no ledger {store:?}"))?;
                (ledger.pending_ids()?, handle.operation_id())
            }
            Some(Handle::Sink { store, handle }) => {
                let sink = self.sinks.get(store).ok_or_else(|| anyhow!("no sink {store:?}"))?;
                (sink.pending_ids()?, handle.operation_id())
            }
        };
        if pending.contains(&op_id) {
            return Ok(json!("pending"));
        }
        let outcome = match self.handles.remove(name) {
            Some(Handle::Ledger { handle, .. }) => match handle.wait() {
                Ok(receipt) => json!({ "receipt": wire::done_receipt_value(&receipt) }),
                Err(e) => json!({ "error": error_value(&e)? }),
            },
            Some(Handle::Sink { handle, .. }) => match handle.wait() {
                Ok(receipt) => json!({ "receipt": wire::findings_receipt_value(&receipt) }),
                Err(e) => json!({ "error": error_value(&e)? }),
            },
            None => bail!("no unsettled handle named {name:?}"),
        };
        Ok(outcome)
    }
}

fn count(map: &Map<String, Value>) -> anyhow::Result<usize> {
    usize::try_from(uint_field(map, "count")?).context("count")
}

fn control<C: StoreControl>(store: &C, op: &str, map: &Map<String, Value>) -> anyhow::Result<Option<Value>> {
    let value = match op {
        "set-auto-complete" => {
            store.set_auto_complete(wire::boolean(map, "on")?)?;
            return Ok(None);
        }
        "delay-next-writes" => {
            store.delay_next_writes(count(map)?)?;
            return Ok(None);
        }
        "fail-next-submissions" => {
            store.fail_next_submissions(count(map)?)?;
            return Ok(None);
        }
        "fail-next-commits" => {
            store.fail_next_commits(count(map)?)?;
            return Ok(None);
        }
        "release-next" => {
            store.release_next(order(text(map, "order")?)?)?.map_or(Value::Null, |id| u64_value(id.as_raw()))
        }
        "release-specific" => {
            json!(store.release_specific(PendingWriteId::from_raw(uint_field(map, "op-id")?))?)
        }
        "release-all" => json!(store.release_all(order(text(map, "order")?)?)?),
        "pending-ids" => Value::Array(store.pending_ids()?.iter().map(|id| u64_value(id.as_raw())).collect()),
        "pending-count" => json!(store.pending_count()?),
        other => bail!("unknown op {other:?}"),
    };
    Ok(Some(value))
}
