//! The fault-injection counters: armed with a count, each check consumes one.
//! Modelled in `proofs/Countdown.v`.

/// How many more checks fire; disarmed at 0, the default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Countdown(usize);

impl Countdown {
    /// Adds `count` more firings (saturating, so arming can never wrap to 0).
    pub fn arm(&mut self, count: usize) {
        self.0 = self.0.saturating_add(count);
    }

    /// Consumes one firing if any is armed.
    pub fn try_take(&mut self) -> bool {
        match self.0.checked_sub(1) {
            Some(rest) => {
                self.0 = rest;
                true
            }
            None => false,
        }
    }

    /// Firings still armed.
    pub const fn remaining(self) -> usize {
        self.0
    }
}
