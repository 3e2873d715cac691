#!/usr/bin/env bash
# Install with the dev extra (and Debian's chromium for the leaderboard page's browser test),
# then lint, check the packages' layering (import-linter contracts in pyproject.toml), run the
# test suite (offline) and check the repository's leaderboard.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null && command -v apt-get >/dev/null; then
  sudo=$([ "$(id -u)" = 0 ] && echo "" || echo sudo)
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
venv=$(scripts/setup.sh dev | tail -n 1)
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1
"$venv/bin/ruff" check .
"$venv/bin/lint-imports" --no-cache --no-logo  # the one-way layering of the packages
"$venv/bin/python" -m pytest "$@"
"$venv/bin/bench" leaderboard check leaderboard/leaderboard.json
