#!/usr/bin/env bash
# The study's time ratios on a GPU, in one device call: every student against its teacher
# at 4,096, then 512, then 2,048 tokens, batch 16 (the paper's), float32, timed in
# interleaved rounds until two halves agree (tests/perf/bench_study_ratios.py).
#
# The models travel as their configs and tokenizers alone and get random weights there
# (tests/perf/study_shapes.py: a forward pass takes the same time whatever the weights).
# Here, once, after `bench study run` has built the study:
#     python tests/perf/study_shapes.py pack baselines/configs/study.yaml --to .gpu/study
# then on the device machine, with .whl (the Python 3.12 wheels its image lacks; see
# tests/perf/gpu_check.sh) and .gpu carried:
#     bash tests/perf/gpu_study_ratios.sh
# Rows go to $OUT/ratios-gpu.json as each finishes (copy it to study-runs/study/, where
# `bench report` takes it into the study's page), the log to $OUT/gpu-study.log;
# BUDGET_S (default 450) bounds the timing, so a cut-short run keeps its whole rows.
set -uo pipefail

OUT=${OUT:-/tmp/gpu_study_out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export HF_HUB_DISABLE_PROGRESS_BARS=1 TOKENIZERS_PARALLELISM=false

main() {
    echo "=== gpu_study_ratios $(date -u +%FT%TZ) ==="
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
    if [ ! -d .whl ] || [ ! -f .gpu/study/models.json ]; then
        echo "!!! .whl or .gpu/study is missing: pack the study and carry both"
        return 1
    fi
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || { echo "!!! the wheels did not install"; return 1; }
    export PYTHONPATH=/tmp/site:$PWD
    python3 -c "import torch, transformers; print(f'torch {torch.__version__}, transformers \
{transformers.__version__}, {torch.cuda.get_device_name(0)}')" || return 1
    python3 tests/perf/study_shapes.py unpack .gpu/study || return 1
    timeout -k 10 "${BUDGET_S:-450}" python3 tests/perf/bench_study_ratios.py \
        baselines/configs/study.yaml --models .gpu/study --device cuda --batch-size 16 \
        --lengths "${LENGTHS:-4096,512,2048}" --max-rounds 8 --json "$OUT/ratios-gpu.json"
    local rc=$?
    echo "=== timing: exit $rc after ${SECONDS} s ==="
    return $rc
}

main 2>&1 | tee "$OUT/gpu-study.log"
