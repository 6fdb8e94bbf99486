#!/usr/bin/env bash
# Two Meeloop instances on one PostgreSQL behind nginx, on this machine, under
# the mixed load, with one instance killed in the middle (docs/deploy.md,
# docs/performance.md). Everything listens on 127.0.0.1 ports.
#
#   scripts/cluster.sh [seconds] [connections]      # default 60 s, 64 connections
#
# 1. A throwaway PostgreSQL cluster, a local SMTP server (maildir), two
#    release `meeloop serve` instances (same database, same signing key,
#    nginx as their trusted proxy), and nginx with the proxy settings of
#    deploy/nginx.conf (plain http here).
# 2. The mixed load (scripts/lib/mixed.lua) through nginx for the whole run.
#    At 40 % of it, 640 visits whose scheduled job is due are written
#    (320 accepted visits whose day has passed: complete them and send the
#    forms; 320 requests that ran out: expire them); at 45 %, 2,000 emails
#    are queued; at half of it instance B is killed with SIGKILL (no chance
#    to finish anything).
# 3. Checks, each printed as PASS or FAIL (exit 1 on any FAIL):
#    - no answer worse than 4xx beyond the requests in flight at the kill;
#    - no lost write: every PATCH the load saw confirmed is in the audit log;
#    - every email arrives, and only messages in flight at the kill may
#      arrive twice (same Message-ID: at least once, never lost);
#    - every due job done, none twice (both schedulers run every 5 s);
#    - rate limits per real client: nginx passes the client's address in
#      X-Forwarded-For, so one address that guesses passwords is stopped
#      (429) while another address is not, whatever X-Forwarded-For a
#      client sends itself.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
connections="${2:-64}"
emails=2000
csv="tests/data/nl_municipalities.csv"
source scripts/lib/postgres.sh
python="${MEELOOP_TOOLS:-$HOME/.cache/meeloop}/venv/bin/python"
[[ -x "$python" ]] || { echo "run scripts/setup.sh first (the SMTP server's Python)" >&2; exit 1; }
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
[[ -x /usr/sbin/nginx ]] || { apt-get update -qq && apt-get install -y -qq nginx >/dev/null; }

cargo build --release --quiet --bin meeloop
bin="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/meeloop"

work="$(mktemp -d)"
chmod 755 "$work"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    [[ -f "$work/nginx.pid" ]] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
    wait 2>/dev/null || true
    stop_postgres "$work"
    rm -rf "$work"
}
trap cleanup EXIT
failed=0
check() { # label, condition (0 = pass), detail
    if [[ "$2" == 0 ]]; then echo "PASS  $1: $3"; else echo "FAIL  $1: $3"; failed=1; fi
}

start_postgres "$work" "$(free_port)"
smtp_port="$(free_port)"
"$python" tests/support/smtp_server.py --port "$smtp_port" --maildir "$work/box" &
pids+=($!)
port_a="$(free_port)" port_b="$(free_port)" port_nginx="$(free_port)"
metrics_a="$(free_port)"

# What both instances share: the database, the signing key, the relay, the
# proxy they trust. A short mail lease, so the killed instance's claims are
# taken over within the run.
export MEELOOP_DATABASE__URL="$PG_URL" MEELOOP_LOG__FILTER=info MEELOOP_LOG__FORMAT=json \
    MEELOOP_AUTH__JWT_SECRET="a signing key both instances of the cluster share" \
    MEELOOP_SERVER__TRUSTED_PROXIES='["127.0.0.1"]' \
    MEELOOP_SERVER__PUBLIC_URL="http://127.0.0.1:$port_nginx" \
    MEELOOP_MAIL__TRANSPORT=smtp MEELOOP_MAIL__SMTP__HOST=127.0.0.1 \
    MEELOOP_MAIL__SMTP__PORT="$smtp_port" MEELOOP_MAIL__SMTP__SECURITY=none \
    MEELOOP_MAIL__LEASE_SECS=10 MEELOOP_MAIL__POLL_INTERVAL_MS=200 \
    MEELOOP_JOBS__INTERVAL_SECS=5 \
    MEELOOP_AUTH__API_BURST=1000000000 MEELOOP_AUTH__API_REFILL_MS=1 \
    MEELOOP_AUTH__LOGIN_BURST=40 \
    MEELOOP_AUTH__TWO_STEP__REQUIRED_FOR_ADMINS=false \
    MEELOOP_USER_PASSWORD="a benchmark password"

