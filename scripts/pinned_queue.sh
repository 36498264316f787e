#!/usr/bin/env bash
# One CPU worker pinned to one core, working through its own queue of commands:
#   scripts/pinned_queue.sh CORE QUEUE_FILE
# On a machine with few cores (2: two workers, one per core, each with its own queue)
# a worker per core with 1-thread pools is faster, all told, than two runs sharing every
# core. The script pins itself, and so every command it starts, to core CORE
# (taskset), sets 1-thread pools (TF_NUM_INTRAOP_THREADS, TF_NUM_INTEROP_THREADS,
# OMP_NUM_THREADS), and runs each line of QUEUE_FILE that is neither empty nor a comment
# (#) in order, each in its own `bash -c` in the current folder, printing a timestamped
# line before each. A failing line is logged with its exit status and the queue goes
# on with the next line; the exit status is 1 when a line failed, else 0.
# The file is read as the queue goes, so a line appended to it while it runs is run too.
# Example queue: scripts/queues/example.txt.
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 CORE QUEUE_FILE (e.g. $0 0 scripts/queues/example.txt)" >&2
  exit 2
fi
CORE=$1
QUEUE=$2
if ! [[ $CORE =~ ^[0-9]+$ ]]; then
  echo "CORE=$CORE is not accepted: a core number (0, 1, ...)" >&2
  exit 2
fi
if ! [ -f "$QUEUE" ] || ! [ -r "$QUEUE" ]; then
  echo "QUEUE_FILE=$QUEUE is not accepted: no readable file" >&2
  exit 2
fi
taskset -cp "$CORE" $$ >/dev/null   # this shell, and so every command it starts
export TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 OMP_NUM_THREADS=1

say() { echo "[queue core $CORE] $(date -u +%Y-%m-%dT%H:%M:%SZ) $*"; }

n=0
failed=0
while IFS= read -r line || [ -n "$line" ]; do
  command=${line#"${line%%[![:space:]]*}"}   # without its leading blanks
  if [ -z "$command" ] || [[ $command == \#* ]]; then
    continue
  fi
  n=$((n + 1))
  say "start $n: $command"
  status=0
  bash -c "$command" </dev/null || status=$?   # stdin: not the queue's lines
  if [ "$status" -ne 0 ]; then
    failed=$((failed + 1))
    say "FAILED $n (exit status $status): $command"
  fi
done <"$QUEUE"
say "done: $n commands, $failed failed"
[ "$failed" -eq 0 ]
