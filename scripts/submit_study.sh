#!/usr/bin/env bash
# Put the study's models on the board: each result of the study's page data (the teachers
# first) and its predictions are copied to leaderboard/submissions/study/ and submitted
# with --recompute, labelled `study`, with the study's budget and, for a student, the GPU
# ratios timed on the study's shapes (docs/study/data/ratios-gpu.json).
# Usage: scripts/submit_study.sh [DATA]    DATA: a study page's data folder (docs/study/data)
# The results must hold their predictions: the study scored with save_predictions: true.
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:-docs/study/data}"
venv=$(scripts/setup.sh | tail -n 1)
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1
kept=leaderboard/submissions/study
board=leaderboard/leaderboard.json
budget="all-MiniLM-L6-v2 converted at 4,096 tokens; 40 pretraining steps (1,024 tokens x 2) and"
budget+=" 100 distillation steps (512 x 4) on the bundled text; baselines/configs/study.yaml"
rm -rf "$kept" && mkdir -p "$kept"
results=("$data"/results/*-teacher.json)
results+=($(ls "$data"/results/*.json | grep -v -- '-teacher.json$'))
for result in "${results[@]}"; do
  name=$(basename "$result" .json)
  cp "$result" "$kept/"
  if [ -d "${result%.json}.predictions" ]; then cp -r "${result%.json}.predictions" "$kept/"; fi
  extra=()
  if [ -f "$data/ratios-gpu.json" ] && [[ "$name" != *-teacher ]]; then
    extra=(--time-ratios "$data/ratios-gpu.json")
  fi
  "$venv/bin/bench" submit "$kept/$name.json" --leaderboard "$board" --recompute --replace \
    --data-label study --budget "$budget" "${extra[@]}"
done
"$venv/bin/bench" leaderboard check "$board"
