#!/usr/bin/env bash
# Property-based API tests: starts `meeloop serve --demo` on a fresh
# database and runs schemathesis with all its checks against the published
# OpenAPI document. Any failure fails the script.
#   scripts/schemathesis.sh [sqlite|postgres] [extra st options]
# On `postgres` it starts a throwaway PostgreSQL cluster of its own (the
# server binaries come from scripts/setup.sh): what one backend stores and
# the other cannot (U+0000 in text) only shows there.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=sqlite
case "${1:-}" in
    sqlite|postgres) backend="$1"; shift ;;
esac
tools="${MEELOOP_TOOLS:-$HOME/.cache/meeloop}"
st="$tools/venv/bin/st"
[[ -x "$st" ]] || scripts/setup.sh --ci

cargo build --quiet --bin meeloop
bin="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/meeloop"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
work="$(mktemp -d)"
port="$(free_port)"
export MEELOOP_DATA_DIR="$work"
pgdir=""
pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
as_postgres() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
stop_all() {
    kill "${pid:-}" 2>/dev/null || true
    wait "${pid:-}" 2>/dev/null || true
    if [[ -n "$pgdir" ]]; then
        as_postgres "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true
        rm -rf "$pgdir"
    fi
    rm -rf "$work"
}
trap stop_all EXIT
if [[ $backend == postgres ]]; then
    [[ -x "$pgbin/initdb" ]] || { echo "no PostgreSQL server binaries; run scripts/setup.sh" >&2; exit 1; }
    pgdir="$(mktemp -d /tmp/meeloop-st-pg.XXXXXX)"
    pgport="$(free_port)"
    [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$pgdir"
    as_postgres "$pgbin/initdb" -D "$pgdir/data" -A trust -U postgres -E UTF8 --no-locale >/dev/null
    as_postgres "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w \
        -o "-p $pgport -k $pgdir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
    as_postgres "$pgbin/createdb" -h 127.0.0.1 -p "$pgport" -U postgres meeloop
    export MEELOOP_DATABASE__URL="postgres://postgres@127.0.0.1:$pgport/meeloop"
fi
echo "--- schemathesis on $backend"
# The run logs in as the demo admin over the API with a password alone; the
# two-step requirement for admins is the test suite's (tests/api/two_step.rs).
# Webhook endpoints may point at 127.0.0.1 (nothing listens there), and no
# delivery worker runs: schemathesis registers URLs of its own invention,
# and nothing is ever sent anywhere.
MEELOOP_SERVER__PORT="$port" MEELOOP_LOG__FILTER=warn MEELOOP_AUTH__TWO_STEP__REQUIRED_FOR_ADMINS=false \
    MEELOOP_WEBHOOKS__DELIVER=false MEELOOP_WEBHOOKS__ALLOWED_HOSTS='["127.0.0.1"]' \
    "$bin" serve --demo >"$work/serve.log" 2>&1 &
pid=$!

# Wait until the service says it is ready (bounded: 60 s).
for _ in $(seq 1 600); do
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/serve.log"; exit 1; }
    sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null

spec="http://127.0.0.1:$port/api/v1/openapi.json"
run_st() {
    # Paths in the document are relative to its server, …/api/v1; the probes
    # at the root (a server of their own) are the matrix test's.
    "$st" --config-file scripts/schemathesis.toml run "$spec" --url "http://127.0.0.1:$port/api/v1" \
        --exclude-path /healthz --exclude-path /readyz \
        --checks all --max-examples "${ST_MAX_EXAMPLES:-100}" --workers 1 --no-color "$@"
}

# The demo prints its accounts' passwords once; log in as a coordinator now,
# before the anonymous run spends the login rate limit of this address.
login() {
    local password
    password="$(awk -v who="$1" '$2 == who { print $3 }' "$work/serve.log")"
    [[ -n "$password" ]] || { echo "no demo password for $1 in the start-up output" >&2; cat "$work/serve.log" >&2; exit 1; }
    curl -fsS -H 'Content-Type: application/json' \
        -d "{\"email\": \"$1\", \"password\": \"$password\"}" \
        "http://127.0.0.1:$port/api/v1/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["accessToken"])'
}
token="$(login coordinator@zwolle.example)"
admin_token="$(login admin@meeloop.example)"

# A partner program, created the way an operator would, with every scope.
partner="$("$bin" partner create --name Schemathesis \
    --scopes organisations:read,lessons:read,stats:read,webhooks:manage)"
client_id="$(awk '$1 == "client_id:" { print $2 }' <<<"$partner")"
client_secret="$(awk '$1 == "client_secret:" { print $2 }' <<<"$partner")"
partner_token="$(curl -fsS -d grant_type=client_credentials -d "client_id=$client_id" \
    -d "client_secret=$client_secret" "http://127.0.0.1:$port/api/v1/auth/token" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
# One endpoint of the partner's, so the routes under /partner/webhooks/{id} find something.
curl -fsS -H "Authorization: Bearer $partner_token" -H 'Content-Type: application/json' \
    -d '{"url": "http://127.0.0.1:9/hook", "eventTypes": ["visit.accepted"]}' \
    "http://127.0.0.1:$port/api/v1/partner/webhooks" >/dev/null

echo "--- anonymous caller"
run_st "$@"

echo "--- logged-in coordinator (logout excluded: it would revoke the token mid-run)"
run_st -H "Authorization: Bearer $token" --exclude-path /auth/logout "$@"

echo "--- partner program"
run_st -H "Authorization: Bearer $partner_token" "$@"

# Last: an admin changes things. Routes that end the admin's own sessions are left out.
echo "--- admin (logout, own password change and password resets excluded)"
run_st -H "Authorization: Bearer $admin_token" --exclude-path /auth/logout \
    --exclude-path /me/password --exclude-path-regex 'password-reset$' "$@"
