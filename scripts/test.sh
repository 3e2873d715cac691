#!/usr/bin/env bash
# Install with the dev extra, then lint, check the packages' layering (import-linter contracts
# in pyproject.toml), build the documentation site, run the test suite (offline; arguments go
# to pytest, e.g. -m "not slow") and check the repository's leaderboard.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(scripts/setup.sh dev | tail -n 1)
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1
"$venv/bin/ruff" check .
"$venv/bin/lint-imports" --no-cache --no-logo  # the one-way layering of the packages
NO_MKDOCS_2_WARNING=1 "$venv/bin/mkdocs" build --strict --quiet --site-dir "$(mktemp -d)"  # the docs site, offline
"$venv/bin/python" -m pytest "$@"
"$venv/bin/bench" leaderboard check leaderboard/leaderboard.json
