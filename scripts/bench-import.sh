#!/usr/bin/env bash
# Measures `meeloop import organisations` on 100,000 generated rows (general
# format), on SQLite and on a throwaway PostgreSQL cluster: first import
# (all inserts), re-import (all unchanged) and an import where every row
# changed. Figures go into docs/performance.md.
#   scripts/bench-import.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-100000}"
cargo build --release --quiet --bin meeloop
bin="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/meeloop"
work="$(mktemp -d)"
chmod 755 "$work"
cleanup() {
    if [[ -n "${pgbin:-}" ]]; then runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg" stop -m immediate >/dev/null 2>&1 || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

gen() { python3 scripts/lib/gen_organisations.py "$rows" "$1" "$2"; } # $1 = file, $2 = size offset
gen "$work/orgs.csv" 0
gen "$work/orgs-changed.csv" 1

measure() { # label, database url
    local label=$1 url=$2
    for step in "first import:orgs.csv" "re-import:orgs.csv" "every row changed:orgs-changed.csv"; do
        local start end
        start=$(date +%s.%N)
        MEELOOP_DATA_DIR="$work" MEELOOP_DATABASE__URL="$url" "$bin" import organisations "$work/${step#*:}" >"$work/out"
        end=$(date +%s.%N)
        printf '%-10s %-18s %6.2f s   %s\n' "$label" "${step%%:*}" "$(python3 -c "print($end - $start)")" "$(cat "$work/out" | sed 's/.*: //')"
    done
}

echo "rows: $rows"
measure sqlite "sqlite://$work/bench.db"

pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
if [[ -n "$pgbin" && $(id -u) -eq 0 ]]; then
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    mkdir "$work/pg" && chown postgres "$work/pg"
    runuser -u postgres -- "$pgbin/initdb" -D "$work/pg" -A trust -U postgres >/dev/null
    runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg" -o "-p $port -k $work/pg -c listen_addresses=127.0.0.1" -l "$work/pg/log" start -w >/dev/null
    measure postgres "postgres://postgres@127.0.0.1:$port/postgres"
else
    echo "postgres: skipped (needs root and PostgreSQL server binaries)"
fi
