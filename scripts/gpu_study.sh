#!/usr/bin/env bash
# The CIFAR-10 study on an offline GPU machine (make gpu-study), within BUDGET seconds:
#   1. JAX must see a GPU (ALLOW_CPU=1: a dry proof on the CPU);
#   2. a short engine benchmark (benchmarks/engine_speed.py, BENCH_ARGS), its output kept;
#   3. the study, fast profile, fast engine, seeds in order (python -m helpers.ops.gpu_study run:
#      LR study, batch norm, optimizers, LRs outside the paper's range), under `timeout`
#      so that step 4 always runs;
#   4. new records, the grid log, run logs and the benchmark output packed into
#      OUT/gpu-study-<time>.tar.gz (paths results/..., unpack with `tar xzf` in the repo),
#      and a one-line summary (OUT/summary.txt).
# Variables: DATA (CIFAR-10), OUT, BUDGET (s, whole script), SEEDS ("0 1 2"), PROFILE (fast),
# RESULTS (results/gpu-$PROFILE), ALLOW_CPU, BENCH (1/0: the engine benchmark, measured
# once per card), BENCH_ARGS, BENCH_BUDGET (s), PYTHON,
# WORKERS (K study processes sharing the device, splitting the cells through the grid's
# claim files; "auto": the K that benchmarks/concurrent_runs.py found fastest on this
# device, measured now (CONC_ARGS) unless a measurement of this device is in
# $RESULTS/benchmarks), GRID_VIA (inprocess; "cli": python -m helpers.ops.grid --in-process
# --time-budget: the same budget rule, one process).
# Extra arguments go to `helpers.ops.gpu_study run` (e.g. -p epochs 2; --cells 2: only the next
# two cells without a record, a quick check).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
OUT=${OUT:-gpu-out}
BUDGET=${BUDGET:-540}
SEEDS=${SEEDS:-0}
PROFILE=${PROFILE:-fast}
RESULTS=${RESULTS:-results/gpu-$PROFILE}
BENCH=${BENCH:-0}
WORKERS=${WORKERS:-auto}
CONC_ARGS=${CONC_ARGS:---workers 1 2 4 --steps 400}
BENCH_BUDGET=${BENCH_BUDGET:-120}
BENCH_ARGS=${BENCH_ARGS:---depths 20 --steps 100 --test-size 1000 --n-repeats 5 --skip-fit}
GRID_VIA=${GRID_VIA:-inprocess}
export KERAS_BACKEND=jax PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
export JAX_COMPILATION_CACHE_DIR=${JAX_COMPILATION_CACHE_DIR:-$PWD/.jax-cache}
START=$(date +%s)
case "$WORKERS" in
    auto) ;;
    ''|*[!0-9]*|0) echo "error: WORKERS must be auto or a count of 1 or more, not '$WORKERS'" >&2
                   exit 2;;
esac
CPU=(); [ "${ALLOW_CPU:-0}" = 1 ] && CPU=(--allow-cpu)
DATA_ARGS=(); [ -n "${DATA:-}" ] && DATA_ARGS=(--data "$(realpath "$DATA")")
mkdir -p "$OUT" "$RESULTS/benchmarks"

CHECK=$("$PYTHON" -m helpers.ops.gpu_study check "${CPU[@]}")
echo "$CHECK"
KIND=$(sed -n 's/^device [a-z]*: \(.*\) x[0-9]*;.*/\1/p' <<<"$CHECK")

EXTRA=()
if [ "$BENCH" = 1 ]; then
    BENCH_OUT="$RESULTS/benchmarks/engine_speed-$(date -u +%Y%m%dT%H%M%S).txt"
    # shellcheck disable=SC2086
    timeout "$BENCH_BUDGET" "$PYTHON" benchmarks/engine_speed.py $BENCH_ARGS >"$BENCH_OUT" 2>&1 \
        || echo "benchmark stopped (exit $?): see $BENCH_OUT" | tee -a "$BENCH_OUT"
    EXTRA=("$BENCH_OUT")
fi

if [ "$WORKERS" = auto ]; then
    # the newest measurement of this device kind, else measure now
    CONC_OUT=$(grep -l "on $KIND (" "$RESULTS"/benchmarks/concurrent_runs-*.txt 2>/dev/null | sort | tail -1 || true)
    if [ -z "$CONC_OUT" ]; then
        CONC_OUT="$RESULTS/benchmarks/concurrent_runs-$(date -u +%Y%m%dT%H%M%S).txt"
        # shellcheck disable=SC2086
        timeout "$BENCH_BUDGET" "$PYTHON" benchmarks/concurrent_runs.py $CONC_ARGS >"$CONC_OUT" 2>&1 \
            || echo "concurrency benchmark stopped (exit $?): see $CONC_OUT" | tee -a "$CONC_OUT"
        EXTRA+=("$CONC_OUT")
    fi
    WORKERS=$(sed -n 's/^best workers \([0-9][0-9]*\)$/\1/p' "$CONC_OUT" | tail -1)
    WORKERS=${WORKERS:-1}
    echo "workers: $WORKERS ($CONC_OUT)"
fi
LEFT=$(( BUDGET - ($(date +%s) - START) - 20 ))   # 20 s kept for packing
if [ "$LEFT" -gt 10 ]; then
    if [ "$GRID_VIA" = cli ]; then
        timeout "$LEFT" "$PYTHON" -m helpers.ops.grid --in-process --profile "$PROFILE" --time-budget "$LEFT" \
            --results-dir "$RESULTS" --datasets cifar10 --studies lr batchnorm optimizers \
            --seeds $SEEDS ${DATA:+--data-dir "$(realpath "$DATA")"} -p engine '"fast"' "$@" || true
    else
        # shellcheck disable=SC2206
        RUN=(timeout "$LEFT" "$PYTHON" -m helpers.ops.gpu_study run "${CPU[@]}" --profile "$PROFILE"
             --results-dir "$RESULTS" --seeds $SEEDS --budget "$LEFT"
             "${DATA_ARGS[@]}" "$@")
        if [ "$WORKERS" = 1 ]; then
            "${RUN[@]}" || echo "study step stopped (exit $?)"
        else
            # K processes, one device: each claims the next free cell (grid claim files)
            mkdir -p "$RESULTS/notebooks"
            echo "$WORKERS study processes; their logs: $RESULTS/notebooks/worker-*.out.log"
            for i in $(seq 1 "$WORKERS"); do
                XLA_PYTHON_CLIENT_PREALLOCATE=false "${RUN[@]}" \
                    >"$RESULTS/notebooks/worker-$i.out.log" 2>&1 \
                    || echo "study process $i stopped (exit $?)" &
                sleep 2   # a staggered start: each claims a different first cell
            done
            wait
        fi
    fi
fi

"$PYTHON" -m helpers.ops.gpu_study pack --results-dir "$RESULTS" --out "$OUT" --since "$START" \
    --root "$PWD" --extra "${EXTRA[@]}"
# shellcheck disable=SC2086
"$PYTHON" -m helpers.ops.gpu_study summary "${CPU[@]}" --profile "$PROFILE" --results-dir "$RESULTS" \
    --seeds $SEEDS --since "$START" --budget "$BUDGET" "${DATA_ARGS[@]}" "$@" | tee "$OUT/summary.txt"
