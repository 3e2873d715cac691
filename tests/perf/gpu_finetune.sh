#!/usr/bin/env bash
# bench run's fine-tune-and-evaluate time against the example-script recipe on a GPU
# (tests/perf/bench_finetune.py), at the paper's batch 16 and 4,096 tokens for the
# long-document task: ours with --dtype auto (bf16 on Ampere or newer, the reference too) and
# --batch-size auto, the reference padding every input to the run's length.
#
# Run from the repository root on the device machine, with the ignored folders .whl (the
# Python 3.12 wheels the image lacks, as for tests/perf/gpu_check.sh) and .gpu/minilm (the
# bundled MiniLM's tokenizer and config; the weights are drawn afresh there, since only
# times are compared: the scores printed are those of a random start) carried:
#     bash tests/perf/gpu_finetune.sh
# Output goes to $OUT/gpu_finetune.log. About 5 minutes on an H100 (3 rounds); ROUNDS=N
# changes the rounds, COMPILE=1 adds a second measurement with --compile.
set -uo pipefail

OUT=${OUT:-/tmp/gpu_finetune_out}
mkdir -p "$OUT"
MODEL=.gpu/minilm
ROUNDS=${ROUNDS:-3}
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export HF_HUB_DISABLE_PROGRESS_BARS=1 TOKENIZERS_PARALLELISM=false

measure() {  # measure NAME SECONDS EXTRA-ARGS...: one benchmark run under a timeout
    local name=$1 seconds=$2
    shift 2
    echo
    echo "=== $name (timeout ${seconds} s) ==="
    timeout -k 10 "$seconds" python3 tests/perf/bench_finetune.py --device cuda --dtype auto \
        --batch-size auto --long-max-length 4096 --long-batch-size 16 --rounds "$ROUNDS" \
        --model "$MODEL" --random-weights "$@"
    local rc=$?
    [ "$rc" = 124 ] && echo "!!! $name timed out after ${seconds} s"
    echo "=== $name: exit $rc ==="
}

main() {
    echo "=== gpu_finetune $(date -u +%FT%TZ) in $PWD ==="
    nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv
    if [ ! -d .whl ] || [ ! -f "$MODEL/tokenizer.json" ] || [ ! -f "$MODEL/config.json" ]; then
        echo "!!! .whl or $MODEL is missing: name both in the run's carry"
        return 1
    fi
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || { echo "!!! the wheels did not install"; return 1; }
    export PYTHONPATH=/tmp/site:$PWD
    python3 -c "import torch as t, transformers as h; print(t.__version__, h.__version__)"
    measure finetune 420
    [ "${COMPILE:-0}" = 1 ] && measure finetune-compile 420 --compile
}

main 2>&1 | tee "$OUT/gpu_finetune.log"
