//! Sharing one single-threaded resource (a wasmtime store with its
//! component instance) between many host threads, by flat combining.
//!
//! The pieces are production code checked by loom (`tests/loom_*.rs`, run
//! by `scripts/loom.sh`) and modelled in `proofs/`: the lock-free request
//! [`ring`] (`RingBuf.v`), the priority [`heap`] (`Heap.v`), the request
//! stamps of [`seq`], and the one-shot [`completion`] cell. [`Combiner`]
//! puts them together.
//!
//! All of them take their atomics, locks, cells and threads from [`sync`],
//! which is loom's under `--cfg loom` and std's otherwise.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod combiner;
pub mod completion;
pub mod heap;
pub mod ring;
pub mod seq;
pub mod sync;

pub use combiner::{Class, Combiner, Ticket};
pub use completion::{Closed, Publisher, Receiver, oneshot};
pub use heap::Heap;
pub use ring::{CapacityError, Ring};
pub use seq::SeqAllocator;
