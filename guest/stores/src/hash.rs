//! The hash maps every store table and batch index uses.
//!
//! Keys are 32-byte digests (or tuples of them) that callers choose, so each
//! map must be keyed with a seed callers cannot predict, or a crafted batch
//! could put every key in one probe chain. std's SipHash is keyed, but it was
//! over a third of a 1,000-row batch's time; foldhash is several times faster.
//!
//! Where the seed comes from: natively, foldhash's own random state (address
//! space randomization, time). A wasm instance has neither, so every instance
//! of the component would hash alike; there the host hands each instance
//! entropy through [`set_hash_seed`] (exported to hosts by the component as
//! `gossip:persistence/hash-seed`) before it builds any store. Each map mixes
//! that seed with a per-map counter, so no two maps share a seed either.

use core::hash::BuildHasher;
use core::sync::atomic::{AtomicU64, Ordering};

use foldhash::fast::{FixedState, FoldHasher, RandomState};

/// Entropy from the host; 0 until set (then only foldhash's own applies).
static HOST_SEED: AtomicU64 = AtomicU64::new(0);
/// Maps built so far: no two maps get the same seed.
static MAPS: AtomicU64 = AtomicU64::new(0);

/// Keys every hash map built from now on with `seed` (mixed with each map's
/// own counter and foldhash's random state). Maps built earlier keep their
/// seeds. A wasm host calls this once per instance, before any store exists.
pub fn set_hash_seed(seed: u64) {
    HOST_SEED.store(seed, Ordering::Relaxed);
}

/// SplitMix64's finalizer: spreads a counter over all 64 bits.
const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A map's hasher state: a seed of its own, fixed for the map's life.
#[derive(Clone, Debug)]
pub(crate) struct MapSeed(FixedState);

impl Default for MapSeed {
    fn default() -> Self {
        let map = MAPS.fetch_add(1, Ordering::Relaxed);
        let host = HOST_SEED.load(Ordering::Relaxed);
        let own = RandomState::default().hash_one(map);
        Self(FixedState::with_seed(mix(host ^ mix(map)) ^ own))
    }
}

impl BuildHasher for MapSeed {
    type Hasher = FoldHasher<'static>;

    #[inline(always)]
    fn build_hasher(&self) -> FoldHasher<'static> {
        self.0.build_hasher()
    }
}

pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, MapSeed>;
pub(crate) type HashSet<T> = std::collections::HashSet<T, MapSeed>;

/// `with_capacity` for the seeded maps (std's needs the default hasher).
pub(crate) trait HashMapExt {
    fn with_capacity(capacity: usize) -> Self;
}

impl<K, V> HashMapExt for HashMap<K, V> {
    fn with_capacity(capacity: usize) -> Self {
        Self::with_capacity_and_hasher(capacity, MapSeed::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_map_gets_its_own_seed() {
        let (a, b) = (MapSeed::default(), MapSeed::default());
        assert_ne!(a.hash_one(42u64), b.hash_one(42u64));
    }
}
