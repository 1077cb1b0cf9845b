#!/usr/bin/env bash
# API conformance: schemathesis generates requests from /api/openapi.json and checks the
# answers against it — no server error, documented status codes, content types, headers
# and response schemas, authentication enforced. Runs the service (debug build) with the
# demo ward on SQLite, then on a fresh PostgreSQL database, as admin.
#
#   .ci/schemathesis.sh                 # both databases; PostgreSQL skipped if unreachable
#   CI=true .ci/schemathesis.sh         # an unreachable PostgreSQL is a failure
#   ST_MAX_EXAMPLES=100 .ci/schemathesis.sh   # a longer run
#   ST_BREAK_TOKEN=1 .ci/schemathesis.sh      # must fail: schemathesis gets a damaged token
#
# It fails when the service does not become healthy, when the admin cannot log in (or its
# token is refused), and when any operation answers the admin's token with 401/403
# (`warnings.fail-on = ["missing_auth"]` in .ci/schemathesis.toml).
#
# Two schema-strictness checks are left out: negative_data_rejection and
# positive_data_acceptance. The service checks rules a schema cannot state (deadline
# order, unit cycles, If-Match or version, form rules on assets), so "schema-valid yet
# refused" is expected there; see docs/RELIABILITY.md.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

ST_VERSION="${ST_VERSION:-4.32.5}"
# hypothesis is pinned too: schemathesis accepts any 6.x, and a fresh venv takes the newest.
HYPOTHESIS_VERSION="${HYPOTHESIS_VERSION:-6.170.17}"
VENV="${ST_VENV:-target/schemathesis-venv}"
MAX_EXAMPLES="${ST_MAX_EXAMPLES:-20}"
TIME_LIMIT="${ST_TIME_LIMIT:-600}"
PG_HOST=127.0.0.1
PG_PORT=5432
CI="${CI:-false}"
ADMIN_PASSWORD="schemathesis-admin-1"
DEMO_PASSWORD="schemathesis-demo-1"
WORK="$(mktemp -d)"
SERVER_PID=""
PG_DB=""

cleanup() {
    if [ -n "${SERVER_PID}" ]; then
        kill "${SERVER_PID}" 2>/dev/null || true
        wait "${SERVER_PID}" 2>/dev/null || true
    fi
    if [ -n "${PG_DB}" ]; then
        dropdb -h "${PG_HOST}" -p "${PG_PORT}" -U postgres --if-exists --force "${PG_DB}" || true
    fi
    rm -rf "${WORK}"
}
trap cleanup EXIT

# (1) schemathesis in its own virtual environment, installed once.
if ! "${VENV}/bin/st" --version 2>/dev/null | grep -q "${ST_VERSION}" ||
    ! "${VENV}/bin/python" -c "import hypothesis; assert hypothesis.__version__ == '${HYPOTHESIS_VERSION}'" 2>/dev/null; then
    echo "installing schemathesis ${ST_VERSION} (hypothesis ${HYPOTHESIS_VERSION}) into ${VENV}"
    python3 -m venv "${VENV}"
    "${VENV}/bin/pip" install --quiet --disable-pip-version-check \
        "schemathesis==${ST_VERSION}" "hypothesis==${HYPOTHESIS_VERSION}"
fi
"${VENV}/bin/st" --version

# (2) The service binary (a no-op after `cargo test`).
cargo build --quiet --bin kiemke
BIN="${CARGO_TARGET_DIR:-target}/debug/kiemke"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# http METHOD URL [JSON [TOKEN]] → prints "STATUS BODY"
http() {
    python3 - "$@" <<'PY'
import sys, urllib.request, urllib.error
method, url = sys.argv[1], sys.argv[2]
data = sys.argv[3].encode() if len(sys.argv) > 3 and sys.argv[3] else None
headers = {"Content-Type": "application/json"} if data else {}
if len(sys.argv) > 4:
    headers["Authorization"] = f"Bearer {sys.argv[4]}"
req = urllib.request.Request(url, data=data, method=method, headers=headers)
try:
    with urllib.request.urlopen(req, timeout=10) as r:
        print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
except Exception as e:
    print(0, e)
PY
}

# token_works TOKEN: whether GET /api/v1/me answers 200 to it.
token_works() {
    http GET "http://127.0.0.1:${PORT}/api/v1/me" "" "$1" | grep -q '^200 '
}

