//! Swarm options: each seed draws its own run options (fault rates within
//! its level's range, the fault cap, batch sizes, the key universe, which
//! releases it uses, the store's completion mode), as TigerBeetle's
//! simulator does, so different seeds explore different corners instead of
//! every seed averaging over the same mix.
//!
//! The options are drawn from their own ChaCha8 stream of the seed, never
//! from the run's, so a run given its printed options line and its seed
//! replays exactly what the seed alone runs.

use core::fmt;
use core::str::FromStr;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::context::{FaultConfig, FaultLevel, FaultModel};

/// The stream of a seed the options come from; the run uses stream 0.
const OPTIONS_STREAM: u64 = 0x53_5741_524d;

/// Which release ops a seed draws; a refused release is redrawn, so a seed
/// without one explores the orders the others leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReleaseMix {
    /// Release the oldest pending write.
    pub oldest: bool,
    /// Release the newest pending write.
    pub newest: bool,
    /// Release one write by id.
    pub by_id: bool,
    /// Release every pending write.
    pub all: bool,
}

impl ReleaseMix {
    /// Every release op.
    pub const ALL: Self = Self { oldest: true, newest: true, by_id: true, all: true };

    fn letters(self) -> String {
        [(self.oldest, 'o'), (self.newest, 'n'), (self.by_id, 'i'), (self.all, 'a')]
            .into_iter()
            .map(|(on, c)| if on { c } else { '-' })
            .collect()
    }

    fn parse(text: &str) -> Option<Self> {
        let c: Vec<char> = text.chars().collect();
        let flag = |i: usize, on: char| match c.get(i) {
            Some(&x) if x == on => Some(true),
            Some('-') => Some(false),
            _ => None,
        };
        (c.len() == 4).then_some(())?;
        Some(Self { oldest: flag(0, 'o')?, newest: flag(1, 'n')?, by_id: flag(2, 'i')?, all: flag(3, 'a')? })
    }
}

/// Whether the store applies writes at submit (delaying only the ones a
/// fault delays) or holds every write until a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Completion {
    /// Auto-complete on: the store's default.
    Auto,
    /// Auto-complete off for the faulty phase: every write waits for a release.
    Held,
}

impl Completion {
    const fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Held => "held",
        }
    }
}

/// Everything a seed's run draws before its first op. With the seed, it
/// determines the run; its `Display` is the one line a run prints and
/// `FromStr` reads back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SimOptions {
    /// How faults are armed.
    pub model: FaultModel,
    /// The fault level the rates were drawn for.
    pub level: FaultLevel,
    /// Per-write fault rates (parts per million).
    pub submit_fail_ppm: u32,
    /// See `submit_fail_ppm`.
    pub commit_fail_ppm: u32,
    /// See `submit_fail_ppm`.
    pub delay_ppm: u32,
    /// The most armed faults of one kind outstanding at a time; 0 means
    /// unbounded (the reference model).
    pub fault_cap: usize,
    /// The most rows a random write holds (the plug-in clamps it to its own).
    pub max_batch: usize,
    /// How many keys random writes and reads use (the plug-in clamps it).
    pub key_universe: usize,
    /// How often a write replays an earlier batch (parts per million).
    pub replay_ppm: u32,
    /// Which release ops the faulty phase draws.
    pub releases: ReleaseMix,
    /// The store's completion mode in the faulty phase.
    pub completion: Completion,
}

/// The level's range for each fault rate, in ppm.
const fn ppm_range(level: FaultLevel) -> (u32, u32) {
    match level {
        FaultLevel::SunnyDay => (0, 0),
        FaultLevel::Stormy => (10_000, 100_000),
        FaultLevel::Radioactive => (50_000, 200_000),
    }
}

/// The level's largest fault cap. Radioactive differs from stormy by its
/// rates, not its cap: a cap of 3 starves commits below a quarter of the
/// writes at radioactive rates (measured, docs/simulation.md).
const fn max_cap(level: FaultLevel) -> usize {
    match level {
        FaultLevel::SunnyDay => 1,
        FaultLevel::Stormy | FaultLevel::Radioactive => 2,
    }
}

impl SimOptions {
    /// The reference design's fixed options: its rates, no cap, batches of
    /// up to 20 rows over 50 keys, every release, auto-complete.
    pub const fn reference(level: FaultLevel) -> Self {
        let FaultConfig { submit_fail_ppm, commit_fail_ppm, delay_ppm } = FaultConfig::for_level(level);
        Self {
            model: FaultModel::Reference,
            level,
            submit_fail_ppm,
            commit_fail_ppm,
            delay_ppm,
            fault_cap: 0,
            max_batch: 20,
            key_universe: 50,
            replay_ppm: 0,
            releases: ReleaseMix::ALL,
            completion: Completion::Auto,
        }
    }

    /// The options of `seed` at `level` under `model`: the reference model's
    /// are fixed, the bounded model's are drawn from the seed.
    pub fn for_seed(seed: u64, level: FaultLevel, model: FaultModel) -> Self {
        match model {
            FaultModel::Reference => Self::reference(level),
            FaultModel::Bounded => Self::draw(seed, level),
        }
    }

