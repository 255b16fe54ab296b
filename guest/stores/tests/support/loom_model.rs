//! The loom model runner of every loom harness in the workspace: running a
//! bounded model, counting what it explored, and checking that a planted
//! bug is caught.
//!
//! One file, included as a module (`#[path]`) by `guest/stores/tests/loom_store.rs`
//! and by `host/exec/tests/loom_*.rs`: the two crates do not depend on each
//! other, and a test-only crate would be one more workspace member for three
//! functions. Each including harness is `#![cfg(loom)]`, so this file is only
//! compiled under `--cfg loom`, where both crates have `loom` as a
//! dependency.

use std::io::Write;
use std::panic;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

// std atomics, outside the model: they count the model's executions.
static EXECUTIONS: AtomicUsize = AtomicUsize::new(0);
static REPORTED: AtomicBool = AtomicBool::new(false);

const CHILD_ENV: &str = "GOSSIP_LOOM_PLANTED_CHILD";
const SYMPTOM: &str = "loom-planted-symptom";

/// Checks `model` in every interleaving with at most `preemption_bound`
/// preemptions, and prints how many interleavings that was.
pub fn explore<F>(name: &str, preemption_bound: usize, model: F)
where
    F: Fn() + Sync + Send + 'static,
{
    EXECUTIONS.store(0, Ordering::Relaxed);
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(preemption_bound);
    let start = Instant::now();
    builder.check(move || {
        EXECUTIONS.fetch_add(1, Ordering::Relaxed);
        model();
    });
    println!(
        "loom-model {name}: {} interleavings, preemption bound {preemption_bound}, {:.2?}",
        EXECUTIONS.load(Ordering::Relaxed),
        start.elapsed()
    );
}

/// The body of a planted-bug test named `test_name`, marked
/// `#[should_panic(expected = "planted bug caught")]`: the model must fail,
/// and with one of `symptoms`.
///
/// The model runs in a child process (this test binary, re-run on this one
/// test), because a loom deadlock unwinds through loom objects whose
/// destructors then abort the process; the child reports the first panic
/// it sees, and the parent judges it.
#[allow(dead_code)]
pub fn expect_caught<F>(test_name: &str, preemption_bound: usize, symptoms: &[&str], model: F)
where
    F: Fn() + Sync + Send + 'static,
{
    if std::env::var(CHILD_ENV).as_deref() == Ok(test_name) {
        report_first_panic();
        explore(test_name, preemption_bound, model);
        println!("{SYMPTOM}: none, the model passed");
        return;
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let child = Command::new(exe)
        .args([test_name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, test_name)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("re-running the test binary");
    let output = format!("{}{}", String::from_utf8_lossy(&child.stdout), String::from_utf8_lossy(&child.stderr));
    let Some(symptom) = output.lines().find_map(|l| l.split_once(SYMPTOM).map(|(_, rest)| rest)) else {
        panic!("the child reported nothing:\n{output}");
    };
    if symptoms.iter().any(|s| symptom.contains(s)) {
        panic!("planted bug caught{symptom}");
    }
    panic!("model did not fail with {symptoms:?}{symptom}");
}

/// Prints the first panic of this process with the interleaving it came
/// from, before anything else can abort.
fn report_first_panic() {
    let default_hook = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if !REPORTED.swap(true, Ordering::Relaxed) {
            let message = info
                .payload()
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| info.payload().downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            let executions = EXECUTIONS.load(Ordering::Relaxed);
            println!("{SYMPTOM} in interleaving {executions}: {}", message.replace('\n', " "));
            let _ = std::io::stdout().flush();
        }
        default_hook(info);
    }));
}
