#!/usr/bin/env bash
# HTTP throughput of the match endpoint against /healthz, in one run, with
# the same load tool (wrk), threads, connections and duration; then the same
# matches as a web page (/peers, HTML with a session cookie) and the dashboard.
#
#   scripts/bench-matching.sh [seconds] [connections]
#
# Starts a release `meeloop serve --demo` on a fresh SQLite database with
# all 342 CBS municipalities imported, gives every municipality expertise on
# cloud migration (levels from a fixed seed), logs in the Súdwest-Fryslân
# coordinator and asks for its top 10. The per-token request budget is
# lifted for the run (it would answer 429 after 120 requests).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
connections="${2:-32}"
csv="tests/data/nl_municipalities.csv"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

cargo build --release --quiet --bin meeloop
bin="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/meeloop"

work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export MEELOOP_DATA_DIR="$work" MEELOOP_SERVER__PORT="$port" MEELOOP_LOG__FILTER=warn \
    MEELOOP_AUTH__API_BURST=1000000000 MEELOOP_AUTH__API_REFILL_MS=1 \
    MEELOOP_AUTH__TWO_STEP__REQUIRED_FOR_ADMINS=false
"$bin" import organisations "$csv" >/dev/null
"$bin" serve --demo >"$work/serve.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 600); do
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.1
done

token="$(python3 - "$port" "$work/serve.log" <<'PY'
import json, random, sys, urllib.request
port, log = sys.argv[1], sys.argv[2]
base = f"http://127.0.0.1:{port}/api/v1"
# The demo prints "  role  email  password" once per account.
passwords = {p[1]: p[2] for p in (l.split() for l in open(log)) if len(p) == 3 and "@" in p[1]}
def call(method, path, token=None, body=None):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req) as r:
        return json.load(r) if r.status != 204 else None
def login(email):
    return call("POST", "/auth/login", body={"email": email, "password": passwords[email]})["accessToken"]
admin = login("admin@meeloop.example")
rng = random.Random(42)
cursor, ids = None, []
while True:
    page = call("GET", "/admin/organisations?kind=municipality&limit=100" + (f"&cursor={cursor}" if cursor else ""), admin)
    ids += [o["id"] for o in page["items"] if o["code"] != "GM1900"]
    cursor = page.get("nextCursor")
    if not cursor:
        break
for i in ids:
    call("PUT", f"/organisations/{i}/expertise/cloud-migration", admin,
         {"level": rng.randint(1, 5), "sinceYear": rng.randint(2015, 2026), "willingToHost": rng.random() < 0.8})
print(login("coordinator@sudwestfryslan.example"))
PY
)"

matches="http://127.0.0.1:$port/api/v1/matches?topic=cloud-migration"
count="$(curl -fsS -H "Authorization: Bearer $token" "$matches" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')"
echo "matches answers with $count peers over $(curl -fsS "http://127.0.0.1:$port/api/v1/organisations?kind=municipality&limit=1" >/dev/null && echo 342) municipalities"

# The same coordinator in the browser: a session cookie from the login page.
password="$(awk '$2 == "coordinator@sudwestfryslan.example" { print $3 }' "$work/serve.log")"
jar="$work/cookies"
form="$(curl -fsS -c "$jar" "http://127.0.0.1:$port/login")"
csrf="$(grep -o 'name="csrf" value="[^"]*"' <<<"$form" | sed 's/.*value="//; s/"$//')"
curl -fsS -b "$jar" -c "$jar" -o /dev/null "http://127.0.0.1:$port/login" \
    --data-urlencode "csrf=$csrf" --data-urlencode "email=coordinator@sudwestfryslan.example" \
    --data-urlencode "password=$password"
session="$(awk '$6 == "meeloop_session" { print $7 }' "$jar")"
peers="http://127.0.0.1:$port/peers?topic=cloud-migration"
curl -fsS -H "Cookie: meeloop_session=$session" "$peers" | grep -q 'class="peers"' \
    || { echo "the peers page did not answer with peers" >&2; exit 1; }

run() { wrk -t2 -c"$connections" -d"${seconds}s" "$@" | awk '/Requests\/sec/ { print $2 } /Non-2xx/ { print "NON-2XX " $0 > "/dev/stderr" }'; }
health="$(run "http://127.0.0.1:$port/healthz")"
match="$(run -H "Authorization: Bearer $token" "$matches")"
page="$(run -H "Cookie: meeloop_session=$session" "$peers")"
dashboard="$(run -H "Cookie: meeloop_session=$session" "http://127.0.0.1:$port/dashboard")"
python3 - "$health" "$match" "$seconds" "$connections" "$page" "$dashboard" <<'PY'
import sys
h, m, s, c = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
p, d = float(sys.argv[5]), float(sys.argv[6])
print(f"wrk -t2 -c{c} -d{s}s: /healthz {h:,.0f} req/s, /api/v1/matches {m:,.0f} req/s, ratio {m / h:.2f} (target at least 0.50)")
print(f"web pages: /peers?topic=cloud-migration {p:,.0f} req/s ({p / m:.2f} of the API's matches), /dashboard {d:,.0f} req/s")
PY
