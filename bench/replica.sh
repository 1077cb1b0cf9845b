#!/usr/bin/env bash
# A local PostgreSQL read replica: a second cluster streaming from the first (docs/PERFORMANCE.md,
# "Beyond one machine").
#
#   bench/replica.sh start    # base backup of the primary, then a hot standby on $REPLICA_PORT; prints its URL
#   bench/replica.sh url      # the replica's URL (fails when it is not running)
#   bench/replica.sh status   # whether it streams, and its replay lag in bytes
#   bench/replica.sh stop     # stops it and deletes its data directory
#
# `start` is idempotent (a running standby is kept) and takes seconds on a small cluster (the base
# backup copies every database of the primary). It needs the primary to accept replication
# connections from 127.0.0.1: when the primary's pg_hba.conf has no such line, `start` appends
#   host replication all 127.0.0.1/32 trust   # kiemke bench/replica.sh
# to it and reloads the primary (once; `stop` leaves the line in place). Run it as root or as the
# user owning the PostgreSQL installation (the standby runs as $PG_OS_USER, default postgres).
#
# Settings (environment): PG_HOST PG_PORT PG_USER (the primary, default 127.0.0.1:5432 postgres),
# REPLICA_PORT (5433), REPLICA_DIR (/var/tmp/kiemke-replica-$REPLICA_PORT), PG_OS_USER (postgres),
# PG_BIN (the server's binaries; default: those of the primary's major version under /usr/lib/postgresql).
set -euo pipefail

PG_HOST=${PG_HOST:-127.0.0.1}
PG_PORT=${PG_PORT:-5432}
PG_USER=${PG_USER:-postgres}
REPLICA_PORT=${REPLICA_PORT:-5433}
REPLICA_DIR=${REPLICA_DIR:-/var/tmp/kiemke-replica-$REPLICA_PORT}
PG_OS_USER=${PG_OS_USER:-postgres}
URL="postgres://$PG_USER@127.0.0.1:$REPLICA_PORT/postgres"

die() { echo "replica: $*" >&2; exit 1; }
primary() { psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -XAtqc "$1"; }
replica() { psql -h 127.0.0.1 -p "$REPLICA_PORT" -U "$PG_USER" -d postgres -XAtqc "$1"; }
# Runs a command as the PostgreSQL owner (the server refuses to run as root).
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u "$PG_OS_USER" -- "$@"; else "$@"; fi
}
bin() {
  if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return; fi
  local major
  major=$(( $(primary "SHOW server_version_num") / 10000 ))
  [ -x "/usr/lib/postgresql/$major/bin/pg_ctl" ] || die "no PostgreSQL $major binaries under /usr/lib/postgresql/$major/bin (set PG_BIN)"
  echo "/usr/lib/postgresql/$major/bin"
}
running() { [ -f "$REPLICA_DIR/postmaster.pid" ] && as_owner "$(bin)/pg_ctl" -D "$REPLICA_DIR" status >/dev/null 2>&1; }

allow_replication() {
  local hba
  hba=$(primary "SHOW hba_file")
  if ! grep -Eq '^[[:space:]]*host[[:space:]]+replication[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
    [ -w "$hba" ] || die "$hba has no 'host replication all 127.0.0.1/32 trust' line and is not writable here (run as root or as its owner)"
    printf '%s\n' 'host replication all 127.0.0.1/32 trust   # kiemke bench/replica.sh' >>"$hba"
    primary "SELECT pg_reload_conf()" >/dev/null
    echo "replica: added 'host replication all 127.0.0.1/32 trust' to $hba and reloaded the primary" >&2
  fi
}

start() {
  primary "SELECT 1" >/dev/null || die "the primary at $PG_HOST:$PG_PORT is unreachable"
  if running && [ "$(replica "SELECT pg_is_in_recovery()" 2>/dev/null)" = t ]; then
    echo "$URL"; return
  fi
  [ "$(primary "SHOW wal_level")" != minimal ] || die "the primary runs with wal_level=minimal: set it to replica and restart it"
  allow_replication
  local b; b=$(bin)
  if [ -f "$REPLICA_DIR/postmaster.pid" ]; then as_owner "$b/pg_ctl" -D "$REPLICA_DIR" -m immediate stop >/dev/null 2>&1 || true; fi
  rm -rf "$REPLICA_DIR"
  mkdir -p "$REPLICA_DIR"
  chmod 700 "$REPLICA_DIR"
  if [ "$(id -u)" = 0 ]; then chown "$PG_OS_USER": "$REPLICA_DIR"; fi
  # -R writes standby.signal and primary_conninfo; -X stream copies the WAL written meanwhile;
  # -c fast asks the primary for an immediate checkpoint instead of waiting for the next one.
  as_owner "$b/pg_basebackup" -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -D "$REPLICA_DIR" -R -X stream -c fast
  # A hot standby needs these at least as large as the primary's.
  local settings="" s
  for s in max_connections max_worker_processes max_wal_senders max_prepared_transactions max_locks_per_transaction; do
    settings+="$s = $(primary "SHOW $s")"$'\n'
  done
  # Debian keeps the configuration outside the data directory: the standby gets its own.
  as_owner tee "$REPLICA_DIR/postgresql.conf" >/dev/null <<CONF
# kiemke bench/replica.sh: a hot standby of $PG_HOST:$PG_PORT
port = $REPLICA_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$REPLICA_DIR'
hot_standby = on
hot_standby_feedback = on
max_standby_streaming_delay = 30s
wal_receiver_status_interval = 1s
ssl = off
hba_file = '$REPLICA_DIR/pg_hba.conf'
ident_file = '$REPLICA_DIR/pg_ident.conf'
$settings
CONF
  printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' | as_owner tee "$REPLICA_DIR/pg_hba.conf" >/dev/null
  as_owner touch "$REPLICA_DIR/pg_ident.conf"
  as_owner "$b/pg_ctl" -D "$REPLICA_DIR" -l "$REPLICA_DIR/server.log" -w -t 60 start >/dev/null \
    || { tail -20 "$REPLICA_DIR/server.log" >&2; die "the standby did not start (log: $REPLICA_DIR/server.log)"; }
  local i
  for i in $(seq 1 300); do
    if [ "$(replica "SELECT status FROM pg_stat_wal_receiver" 2>/dev/null)" = streaming ]; then
      echo "$URL"; return
    fi
    sleep 0.1
  done
  tail -20 "$REPLICA_DIR/server.log" >&2
  die "the standby started but does not stream from the primary"
}

stop() {
  if [ -f "$REPLICA_DIR/postmaster.pid" ]; then
    as_owner "$(bin)/pg_ctl" -D "$REPLICA_DIR" -m fast -w stop >/dev/null || true
  fi
  rm -rf "$REPLICA_DIR"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) running || die "not running (bench/replica.sh start)"; echo "$URL" ;;
  status)
    running || die "not running (bench/replica.sh start)"
    replica "SELECT 'receiver: ' || coalesce((SELECT status FROM pg_stat_wal_receiver), 'none') || ', replay paused: ' || pg_is_wal_replay_paused()"
    echo "replay lag (bytes): $(primary "SELECT pg_current_wal_lsn() - '$(replica "SELECT pg_last_wal_replay_lsn()")'::pg_lsn")" ;;
  *) echo "usage: $0 start|stop|url|status" >&2; exit 2 ;;
esac
