#!/usr/bin/env bash
# The knowledge base with N published lessons (default 100,000), searched
# on SQLite and on a throwaway PostgreSQL cluster (benches/knowledge.rs).
#
#   scripts/bench-knowledge.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-100000}"
source scripts/lib/postgres.sh
work="$(mktemp -d)"
chmod 755 "$work"
trap 'stop_postgres "$work"; rm -rf "$work"' EXIT
cargo bench --quiet --bench knowledge -- "$n"
start_postgres "$work" "$(free_port)"
cargo bench --quiet --bench knowledge -- "$n" "$PG_URL"
