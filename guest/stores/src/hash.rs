//! The hash maps every store table and batch index uses.
//!
//! Keys are 32-byte digests (or tuples of them) that callers choose, so each
//! map must be keyed with a seed callers cannot predict, or a crafted batch
//! could put every key in one probe chain. std's SipHash is keyed, but it was
//! over a third of a 1,000-row batch's time; foldhash is several times faster.
//!
//! Both of foldhash's secrets must be unpredictable: the per-map seed and the
//! shared multiplier seeds. Every folded multiply takes `input ^ secret`, and
//! with the multipliers known (as `FixedState`'s are: constants in foldhash's
//! source) a caller can choose key words equal to them, zeroing a product
//! whatever the per-map seed is: every key of the form `[x, x, m, m]` then
//! hashes alike under every map (`the_multipliers_are_secret_too` below).
//!
//! Where the secrets come from: natively, foldhash's own random state (address
//! space randomization, time). A wasm instance has neither, so every instance
//! of the component would hash alike, and predictably, multipliers included;
//! there the host hands each instance entropy through [`set_hash_seed`]
//! (exported to hosts by the component as `gossip:persistence/hash-seed`)
//! before it builds any store. Both secrets derive from that seed, and each
//! map mixes it with a per-map counter, so no two maps share a seed either.

use core::hash::BuildHasher;
use core::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};

use foldhash::SharedSeed;
use foldhash::fast::{FoldHasher, RandomState, SeedableRandomState};

/// The host's entropy and the multipliers derived from it; unset, foldhash's
/// own random ones apply.
#[derive(Clone, Copy)]
struct HostKeys {
    seed: u64,
    multipliers: Option<&'static SharedSeed>,
}

static HOST: RwLock<HostKeys> = RwLock::new(HostKeys { seed: 0, multipliers: None });
/// Maps built so far: no two maps get the same seed.
static MAPS: AtomicU64 = AtomicU64::new(0);

/// Keys every hash map built from now on with `seed` (mixed with each map's
/// own counter and foldhash's random state). Maps built earlier keep their
/// seeds. A wasm host calls this once per instance, before any store exists.
pub fn set_hash_seed(seed: u64) {
    // Maps borrow their multipliers for the program's life (foldhash's hasher
    // type is `'static`), so each call leaks one 48-byte seed: once per instance.
    let multipliers: &'static SharedSeed = Box::leak(Box::new(multipliers(seed, own_entropy(seed))));
    *HOST.write().unwrap_or_else(PoisonError::into_inner) = HostKeys { seed, multipliers: Some(multipliers) };
}

/// SplitMix64's finalizer: spreads a counter over all 64 bits.
const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// foldhash's random state's contribution: secret natively, but in a wasm
/// instance a function of the module and the calls made so far.
fn own_entropy(x: u64) -> u64 {
    RandomState::default().hash_one(x)
}

/// The shared multipliers for maps built under host seed `host`.
fn multipliers(host: u64, own: u64) -> SharedSeed {
    SharedSeed::from_u64(host ^ own)
}

/// A map's hasher state: a seed of its own, fixed for the map's life.
#[derive(Clone, Debug)]
pub(crate) struct MapSeed(SeedableRandomState);

impl Default for MapSeed {
    fn default() -> Self {
        let map = MAPS.fetch_add(1, Ordering::Relaxed);
        let host = *HOST.read().unwrap_or_else(PoisonError::into_inner);
        let multipliers = host.multipliers.unwrap_or_else(SharedSeed::global_random);
        Self::from_parts(multipliers, host.seed, map, own_entropy(map))
    }
}

