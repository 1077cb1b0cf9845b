#!/usr/bin/env bash
# Benchmarks at national scale (issue 7), on SQLite and PostgreSQL.
#
#   bench/run.sh                      # 100,000 units x 50 assets, both databases
#   UNITS=2000 BACKENDS=sqlite bench/run.sh   # a quick run
#   REPLICA_ONLY=1 UNITS=20000 ASSETS=50 bench/run.sh  # only the read-replica comparison (PostgreSQL)
#
# First it makes a Python environment with openpyxl (bench/out/venv, from bench/baselines/
# requirements.txt) for the file baselines. Then for each database it:
# - runs the file benchmarks (benches/files.rs) on a database of their own: import of a
#   100,000-row flat 01a workbook and export of the 100,000-asset official form, beside a bare
#   rust_xlsxwriter loop, a bare calamine read and openpyxl writing and reading the same cells,
#   then a 500-record unit's import and export through the router in process (ward scale);
# - runs the memory check under hostile uploads (benches/uploads.rs; UPLOADS=0 skips it) on a
#   database of its own: a release server's peak and kept memory for each hostile file class;
# - creates an empty database (SQLite: bench/out/sqlite.db; PostgreSQL: a database created with
#   createdb on $PG_HOST:$PG_PORT as $PG_USER, dropped at the end), fills it with `kiemke
#   generate`, runs the in-process read benchmarks (benches/national.rs), starts the release
#   server on loopback and runs wrk against it: the board and one unit's asset list with one
#   connection (latency), then asset creation with many connections (throughput);
# - on PostgreSQL, runs the boards by node (benches/tree.rs; TREE=0 skips it) on a database of its
#   own: the national tree (34 provinces x 97 wards x 30 units), a ward's, a province's and the
#   national board through accounts bound to a ward, a province and the whole installation;
# - on PostgreSQL (REPLICA=1, the default): starts a read replica (bench/replica.sh: a second local
#   cluster streaming from the first), then serves the same database once without and once with
#   KIEMKE_READ_DATABASE_URL and runs wrk against the board and progress.xlsx on each; the replica
#   is stopped at the end. REPLICA_ONLY=1 skips everything else (files, uploads, in-process reads,
#   writes).
# Everything it prints goes to bench/out/results.md, with the exact commands.
#
# Settings (environment): UNITS ASSETS SEED REQUESTS BACKENDS PG_HOST PG_PORT PG_USER PORT
# READ_DURATION WRITE_DURATION WRK_THREADS WRK_CONNECTIONS, UPLOADS, TREE, FILE_ROWS FILE_RUNS (file benchmarks;
# FILE_ROWS=0 skips them), PYTHON (a python3 to make the venv with), and JEMALLOC (a
# libjemalloc.so.2: when readable, the write benchmark runs a second time with the server using it).
set -euo pipefail
cd "$(dirname "$0")/.."

UNITS=${UNITS:-100000}
ASSETS=${ASSETS:-50}
SEED=${SEED:-1}
REQUESTS=${REQUESTS:-200}
BACKENDS=${BACKENDS:-"sqlite postgresql"}
PG_HOST=${PG_HOST:-127.0.0.1}
PG_PORT=${PG_PORT:-5432}
PG_USER=${PG_USER:-postgres}
PG_DB=${PG_DB:-kiemke_bench_$$}
PORT=${PORT:-18080}
READ_DURATION=${READ_DURATION:-20s}
WRITE_DURATION=${WRITE_DURATION:-30s}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-32}
REPLICA=${REPLICA:-1}
REPLICA_ONLY=${REPLICA_ONLY:-0}
REPLICA_STARTED=""
if [ "$REPLICA_ONLY" = 1 ]; then BACKENDS=postgresql; FILE_ROWS=0; UPLOADS=0; REPLICA=1; fi
FILE_ROWS=${FILE_ROWS:-100000}
FILE_RUNS=${FILE_RUNS:-3}
PYTHON=${PYTHON:-python3}
OUT=bench/out
RESULTS=$OUT/results.md
export KIEMKE_ADMIN_PASSWORD=${KIEMKE_ADMIN_PASSWORD:-bench-admin-password}
export RUST_LOG=${RUST_LOG:-warn}

mkdir -p "$OUT"
SERVER_PID=""
PG_CREATED=""
FILES_DB=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [ -n "$REPLICA_STARTED" ]; then bench/replica.sh stop || true; fi
  if [ -n "$PG_CREATED" ]; then dropdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" --if-exists "$PG_DB" || true; fi
  if [ -n "$FILES_DB" ]; then dropdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" --if-exists "$FILES_DB" || true; fi
}
trap cleanup EXIT