MEELOOP_DATA_DIR="$work/a" "$bin" import organisations "$csv" >/dev/null
codes=$(awk -F, 'NR > 1 && $1 != "GM1900" { print $1 }' "$csv" | head -n 16)
for code in $codes; do
    MEELOOP_DATA_DIR="$work/a" "$bin" user create --email "bench-${code,,}@bench.example" \
        --name "Bench $code" --role coordinator --organisation "$code" >/dev/null
done
MEELOOP_DATA_DIR="$work/a" MEELOOP_SERVER__PORT="$port_a" MEELOOP_METRICS__LISTEN="127.0.0.1:$metrics_a" "$bin" serve --demo >"$work/a.log" 2>&1 &
pid_a=$!
pids+=("$pid_a")
MEELOOP_DATA_DIR="$work/b" MEELOOP_SERVER__PORT="$port_b" "$bin" serve >"$work/b.log" 2>&1 &
pid_b=$!
pids+=("$pid_b")

cat >"$work/nginx.conf" <<EOF
# deploy/nginx.conf's proxy settings, plain http, in $work.
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
http {
    log_format timing '\$msec|\$request_time|\$upstream_response_time|\$upstream_addr|\$status|\$request_method \$request_uri';
    access_log $work/access.log timing buffer=256k flush=1s;
    client_body_temp_path $work/nginx-body;
    proxy_temp_path $work/nginx-proxy;
    fastcgi_temp_path $work/nginx-fastcgi;
    uwsgi_temp_path $work/nginx-uwsgi;
    scgi_temp_path $work/nginx-scgi;
    client_max_body_size 6m;
    upstream meeloop {
        server 127.0.0.1:$port_a max_fails=3 fail_timeout=10s;
        server 127.0.0.1:$port_b max_fails=3 fail_timeout=10s;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$port_nginx;
        location = /metrics { return 404; }
        location / {
            proxy_pass http://meeloop;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$remote_addr;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_next_upstream error timeout http_502 http_503;
            proxy_next_upstream_tries 2;
            proxy_connect_timeout 2s;
            proxy_read_timeout 60s;
        }
    }
}
EOF
/usr/sbin/nginx -c "$work/nginx.conf" -p "$work" -g 'daemon on;'
base="http://127.0.0.1:$port_nginx"
for port in "$port_a" "$port_b" "$port_nginx"; do
    for _ in $(seq 1 600); do
        curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
        sleep 0.1
    done
done
python3 scripts/lib/mixed_setup.py "$base" "$work/a.log" "$work/mixed.tsv" $codes

