#!/usr/bin/env bash
# The CIFAR-10 study on an offline GPU machine (make gpu-study), within BUDGET seconds:
#   1. JAX must see a GPU (ALLOW_CPU=1: a dry proof on the CPU);
#   2. a short engine benchmark (benchmarks/engine_speed.py, BENCH_ARGS), its output kept;
#   3. the study, fast profile, fast engine, seeds in order (python -m helpers.gpu_study run:
#      LR study, then batch norm, then optimizers), under `timeout` so that step 4 always runs;
#   4. new records, the grid log, run logs and the benchmark output packed into
#      OUT/gpu-study-<time>.tar.gz (paths results/..., unpack with `tar xzf` in the repo),
#      and a one-line summary (OUT/summary.txt).
# Variables: DATA (CIFAR-10), OUT, BUDGET (s, whole script), SEEDS ("0 1 2"), PROFILE (fast),
# RESULTS (results/gpu-$PROFILE), ALLOW_CPU, BENCH (1/0), BENCH_ARGS, BENCH_BUDGET (s),
# LR_BATCH (auto/on/off), PYTHON, GRID_VIA (inprocess; "cli": python -m helpers.grid
# --in-process --time-budget --lr-batch: the same budget rule and batching).
# Extra arguments go to `helpers.gpu_study run` (e.g. -p epochs 2).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
OUT=${OUT:-gpu-out}
BUDGET=${BUDGET:-540}
SEEDS=${SEEDS:-0}
PROFILE=${PROFILE:-fast}
RESULTS=${RESULTS:-results/gpu-$PROFILE}
BENCH=${BENCH:-1}
BENCH_BUDGET=${BENCH_BUDGET:-120}
BENCH_ARGS=${BENCH_ARGS:---depths 20 --steps 100 --test-size 1000 --n-repeats 5 --skip-fit --lr-batch 6}
LR_BATCH=${LR_BATCH:-auto}
GRID_VIA=${GRID_VIA:-inprocess}
export KERAS_BACKEND=jax PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
export JAX_COMPILATION_CACHE_DIR=${JAX_COMPILATION_CACHE_DIR:-$PWD/.jax-cache}
START=$(date +%s)
CPU=(); [ "${ALLOW_CPU:-0}" = 1 ] && CPU=(--allow-cpu)
DATA_ARGS=(); [ -n "${DATA:-}" ] && DATA_ARGS=(--data "$(realpath "$DATA")")
mkdir -p "$OUT" "$RESULTS/benchmarks"

"$PYTHON" -m helpers.gpu_study check "${CPU[@]}"

EXTRA=()
if [ "$BENCH" = 1 ]; then
    BENCH_OUT="$RESULTS/benchmarks/engine_speed-$(date -u +%Y%m%dT%H%M%S).txt"
    # shellcheck disable=SC2086
    timeout "$BENCH_BUDGET" "$PYTHON" benchmarks/engine_speed.py $BENCH_ARGS >"$BENCH_OUT" 2>&1 \
        || echo "benchmark stopped (exit $?): see $BENCH_OUT" | tee -a "$BENCH_OUT"
    EXTRA=("$BENCH_OUT")
fi

LEFT=$(( BUDGET - ($(date +%s) - START) - 20 ))   # 20 s kept for packing
if [ "$LEFT" -gt 10 ]; then
    if [ "$GRID_VIA" = cli ]; then
        timeout "$LEFT" "$PYTHON" -m helpers.grid --in-process --profile "$PROFILE" --time-budget "$LEFT" \
            --lr-batch "$LR_BATCH" \
            --results-dir "$RESULTS" --datasets cifar10 --studies lr batchnorm optimizers \
            --seeds $SEEDS ${DATA:+--data-dir "$(realpath "$DATA")"} -p engine '"fast"' "$@" || true
    else
        # shellcheck disable=SC2086
        timeout "$LEFT" "$PYTHON" -m helpers.gpu_study run "${CPU[@]}" --profile "$PROFILE" \
            --results-dir "$RESULTS" --seeds $SEEDS --budget "$LEFT" --lr-batch "$LR_BATCH" \
            "${DATA_ARGS[@]}" "$@" || echo "study step stopped (exit $?)"
    fi
fi

"$PYTHON" -m helpers.gpu_study pack --results-dir "$RESULTS" --out "$OUT" --since "$START" \
    --extra "${EXTRA[@]}"
# shellcheck disable=SC2086
"$PYTHON" -m helpers.gpu_study summary "${CPU[@]}" --profile "$PROFILE" --results-dir "$RESULTS" \
    --seeds $SEEDS --since "$START" --budget "$BUDGET" "${DATA_ARGS[@]}" "$@" | tee "$OUT/summary.txt"
