#!/usr/bin/env bash
# Install with the dev extra, then lint and run the test suite (offline).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(scripts/setup.sh dev | tail -n 1)
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1
"$venv/bin/ruff" check .
"$venv/bin/python" -m pytest "$@"
