#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the gossip-postgres tests and benches.
#
#   eval "$(scripts/postgres.sh start)"     # exports GOSSIP_POSTGRES_URL and GOSSIP_POSTGRES_DIR
#   cargo test -p gossip-postgres
#   scripts/postgres.sh stop                # stops "$GOSSIP_POSTGRES_DIR" and deletes it
#
#   start [--dir DIR] [--tcp PORT] [--watch PID]
#       initdb in DIR (default: a new temporary directory) as a non-root user
#       (initdb refuses root: `postgres` if that user exists, else `nobody`),
#       then starts the server listening on a unix socket in DIR only (with
#       --tcp, also on 127.0.0.1:PORT). Prints two export lines.
#       --watch PID stops the cluster and deletes DIR once process PID exits
#       (the tests use this, so a cluster they start never outlives them).
#   crash [DIR]  immediate shutdown (as if the server crashed), then starts
#                it again; it recovers from its WAL (the crash test uses this)
#   stop [DIR]   fast shutdown, then deletes DIR (default $GOSSIP_POSTGRES_DIR)
#   url [DIR]    prints the URL of the cluster in DIR
#
# The cluster trades durability for speed (fsync off): it is for tests only.
# Exit status 3: no PostgreSQL server binaries on this machine
# (apt-get install -y postgresql-15).
set -euo pipefail

die() { printf 'postgres.sh: %s\n' "$*" >&2; exit "${2:-1}"; }

bindir() {
  local dir
  for dir in "${GOSSIP_POSTGRES_BIN:-}" /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      printf '%s\n' "$dir"
      return 0
    fi
  done
  if command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir
    return 0
  fi
  return 1
}

# The user the server runs as, and how to run a command as that user.
run_user() {
  if [ "$(id -u)" != 0 ]; then
    id -un
  elif id postgres >/dev/null 2>&1; then
    echo postgres
  else
    echo nobody
  fi
}

as_user() {
  local user="$1"
  shift
  if [ "$(id -u)" = 0 ]; then
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

url_for() {
  local dir="$1" port
  port="$(cat "$dir/port")"
  printf 'postgresql:///postgres?host=%s&port=%s&user=postgres\n' "$dir" "$port"
}

start() {
  local dir="" tcp="" watch="" bin user port
  while [ $# -gt 0 ]; do
    case "$1" in
      --dir) dir="$2"; shift 2 ;;
      --tcp) tcp="$2"; shift 2 ;;
      --watch) watch="$2"; shift 2 ;;
      *) die "unknown option $1" ;;
    esac
  done
  bin="$(bindir)" || die "no PostgreSQL server binaries found (apt-get install -y postgresql-15)" 3
  user="$(run_user)"
  [ -n "$dir" ] || dir="$(mktemp -d /tmp/gossip-pg.XXXXXX)"
  mkdir -p "$dir"
  chown "$user" "$dir" 2>/dev/null || true
  chmod 0755 "$dir"
  # The unix socket's name carries the port; with --tcp it is that port,
  # otherwise the default (the socket directory is private to this cluster).
  port="${tcp:-5432}"
  echo "$port" >"$dir/port"
  as_user "$user" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C --no-sync \
    >"$dir/initdb.log" 2>&1 || die "initdb failed: $(tail -n 5 "$dir/initdb.log")"
  if [ -n "$tcp" ]; then echo 127.0.0.1 >"$dir/listen"; else echo "" >"$dir/listen"; fi
  serve "$dir"
  if [ -n "$watch" ]; then
    # Detached and with no inherited stdout, so a caller reading our output
    # is not kept waiting for the watcher.
    setsid bash -c '
      while kill -0 "$1" 2>/dev/null; do sleep 1; done
      "$2" stop "$3" >/dev/null 2>&1' watcher "$watch" "$0" "$dir" </dev/null >/dev/null 2>&1 &
  fi
  printf "export GOSSIP_POSTGRES_URL='%s'\n" "$(url_for "$dir")"
  printf "export GOSSIP_POSTGRES_DIR='%s'\n" "$dir"
}

# Starts the server of the cluster in DIR with the settings `start` chose.
# Commits are asynchronous server-wide (synchronous_commit=off): the stores
# must raise it for their own sessions, and `crash` checks that they do.
serve() {
  local dir="$1" port listen
  port="$(cat "$dir/port")"
  listen="$(cat "$dir/listen" 2>/dev/null || true)"
  pg_ctl_as_owner "$dir" -l "$dir/server.log" -w -t 30 \
    -o "-c listen_addresses='$listen' -p $port -k $dir -c fsync=off -c synchronous_commit=off \
        -c full_page_writes=off -c max_connections=400 -c shared_buffers=128MB" \
    start >"$dir/pg_ctl.log" 2>&1 || die "the server did not start: $(tail -n 5 "$dir/server.log" 2>/dev/null)"
}

# Kills the server as a crash would (immediate shutdown: no checkpoint, every
# session cut), then starts it again, which replays the WAL.
crash() {
  local dir
  dir="$(cluster crash "${1:-}")" || exit 1
  pg_ctl_as_owner "$dir" -m immediate -w stop >"$dir/pg_ctl.log" 2>&1 \
    || die "crash: the server did not stop: $(tail -n 5 "$dir/pg_ctl.log")"
  serve "$dir"
}

stop() {
  local dir
  dir="$(cluster stop "${1:-}")" || exit 1
  pg_ctl_as_owner "$dir" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

# The cluster COMMAND acts on: DIR, else $GOSSIP_POSTGRES_DIR.
cluster() {
  local command="$1" dir="${2:-${GOSSIP_POSTGRES_DIR:-}}"
  [ -n "$dir" ] || die "$command: which cluster? (pass DIR or set GOSSIP_POSTGRES_DIR)"
  [ -d "$dir/data" ] || die "$command: $dir holds no cluster"
  printf '%s\n' "$dir"
}

# pg_ctl on the cluster in DIR, run as the user who owns its data.
pg_ctl_as_owner() {
  local dir="$1" bin
  shift
  bin="$(bindir)" || die "no PostgreSQL server binaries found" 3
  as_user "$(stat -c %U "$dir/data")" "$bin/pg_ctl" -D "$dir/data" "$@"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  crash) shift; crash "$@" ;;
  url) shift; url_for "${1:-${GOSSIP_POSTGRES_DIR:?}}" ;;
  *) die "usage: $0 start [--dir DIR] [--tcp PORT] [--watch PID] | crash [DIR] | stop [DIR] | url [DIR]" 2 ;;
esac
