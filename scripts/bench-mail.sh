#!/usr/bin/env bash
# Delivery rate: N messages (default 2,000) queued, then delivered by
# `meeloop mail send-test --count N` (one drain, the configured batch and
# concurrency) to a local SMTP server (aiosmtpd, tests/support/smtp_server.py,
# storing every message in a maildir), on SQLite and on a throwaway
# PostgreSQL cluster. Figures go into docs/performance.md.
#   scripts/bench-mail.sh [N] [CONCURRENCY...]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-2000}"
shift || true
concurrencies=("${@:-1 4 8}")
read -r -a concurrencies <<<"${concurrencies[*]}"
scripts/setup.sh >/dev/null
python="${MEELOOP_TOOLS:-$HOME/.cache/meeloop}/venv/bin/python"
cargo build --release --quiet --bin meeloop
bin="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/meeloop"
work="$(mktemp -d)"
chmod 755 "$work"   # the postgres user reaches its cluster inside
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
smtp_port="$(free_port)"
"$python" tests/support/smtp_server.py --port "$smtp_port" --maildir "$work/box" &
smtp=$!
cleanup() {
    kill "$smtp" 2>/dev/null || true
    if [[ -n "${pgbin:-}" ]]; then runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg" stop -m immediate >/dev/null 2>&1 || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 200); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $smtp_port))" 2>/dev/null && break
    sleep 0.05
done

measure() { # label, database url
    local label=$1 url=$2
    for c in "${concurrencies[@]}"; do
        local before after
        before=$(ls "$work/box/new" 2>/dev/null | wc -l)
        out=$(MEELOOP_DATA_DIR="$work/data" MEELOOP_DATABASE__URL="$url" MEELOOP_MAIL__TRANSPORT=smtp \
            MEELOOP_MAIL__SMTP__HOST=127.0.0.1 MEELOOP_MAIL__SMTP__PORT="$smtp_port" MEELOOP_MAIL__SMTP__SECURITY=none \
            MEELOOP_MAIL__CONCURRENCY="$c" \
            "$bin" mail send-test --to bench@meeloop.example --count "$n")
        after=$(ls "$work/box/new" | wc -l)
        printf '%-9s concurrency %-2s %s (%s arrived)\n' "$label" "$c" "${out#* were accepted by the mail relay in }" "$((after - before))"
    done
}

echo "messages: $n, batch: ${MEELOOP_MAIL__BATCH_SIZE:-50}"
measure sqlite "sqlite://$work/bench.db"
pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
if [[ -n "$pgbin" && $(id -u) -eq 0 ]]; then
    port="$(free_port)"
    mkdir "$work/pg" && chown postgres "$work/pg"
    runuser -u postgres -- "$pgbin/initdb" -D "$work/pg" -A trust -U postgres >/dev/null
    runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg" -o "-p $port -k $work/pg -c listen_addresses=127.0.0.1" -l "$work/pg/log" start -w >/dev/null
    measure postgres "postgres://postgres@127.0.0.1:$port/postgres"
else
    echo "postgres: skipped (needs root and PostgreSQL server binaries)"
fi
