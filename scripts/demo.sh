#!/usr/bin/env bash
# The main job on the embedded default, offline: install, then the recipe of
# baselines/configs/demo.yaml (the bundled all-MiniLM-L6-v2 converted to Longformer at 4,096
# tokens as the teacher, distilled into a 3-layer student, both fine-tuned and scored on the
# bundled CoNLL-2003 sample and timed side by side at 4,096 tokens), then `bench compare` of
# the two result files. A second run reuses every finished stage. Work goes to
# recipe-runs/demo/; the result files are recipe-runs/demo/4-finetune/{teacher,student}.json.
set -euo pipefail
if [ $# -gt 0 ]; then
    echo "scripts/demo.sh takes no arguments; for your own runs see \`bench run --help\`" >&2
    exit 2
fi
cd "$(dirname "$0")/.."
venv=$(scripts/setup.sh | tail -n 1)
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1
"$venv/bin/bench" recipe run baselines/configs/demo.yaml
results=recipe-runs/demo/4-finetune
"$venv/bin/bench" compare "$results/teacher.json" "$results/student.json"
