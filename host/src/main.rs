//! `gossip-host check [COMPONENT] [--json]`: certifies a gossip:persistence component.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    gossip_host::cli::run(gossip_host::cli::Cli::parse())
}
