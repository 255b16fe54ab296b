//! 64-bit coordination identifiers and logical clocks.

use core::fmt;

use super::hashing::CanonicalBytes;

macro_rules! define_id_64 {
    ($($(#[$meta:meta])* $name:ident;)+) => {$(
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(u64);

        impl $name {
            /// The id 0, also the default.
            pub const ZERO: Self = Self(0);

            /// Any `u64` is a valid id.
            pub const fn from_raw(raw: u64) -> Self {
                Self(raw)
            }

            /// The raw value, as it is hashed (`u64` little-endian).
            pub const fn as_raw(self) -> u64 {
                self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self, f)
            }
        }

        impl CanonicalBytes for $name {
            fn write_canonical(&self, hasher: &mut blake3::Hasher) {
                self.0.write_canonical(hasher);
            }
        }
    )+};
}

define_id_64! {
    /// One scan run.
    RunId;
    /// One shard of a run; bit 63 marks a derived (split) shard.
    ShardId;
    /// A worker.
    WorkerId;
    /// A coordination operation.
    OpId;
    /// A scan job.
    JobId;
}

impl ShardId {
    /// Whether bit 63 is set: a shard split off another.
    pub const fn is_derived(self) -> bool {
        self.0 & (1 << 63) != 0
    }
}

/// The lease epoch a writer held; higher epochs fence out stale writers.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FenceEpoch(u64);

impl FenceEpoch {
    /// Not assigned.
    pub const ZERO: Self = Self(0);
    /// The first assigned epoch.
    pub const INITIAL: Self = Self(1);

    /// Any `u64` is a valid epoch; 0 means not assigned.
    pub const fn from_raw(raw: u64) -> Self {
        Self(raw)
    }

    /// The value as it is hashed and compared (unsigned).
    pub const fn as_raw(self) -> u64 {
        self.0
    }

    /// Whether the epoch is not 0.
    pub const fn is_assigned(self) -> bool {
        self.0 != 0
    }

    /// The next epoch, or `None` at `u64::MAX` (the upstream panics there;
    /// a persistence layer has no business aborting on a counter).
    pub const fn checked_increment(self) -> Option<Self> {
        match self.0.checked_add(1) {
            Some(next) => Some(Self(next)),
            None => None,
        }
    }
}

impl fmt::Debug for FenceEpoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FenceEpoch({})", self.0)
    }
}

impl CanonicalBytes for FenceEpoch {
    fn write_canonical(&self, hasher: &mut blake3::Hasher) {
        self.0.write_canonical(hasher);
    }
}

/// An abstract, monotonically advancing counter (not wall-clock time).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct LogicalTime(u64);

impl LogicalTime {
    /// The earliest time, also the default.
    pub const ZERO: Self = Self(0);

    /// Any `u64` is a valid time.
    pub const fn from_raw(raw: u64) -> Self {
        Self(raw)
    }

    /// The value as it is hashed and compared (unsigned).
    pub const fn as_raw(self) -> u64 {
        self.0
    }

    /// `delta` ticks later, or `None` past `u64::MAX`.
    pub const fn checked_add(self, delta: u64) -> Option<Self> {
        match self.0.checked_add(delta) {
            Some(t) => Some(Self(t)),
            None => None,
        }
    }
}

impl fmt::Debug for LogicalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LogicalTime({})", self.0)
    }
}

impl CanonicalBytes for LogicalTime {
    fn write_canonical(&self, hasher: &mut blake3::Hasher) {
        self.0.write_canonical(hasher);
    }
}
