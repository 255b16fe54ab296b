//! The writes a simulation saw delayed, and the release bookkeeping over
//! [`StoreControl`] that both store simulations share: which batch a release
//! settled, and which backend answers contradict what the harness tracked.
//!
//! Finishing a released batch stays with each simulation (it needs the
//! store's oracle and checks); this module only hands the batches back in
//! the order the store applied them.

use std::collections::HashMap;
use std::fmt;

use gossip_persistence::{CompletionOrder, PendingWriteId, StoreControl};
use rand::Rng;
use rand::seq::SliceRandom;

/// A simulation violation that can say "the backend misbehaved".
pub trait BackendViolation {
    /// The call `during` failed with `error`, or answered what the harness contradicts.
    fn backend(during: &'static str, error: &dyn fmt::Display) -> Self;
}

/// The answer to one single-write release.
pub enum ReleasedOne<B> {
    /// The store released a write the harness holds.
    Batch(PendingWriteId, B),
    /// Nothing to finish: no release, an error, or a write the harness never
    /// saw delayed (each reported when it contradicts the harness).
    Noop,
}

/// The outcome of a release-all.
pub struct ReleasedAll<B> {
    /// What the store says it released.
    pub released: usize,
    /// The released batches, in the order the store applied them.
    pub batches: Vec<(PendingWriteId, B)>,
    /// Writes the store still holds after claiming to release everything;
    /// their handles were dropped unwaited, so a broken backend cannot hang
    /// the run.
    pub held: Vec<PendingWriteId>,
}

/// A fair coin for the release-all order.
pub fn random_order<R: Rng + ?Sized>(rng: &mut R) -> CompletionOrder {
    if rng.random_bool(0.5) { CompletionOrder::OldestFirst } else { CompletionOrder::NewestFirst }
}

/// Whether `op_id` was delayed at submit. Unknown counts as delayed: waiting
/// on a delayed write would hang.
pub fn is_delayed<C: StoreControl, V: BackendViolation>(
    store: &C,
    op_id: PendingWriteId,
    violations: &mut Vec<V>,
) -> bool
where
    C::ControlError: fmt::Display,
{
    store.pending_ids().map_or_else(
        |e| {
            violations.push(V::backend("pending_ids", &e));
            true
        },
        |ids| ids.contains(&op_id),
    )
}

/// The delayed writes of one simulation, by id; `B` holds the batch and its
/// commit handle.
pub struct PendingWrites<B> {
    batches: HashMap<PendingWriteId, B>,
}

impl<B> Default for PendingWrites<B> {
    fn default() -> Self {
        Self { batches: HashMap::new() }
    }
}

impl<B> PendingWrites<B> {
    /// How many writes are held.
    pub fn len(&self) -> usize {
        self.batches.len()
    }

    /// Whether no write is held.
    pub fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }

    /// The held ids, ascending.
    pub fn sorted_ids(&self) -> Vec<PendingWriteId> {
        let mut ids: Vec<PendingWriteId> = self.batches.keys().copied().collect();
        ids.sort();
        ids
    }

    /// Holds a delayed write; an id issued twice is the backend's fault.
    pub fn hold<V: BackendViolation>(
        &mut self,
        op_id: PendingWriteId,
        batch: B,
        during: &'static str,
        violations: &mut Vec<V>,
    ) {
        if self.batches.contains_key(&op_id) {
            violations.push(V::backend(during, &format_args!("operation id {} issued twice", op_id.as_raw())));
        }
        self.batches.insert(op_id, batch);
    }

    /// A target for a release-specific op: a held id when there is one, so
    /// releases usually hit, otherwise an arbitrary id.
    pub fn draw_release_target<R: Rng + ?Sized>(&self, rng: &mut R) -> PendingWriteId {
        let raw = if self.batches.is_empty() {
            rng.random_range(1u64..=1024)
        } else {
            let ids = self.sorted_ids();
            ids[rng.random_range(0..ids.len())].as_raw()
        };
        PendingWriteId::from_raw(raw)
    }

    fn released_one<V: BackendViolation>(&mut self, op_id: PendingWriteId, violations: &mut Vec<V>) -> ReleasedOne<B> {
        match self.batches.remove(&op_id) {
            Some(batch) => ReleasedOne::Batch(op_id, batch),
            None => {
                violations.push(V::backend(
                    "release",
                    &format_args!("released operation {} the harness never saw delayed", op_id.as_raw()),
                ));
                ReleasedOne::Noop
            }
        }
    }

