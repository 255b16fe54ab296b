//! What a simulated run hands back: its histogram, violations, convergence
//! verdict and the step-by-step event log that makes runs diffable.

use core::fmt;
use std::collections::BTreeMap;

use super::context::FaultLevel;
use super::coverage::Coverage;
use super::swarm::SimOptions;

/// An event kind of one simulation: a closed set every sweep must reach.
pub trait EventKind: Copy + Ord + fmt::Debug + Send + Sync + 'static {
    /// Every kind, in order.
    fn all() -> Vec<Self>;

    fn name(self) -> &'static str;
}

/// The kinds in `K::all()` that `counts` never reached.
pub fn missing_kinds<K: EventKind>(counts: &BTreeMap<K, usize>) -> Vec<K> {
    K::all().into_iter().filter(|k| counts.get(k).copied().unwrap_or(0) == 0).collect()
}

/// One entry of an event log. Ops and events are kept typed and formatted
/// only when the log is read, so recording costs a move, not a format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogEntry<O, E, V> {
    /// Step `step` executed `op` and observed `event`.
    Step {
        step: u64,
        op: O,
        event: E,
    },
    /// Step `step` settled write `op_id` while draining every pending write.
    Drain {
        step: u64,
        op_id: u64,
        event: E,
    },
    Violation(V),
    Note(String),
}

impl<O: fmt::Display, E: fmt::Display, V: fmt::Display> fmt::Display for LogEntry<O, E, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Step { step, op, event } => write!(f, "{step:05} {op} => {event}"),
            Self::Drain { step, op_id, event } => write!(f, "{step:05} drain {op_id} => {event}"),
            Self::Violation(v) => write!(f, "      ! {v}"),
            Self::Note(note) => write!(f, "      # {note}"),
        }
    }
}

/// Every step of a run, in order, with its violations. Two runs of one seed
/// must produce equal logs, on any backend; `lines()` renders it as text,
/// one line per entry (`NNNNN op => event`, `! violation`, `# note`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventLog<O, E, V> {
    entries: Vec<LogEntry<O, E, V>>,
}

impl<O, E, V> Default for EventLog<O, E, V> {
    fn default() -> Self {
        Self { entries: Vec::new() }
    }
}

impl<O: fmt::Display, E: fmt::Display, V: fmt::Display> EventLog<O, E, V> {
    pub fn push(&mut self, entry: LogEntry<O, E, V>) {
        self.entries.push(entry);
    }

    pub fn entries(&self) -> &[LogEntry<O, E, V>] {
        &self.entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn lines(&self) -> Vec<String> {
        self.entries.iter().map(ToString::to_string).collect()
    }

    /// The first entry where two logs differ, rendered: (index, left, right).
    pub fn first_difference(&self, other: &Self) -> Option<(usize, Option<String>, Option<String>)>
    where
        O: PartialEq,
        E: PartialEq,
        V: PartialEq,
    {
        let len = self.entries.len().max(other.entries.len());
        (0..len).find_map(|i| {
            let (a, b) = (self.entries.get(i), other.entries.get(i));
            (a != b).then(|| (i, a.map(ToString::to_string), b.map(ToString::to_string)))
        })
    }
}

/// The outcome of one simulated run.
#[must_use]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimReport<K: EventKind, V, O, E> {
    pub seed: u64,
    pub level: FaultLevel,
    /// The options the run drew from its seed (or was given): with the
    /// seed, they replay it.
    pub options: SimOptions,
    /// What the run exercised.
    pub coverage: Coverage,
    pub ops_executed: usize,
    pub violations: Vec<V>,
    pub event_counts: BTreeMap<K, usize>,
    pub converged: bool,
    pub log: EventLog<O, E, V>,
}

impl<K: EventKind, V: fmt::Display, O, E> SimReport<K, V, O, E> {
    pub fn is_clean(&self) -> bool {
        self.violations.is_empty() && self.converged
    }

    /// Why this seed failed, or `None` if it passed.
    pub fn failure(&self) -> Option<String> {
        if self.is_clean() {
            return None;
        }
        let mut text = format!("{} violation(s), converged={}", self.violations.len(), self.converged);
        for v in self.violations.iter().take(5) {
            text.push_str("\n  ");
            text.push_str(&v.to_string());
        }
        if self.violations.len() > 5 {
            text.push_str(&format!("\n  … and {} more", self.violations.len() - 5));
        }
        Some(text)
    }

    /// Counts keyed by kind name, for summaries that mix stores.
    pub fn named_counts(&self) -> BTreeMap<&'static str, usize> {
        self.event_counts.iter().map(|(k, n)| (k.name(), *n)).collect()
    }
}