psql_q() { "$(pg_bin)/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tA -c "$1" meeloop; }
audit_before="$(psql_q "SELECT count(*) FROM audit_log WHERE action = 'organisation.updated'")"

# Visits whose job is due, written as the service would have left them:
# 16 requesters (the bench coordinators), hosts among the municipalities,
# each pair of (host, day) and (requester, day) once. Accepted visits held
# 1-20 days ago (due: complete; not yet the three-month follow-up) and
# requests that expired an hour ago (due: expire).
due_visits=640
seed_due_visits() {
    psql_q "WITH r AS (SELECT id, organisation_id, row_number() OVER (ORDER BY id) - 1 AS n
                       FROM users WHERE email LIKE 'bench-%'),
                 h AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n
                       FROM organisations WHERE kind = 'municipality'),
                 t AS (SELECT id FROM topics WHERE slug = 'cloud-migration'),
                 g AS (SELECT g, g % 2 = 0 AS held FROM generate_series(0, $((due_visits - 1))) g)
            INSERT INTO visits (requester_id, host_id, topic_id, requested_by, state, goal, participants,
                                proposed_dates, visit_date, sequence, expires_at, answered_at, created_at, updated_at)
            SELECT r.organisation_id, h.id, t.id, r.id,
                   CASE WHEN held THEN 'accepted' ELSE 'requested' END, 'Clusterproef', 1,
                   '[\"' || to_char(current_date + 30, 'YYYY-MM-DD') || '\"]',
                   CASE WHEN held THEN current_date - 1 - g / 32 END, 0,
                   CASE WHEN held THEN now() + interval '10 days' ELSE now() - interval '1 hour' END,
                   CASE WHEN held THEN now() - interval '30 days' END,
                   now() - interval '40 days', now() - interval '30 days'
            FROM g CROSS JOIN t
            JOIN r ON r.n = (g / 2) % 16
            JOIN h ON h.n = (g * 7 + 1) % 300
            WHERE h.id <> r.organisation_id" >/dev/null
}

echo "load: wrk -t2 -c$connections -d${seconds}s through nginx; due visits written at $((seconds * 40 / 100)) s, emails queued at $((seconds * 45 / 100)) s, instance B killed at $((seconds / 2)) s"
MIXED_DATA="$work/mixed.tsv" wrk -t2 -c"$connections" -d"${seconds}s" --latency \
    -s scripts/lib/mixed.lua "$base" >"$work/wrk.out" &
wrk_pid=$!
python3 scripts/lib/probe.py "$base/healthz" "$seconds" >"$work/probe.out" &
probe_pid=$!
sleep "$((seconds * 40 / 100))"
seed_due_visits
seeded="$(psql_q "SELECT count(*) FROM visits WHERE goal = 'Clusterproef'")"
sleep "$((seconds * 45 / 100 - seconds * 40 / 100))"
MEELOOP_DATA_DIR="$work/a" "$bin" mail send-test --to cluster@meeloop.example --count "$emails" --queue-only >/dev/null
sleep "$((seconds / 2 - seconds * 45 / 100))"
kill -9 "$pid_b"
echo "instance B killed"
wait "$wrk_pid" "$probe_pid"
grep -E "^RESULT" "$work/wrk.out"
cat "$work/probe.out"

# Every email: wait until nothing waits any more (the killed instance's
# claims come free after their 10 s lease).
for _ in $(seq 1 600); do
    waiting="$(psql_q "SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending')")"
    [[ "$waiting" == 0 ]] && break
    sleep 0.2
done
read -r ids distinct <<<"$("$python" - "$work/box" <<'PY'
import mailbox, sys
ids = [m["Message-ID"] for m in mailbox.Maildir(sys.argv[1], create=False) if "cluster@" in (m["To"] or "")]
print(len(ids), len(set(ids)))
PY
)"
check "every email arrives" "$([[ "$distinct" == "$emails" && "$waiting" == 0 ]]; echo $?)" \
    "$distinct of $emails distinct messages, $((ids - distinct)) delivered twice (in flight at the kill; same Message-ID)"
check "only messages in flight at the kill twice" "$([[ $((ids - distinct)) -le 24 ]]; echo $?)" \
    "at most mail.concurrency (24)"

read -r server_errors patched <<<"$(awk '/^RESULT/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } print v["http5xx"], v["patched"] }' "$work/wrk.out")"
check "no server errors beyond requests in flight" "$([[ "$server_errors" -le "$connections" ]]; echo $?)" \
    "$server_errors answers 5xx (at most one per connection in flight at the kill)"