say() { printf '%s\n' "$*" | tee -a "$RESULTS"; }
quoted() { # the command as one could paste it, with the bearer token shown as $TOKEN
  local out="" a
  for a in "$@"; do
    case "$a" in
      *[[:space:]?*\&]*) out+="\"$a\" " ;;
      *) out+="$a " ;;
    esac
  done
  if [ -n "${TOKEN:-}" ]; then out=${out//$TOKEN/\$TOKEN}; fi
  printf '%s' "${out% }"
}
run() { # prints the command, runs it, keeps its output in the results (generator progress: last line)
  say ""
  say "\`\`\`"
  say "\$ $(quoted "$@")"
  "$@" 2>&1 | grep -v -e '^generate: ' -e '^files: ' | tee -a "$RESULTS"
  say "\`\`\`"
}
serve() { # starts the release server, with the environment given as arguments (e.g. LD_PRELOAD=…)
  env "$@" target/release/kiemke --database-url "$URL" serve --bind "127.0.0.1:$PORT" >> "$OUT/$backend/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$PORT/health" > /dev/null && return
    sleep 0.2
  done
  echo "the server did not start; see $OUT/$backend/server.log" >&2
  exit 1
}
stop() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; }
JEMALLOC=${JEMALLOC:-/usr/lib/x86_64-linux-gnu/libjemalloc.so.2}

for tool in wrk curl createdb dropdb psql; do
  command -v "$tool" > /dev/null || { echo "bench/run.sh needs $tool (Debian: apt-get install wrk curl postgresql-client)" >&2; exit 2; }
