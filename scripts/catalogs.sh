#!/usr/bin/env bash
# Compile the interface's translations (translations/<locale>/LC_MESSAGES/messages.po) into
# the .mo files Flask-Babel reads. The .mo files are build output, not committed (.gitignore);
# scripts/test.sh and scripts/demo.sh run this after installing the requirements.
# Refreshing the catalogs after adding _() strings is in the README ("Translations").
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL="${PYBABEL:-.venv/bin/pybabel}"
"$PYBABEL" -q compile -d translations
