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
#    At 45 % of it, 2,000 emails are queued; at half of it instance B is
#    killed with SIGKILL (no chance to finish anything).
# 3. Checks, each printed as PASS or FAIL (exit 1 on any FAIL):
#    - no answer worse than 4xx beyond the requests in flight at the kill;
#    - no lost write: every PATCH the load saw confirmed is in the audit log;
#    - every email arrives, and only messages in flight at the kill may
#      arrive twice (same Message-ID: at least once, never lost);
#    - no scheduled job ran twice;
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
MEELOOP_DATA_DIR="$work/a" MEELOOP_SERVER__PORT="$port_a" "$bin" serve --demo >"$work/a.log" 2>&1 &
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
    access_log off;
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

echo "load: wrk -t2 -c$connections -d${seconds}s through nginx; emails queued at $((seconds * 45 / 100)) s, instance B killed at $((seconds / 2)) s"
MIXED_DATA="$work/mixed.tsv" wrk -t2 -c"$connections" -d"${seconds}s" --latency \
    -s scripts/lib/mixed.lua "$base" >"$work/wrk.out" &
wrk_pid=$!
sleep "$((seconds * 45 / 100))"
MEELOOP_DATA_DIR="$work/a" "$bin" mail send-test --to cluster@meeloop.example --count "$emails" --queue-only >/dev/null
sleep "$((seconds / 2 - seconds * 45 / 100))"
kill -9 "$pid_b"
echo "instance B killed"
wait "$wrk_pid"
grep -E "^RESULT" "$work/wrk.out"

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
check "no scheduled job twice" "$([[ "$job_twice" == 0 ]]; echo $?)" "$job_count jobs done by the two instances, $job_twice of them twice"

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
exit "$failed"
