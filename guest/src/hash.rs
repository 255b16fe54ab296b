//! The hash maps every store table and batch index uses.
//!
//! Keys are 32-byte digests (or tuples of them) that callers choose, so the
//! hasher must stay seeded per map; std's SipHash is, but it was over a third
//! of a 1,000-row batch's time. foldhash keeps a random per-map seed (minimal
//! DoS resistance) at a fraction of the cost.

pub(crate) use foldhash::{HashMap, HashMapExt, HashSet};
