#!/usr/bin/env bash
# Set up and run the test suite: .venv with the pinned test requirements, Debian's
# Chromium for the browser tests (installed when running as root with apt), then pytest.
# PostgreSQL is read from TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres);
# tests needing a service that is not reachable are skipped with the reason, unless
# REQUIRE_SERVICES=1. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
bash scripts/assets.sh
.venv/bin/pip install --disable-pip-version-check -q -r requirements-dev.txt
bash scripts/catalogs.sh
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "chromium is not installed: the browser tests will be skipped (apt-get install chromium)." >&2
  fi
fi
exec .venv/bin/python -m pytest "$@"
