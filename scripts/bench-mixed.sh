#!/usr/bin/env bash
# The mixed load of docs/performance.md on one instance: 64 connections for
# 60 s (by default) against a release `meeloop serve --demo` with the 342 CBS
# municipalities, each with expertise on cloud migration, and 16
# coordinators signed in (API token and web session each). The mix
# (scripts/lib/mixed.lua): 30 % directory search, 30 % API matches, 15 % the
# peers page, 10 % the dashboard, 10 % the knowledge base page, 5 % profile
# PATCHes. Prints throughput, latency percentiles and answers by class.
#
#   scripts/bench-mixed.sh [sqlite|postgres] [seconds] [connections]
#
# The per-token request budget and the login limit are lifted for the run.
# PostgreSQL: a throwaway cluster on a free port (scripts/lib/postgres.sh).
#
# BENCH_ORGANISATIONS=100000 adds that many generated organisations (housing
# corporations, water boards, others; scripts/lib/gen_organisations.py), each
# with expertise on about four topics, written straight into the database
# once the demo's topics exist: memory and speed with a large directory.
set -euo pipefail
cd "$(dirname "$0")/.."
backend="${1:-sqlite}"
seconds="${2:-60}"
connections="${3:-64}"
extra="${BENCH_ORGANISATIONS:-0}"
csv="tests/data/nl_municipalities.csv"
source scripts/lib/postgres.sh
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

cargo build --release --quiet --bin meeloop
bin="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/meeloop"

work="$(mktemp -d)"
chmod 755 "$work"
pid=""
cleanup() {
    [[ -n "$pid" ]] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
    stop_postgres "$work"
    rm -rf "$work"
}
trap cleanup EXIT
port="$(free_port)"
metrics="$(free_port)"
export MEELOOP_DATA_DIR="$work" MEELOOP_SERVER__PORT="$port" MEELOOP_LOG__FILTER=warn \
    MEELOOP_METRICS__LISTEN="127.0.0.1:$metrics" \
    MEELOOP_AUTH__API_BURST=1000000000 MEELOOP_AUTH__API_REFILL_MS=1 \
    MEELOOP_AUTH__LOGIN_BURST=1000 MEELOOP_USER_PASSWORD="a benchmark password" \
    MEELOOP_AUTH__TWO_STEP__REQUIRED_FOR_ADMINS=false
if [[ "$backend" == postgres ]]; then
    start_postgres "$work" "$(free_port)"
    export MEELOOP_DATABASE__URL="$PG_URL"
fi

"$bin" import organisations "$csv" >/dev/null
if (( extra > 0 )); then
    python3 scripts/lib/gen_organisations.py "$extra" "$work/extra.csv"
    "$bin" import organisations "$work/extra.csv" >/dev/null
fi
codes=$(awk -F, 'NR > 1 && $1 != "GM1900" { print $1 }' "$csv" | head -n 16)
for code in $codes; do
    "$bin" user create --email "bench-${code,,}@bench.example" --name "Bench $code" \
        --role coordinator --organisation "$code" >/dev/null
done
"$bin" serve --demo >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.1
done
if (( extra > 0 )); then
    # About four topics each; the triggers move the directory version, so
    # the running service sees them at its next request.
    seed="INSERT INTO expertise (organisation_id, topic_id, level, summary, willing_to_host, created_at, updated_at)
          SELECT o.id, t.id, 1 + (o.id * 7 + t.id) % 5, '', TRUE, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
          FROM organisations o CROSS JOIN topics t
          WHERE o.code LIKE 'ORG%' AND (o.id * 31 + t.id * 17) % (SELECT count(*) FROM topics) < 4"
    if [[ "$backend" == postgres ]]; then
        "$(pg_bin)/psql" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres meeloop -c "$seed"
    else
        python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=30)
c.execute(sys.argv[2])
c.commit()' "$work/meeloop.db" "$seed"
    fi
fi
python3 scripts/lib/mixed_setup.py "http://127.0.0.1:$port" "$work/serve.log" "$work/mixed.tsv" $codes

idle_kb="$(awk '/VmRSS/ { print $2 }' "/proc/$pid/status")"
MIXED_DATA="$work/mixed.tsv" wrk -t2 -c"$connections" -d"${seconds}s" --latency \
    -s scripts/lib/mixed.lua "http://127.0.0.1:$port" | tee "$work/wrk.out" | grep -E "^RESULT|Latency|Req/Sec"
rss_kb="$(awk '/VmRSS/ { print $2 }' "/proc/$pid/status")"
hwm_kb="$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")"
echo "backend=$backend extra_organisations=$extra connections=$connections seconds=$seconds rss_idle_mb=$((idle_kb / 1024)) rss_after_mb=$((rss_kb / 1024)) peak_rss_mb=$((hwm_kb / 1024))"
# Server time per route, from the service's own histograms (without the
# load tool's share of the two cores and the network stack).
curl -fsS "http://127.0.0.1:$metrics/metrics" > "$work/metrics.txt"
python3 scripts/lib/route_latency.py < "$work/metrics.txt"
grep -E "^meeloop_matching_snapshot_rebuild(s_total|_seconds_(sum|count))|^meeloop_db_pool_wait_seconds_(sum|count)" "$work/metrics.txt" || true