# login → prints the admin's token; fails (with the answer) when the login does not give one,
# or when the token is refused by GET /api/v1/me. ST_BREAK_TOKEN=1 damages the token after
# that check, to see the run fail as it must when authentication fails (see docs/RELIABILITY.md).
login() {
    local token
    token=$(http POST "http://127.0.0.1:${PORT}/api/v1/auth/login" \
        "{\"username\": \"admin\", \"password\": \"${ADMIN_PASSWORD}\"}" |
        python3 -c '
import sys, json
status, body = sys.stdin.read().split(" ", 1)
if status != "200":
    sys.exit(f"login as admin failed: {status} {body}")
print(json.loads(body)["token"])
') || return 1
    if [ -z "${token}" ]; then
        echo "login as admin gave no token" >&2
        return 1
    fi
    if ! token_works "${token}"; then
        echo "the admin's token is refused by GET /api/v1/me" >&2
        return 1
    fi
    if [ "${ST_BREAK_TOKEN:-0}" = "1" ]; then
        echo "ST_BREAK_TOKEN=1: sending a damaged token" >&2
        token="${token}x"
    fi
    echo "${token}"
}

st_run() {
    local token=$1
    shift
    timeout "${TIME_LIMIT}" "${VENV}/bin/st" --config-file .ci/schemathesis.toml \
        run "http://127.0.0.1:${PORT}/api/openapi.json" \
        --header "Authorization: Bearer ${token}" \
        --checks all --exclude-checks negative_data_rejection,positive_data_acceptance \
        --phases examples,coverage,fuzzing \
        --max-examples "${MAX_EXAMPLES}" \
        --request-timeout 30 \
        --workers 2 \
        --seed 20260331 \
        --no-color \
        --generation-database none \
        --generation-allow-x00 true \
        "$@"
}

# run_against NAME DATABASE_URL: serve the demo on that database and test the API.
run_against() {
    local name=$1 url=$2
    PORT=$(free_port)
    echo "--- ${name}: kiemke on 127.0.0.1:${PORT}"
    DATABASE_URL="${url}" KIEMKE_ADMIN_PASSWORD="${ADMIN_PASSWORD}" KIEMKE_DEMO_PASSWORD="${DEMO_PASSWORD}" \
        KIEMKE_ARGON2_MEMORY_KIB=64 KIEMKE_INSECURE_ARGON2_FOR_TESTS=1 RUST_LOG=warn \
        "${BIN}" serve --demo --bind "127.0.0.1:${PORT}" >"${WORK}/${name}.log" 2>&1 &
    SERVER_PID=$!
    local i healthy=false
    for i in $(seq 1 120); do
        if http GET "http://127.0.0.1:${PORT}/health" | grep -q '^200 '; then
            healthy=true
            break
        fi
        if ! kill -0 "${SERVER_PID}" 2>/dev/null; then
            cat "${WORK}/${name}.log"
            echo "kiemke exited while starting" >&2
            return 1
        fi
        sleep 0.5
    done
    if [ "${healthy}" != true ]; then
        cat "${WORK}/${name}.log"
        echo "${name}: /health never answered 200 (120 tries, half a second apart)" >&2
        return 1
    fi
    local rc=0 token
    token=$(login) || return 1
    # Every operation but the three that end the admin's own sessions...
    st_run "${token}" \
        --exclude-path /api/v1/auth/logout \
        --exclude-path /api/v1/me/password \
        --exclude-path '/api/v1/users/{user_id}/password' || rc=$?
    # The token must have lasted the whole run: answers refused for an expired or revoked
    # token would be 401s that schemathesis counts as "authentication enforced".
    if [ "${rc}" -eq 0 ] && ! token_works "${token}"; then
        echo "${name}: the admin's token stopped working during the run" >&2
        rc=1
    fi
    # ...which run last, one by one, each with a token of its own: a password change (it
    # cannot guess the current password), a logout, then an admin reset (which may
    # reset the admin's own password, so nothing logs in after it). The three tokens are
    # taken first: the password change's wrong current passwords count as failed logins of
    # the admin from this address, so a login after it would be locked out (429).
    local path tokens=() i=0
    if [ "${rc}" -eq 0 ]; then
        for path in 1 2 3; do
            token=$(login) || return 1
            tokens+=("${token}")
        done
    fi
    for path in /api/v1/me/password /api/v1/auth/logout '/api/v1/users/{user_id}/password'; do
        if [ "${rc}" -eq 0 ]; then
            st_run "${tokens[${i}]}" --include-path "${path}" || rc=$?
        fi
        i=$((i + 1))
    done
    if grep -q "panicked" "${WORK}/${name}.log"; then
        grep -B2 -A10 "panicked" "${WORK}/${name}.log" >&2
        echo "the service panicked during the ${name} run" >&2
        rc=1
    fi
    kill "${SERVER_PID}" 2>/dev/null || true
    wait "${SERVER_PID}" 2>/dev/null || true
    SERVER_PID=""
    return "${rc}"
}

# in_background NAME DATABASE_URL: run_against in a subshell of its own (its server is stopped
# when the subshell ends, however it ends), its output kept in ${WORK}/NAME.out.
in_background() {
    (
        trap 'if [ -n "${SERVER_PID}" ]; then kill "${SERVER_PID}" 2>/dev/null || true; fi' EXIT
        run_against "$@"
    ) >"${WORK}/$1.out" 2>&1 &
}

# Both databases at once: each run is mostly one Python process generating requests, and the
# machine has two cores (both together: 80 s on a quiet machine, venv included; one after the other the
# last CI step took 310 s on a busy one).
in_background sqlite "sqlite://${WORK}/schemathesis.db?mode=rwc"
SQLITE_RUN=$!
PG_RUN=""
if command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h "${PG_HOST}" -p "${PG_PORT}"; then
    PG_DB="kiemke_st_$$"
    createdb -h "${PG_HOST}" -p "${PG_PORT}" -U postgres "${PG_DB}"
    in_background postgresql "postgres://postgres@${PG_HOST}:${PG_PORT}/${PG_DB}"
    PG_RUN=$!
elif [ "${CI}" = "true" ]; then
    echo "error: CI=true but PostgreSQL is not reachable on ${PG_HOST}:${PG_PORT}" >&2
    wait "${SQLITE_RUN}" || true
    exit 1
else
    echo "warning: PostgreSQL is not reachable on ${PG_HOST}:${PG_PORT}; its schemathesis run is skipped"
fi
failed=0
for run in sqlite postgresql; do
    pid=${SQLITE_RUN}
    if [ "${run}" = postgresql ]; then
        pid=${PG_RUN}
    fi
    [ -n "${pid}" ] || continue
    rc=0
    wait "${pid}" || rc=$?
    echo "=== ${run} (exit ${rc})"
    cat "${WORK}/${run}.out"
    if [ "${rc}" -ne 0 ]; then
        echo "schemathesis failed on ${run}" >&2
        failed=1
    fi
done
if [ "${failed}" -ne 0 ]; then
    exit 1
fi
echo "schemathesis: no failure on any database"
