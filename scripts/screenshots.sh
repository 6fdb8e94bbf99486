#!/usr/bin/env bash
# Regenerates docs/screenshots/*.png: the browser tests take them while they
# walk through the pages (headless Chromium, 1280x900 and a phone's 390x844).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export MEELOOP_REQUIRE_BROWSER=1
export MEELOOP_SCREENSHOTS="$PWD/docs/screenshots"
mkdir -p "$MEELOOP_SCREENSHOTS"
cargo test --test api web_browser:: -- --test-threads=1
ls -1 "$MEELOOP_SCREENSHOTS"
