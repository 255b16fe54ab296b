//! The one source of randomness of a simulated run, and the fault levels.
//!
//! Every decision of a run comes from one ChaCha8 stream seeded from a u64,
//! so a seed replays a run exactly. New draws may only be appended at the end
//! of a step: a draw inserted in the middle shifts every later decision.

use core::fmt;
use core::str::FromStr;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Fault rates are integers in parts per million, so no float rounding can
/// make two platforms disagree about a draw.
pub const PPM_MAX: u32 = 1_000_000;

/// Draws once and reports whether a fault with rate `ppm` fires. A zero rate
/// never draws, so fault-free runs consume no randomness for faults.
pub fn should_inject(rng: &mut ChaCha8Rng, ppm: u32) -> bool {
    if ppm == 0 {
        return false;
    }
    rng.random_range(0..PPM_MAX) < ppm.min(PPM_MAX)
}

/// The PRNG, the seed it came from, and the number of steps taken.
#[derive(Debug, Clone)]
pub struct SimContext {
    rng: ChaCha8Rng,
    seed: u64,
    step_counter: u64,
}

impl SimContext {
    pub fn new(seed: u64) -> Self {
        Self { rng: ChaCha8Rng::seed_from_u64(seed), seed, step_counter: 0 }
    }

    pub const fn seed(&self) -> u64 {
        self.seed
    }

    pub const fn step_counter(&self) -> u64 {
        self.step_counter
    }

    /// A u64 step counter cannot overflow in any run that terminates.
    pub fn tick(&mut self) {
        self.step_counter = self.step_counter.checked_add(1).expect("step counter overflow");
    }

    pub fn rng(&mut self) -> &mut ChaCha8Rng {
        &mut self.rng
    }
}

/// How hostile the simulated environment is (after TigerBeetle's VOPR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum FaultLevel {
    SunnyDay = 1,
    Stormy = 2,
    Radioactive = 3,
}

const _: () = {
    assert!(FaultLevel::SunnyDay as u8 == 1);
    assert!(FaultLevel::Stormy as u8 == 2);
    assert!(FaultLevel::Radioactive as u8 == 3);
};

impl FaultLevel {
    pub const ALL: [Self; 3] = [Self::SunnyDay, Self::Stormy, Self::Radioactive];

    /// The name the CLI accepts and prints.
    pub const fn name(self) -> &'static str {
        match self {
            Self::SunnyDay => "sunny",
            Self::Stormy => "stormy",
            Self::Radioactive => "radioactive",
        }
    }
}

impl fmt::Display for FaultLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault level {0:?} (expected sunny, stormy or radioactive)")]
pub struct UnknownFaultLevel(pub String);

impl FromStr for FaultLevel {
    type Err = UnknownFaultLevel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sunny" | "sunny-day" | "SunnyDay" => Ok(Self::SunnyDay),
            "stormy" | "Stormy" => Ok(Self::Stormy),
            "radioactive" | "Radioactive" => Ok(Self::Radioactive),
            other => Err(UnknownFaultLevel(other.to_owned())),
        }
    }
}

/// How a run arms its faults.
///
/// The reference design arms a fault before every op with the level's
/// rate and lets every inject op add its count; armed faults add up faster
/// than writes consume them, so after a few hundred ops every submission
/// and every commit fails and a long run tests only failures. The default,
/// `Bounded`, arms only before a write and only while the faults armed and
/// not yet consumed stay below a small cap drawn per seed, so writes keep
/// committing however long the run (docs/simulation.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum FaultModel {
    /// Outstanding armed faults stay below the seed's cap.
    #[default]
    Bounded,
    /// The reference design's unbounded fault debt, kept for parity with
    /// the reference tests: a seed replays exactly as it did there.
    Reference,
}

impl FaultModel {
    /// Both models.
    pub const ALL: [Self; 2] = [Self::Bounded, Self::Reference];

    /// The name the CLI accepts and prints.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Bounded => "bounded",
            Self::Reference => "reference",
        }
    }
}

impl fmt::Display for FaultModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A fault-model name that is neither `bounded` nor `reference`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault model {0:?} (expected bounded or reference)")]
pub struct UnknownFaultModel(pub String);

impl FromStr for FaultModel {
    type Err = UnknownFaultModel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|m| m.name() == s).ok_or_else(|| UnknownFaultModel(s.to_owned()))
    }
}

/// Per-write fault rates drawn by the generators (never by `step`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultConfig {
    pub submit_fail_ppm: u32,
    pub commit_fail_ppm: u32,
    pub delay_ppm: u32,
}

impl FaultConfig {
    /// The reference design's rates for `level`.
    pub const fn for_level(level: FaultLevel) -> Self {
        let ppm = match level {
            FaultLevel::SunnyDay => 0,
            FaultLevel::Stormy => 100_000,
            FaultLevel::Radioactive => 200_000,
        };
        Self { submit_fail_ppm: ppm, commit_fail_ppm: ppm, delay_ppm: ppm }
    }

    pub const fn is_fault_free(&self) -> bool {
        self.submit_fail_ppm == 0 && self.commit_fail_ppm == 0 && self.delay_ppm == 0
    }
}

/// The reference's name for the done-ledger's fault rates.
pub type DoneLedgerFaultConfig = FaultConfig;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_rate_never_draws() {
        let mut a = SimContext::new(7);
        let mut b = SimContext::new(7);
        assert!(!should_inject(a.rng(), 0));
        assert_eq!(a.rng().random::<u64>(), b.rng().random::<u64>());
    }

    #[test]
    fn full_rate_always_fires() {
        let mut ctx = SimContext::new(1);
        assert!((0..100).all(|_| should_inject(ctx.rng(), PPM_MAX)));
    }

    #[test]
    fn levels_round_trip_through_their_names() {
        for level in FaultLevel::ALL {
            assert_eq!(level.name().parse::<FaultLevel>(), Ok(level));
        }
        assert!("cloudy".parse::<FaultLevel>().is_err());
        for model in FaultModel::ALL {
            assert_eq!(model.name().parse::<FaultModel>(), Ok(model));
        }
        assert!("lenient".parse::<FaultModel>().is_err());
    }
}