audit_after="$(psql_q "SELECT count(*) FROM audit_log WHERE action = 'organisation.updated'")"
written=$((audit_after - audit_before))
check "no lost writes" "$([[ "$written" -ge "$patched" ]]; echo $?)" \
    "$patched profile changes confirmed to the load, $written in the audit log"

# Every due visit: wait until the surviving scheduler has done the rest.
for _ in $(seq 1 300); do
    left="$(psql_q "SELECT count(*) FROM visits WHERE goal = 'Clusterproef' AND state IN ('accepted', 'requested')")"
    [[ "$left" == 0 ]] && break
    sleep 0.2
done
jobs="$(cat "$work/a.log" "$work/b.log" | python3 -c '
import json, sys, collections
done = collections.Counter()
for line in sys.stdin:
    try:
        e = json.loads(line)
    except ValueError:
        continue
    f = e.get("fields", {})
    if f.get("message") == "scheduled job done":
        done[(f.get("visit"), f.get("job"))] += 1
print(len(done), sum(1 for n in done.values() if n > 1))')"
read -r job_count job_twice <<<"$jobs"
# Warnings and errors the instances logged, by message (a job that failed
# is tried again next round; its cause is logged as an error just before).
cat "$work/a.log" "$work/b.log" | python3 -c '
import json, sys, collections
seen = collections.Counter()
for line in sys.stdin:
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("level") in ("WARN", "ERROR"):
        f = dict(e.get("fields", {}))
        message = f.pop("message", "")
        f.pop("visit", None)
        seen[(e["level"], message, json.dumps(f, sort_keys=True)[:300])] += 1
for (level, message, fields), n in seen.most_common(12):
    print(f"logged {n}x {level}: {message} {fields}")'

check "every due job done, none twice" "$([[ "$job_twice" == 0 && "$left" == 0 && "$job_count" -ge "$seeded" ]]; echo $?)" \
    "$seeded visits due, $left left undone; $job_count jobs done by the two instances, $job_twice of them twice"

# Rate limits per real client: 127.0.0.2 tries a password on ever other
# addresses until stopped (the burst is 40 per client address here, above
# the 33 logins of the set-up); 127.0.0.3, another client that claims to be
# 127.0.0.2, is not stopped.
login() { # source address, email, extra header
    curl -s -o /dev/null -w '%{http_code}' --interface "$1" -H 'Content-Type: application/json' ${3:+-H "$3"} \
        -d "{\"email\": \"$2\", \"password\": \"not the password at all\"}" "$base/api/v1/auth/login"
}
codes_seen=""
for i in $(seq 1 42); do codes_seen+="$(login 127.0.0.2 "guess-$i@bench.example") "; done
codes_seen="$(tr ' ' '\n' <<<"$codes_seen" | sort | uniq -c | awk '{ printf "%s×%s ", $1, $2 }')"
other="$(login 127.0.0.3 someone.else@bench.example 'X-Forwarded-For: 127.0.0.2')"
check "rate limits per real client" "$([[ "$codes_seen" == *429* && "$other" == 401 ]]; echo $?)" \
    "127.0.0.2: $codes_seen; 127.0.0.3 (claiming 127.0.0.2): $other"

echo "instance A: $(awk '/VmHWM/ { print $2 / 1024 " MB peak RSS" }' "/proc/$pid_a/status")"
# Where instance A's time went, from its own histograms.
curl -fsS "http://127.0.0.1:$metrics_a/metrics" >"$work/metrics-a.txt"
python3 scripts/lib/route_latency.py <"$work/metrics-a.txt"
grep -E "^meeloop_matching_snapshot_rebuild(s_total|_seconds_(sum|count))|^meeloop_db_pool_wait_seconds_(sum|count)|^meeloop_scheduler" "$work/metrics-a.txt" || true
# Where the slowest answers came from (nginx's access log, flushed).
kill -USR1 "$(cat "$work/nginx.pid")"
sleep 1
python3 scripts/lib/slow_requests.py "$work/access.log" || true
exit "$failed"
