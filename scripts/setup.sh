#!/usr/bin/env bash
# Installs what the test suite needs and a fresh machine may lack, and
# nothing that is already there. Used by the README's test command and by CI.
#
#   scripts/setup.sh        PostgreSQL server binaries and libpq, an SMTP
#                           server for the mail tests (aiosmtpd, PyPI), the
#                           webhook tests' verifier (standardwebhooks, PyPI), and
#                           for the browser tests headless Chromium with its
#                           chromedriver (Debian) and axe-core (npm), and for
#                           the login tests an OpenID Connect provider
#                           (oidc-provider, npm; tests/oidc/provider.mjs), and
#                           for the operations tests promtool, systemd-analyze
#                           and bubblewrap (Debian)
#   scripts/setup.sh --ci   also schemathesis (PyPI), Spectral (npm) and cargo-audit
#
# Tools that are not system packages go under $MEELOOP_TOOLS
# (default ~/.cache/meeloop), never into the repository.
set -euo pipefail

ci=0
[[ "${1:-}" == "--ci" ]] && ci=1
tools="${MEELOOP_TOOLS:-$HOME/.cache/meeloop}"
mkdir -p "$tools"

say() { printf 'setup: %s\n' "$*" >&2; }

# apt-get as root, through sudo otherwise.
apt_install() {
    local sudo=""
    if [[ $(id -u) -ne 0 ]]; then
        if command -v sudo >/dev/null; then sudo="sudo"; else
            say "need root (or sudo) to install: $*"; return 1
        fi
    fi
    say "installing $* (apt-get)"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

have_pg_server() {
    [[ -n "${MEELOOP_PG_BIN:-}" && -x "${MEELOOP_PG_BIN}/initdb" ]] && return 0
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}

have_pg_server || apt_install postgresql
# The postgres crate links the system libpq at build time.
[[ -e /usr/include/postgresql/libpq-fe.h ]] || apt_install libpq-dev

# A real SMTP server for the mail tests (they start it themselves).
[[ -x "$tools/venv/bin/python" ]] || python3 -m venv "$tools/venv"
if ! "$tools/venv/bin/python" -c "import aiosmtpd" 2>/dev/null; then
    say "installing aiosmtpd into $tools/venv"
    "$tools/venv/bin/pip" install -q --disable-pip-version-check aiosmtpd
fi
# The webhook tests' receiver verifies deliveries with the reference
# Standard Webhooks library (tests/support/webhook_receiver.py).
if ! "$tools/venv/bin/python" -c "import standardwebhooks" 2>/dev/null; then
    say "installing standardwebhooks into $tools/venv"
    "$tools/venv/bin/pip" install -q --disable-pip-version-check "standardwebhooks==1.1.0"
fi

# Operations tests: promtool checks /metrics (Debian's prometheus package),
# systemd-analyze checks the unit file, bubblewrap runs the binary the way
# the container image does (read-only root, writes only under /data), and
# nginx and Caddy check the reverse-proxy examples (deploy/).
command -v promtool >/dev/null || apt_install prometheus
command -v systemd-analyze >/dev/null || apt_install systemd
command -v bwrap >/dev/null || apt_install bubblewrap
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || apt_install nginx
command -v caddy >/dev/null || apt_install caddy

# Browser tests: headless Chromium driven through chromedriver, and axe-core
# injected into each page for the accessibility checks.
if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]]; then
    apt_install chromium chromium-driver
fi
axe_version="4.14.1"
axe_pkg="$tools/axe/node_modules/axe-core"
if [[ ! -f "$axe_pkg/axe.min.js" ]] \
    || ! grep -q "\"version\": \"$axe_version\"" "$axe_pkg/package.json" 2>/dev/null; then
    command -v npm >/dev/null || apt_install npm
    say "installing axe-core $axe_version into $tools/axe"
    npm install --prefix "$tools/axe" --no-audit --no-fund --save-exact \
        --silent "axe-core@$axe_version"
fi

# Login tests: a real OpenID Connect provider (tests/oidc/provider.mjs runs it).
oidc_version="9.13.3"
if ! grep -q "\"version\": \"$oidc_version\"" \
    "$tools/oidc/node_modules/oidc-provider/package.json" 2>/dev/null; then
    command -v npm >/dev/null || apt_install npm
    say "installing oidc-provider $oidc_version into $tools/oidc"
    npm install --prefix "$tools/oidc" --no-audit --no-fund --save-exact \
        --silent "oidc-provider@$oidc_version"
fi

if [[ $ci == 1 ]]; then
    command -v curl >/dev/null || apt_install curl
    if [[ ! -x "$tools/venv/bin/st" ]]; then
        say "installing schemathesis into $tools/venv"
        "$tools/venv/bin/pip" install -q --disable-pip-version-check schemathesis
    fi
    # The NL API Design Rules linter (scripts/lint-api.sh).
    spectral_version="6.16.3"
    if ! grep -q "\"version\": \"$spectral_version\"" \
        "$tools/spectral/node_modules/@stoplight/spectral-cli/package.json" 2>/dev/null; then
        command -v npm >/dev/null || apt_install npm
        say "installing Spectral $spectral_version into $tools/spectral"
        npm install --prefix "$tools/spectral" --no-audit --no-fund --save-exact \
            --silent "@stoplight/spectral-cli@$spectral_version"
    fi
    if ! command -v cargo-audit >/dev/null; then
        say "installing cargo-audit (takes a few minutes once)"
        cargo install cargo-audit --locked --quiet
    fi
fi
say "ready"
