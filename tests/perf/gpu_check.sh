#!/usr/bin/env bash
# GPU measurements for one device call: the distillation step ratio
# (tests/perf/bench_distill_step.py) at paper-scale sizes and the student/teacher layer
# ratio (tests/perf/bench_layer_ratio.py) on CUDA, with a summary at the end.
#
# Run from the repository root on the device machine, with the ignored folders .whl (the
# Python 3.12 wheels the image lacks: transformers 5.24, pydantic, datasets, ...) and
# .gpu/minilm (the bundled MiniLM's tokenizer and config, no weights) carried:
#     bash tests/perf/gpu_check.sh
# Every part has its own timeout and a failed part does not stop the next; all output goes
# to $OUT/gpu_check.log (and $OUT/layer_ratio.json when the layer ratio finishes).
# About 4-6 minutes on an H100; its timeouts bound it to about 7. LAYER_RATIO=0 skips part 2, BF16=0 part 3.
set -uo pipefail

OUT=${OUT:-/tmp/gpu_check_out}
mkdir -p "$OUT"
PARTS=$(mktemp -d)
TOKENIZER=.gpu/minilm
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export HF_HUB_DISABLE_PROGRESS_BARS=1 TOKENIZERS_PARALLELISM=false
RESULTS=()
DISTILLS=()

# part NAME SECONDS COMMAND...: run COMMAND under a timeout, its output in $PARTS/NAME.log
part() {
    local name=$1 seconds=$2
    shift 2
    local started=$SECONDS
    echo
    echo "=== $name (timeout ${seconds} s; at ${started} s) ==="
    echo "+ $*"
    timeout -k 10 "$seconds" "$@" 2>&1 | tee "$PARTS/$name.log"
    local rc=${PIPESTATUS[0]}
    [ "$rc" = 124 ] && echo "!!! $name timed out after ${seconds} s"
    echo "=== $name: exit $rc after $((SECONDS - started)) s ==="
    RESULTS+=("$name: exit $rc, $((SECONDS - started)) s")
}

distill() {  # distill NAME SECONDS ARGS...: the distillation step benchmark on CUDA
    local name=$1 seconds=$2
    shift 2
    DISTILLS+=("$name")
    part "$name" "$seconds" python3 tests/perf/bench_distill_step.py --device cuda \
        --tokenizer "$TOKENIZER" "$@"
}

summary() {
    echo
    echo "=== summary (${SECONDS} s in all) ==="
    printf '%s\n' "${RESULTS[@]}"
    echo
    printf '%-24s %10s %10s %10s %8s  %s\n' run "distill ms" "student ms" "teacher ms" ratio "min-max"
    local name
    for name in "${DISTILLS[@]}"; do
        awk -v name="$name" '
            $1 == "distill" && $2 == "median" { d = $3 }
            $1 == "student" && $2 == "median" { s = $3 }
            $1 == "teacher" && $2 == "median" { t = $3 }
            /distill \/ \(student step/ { r = $9; m = $11 " - " $13; gsub(/[,);]/, "", m) }
            END {
                if (r == "") { printf "%-24s not measured (see its log above)\n", name }
                else { printf "%-24s %10s %10s %10s %8s  %s\n", name, d, s, t, r, m }
            }' "$PARTS/$name.log"
    done
    echo
    echo "layer ratio (student/teacher inference time, limit 0.50; batch 16, float32):"
    if [ -e "$PARTS/layer-ratio.log" ]; then
        grep -E '^(longformer|roberta|bigbird|nystromformer) ' "$PARTS/layer-ratio.log" \
            || echo "  no rows (see its log above)"
    else
        echo "  not run"
    fi
}

main() {
    echo "=== gpu_check $(date -u +%FT%TZ) in $PWD ==="
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
    if [ ! -d .whl ] || [ ! -f "$TOKENIZER/tokenizer.json" ]; then
        echo "!!! .whl or $TOKENIZER is missing: name both in the run's carry"
        return 1
    fi
    echo "+ installing $(ls .whl | wc -l) wheels into /tmp/site"
    if ! python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl; then
        echo "!!! the wheels did not install: nothing below would run the versions we test"
        return 1
    fi
    export PYTHONPATH=/tmp/site:$PWD
    timeout 120 python3 - <<'EOF'
import importlib.metadata as md

print("; ".join(f"{n} {md.version(n)}" for n in
                ("huggingface_hub", "tokenizers", "safetensors", "accelerate", "pyarrow", "fsspec")))
import torch
import transformers
import pydantic
import datasets

print(f"python3 {__import__('sys').version.split()[0]}; torch {torch.__version__} (cuda "
      f"{torch.version.cuda}); transformers {transformers.__version__} from "
      f"{transformers.__file__.rsplit('/', 2)[0]}; pydantic {pydantic.__version__}; "
      f"datasets {datasets.__version__}")
print(f"cuda available: {torch.cuda.is_available()}; "
      f"{torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU'}")
EOF

    # 1. The distillation step against student step + teacher forward, float32 (no TF32).
    distill distill-bert-512x16 90 --random-config bert-base --length 512 --batch 16 \
        --rounds 15 --steps 3
    distill distill-lf-4096x2 100 --random-config longformer-base --length 4096 --batch 2 \
        --rounds 15 --steps 2

    # 2. The layer ratio at full size: Longformer first (the long-context case), then full
    # attention; two rounds each so it fits, rows printed as they come.
    [ "${LAYER_RATIO:-1}" = 1 ] && part layer-ratio 150 python3 tests/perf/bench_layer_ratio.py --tokenizer "$TOKENIZER" \
        --hidden 768 --heads 12 --layers 12,6 --batch-size 16 --device cuda \
        --lengths 512,4096 --archs longformer,roberta --min-rounds 2 --max-rounds 2 \
        --min-seconds 0.5 --json "$OUT/layer_ratio.json"

    # 3. Extra, where time is left: the same distillation steps under bf16 autocast.
    if [ "${BF16:-1}" = 1 ] && [ "$SECONDS" -lt 280 ]; then
        distill distill-bert-512x16-bf16 60 --random-config bert-base --length 512 \
            --batch 16 --rounds 10 --steps 2 --bf16
        distill distill-lf-4096x2-bf16 60 --random-config longformer-base --length 4096 \
            --batch 2 --rounds 10 --steps 2 --bf16
    else
        echo "=== bf16 extras skipped: ${SECONDS} s gone ==="
    fi
    summary
}

main 2>&1 | tee "$OUT/gpu_check.log"
