#!/usr/bin/env bash
# Checks that wasmtime is compiled once per profile: after `cargo test
# --workspace` has built it, building the CLI the README runs must find it
# fresh. A
# package that enabled a different feature of one of wasmtime's
# dependencies would make cargo compile wasmtime again (~3 minutes on 2
# cores) for that feature set, and this check fails naming the package.
# Time: a few seconds when everything is fresh.
set -euo pipefail
cd "$(dirname "$0")/.."

# features_differ PACKAGE: per dependency, the features `cargo tree` shows
# for the whole workspace (dev-dependencies included) but not for PACKAGE.
features_differ() {
  local ws one
  ws=$(mktemp) one=$(mktemp)
  cargo tree --locked --workspace -e all -f '{p} [{f}]' --prefix none >"$ws"
  cargo tree --locked -p "$1" -e normal,build -f '{p} [{f}]' --prefix none >"$one"
  python3 - "$ws" "$one" <<'PY'
import collections, re, sys
def features(path):
    found = collections.defaultdict(set)
    for line in open(path):
        m = re.match(r"(\S+) v(\S+).*?\[(.*?)\]", line.strip())
        if m and not m.group(1).startswith("gossip-"):
            found[(m.group(1), m.group(2))] |= {f for f in m.group(3).split(",") if f}
    return found
ws, one = features(sys.argv[1]), features(sys.argv[2])
for key in sorted(one):
    if ws[key] - one[key]:
        print(f"  {key[0]} {key[1]}: {', '.join(sorted(ws[key] - one[key]))}")
PY
  rm -f "$ws" "$one"
}

status=0
# gossip-cli is what the README runs. `-p gossip-host` alone still compiles
# wasmtime's host-side (build-script) half again: its build dependencies get
# another profile when no other package needs them (BENCHMARKS.md, issue 14).
for package in gossip-cli; do
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
    echo "features the workspace enables and $package alone does not (add them to host/feature-pin/Cargo.toml):" >&2
    features_differ "$package" >&2
    status=1
  else
    echo "cargo build -p $package: wasmtime already built (one feature set)"
  fi
done
exit $status
