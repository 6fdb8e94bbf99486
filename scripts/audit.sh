#!/usr/bin/env bash
# Known-vulnerable dependencies, checked offline against the advisory
# snapshot in ../shared/advisory-db. Exceptions, if ever needed, are listed
# in audit.toml with their reason.
set -euo pipefail
cd "$(dirname "$0")/.."
snapshot=../shared/advisory-db/rustsec-advisory-db.tar.gz
db="$(mktemp -d)"
trap 'rm -rf "$db"' EXIT
tar -xzf "$snapshot" -C "$db"
cargo audit --no-fetch --db "$db" --deny warnings
