//! Deadlines on guest code: every call into an instance runs under
//! wasmtime's epoch interruption, so a component that loops forever traps
//! (`Trap::Interrupt`) instead of holding the calling thread, and the
//! instance is discarded like any trapped one.
//!
//! One ticker thread per engine advances the epoch every [`TICK`]; it holds
//! only a weak reference, so it ends within a tick of the engine's last
//! user.

use std::time::Duration;

use wasmtime::Engine;

/// How often the epoch advances: the granularity of every call deadline.
pub(crate) const TICK: Duration = Duration::from_millis(10);

/// Starts the engine's ticker. A thread that cannot be spawned leaves calls
/// without a deadline, so it is an error rather than a silent downgrade.
pub(crate) fn start_ticker(engine: &Engine) -> std::io::Result<()> {
    let weak = engine.weak();
    std::thread::Builder::new().name("gossip-epoch-ticker".to_owned()).spawn(move || {
        loop {
            std::thread::sleep(TICK);
            match weak.upgrade() {
                Some(engine) => engine.increment_epoch(),
                None => return,
            }
        }
    })?;
    Ok(())
}

/// Epoch ticks for a deadline `timeout` from now: rounded up, and at least
/// one whole tick beyond the current (partial) one.
pub(crate) fn ticks(timeout: Duration) -> u64 {
    let ticks = timeout.as_nanos().div_ceil(TICK.as_nanos()).saturating_add(1);
    u64::try_from(ticks).unwrap_or(u64::MAX)
}

/// Whether a wasmtime error is a call that ran past its deadline.
pub(crate) fn is_timeout(error: &wasmtime::Error) -> bool {
    error.downcast_ref::<wasmtime::Trap>() == Some(&wasmtime::Trap::Interrupt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_round_up_and_cover_the_current_tick() {
        assert_eq!(ticks(Duration::ZERO), 1);
        assert_eq!(ticks(TICK), 2);
        assert_eq!(ticks(TICK + Duration::from_nanos(1)), 3);
        assert_eq!(ticks(Duration::from_secs(1)), 101);
        assert!(ticks(Duration::MAX) > ticks(Duration::from_secs(1 << 40)), "no overflow to a short deadline");
    }
}
