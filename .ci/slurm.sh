#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for CI's real-Slurm test of the grid
# (tests/test_grid_slurm.py). Debian, as root (or with sudo).
#
#   .ci/slurm.sh start    install slurm-wlm and munge if missing, write slurm.conf, start
#                         munged, slurmctld and slurmd; wait until the node is idle
#                         (a second call finds the cluster up and returns at once)
#   .ci/slurm.sh status   exit 0 when the node answers and is idle, mixed or allocated
#   .ci/slurm.sh stop     stop the daemons this script started
#
# One node (this host's short name, CPUs from nproc, memory from free), partition
# `debug` (SLURM_PARTITION), accounting disabled, no cgroups (proctrack/linuxproc,
# task/none), OverTimeLimit=0 and KillWait=5 so that a task's --time limit kills it
# promptly. State and logs in SLURM_LOCAL_DIR (/var/lib/slurm-localhost). A slurm.conf
# this script did not write is never overwritten.
set -euo pipefail

action=${1:-start}
partition=${SLURM_PARTITION:-debug}
dir=${SLURM_LOCAL_DIR:-/var/lib/slurm-localhost}
conf=/etc/slurm/slurm.conf
marker="# written by the project's .ci/slurm.sh"
wait_s=${SLURM_START_TIMEOUT:-90}
host=$(hostname -s)
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"

die() { echo "slurm.sh: $*" >&2; exit 1; }

node_state() { sinfo -h -n "$host" -p "$partition" -o %t 2>/dev/null | head -1 | tr -d '*~#'; }

is_up() { case "$(node_state)" in idle|mix|alloc) return 0 ;; *) return 1 ;; esac; }

install() {
    command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
        && command -v sinfo >/dev/null && command -v munged >/dev/null && return 0
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        slurm-wlm munge >/dev/null
}

write_conf() {
    if [ -e "$conf" ] && ! grep -qF "$marker" "$conf"; then
        die "$conf exists and was not written by this script; not overwriting it"
    fi
    local cpus mem
    cpus=$(nproc)
    mem=$(free -m | awk '/^Mem:/ {print int($2 * 0.95)}')   # below MemTotal: never INVALID
    $sudo mkdir -p /etc/slurm "$dir/ctld" "$dir/d"
    $sudo tee "$conf" >/dev/null <<EOF
$marker: a one-node cluster on localhost
ClusterName=localhost
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$dir/ctld
SlurmdSpoolDir=$dir/d
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
OverTimeLimit=0
KillWait=5
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=$partition Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
    munge_ok && return 0
    [ -s /etc/munge/munge.key ] || $sudo runuser -u munge -- mungekey --create
    $sudo mkdir -p /run/munge && $sudo chown munge:munge /run/munge
    $sudo runuser -u munge -- /usr/sbin/munged
    $sudo touch "$dir/munged.started"
    for _ in $(seq 20); do munge_ok && return 0; sleep 0.5; done
    die "munged did not answer (see /var/log/munge/munged.log)"
}

alive() { [ -s "$1" ] && $sudo kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
    if is_up && grep -qsF "$marker" "$conf"; then
        echo "slurm.sh: node $host is up in partition $partition"
        return 0
    fi
    install
    write_conf
    start_munge
    alive "$dir/slurmctld.pid" || $sudo slurmctld
    alive "$dir/slurmd.pid" || $sudo slurmd
    local t0=$SECONDS
    while ! is_up; do
        if (( SECONDS - t0 > wait_s )); then
            sinfo -N -l 2>&1 || true
            tail -5 "$dir/slurmctld.log" "$dir/slurmd.log" 2>/dev/null || true
            die "node $host not idle after ${wait_s} s (SLURM_START_TIMEOUT); logs in $dir"
        fi
        # a node that came back from a stop may be DOWN until told it is not
        case "$(node_state)" in down|drain|drng|fail)
            $sudo scontrol update nodename="$host" state=resume 2>/dev/null || true ;;
        esac
        sleep 1
    done
    echo "slurm.sh: node $host is up in partition $partition ($(( SECONDS - t0 )) s)"
}

stop_pid() {   # stop one daemon of ours by its pid file, waiting up to 20 s
    local file=$1 pid
    alive "$file" || return 0
    pid=$(cat "$file")
    $sudo kill "$pid"
    for _ in $(seq 40); do $sudo kill -0 "$pid" 2>/dev/null || return 0; sleep 0.5; done
    die "process $pid ($file) did not stop"
}

stop() {
    grep -qsF "$marker" "$conf" || die "no cluster of this script here ($conf)"
    stop_pid "$dir/slurmd.pid"
    stop_pid "$dir/slurmctld.pid"
    if [ -e "$dir/munged.started" ]; then
        stop_pid /run/munge/munged.pid
        $sudo rm -f "$dir/munged.started"
    fi
    echo "slurm.sh: stopped"
}

case "$action" in
    start) start ;;
    stop) stop ;;
    status) is_up ;;
    *) die "unknown action '$action'; accepted: start, status, stop" ;;
esac