done
cargo build --release
cargo bench --bench national --bench files --bench uploads --bench tree --no-run
VENV=$OUT/venv
if [ "$FILE_ROWS" != 0 ] && [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet -r bench/baselines/requirements.txt
fi

: > "$RESULTS"
say "# kiemke benchmark results"
say ""
say "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with local changes)')"
say "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM, $(uname -sr)"
say "- PostgreSQL: $(psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -Atc 'show server_version' 2>/dev/null || echo 'not reachable')"
say "- wrk: $(wrk --version 2>&1 | head -1)"
say "- openpyxl: $("$VENV/bin/python" -c 'import openpyxl, sys; print(openpyxl.__version__, "on Python", sys.version.split()[0])' 2>/dev/null || echo 'not installed')"
say "- dataset: \`kiemke generate --units $UNITS --assets-per-unit $ASSETS --seed $SEED\`"
say "- the machine is shared: figures are noisy; compare runs made together"

for backend in $BACKENDS; do
  case "$backend" in
    sqlite)
      rm -f "$OUT"/sqlite.db "$OUT"/sqlite.db-wal "$OUT"/sqlite.db-shm
      URL="sqlite://$OUT/sqlite.db?mode=rwc"
      ;;
    postgresql)
      createdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$PG_DB"
      PG_CREATED=1
      URL="postgres://$PG_USER@$PG_HOST:$PG_PORT/$PG_DB"
      ;;
    *) echo "unknown backend $backend" >&2; exit 2 ;;
  esac
  say ""
  say "## $backend"
  if [ "$FILE_ROWS" != 0 ]; then
    case "$backend" in
      sqlite) rm -f "$OUT"/files.db "$OUT"/files.db-wal "$OUT"/files.db-shm; FILES_URL="sqlite://$OUT/files.db?mode=rwc" ;;
      postgresql)
        FILES_DB=kiemke_files_$$
        createdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$FILES_DB"
        FILES_URL="postgres://$PG_USER@$PG_HOST:$PG_PORT/$FILES_DB" ;;
    esac
    run cargo bench --bench files -- --database-url "$FILES_URL" --rows "$FILE_ROWS" --runs "$FILE_RUNS" --python "$VENV/bin/python" --out-dir "$OUT/files-$backend"
    if [ -n "$FILES_DB" ]; then dropdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$FILES_DB"; FILES_DB=""; fi
  fi
  if [ "${UPLOADS:-1}" != 0 ]; then
    say ""
    say "### Memory under hostile uploads"
    case "$backend" in
      sqlite) rm -f "$OUT"/uploads.db "$OUT"/uploads.db-wal "$OUT"/uploads.db-shm; UPLOADS_URL="sqlite://$OUT/uploads.db?mode=rwc" ;;
      postgresql)
        FILES_DB=kiemke_uploads_$$
        createdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$FILES_DB"
        UPLOADS_URL="postgres://$PG_USER@$PG_HOST:$PG_PORT/$FILES_DB" ;;
    esac
    run cargo bench --bench uploads -- --database-url "$UPLOADS_URL" --port "$((PORT + 1))" --out-dir "$OUT/uploads-$backend"
    if [ -n "$FILES_DB" ]; then dropdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$FILES_DB"; FILES_DB=""; fi
  fi
  say ""
  say "### Generator"
  run target/release/kiemke --database-url "$URL" generate --units "$UNITS" --assets-per-unit "$ASSETS" --seed "$SEED"

  run cargo bench --bench national -- --database-url "$URL" --requests "$REQUESTS" --out-dir "$OUT/$backend"
  # shellcheck disable=SC1090
  . "$OUT/$backend/wrk.env"

  if [ "$backend" = postgresql ] && [ "$REPLICA" = 1 ]; then
    say ""
    say "### Read replica (board and progress.xlsx, release server, wrk)"
    say ""
    say "- load before: $(uptime)"
    REPLICA_URL=$(bench/replica.sh start)
    REPLICA_STARTED=1
    READ_URL="${REPLICA_URL%/*}/$PG_DB"
    # The replica has the generated data once it has replayed the primary's current WAL position.
    TARGET=$(psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -XAtc "SELECT pg_current_wal_flush_lsn()")
    until [ "$(psql "$READ_URL" -XAtc "SELECT pg_last_wal_replay_lsn() >= '$TARGET'::pg_lsn")" = t ]; do sleep 0.2; done
    AUTH="Authorization: Bearer $TOKEN"
    for mode in primary replica; do
      if [ "$mode" = primary ]; then serve; else serve KIEMKE_READ_DATABASE_URL="$READ_URL"; fi
      say ""
      say "$mode: \`target/release/kiemke --database-url $URL serve\`$([ "$mode" = replica ] && echo " with \`KIEMKE_READ_DATABASE_URL=$READ_URL\`")"
      run wrk -t1 -c1 -d"$READ_DURATION" --latency -H "$AUTH" "http://127.0.0.1:$PORT/api/v1/campaigns/$CAMPAIGN/progress"
      run wrk -t1 -c1 -d"$READ_DURATION" --latency -H "$AUTH" "http://127.0.0.1:$PORT/api/v1/campaigns/$CAMPAIGN/progress.xlsx"
      stop
    done
    say ""
    say "- load after: $(uptime)"
    bench/replica.sh stop
    REPLICA_STARTED=""
  fi
  if [ "$REPLICA_ONLY" = 1 ]; then
    dropdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$PG_DB"; PG_CREATED=""
    continue
  fi

  serve
  BASE="http://127.0.0.1:$PORT"
  say ""
  say "### Over loopback HTTP (release server, wrk)"
  say ""
  say "\`. $OUT/$backend/wrk.env\` sets \`TOKEN\`, \`CAMPAIGN\` and \`LIST_UNIT\`."
  AUTH="Authorization: Bearer $TOKEN"
  run wrk -t1 -c1 -d"$READ_DURATION" --latency -H "$AUTH" "$BASE/api/v1/campaigns/$CAMPAIGN/progress"
  run wrk -t1 -c1 -d"$READ_DURATION" --latency -H "$AUTH" "$BASE/api/v1/campaigns/$CAMPAIGN/units/$LIST_UNIT/assets?per_page=50"
  # wrk wants absolute paths for its script and the script's arguments.
  WRITE=(wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$WRITE_DURATION" --latency -s "$PWD/bench/post_assets.lua" "$BASE" -- "$PWD/$OUT/$backend/wrk_targets.lua")
  run "${WRITE[@]}"
  stop
  if [ -r "$JEMALLOC" ]; then
    say ""
    say "The same writes with the server started as \`LD_PRELOAD=$JEMALLOC target/release/kiemke … serve\` (Debian's libjemalloc2 instead of glibc's allocator):"
    serve LD_PRELOAD="$JEMALLOC"
    run "${WRITE[@]}"
    stop
  fi
  if [ "$backend" = postgresql ]; then
    dropdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$PG_DB"; PG_CREATED=""
    if [ "${TREE:-1}" != 0 ]; then
      say ""
      say "### Boards by node (the administrative tree)"
      FILES_DB=kiemke_tree_$$
      createdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$FILES_DB"
      run cargo bench --bench tree -- --database-url "postgres://$PG_USER@$PG_HOST:$PG_PORT/$FILES_DB" --requests "$REQUESTS"
      dropdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$FILES_DB"; FILES_DB=""
    fi
  fi
done

echo "results: $RESULTS"
