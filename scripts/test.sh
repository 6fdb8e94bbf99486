#!/usr/bin/env bash
# The whole test suite, on SQLite and on PostgreSQL (a throwaway cluster the
# tests start themselves). Installs the PostgreSQL server binaries if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# Fail, rather than skip, if PostgreSQL cannot be started.
export MEELOOP_REQUIRE_POSTGRES=1
# Likewise the browser tests (Chromium, chromedriver and axe-core come from
# scripts/setup.sh above).
export MEELOOP_REQUIRE_BROWSER=1
export MEELOOP_REQUIRE_OIDC=1
# promtool (metrics), systemd-analyze and bubblewrap (packaging).
export MEELOOP_REQUIRE_OPS_TOOLS=1
cargo test "$@"
