#!/usr/bin/env bash
# Lints the OpenAPI document with the official NL API Design Rules ruleset
# (Spectral; scripts/api-design-rules.yml). Fails on any error; prints the
# warnings (there are none today; a new one needs a reason in the README).
#
# The document is the one a production installation publishes: an https
# `server.public_url` and a real sender address (its `info.contact`).
set -euo pipefail
cd "$(dirname "$0")/.."
tools="${MEELOOP_TOOLS:-$HOME/.cache/meeloop}"
spectral="$tools/spectral/node_modules/.bin/spectral"
[[ -x "$spectral" ]] || scripts/setup.sh --ci

cargo build --quiet --bin meeloop
bin="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/meeloop"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
MEELOOP_DATA_DIR="$work" MEELOOP_SERVER__PUBLIC_URL="https://meeloop.example.nl" \
    MEELOOP_MAIL__FROM="Meeloop <meeloop@meeloop.example.nl>" \
    "$bin" openapi >"$work/openapi.json"
"$spectral" lint --ruleset scripts/api-design-rules.yml --fail-severity error \
    --format text "$work/openapi.json"
echo; echo "NL API Design Rules: no errors"
