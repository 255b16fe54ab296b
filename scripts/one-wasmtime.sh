#!/usr/bin/env bash
# Checks that wasmtime is compiled once per profile: after `cargo test
# --workspace` has built it, building any single package that embeds it
# (the library alone, the CLI the README runs) must find it fresh. A
# package that enabled a different feature of one of wasmtime's
# dependencies would make cargo compile wasmtime again (~3 minutes on 2
# cores) for that feature set, and this check fails naming the package.
# Time: a few seconds when everything is fresh.
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
for package in gossip-host gossip-cli; do
  stale=$(cargo build --locked -p "$package" --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    if msg.get("reason") == "compiler-artifact" and not msg.get("fresh", True):
        name = msg["target"]["name"]
        if name.startswith(("wasmtime", "cranelift")):
            print(name)
')
  if [ -n "$stale" ]; then
    echo "cargo build -p $package compiled wasmtime again: $(echo $stale | tr '\n' ' ')" >&2
    status=1
  else
    echo "cargo build -p $package: wasmtime already built (one feature set)"
  fi
done
exit $status
