#!/usr/bin/env bash
# Put the study's models on the board: each result of the study's page data (the teachers
# first) and its predictions are copied to leaderboard/submissions/study/ and submitted
# with --recompute, labelled `study`, with the study's budget and, for a student, the GPU
# ratios timed on the study's shapes (docs/study/data/ratios-gpu.json).
# Usage: scripts/submit_study.sh [DATA]    DATA: a study page's data folder (docs/study/data)
# Every result must hold its predictions (the study scored with save_predictions: true);
# otherwise nothing is copied or submitted.
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:-docs/study/data}"
teachers=() students=()
for result in "$data"/results/*.json; do
  [ -f "$result" ] || continue
  if [ ! -d "${result%.json}.predictions" ]; then
    echo "error: $result has no predictions beside it (${result%.json}.predictions/):" \
      "score the study with save_predictions: true and make its page again" >&2
    exit 2
  fi
  if [[ "$result" == *-teacher.json ]]; then teachers+=("$result"); else students+=("$result"); fi
done
if [ ${#teachers[@]} -eq 0 ]; then
  echo "error: no teacher's result in $data/results: give a study page's data folder" >&2
  exit 2
fi
venv=$(scripts/setup.sh | tail -n 1)
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1
kept=leaderboard/submissions/study
board=leaderboard/leaderboard.json
budget="all-MiniLM-L6-v2 converted at 4,096 tokens; 40 pretraining steps (1,024 tokens x 2) and"
budget+=" 100 distillation steps (512 x 4) on the bundled text; baselines/configs/study.yaml"
rm -rf "$kept" && mkdir -p "$kept"
for result in "${teachers[@]}" "${students[@]}"; do
  name=$(basename "$result" .json)
  cp "$result" "$kept/" && cp -r "${result%.json}.predictions" "$kept/"
  extra=()
  if [ -f "$data/ratios-gpu.json" ] && [[ "$name" != *-teacher ]]; then
    extra=(--time-ratios "$data/ratios-gpu.json")
  fi
  "$venv/bin/bench" submit "$kept/$name.json" --leaderboard "$board" --recompute --replace \
    --data-label study --budget "$budget" ${extra[@]+"${extra[@]}"}
done
"$venv/bin/bench" leaderboard check "$board"
