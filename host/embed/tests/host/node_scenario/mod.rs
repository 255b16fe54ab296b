//! The fixed scenario both hosts run (`host/node/scenario.json`): here
//! through the wasmtime component stores and the native stores; the Node
//! host (`scripts/node-test.sh`) runs the same file through the
//! jco-transpiled component, so both hosts answer to one expectation file.

mod runner;
mod wire;

use std::collections::{BTreeMap, HashSet};

use anyhow::{Context, anyhow, bail, ensure};
use serde_json::Value;

use self::runner::{Component, Native, Runner, Stores, label};
use crate::support::runtime;

const SCENARIO: &str = include_str!("../../../../node/scenario.json");

/// How deep `@name` references may nest before the file counts as cyclic.
const MAX_REFERENCE_DEPTH: usize = 16;

/// The steps with every `@name` replaced by its digest or definition.
fn steps() -> anyhow::Result<Vec<Value>> {
    let file: Value = serde_json::from_str(SCENARIO).context("host/node/scenario.json is not JSON")?;
    let top = wire::object(&file, "scenario", &["description", "digests", "defs", "steps"])?;
    let mut names = BTreeMap::new();
    for section in ["digests", "defs"] {
        let table = wire::field(top, section)?.as_object().ok_or_else(|| anyhow!("{section} must be an object"))?;
        for (name, value) in table {
            ensure!(names.insert(name.clone(), value.clone()).is_none(), "{name:?} is defined twice");
        }
    }
    let steps = wire::list(top, "steps")?;
    steps.iter().enumerate().map(|(i, step)| resolve(step, &names, 0).with_context(|| label(i, step))).collect()
}

fn resolve(value: &Value, names: &BTreeMap<String, Value>, depth: usize) -> anyhow::Result<Value> {
    ensure!(depth <= MAX_REFERENCE_DEPTH, "references nest deeper than {MAX_REFERENCE_DEPTH}: a cycle?");
    Ok(match value {
        Value::String(s) => match s.strip_prefix('@') {
            Some(name) => {
                let target = names.get(name).ok_or_else(|| anyhow!("undefined reference @{name}"))?;
                resolve(target, names, depth + 1)?
            }
            None => value.clone(),
        },
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| resolve(v, names, depth)).collect::<anyhow::Result<_>>()?)
        }
        Value::Object(map) => Value::Object(
            map.iter().map(|(k, v)| Ok((k.clone(), resolve(v, names, depth)?))).collect::<anyhow::Result<_>>()?,
        ),
        other => other.clone(),
    })
}

fn run<S: Stores>(stores: &S) -> anyhow::Result<()> {
    let steps = steps()?;
    let mut runner = Runner::new(stores);
    for (i, step) in steps.iter().enumerate() {
        runner.check(step).with_context(|| label(i, step))?;
    }
    Ok(())
}

#[test]
fn node_scenario_through_the_native_stores() -> anyhow::Result<()> {
    run(&Native)
}

#[test]
fn node_scenario_through_the_component_stores() -> anyhow::Result<()> {
    run(&Component(runtime()))
}

/// The fixed scenario must stay in the file: upserts in both
/// orders, positional reads with misses and duplicates, rejected batches,
/// and delayed writes released out of order with per-handle polls.
#[test]
fn node_scenario_covers_the_shared_cases() -> anyhow::Result<()> {
    let steps = steps()?;
    let has = |what: &str, pred: &dyn Fn(&Value) -> bool| -> anyhow::Result<()> {
        if steps.iter().any(pred) { Ok(()) } else { bail!("the scenario no longer covers {what}") }
    };
    let op = |s: &Value| s["op"].as_str().unwrap_or("").to_owned();
    let expect = |s: &Value| s.get("expect").cloned().unwrap_or(Value::Null);

    // The same durable rows from more than one write order.
    let mut snapshots: Vec<&Value> = steps.iter().filter(|s| op(s) == "snapshot").map(|s| &s["expect"]).collect();
    snapshots.retain(|rows| rows.as_array().is_some_and(|r| r.len() > 1));
    let distinct: HashSet<String> = snapshots.iter().map(|r| r.to_string()).collect();
    ensure!(snapshots.len() >= 3 && distinct.len() < snapshots.len(), "no two ledgers end in the same rows");

    has("a positional read with a miss and a duplicated key", &|s| {
        let ovids = s["ovids"].as_array().map(Vec::as_slice).unwrap_or_default();
        let unique: HashSet<String> = ovids.iter().map(Value::to_string).collect();
        op(s) == "batch-get"
            && unique.len() < ovids.len()
            && expect(s).as_array().is_some_and(|r| r.contains(&Value::Null))
    })?;
    has("a batch rejected at submit", &|s| op(s) == "batch-upsert" && expect(s).get("error").is_some())?;
    has("a findings batch rejected at submit", &|s| op(s) == "upsert-batch" && expect(s).get("error").is_some())?;
    has("a batch rejected when applied", &|s| op(s) == "poll" && expect(s).get("error").is_some())?;
    has("an orphan occurrence", &|s| op(s) == "poll" && expect(s)["error"].get("missing-finding").is_some())?;
    has("a poll of a pending write", &|s| op(s) == "poll" && expect(s) == "pending")?;
    has("a release of a specific write", &|s| op(s) == "release-specific" && expect(s) == true)?;
    for order in ["oldest-first", "newest-first"] {
        has(order, &|s| op(s) == "release-next" && s["order"] == order && expect(s).is_u64())?;
    }
    Ok(())
}