impl MapSeed {
    /// The seed map number `map` gets under host seed `host`, with `own` from
    /// foldhash's random state: the one place the parts are combined.
    fn from_parts(multipliers: &'static SharedSeed, host: u64, map: u64, own: u64) -> Self {
        Self(SeedableRandomState::with_seed(mix(host ^ mix(map)) ^ own, multipliers))
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
    use core::cell::Cell;
    use core::hash::{Hash, Hasher};

    use foldhash::fast::FixedState;

    use super::*;
    use crate::identity::OvidHash;

    #[test]
    fn every_map_gets_its_own_seed() {
        let (a, b) = (MapSeed::default(), MapSeed::default());
        assert_ne!(a.hash_one(42u64), b.hash_one(42u64));
    }

    /// A batch at the recommended size's order of magnitude.
    const N: usize = 2_000;
    /// The bucket index bits of the table hashbrown allocates for `N` keys
    /// (`N` * 8/7 rounded up to a power of two: 4,096 buckets).
    const BITS: u32 = 12;
    /// Which map of the instance the attacker targets, and the host seeds.
    const MAP: u64 = 3;
    const GUESS: u64 = 0x0123_4567_89ab_cdef;
    const HOST_SEEDS: [u64; 3] = [0x5eed, 0xfeed_f00d_dead_beef, !GUESS];

    /// The seed a wasm instance computes for its `map`th map under `host`.
    ///
    /// This is the strongest attacker the design must resist. A wasm instance
    /// has no entropy of its own: foldhash's random state there comes from
    /// linear-memory addresses and a call counter (wasm32-unknown-unknown has
    /// no clock), and the map counter counts calls too, so anyone running the
    /// published module through the same calls reproduces every part except
    /// the host seed. The test hands the attacker those parts (as the constant
    /// 0: their value is irrelevant, only that they are known), so the host
    /// seed is the only secret, as in production.
    fn wasm_instance(host: u64, map: u64) -> MapSeed {
        const OWN: u64 = 0;
        MapSeed::from_parts(Box::leak(Box::new(multipliers(host, OWN))), host, map, OWN)
    }

    /// Distinct keys an attacker can enumerate (the first word alone makes
    /// them distinct; written out word by word, as the search is the test's
    /// bulk and runs unoptimized).
    fn candidate(i: u64) -> OvidHash {
        let mut bytes = [0; 32];
        bytes[..8].copy_from_slice(&i.to_le_bytes());
        bytes[8..16].copy_from_slice(&mix(i).to_le_bytes());
        bytes[16..24].copy_from_slice(&mix(!i).to_le_bytes());
        bytes[24..].copy_from_slice(&mix(i.rotate_left(32)).to_le_bytes());
        OvidHash::from_bytes(bytes)
    }

    /// The first `N` candidates whose hashes under `predicted` agree with the
    /// first's in the low `BITS` bits: one bucket, hence one probe chain, in
    /// the table for `N` keys (and in any smaller one).
    fn crafted_for(predicted: &MapSeed) -> Vec<OvidHash> {
        let mask = (1 << BITS) - 1;
        let target = predicted.hash_one(candidate(0)) & mask;
        let mut keys = Vec::with_capacity(N);
        let mut i = 0;
        while keys.len() < N {
            let key = candidate(i);
            if predicted.hash_one(key) & mask == target {
                keys.push(key);
            }
            i += 1;
        }
        keys
    }

    /// Collision work, modelled: the occupied slots passed inserting `keys` in
    /// order into a linear-probing table of 2^`BITS` slots. Keys sharing one
    /// bucket cost 0 + 1 + ... + (N - 1); keys spread at this load, about N/2.
    fn probe_work(hasher: &impl BuildHasher, keys: &[OvidHash]) -> u64 {
        let mask = (1 << BITS) - 1;
        let mut taken = vec![false; mask + 1];
        let mut work = 0;
        for key in keys {
            let mut slot = hasher.hash_one(key) as usize & mask;
            while taken[slot] {
                work += 1;
                slot = (slot + 1) & mask;
            }
            taken[slot] = true;
        }
        work
    }

    thread_local! {
        static MISMATCHES: Cell<u64> = const { Cell::new(0) };
    }

    /// A key that hashes as its digest does (so lands where the store's key
    /// would) and counts comparisons with a different key. The store's key
    /// types derive their `Hash` and `Eq`, so the real tables cannot count.
    #[derive(Clone, Copy, Eq)]
    struct Counted(OvidHash);

    impl PartialEq for Counted {
        fn eq(&self, other: &Self) -> bool {
            let same = self.0 == other.0;
            if !same {
                MISMATCHES.set(MISMATCHES.get() + 1);
            }
            same
        }
    }

    impl Hash for Counted {
        fn hash<H: Hasher>(&self, state: &mut H) {
            self.0.hash(state);
        }
    }

    /// Collision work, measured on a real std (hashbrown) map: the wasted key
    /// comparisons of inserting `keys` then looking each one up. hashbrown
    /// compares a key only with the entries in its probe chain that share its
    /// 7-bit tag, so keys sharing a bucket but not tags cost about N²/256.
    fn table_work(hasher: impl BuildHasher, keys: &[OvidHash]) -> u64 {
        MISMATCHES.set(0);
        let mut map = std::collections::HashMap::with_capacity_and_hasher(keys.len(), hasher);
        for (i, key) in keys.iter().enumerate() {
            assert_eq!(map.insert(Counted(*key), i), None, "distinct keys");
        }
        for (i, key) in keys.iter().enumerate() {
            assert_eq!(map.get(&Counted(*key)), Some(&i), "every key reads back");
        }
        MISMATCHES.get()
    }

    /// Linear: what `N` keys cost spread over the table (expected about N/2
    /// probes and N/64 comparisons).
    fn assert_linear(hasher: impl BuildHasher + Clone, keys: &[OvidHash], what: &str) {
        let (probes, compared) = (probe_work(&hasher, keys), table_work(hasher, keys));
        assert!(probes <= 2 * N as u64, "{what}: {probes} probes for {N} keys");
        assert!(compared <= N as u64 / 4, "{what}: {compared} comparisons for {N} keys");
    }

    #[test]
    fn a_batch_crafted_for_a_predicted_seed_spreads_under_any_other() {
        let n = N as u64;
        let predicted = wasm_instance(GUESS, MAP);
        let keys = crafted_for(&predicted);
        // Positive control: had the host used the guessed seed, the batch
        // would be quadratic in both measures.
        assert!(probe_work(&predicted, &keys) >= n * n / 4);
        assert!(table_work(predicted, &keys) >= n * n / 1024);
        for host in HOST_SEEDS {
            assert_linear(wasm_instance(host, MAP), &keys, &format!("host seed {host:#x}"));
        }
        assert_linear(MapSeed::default(), &keys, "a native map");
    }

    /// foldhash's public `FixedState` multiplier (`seeds[0]`, its source's
    /// `ARBITRARY6`): a key word equal to it zeroes a folded multiply.
    const PUBLIC_MULTIPLIER: u64 = 0xc0ac_29b7_c97c_50dd;

    /// `[x, x, m, m]` (64-bit words): with `m` the multiplier, both lanes of
    /// foldhash's 32-byte hash lose the per-map seed and then cancel out.
    fn zeroing(x: u64) -> OvidHash {
        let mut bytes = [0; 32];
        for (chunk, word) in bytes.chunks_exact_mut(8).zip([x, x, PUBLIC_MULTIPLIER, PUBLIC_MULTIPLIER]) {
            chunk.copy_from_slice(&word.to_ne_bytes());
        }
        OvidHash::from_bytes(bytes)
    }

    #[test]
    fn the_multipliers_are_secret_too() {
        let n = N as u64;
        let keys: Vec<OvidHash> = (0..n).map(|i| zeroing(mix(i))).collect();
        // Positive control: under public multipliers (as every map had while
        // they were `FixedState`'s) the keys collide whatever the map's seed,
        // in all 64 bits, so every insert compares with every earlier key.
        for seed in [0, 1, GUESS, mix(MAP)] {
            let fixed = FixedState::with_seed(seed);
            let first = fixed.hash_one(keys[0]);
            assert!(keys.iter().all(|key| fixed.hash_one(key) == first), "seed {seed:#x}");
            assert!(probe_work(&fixed, &keys) >= n * n / 4);
            assert!(table_work(fixed, &keys) >= n * n / 4);
        }
        for host in HOST_SEEDS.into_iter().chain([GUESS]) {
            assert_linear(wasm_instance(host, MAP), &keys, &format!("host seed {host:#x}"));
        }
        assert_linear(MapSeed::default(), &keys, "a native map");
    }
}