    /// Releases the oldest or newest write the store holds and takes its batch.
    pub fn release_next<C: StoreControl, V: BackendViolation>(
        &mut self,
        store: &C,
        order: CompletionOrder,
        violations: &mut Vec<V>,
    ) -> ReleasedOne<B>
    where
        C::ControlError: fmt::Display,
    {
        match store.release_next(order) {
            Ok(Some(op_id)) => self.released_one(op_id, violations),
            Ok(None) => {
                if !self.batches.is_empty() {
                    violations.push(V::backend(
                        "release_next",
                        &format_args!("nothing released with {} writes pending", self.batches.len()),
                    ));
                }
                ReleasedOne::Noop
            }
            Err(e) => {
                violations.push(V::backend("release_next", &e));
                ReleasedOne::Noop
            }
        }
    }

    /// Releases `op_id` and takes its batch.
    pub fn release_specific<C: StoreControl, V: BackendViolation>(
        &mut self,
        store: &C,
        op_id: PendingWriteId,
        violations: &mut Vec<V>,
    ) -> ReleasedOne<B>
    where
        C::ControlError: fmt::Display,
    {
        match store.release_specific(op_id) {
            Ok(true) => self.released_one(op_id, violations),
            Ok(false) => {
                if self.batches.contains_key(&op_id) {
                    violations.push(V::backend(
                        "release_specific",
                        &format_args!("pending operation {} not released", op_id.as_raw()),
                    ));
                }
                ReleasedOne::Noop
            }
            Err(e) => {
                violations.push(V::backend("release_specific", &e));
                ReleasedOne::Noop
            }
        }
    }

    /// Releases everything and takes every held batch: ascending id for
    /// oldest-first, descending for newest-first.
    pub fn release_all<C: StoreControl, V: BackendViolation>(
        &mut self,
        store: &C,
        order: CompletionOrder,
        violations: &mut Vec<V>,
    ) -> ReleasedAll<B>
    where
        C::ControlError: fmt::Display,
    {
        let released = store.release_all(order).unwrap_or_else(|e| {
            violations.push(V::backend("release_all", &e));
            0
        });
        let mut batches: Vec<_> = self.batches.drain().collect();
        batches.sort_by_key(|(id, _)| *id);
        if order == CompletionOrder::NewestFirst {
            batches.reverse();
        }
        let mut held = Vec::new();
        if released != batches.len() {
            violations.push(V::backend(
                "release_all",
                &format_args!("released {released} of {} pending writes", batches.len()),
            ));
            let still = store.pending_ids().unwrap_or_else(|e| {
                violations.push(V::backend("pending_ids", &e));
                batches.iter().map(|(id, _)| *id).collect()
            });
            batches.retain(|(id, _)| {
                let is_held = still.contains(id);
                if is_held {
                    held.push(*id);
                }
                !is_held
            });
        }
        ReleasedAll { released, batches, held }
    }

    /// The swizzle-clog release plan: every held write in a shuffled order,
    /// each marked to fail its commit with probability 1/4, with at least
    /// one failure and (from two writes on) at least one success. The store
    /// (named `holder` in the report) must hold exactly what the harness does.
    pub fn swizzle_plan<C: StoreControl, V: BackendViolation, R: Rng + ?Sized>(
        &self,
        store: &C,
        holder: &str,
        seed: u64,
        rng: &mut R,
        violations: &mut Vec<V>,
    ) -> Vec<(PendingWriteId, bool)>
    where
        C::ControlError: fmt::Display,
    {
        let harness_ids = self.sorted_ids();
        let mut pending_ids = match store.pending_ids() {
            Ok(ids) => ids,
            Err(e) => {
                violations.push(V::backend("pending_ids", &e));
                harness_ids.clone()
            }
        };
        let mut sorted = pending_ids.clone();
        sorted.sort();
        if sorted != harness_ids {
            violations.push(V::backend(
                "pending_ids",
                &format_args!("{holder} holds {sorted:?}, harness delayed {harness_ids:?} (seed {seed})"),
            ));
            pending_ids = harness_ids;
        }
        pending_ids.shuffle(rng);
        let len = pending_ids.len();
        let mut fail_release: Vec<bool> = (0..len).map(|_| rng.random_bool(0.25)).collect();
        if len > 0 && !fail_release.contains(&true) {
            fail_release[rng.random_range(0..len)] = true;
        }
        if len >= 2 && !fail_release.contains(&false) {
            fail_release[rng.random_range(0..len)] = false;
        }
        pending_ids.into_iter().zip(fail_release).collect()
    }
}
