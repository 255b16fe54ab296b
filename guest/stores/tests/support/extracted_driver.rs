//! The extracted-model differential harness shared by the crates whose code
//! the Coq models describe: runs seeded operation sequences through the
//! compiled OCaml driver (`scripts/extraction.sh` builds it) and compares
//! every answer with the production code's.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The compiled driver, or `None` (after saying why) when the tests should skip.
pub fn driver() -> Option<PathBuf> {
    let path = std::env::var_os("GOSSIP_EXTRACTED_DRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/extraction/driver"));
    if path.is_file() {
        return Some(path);
    }
    let why = format!(
        "extracted-model driver not found at {} (build it with scripts/extraction.sh, or set GOSSIP_EXTRACTED_DRIVER)",
        path.display()
    );
    if std::env::var("GOSSIP_REQUIRE_EXTRACTION").as_deref() == Ok("1") {
        panic!("GOSSIP_REQUIRE_EXTRACTION=1: {why}");
    }
    println!("SKIPPED: {why}");
    None
}

/// One command for the driver and the production code's answer to it.
pub struct Step {
    pub command: String,
    pub rust: String,
}

/// Runs every sequence through one driver process and compares each answer;
/// panics on the first difference, naming the sequence and its steps so far.
pub fn differential(model: &str, sequences: &[Vec<Step>]) -> Result<(), String> {
    let Some(driver) = driver() else { return Ok(()) };
    let input: String = sequences.iter().flatten().map(|s| format!("{}\n", s.command)).collect();
    let mut child = Command::new(&driver)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", driver.display()));
    let mut stdin = child.stdin.take().expect("piped stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let answers: Vec<String> =
        BufReader::new(child.stdout.take().expect("piped stdout")).lines().map(|l| l.expect("driver output")).collect();
    writer.join().expect("writer thread").expect("writing to the driver");
    let status = child.wait().expect("driver exit");
    let mut answers = answers.into_iter();
    let mut ops = 0usize;
    for (n, sequence) in sequences.iter().enumerate() {
        for (i, step) in sequence.iter().enumerate() {
            let model_answer = answers.next().unwrap_or_else(|| format!("<no answer; driver exited with {status}>"));
            if model_answer != step.rust {
                let history: String =
                    sequence[..=i].iter().map(|s| format!("\n    {:<60} rust: {}", s.command, s.rust)).collect();
                return Err(format!(
                    "{model}: sequence {n}, step {i}: `{}`\n  model (Coq, extracted): {model_answer}\n  production (Rust):      {}\n  sequence so far:{history}",
                    step.command, step.rust
                ));
            }
            ops += 1;
        }
    }
    assert!(status.success(), "{model}: driver exited with {status}");
    println!("extracted-model {model}: {} sequences, {ops} operations compared, all equal", sequences.len());
    Ok(())
}

pub fn check(model: &str, sequences: &[Vec<Step>]) {
    if let Err(divergence) = differential(model, sequences) {
        panic!("the production code diverges from the extracted model\n{divergence}");
    }
}

/// splitmix64: small, seedable, and the same on every platform.
pub struct Rng(pub u64);

impl Rng {
    pub fn new(stream: u64) -> Self {
        let seed = std::env::var("GOSSIP_EXTRACTION_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed_0015);
        Self(seed ^ stream.wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

pub fn sequences() -> usize {
    std::env::var("GOSSIP_EXTRACTION_SEQUENCES").ok().and_then(|s| s.parse().ok()).unwrap_or(2_000)
}
