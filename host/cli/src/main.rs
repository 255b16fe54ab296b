//! `gossip-host`: `check [COMPONENT]` certifies a gossip:persistence
//! component (conformance suite + a short simulation; `--json`, `--native`);
//! `sim` runs seeds of the deterministic simulation against the bundled
//! component, a component file or (`--native`) the native stores. `--help`
//! on either lists every option.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    gossip_cli::cli::run(gossip_cli::cli::Cli::parse())
}
