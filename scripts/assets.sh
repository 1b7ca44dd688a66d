#!/usr/bin/env bash
# Install the front-end libraries from npm (versions locked in package-lock.json) and copy
# the files the pages load into static/vendor/ (not committed). Needs Node.js and npm.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
mkdir -p static/vendor
cp node_modules/socket.io-client/dist/socket.io.min.js static/vendor/socket.io.min.js
cp node_modules/chart.js/dist/chart.umd.min.js static/vendor/chart.umd.min.js