    fn draw(seed: u64, level: FaultLevel) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(OPTIONS_STREAM);
        let (lo, hi) = ppm_range(level);
        let rate = |rng: &mut ChaCha8Rng| if hi == 0 { 0 } else { rng.random_range(lo..=hi) };
        let (submit_fail_ppm, commit_fail_ppm, delay_ppm) = (rate(&mut rng), rate(&mut rng), rate(&mut rng));
        let fault_cap = rng.random_range(1..=max_cap(level));
        // Small batches and small universes are where collisions happen, so
        // they are drawn as often as the large ones.
        let max_batch = [1, 2, 4, 8, 20][rng.random_range(0..5)];
        let key_universe = [3, 8, 16, 50, 200][rng.random_range(0..5)];
        let replay_ppm = [0, 50_000, 150_000][rng.random_range(0..3)];
        let mut releases = ReleaseMix {
            oldest: rng.random_bool(0.75),
            newest: rng.random_bool(0.75),
            by_id: rng.random_bool(0.75),
            all: rng.random_bool(0.75),
        };
        if releases == (ReleaseMix { oldest: false, newest: false, by_id: false, all: false }) {
            releases = ReleaseMix::ALL;
        }
        let held = hi > 0 && rng.random_range(0..4) == 0;
        let completion = if held { Completion::Held } else { Completion::Auto };
        Self {
            model: FaultModel::Bounded,
            level,
            submit_fail_ppm,
            commit_fail_ppm,
            delay_ppm,
            fault_cap,
            max_batch,
            key_universe,
            replay_ppm,
            releases,
            completion,
        }
    }

    /// The per-write fault rates.
    pub const fn faults(&self) -> FaultConfig {
        FaultConfig {
            submit_fail_ppm: self.submit_fail_ppm,
            commit_fail_ppm: self.commit_fail_ppm,
            delay_ppm: self.delay_ppm,
        }
    }

    /// Whether `outstanding` armed faults of one kind leave room for `n` more.
    pub const fn room(&self, outstanding: usize) -> usize {
        match (self.model, self.fault_cap) {
            (FaultModel::Reference, _) | (_, 0) => usize::MAX,
            (FaultModel::Bounded, cap) => cap.saturating_sub(outstanding),
        }
    }
}

impl fmt::Display for SimOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "model={} level={} submit={} commit={} delay={} cap={} batch={} keys={} replay={} releases={} \
             completion={}",
            self.model,
            self.level,
            self.submit_fail_ppm,
            self.commit_fail_ppm,
            self.delay_ppm,
            self.fault_cap,
            self.max_batch,
            self.key_universe,
            self.replay_ppm,
            self.releases.letters(),
            self.completion.name()
        )
    }
}

/// An options line that does not read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad options line: {0}")]
pub struct BadOptions(pub String);

impl FromStr for SimOptions {
    type Err = BadOptions;

    /// Reads what `Display` prints: every field, `name=value`, in any order.
    fn from_str(line: &str) -> Result<Self, BadOptions> {
        let bad = |what: &str| BadOptions(what.to_owned());
        let mut fields = std::collections::BTreeMap::new();
        for word in line.split_whitespace() {
            let (name, value) = word.split_once('=').ok_or_else(|| bad(word))?;
            fields.insert(name, value);
        }
        let get = |name: &str| fields.get(name).copied().ok_or_else(|| bad(&format!("missing {name}")));
        let num = |name: &str| get(name)?.parse::<u64>().map_err(|_| bad(name));
        let small = |name: &str| num(name).and_then(|n| usize::try_from(n).map_err(|_| bad(name)));
        let ppm = |name: &str| {
            num(name).and_then(|n| u32::try_from(n).ok().filter(|n| *n <= super::PPM_MAX).ok_or_else(|| bad(name)))
        };
        let options = Self {
            model: get("model")?.parse().map_err(|e| bad(&format!("{e}")))?,
            level: get("level")?.parse().map_err(|e| bad(&format!("{e}")))?,
            submit_fail_ppm: ppm("submit")?,
            commit_fail_ppm: ppm("commit")?,
            delay_ppm: ppm("delay")?,
            fault_cap: small("cap")?,
            max_batch: small("batch")?.max(1),
            key_universe: small("keys")?.max(1),
            replay_ppm: ppm("replay")?,
            releases: ReleaseMix::parse(get("releases")?).ok_or_else(|| bad("releases"))?,
            completion: match get("completion")? {
                "auto" => Completion::Auto,
                "held" => Completion::Held,
                other => return Err(bad(other)),
            },
        };
        if fields.len() != 11 {
            return Err(bad("unknown or repeated fields"));
        }
        Ok(options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_lines_read_back() {
        for level in FaultLevel::ALL {
            for seed in 0..50 {
                let options = SimOptions::for_seed(seed, level, FaultModel::Bounded);
                assert_eq!(options.to_string().parse::<SimOptions>(), Ok(options));
            }
            let reference = SimOptions::reference(level);
            assert_eq!(reference.to_string().parse::<SimOptions>(), Ok(reference));
        }
        assert!("model=bounded".parse::<SimOptions>().is_err());
    }

    #[test]
    fn seeds_draw_different_options_within_their_level() {
        let drawn: std::collections::HashSet<SimOptions> =
            (0..50).map(|seed| SimOptions::for_seed(seed, FaultLevel::Stormy, FaultModel::Bounded)).collect();
        assert!(drawn.len() > 40);
        for o in &drawn {
            assert!((10_000..=100_000).contains(&o.submit_fail_ppm), "{o}");
            assert!((1..=2).contains(&o.fault_cap), "{o}");
        }
        let sunny = SimOptions::for_seed(3, FaultLevel::SunnyDay, FaultModel::Bounded);
        assert!(sunny.faults().is_fault_free() && sunny.completion == Completion::Auto, "{sunny}");
    }
}
