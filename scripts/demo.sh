#!/usr/bin/env bash
# The main job on the embedded default, offline: install, then `bench run` with the bundled
# all-MiniLM-L6-v2 on the bundled samples of every task (fine-tuning included), writing
# results/bundled-all-MiniLM-L6-v2.json. Extra arguments go to `bench run`.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(scripts/setup.sh | tail -n 1)
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1
"$venv/bin/bench" run "$@"
