#!/usr/bin/env bash
# Set up and run the helpdesk with demo data on the embedded default (SQLite, no other server).
# Creates .venv, installs the pinned requirements, migrates, starts the local sandbox
# marketplace, pulls its orders through the Shopify and WooCommerce connectors, imports
# the CSV days, prints the demo agents' passwords, then serves http://127.0.0.1:5000.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-5000}"
SANDBOX_PORT="${SANDBOX_PORT:-5055}"

[ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
bash scripts/assets.sh
.venv/bin/pip install --disable-pip-version-check -q -r requirements.txt
bash scripts/catalogs.sh
export FLASK_APP=wsgi LOG_FORMAT="${LOG_FORMAT:-text}"
# No mail server in the demo: e-mails (surveys, transcripts) land as .eml files in the outbox.
[ -n "${MAIL_SERVER:-}" ] || export MAIL_OUTBOX_DIR="${MAIL_OUTBOX_DIR:-$PWD/instance/outbox}"
# Surveys go out a minute after a solve (an hour by default) so the demo shows them at once.
export SURVEY_DELAY_MINUTES="${SURVEY_DELAY_MINUTES:-1}"

for port in "$PORT" "$SANDBOX_PORT"; do
  .venv/bin/python -c 'import socket, sys; socket.create_server(("127.0.0.1", int(sys.argv[1]))).close()' "$port" 2>/dev/null || {
    echo "Port $port on 127.0.0.1 is already in use (another demo still running?). Stop it, or set PORT / SANDBOX_PORT." >&2
    exit 1
  }
done

.venv/bin/flask db upgrade
.venv/bin/flask demo sandbox --port "$SANDBOX_PORT" &
sandbox_pid=$!
trap 'kill "$sandbox_pid" 2>/dev/null || true' EXIT
.venv/bin/python - "$SANDBOX_PORT" <<'PY'
import socket, sys, time
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.2)
sys.exit("the sandbox marketplace did not start on port " + sys.argv[1])
PY
eval "$(.venv/bin/flask demo env)"
.venv/bin/flask demo seed --sandbox-url "http://127.0.0.1:$SANDBOX_PORT"
echo "Helpdesk on http://127.0.0.1:$PORT — sign in with one of the agents above (Ctrl-C stops it)."
echo "Buyer chat: http://127.0.0.1:$PORT/chat/?order=1001 with the e-mail bob.norman@hostmail.com"
[ -z "${MAIL_OUTBOX_DIR:-}" ] || echo "E-mails (surveys about a minute after a solve, transcripts) are written to $MAIL_OUTBOX_DIR as .eml files."
echo "Help centre: http://127.0.0.1:$PORT/faq/ (in the buyer chat, type \"wher is my pakage\" to see suggestions)"
.venv/bin/flask run --host 127.0.0.1 --port "$PORT"
