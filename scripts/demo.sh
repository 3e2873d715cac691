#!/usr/bin/env bash
# The main job on the embedded default, offline: install, then GONERD statistics of the
# bundled sample with the bundled all-MiniLM-L6-v2 tokenizer.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(scripts/setup.sh | tail -n 1)
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1
"$venv/bin/bench" data stats gonerd --name sample "$@"
