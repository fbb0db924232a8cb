#!/usr/bin/env bash
# Run the quick DAG on a real, single-node SLURM (slurmctld + slurmd on localhost) through
# Snakemake's SLURM executor plugin, run the same DAG locally, and compare the results bit for bit.
#
#   sudo scripts/slurm/run_local_slurm.sh          # as root, on Debian 12 (CI or a throwaway box)
#
# What it does, in order:
#   1. installs Debian's slurmctld, slurmd, slurm-client and munge if any is missing, and
#      snakemake-executor-plugin-slurm into the Python environment if it is missing;
#   2. writes a minimal /etc/slurm/slurm.conf for one node, `localhost` (all CPUs, RealMemory of this
#      machine), one partition, no accounting database, no cgroups (proctrack/linuxproc,
#      task/none), so it also runs in a container; starts munged (unless one already answers),
#      slurmctld and slurmd, and waits until `sinfo` shows the node idle;
#   3. copies the repository's tracked and untracked-but-not-ignored files into two temporary
#      directories, runs `snakemake --workflow-profile profiles/slurm --configfile config/quick.yaml`
#      in the first (every job goes through sbatch) and `snakemake --cores 2 --configfile
#      config/quick.yaml` in the second;
#   4. compares every numeric array of every results/sims/**/*.npz (the `provenance` key, which
#      holds a creation time, left out), results/checks.json and the two table CSVs; exits 1 naming
#      the differences, and also when either run failed (a failed claim fails both runs alike: it is
#      then reported as a pipeline failure, with the results still compared);
#   5. stops the SLURM daemons (and munged, if it started it) on exit, success or not.
#
# Job status: there is no slurmdbd, so `sacct` cannot answer: it exits 1 with "Slurm accounting
# storage is disabled". The plugin picks sacct by default whenever the binary exists; each failed
# query then drops the job from its active list, and Snakemake waits forever for jobs that have long
# finished (seen with plugin 2.8.0). The plugin is therefore told to poll `squeue --states=all`
# (--slurm-status-command squeue); finished jobs stay visible to squeue for MinJobAge = 300 s, longer
# than the plugin's longest poll interval (180 s). No slurmdbd or database is needed.
#
# slurm.conf goes to /etc/slurm/slurm.conf, the default path: the jobstep plugin strips SLURM_*
# variables (SLURM_CONF too) before it calls `srun` inside a job, so a private path would not reach
# that srun. An /etc/slurm/slurm.conf that this script did not write is left alone (the script stops)
# unless PRD_SLURM_FORCE=1, which backs it up to /etc/slurm/slurm.conf.prdynamics-backup first.
#
# Environment (all optional):
#   PYTHON              interpreter with the project installed (default: .venv/bin/python if present,
#                       else python3)
#   PRD_SLURM_STATE     daemon state and logs (default /var/tmp/prdynamics-slurm); daemons
#                       left by an earlier killed run are found through their pid files here and stopped
#   PRD_SLURM_WORK      an empty or new directory for the two copies and their logs, kept afterwards
#                       (default: a new mktemp -d directory, removed after a successful run)
#   PRD_SLURM_KEEP=1    keep the mktemp directory after a successful run too (always kept on failure)
#   PRD_SLURMCTLD_PORT, PRD_SLURMD_PORT   ports (default 6817, 6818)
#   PRD_SLURM_PLUGIN    pip requirement for the plugin (default 'snakemake-executor-plugin-slurm>=2.8,<3')
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="${PRD_SLURM_STATE:-/var/tmp/prdynamics-slurm}"
CTLD_PORT="${PRD_SLURMCTLD_PORT:-6817}"
SLURMD_PORT="${PRD_SLURMD_PORT:-6818}"
PLUGIN_REQ="${PRD_SLURM_PLUGIN:-snakemake-executor-plugin-slurm>=2.8,<3}"
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON="$(command -v python3)"; fi
fi
export SLURM_CONF=/etc/slurm/slurm.conf
MARKER="# written by scripts/slurm/run_local_slurm.sh"
# the rules call `python`, `jupytext` and `papermill`: the project's environment comes first on PATH,
# and sbatch --export=ALL hands it to every job
PATH="$(dirname "$PYTHON"):$PATH"
export PATH

T0=$SECONDS
log() { printf '[run_local_slurm %4ds] %s\n' "$((SECONDS - T0))" "$*"; }
die() { printf '[run_local_slurm] ERROR: %s\n' "$*" >&2; exit 1; }

[[ "$(id -u)" == 0 ]] || die "run as root (it installs packages and starts slurmctld/slurmd as root)"
"$PYTHON" -c "import prdynamics, snakemake" 2>/dev/null \
    || die "$PYTHON cannot import prdynamics and snakemake: run 'pip install -e .' first or set PYTHON"

# ---------------------------------------------------------------------------------------------
# 1. packages
need=()
for bin in slurmctld slurmd sbatch squeue sinfo munged munge unmunge; do
    command -v "$bin" > /dev/null || need+=("$bin")
done
if ((${#need[@]})); then
    log "installing slurmctld slurmd slurm-client munge (missing: ${need[*]})"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge > /dev/null
fi
if ! "$PYTHON" -c "import snakemake_executor_plugin_slurm" 2>/dev/null; then
    log "installing $PLUGIN_REQ into $("$PYTHON" -c 'import sys; print(sys.prefix)')"
    "$PYTHON" -m pip install -q "$PLUGIN_REQ"
fi
log "slurm $(slurmctld -V | awk '{print $2}'); $("$PYTHON" -c 'from importlib.metadata import version as v
print("snakemake", v("snakemake"), "+ snakemake-executor-plugin-slurm", v("snakemake-executor-plugin-slurm"))')"

# ---------------------------------------------------------------------------------------------
# 2. daemons
STARTED_MUNGED=""
stop_pidfile() {  # stop the daemon whose pid is in $1, if it is still alive and is $2
    local pidfile=$1 name=$2 pid
    [[ -s "$pidfile" ]] || return 0
    pid="$(cat "$pidfile")"
    if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2> /dev/null \
        && grep -q "$name" "/proc/$pid/comm" 2> /dev/null; then
        kill "$pid" 2> /dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2> /dev/null || break; sleep 0.2; done
        if kill -0 "$pid" 2> /dev/null; then kill -9 "$pid" 2> /dev/null || true; fi
    fi
    rm -f "$pidfile"
}
stop_daemons() {
    stop_pidfile "$STATE/slurmd.pid" slurmd
    stop_pidfile "$STATE/slurmctld.pid" slurmctld
    if [[ -n "$STARTED_MUNGED" ]]; then stop_pidfile /run/munge/munged.pid munged; fi
}
WORK=""
KEEP=1
STATUS=1
CHILD=""
run_child() {  # run "${@:2}" in the background, output to file $1, and wait: a TERM is handled at once
    local out=$1
    shift
    "$@" > "$out" 2>&1 &
    CHILD=$!
    local rc=0
    wait "$CHILD" || rc=$?
    CHILD=""
    return "$rc"
}
cleanup() {
    local rc=$?
    trap - INT TERM
    if [[ -n "$CHILD" ]] && kill -0 "$CHILD" 2> /dev/null; then
        # cancel every job of this private cluster, then let Snakemake see them fail and exit
        squeue -h -o %i 2> /dev/null | xargs -r scancel 2> /dev/null || true
        kill -TERM "$CHILD" 2> /dev/null || true
        for _ in $(seq 60); do kill -0 "$CHILD" 2> /dev/null || break; sleep 0.5; done
        kill -KILL "$CHILD" 2> /dev/null || true
    fi
    # jobs outlive slurmd (slurmstepd runs them): cancel what is left and give them a moment
    if [[ -s "$STATE/slurmctld.pid" ]] && squeue -h -o %i > /dev/null 2>&1; then
        squeue -h -o %i | xargs -r scancel 2> /dev/null || true
        for _ in $(seq 30); do [[ -z "$(squeue -h -t R,CG -o %i 2> /dev/null)" ]] && break; sleep 0.5; done
    fi
    stop_daemons
    if [[ -n "$WORK" && -d "$WORK" ]]; then
        if [[ "$STATUS" == 0 && "$KEEP" != 1 ]]; then
            rm -rf "$WORK"
        else
            echo "[run_local_slurm] kept the two runs and their logs in $WORK" >&2
        fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# daemons of an earlier run that was killed before its trap ran
stop_pidfile "$STATE/slurmd.pid" slurmd
stop_pidfile "$STATE/slurmctld.pid" slurmctld
rm -rf "$STATE/ctld" "$STATE/spool" "$STATE"/*.log "$STATE/slurm.conf"
mkdir -p "$STATE/ctld" "$STATE/spool"

# munge: reuse a munged that answers; otherwise start one as the munge user
if ! (munge -n | unmunge) > /dev/null 2>&1; then
    stop_pidfile /run/munge/munged.pid munged
    if [[ ! -s /etc/munge/munge.key ]]; then
        log "creating /etc/munge/munge.key"
        mkdir -p /etc/munge
        mungekey --create --keyfile=/etc/munge/munge.key
    fi
    mkdir -p /run/munge /var/lib/munge /var/log/munge
    chown munge:munge /etc/munge /etc/munge/munge.key /run/munge /var/lib/munge /var/log/munge
    chmod 0700 /etc/munge /var/lib/munge /var/log/munge
    chmod 0755 /run/munge
    chmod 0400 /etc/munge/munge.key
    runuser -u munge -- /usr/sbin/munged
    STARTED_MUNGED=1
    for _ in $(seq 50); do (munge -n | unmunge) > /dev/null 2>&1 && break; sleep 0.2; done
    (munge -n | unmunge) > /dev/null 2>&1 || die "munged does not answer (see /var/log/munge/munged.log)"
    log "started munged"
fi

CPUS="$(nproc)"
# what slurmd itself measures, so that the node is not drained for too little memory
MEM_MB="$(slurmd -C 2> /dev/null | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -1)"
[[ -n "$MEM_MB" ]] || MEM_MB=$(($(awk '/^MemTotal/{print $2}' /proc/meminfo) / 1024))
((MEM_MB >= 4096)) || die "the profile asks for 4096 MB per notebook job, this machine has $MEM_MB MB"
if [[ -e "$SLURM_CONF" ]] && ! grep -qxF "$MARKER" "$SLURM_CONF"; then
    [[ "${PRD_SLURM_FORCE:-0}" == 1 ]] \
        || die "$SLURM_CONF exists and was not written by this script; set PRD_SLURM_FORCE=1 to replace it (it is backed up)"
    cp -p "$SLURM_CONF" "$SLURM_CONF.prdynamics-backup"
    log "backed up $SLURM_CONF to $SLURM_CONF.prdynamics-backup"
fi
mkdir -p "$(dirname "$SLURM_CONF")"
cat > "$SLURM_CONF" << EOF
$MARKER
# one node (localhost), one partition, no accounting database, no cgroups
ClusterName=prdynamics
SlurmctldHost=localhost
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
AuthType=auth/munge
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge=300
InactiveLimit=0
KillWait=10
Waittime=0
SlurmctldTimeout=60
SlurmdTimeout=120
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=local Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
log "wrote $SLURM_CONF (localhost: CPUs=$CPUS RealMemory=$MEM_MB)"

slurmctld -c -f "$SLURM_CONF" || die "slurmctld did not start (see $STATE/slurmctld.log)"
for _ in $(seq 100); do scontrol ping 2> /dev/null | grep -q UP && break; sleep 0.2; done
scontrol ping | grep -q UP || die "slurmctld does not answer (see $STATE/slurmctld.log)"
slurmd -N localhost -f "$SLURM_CONF" || die "slurmd did not start (see $STATE/slurmd.log)"
state=""
for _ in $(seq 120); do
    state="$(sinfo -h -n localhost -o %t 2> /dev/null || true)"
    [[ "$state" == idle ]] && break
    sleep 0.5
done
if [[ "$state" != idle ]]; then
    sinfo -N -l >&2 || true
    tail -n 20 "$STATE/slurmctld.log" "$STATE/slurmd.log" >&2 || true
    die "node localhost is '${state:-unknown}', not idle, after 60 s"
fi
log "SLURM is up: $(sinfo -h -o '%P %D %t %c cpus %m MB')"

# ---------------------------------------------------------------------------------------------
# 3. the two runs
if [[ -n "${PRD_SLURM_WORK:-}" ]]; then
    mkdir -p "$PRD_SLURM_WORK"
    [[ -z "$(ls -A "$PRD_SLURM_WORK")" ]] || die "PRD_SLURM_WORK=$PRD_SLURM_WORK is not empty"
    WORK="$(cd "$PRD_SLURM_WORK" && pwd)"
    KEEP=1
else
    WORK="$(mktemp -d "${TMPDIR:-/tmp}/prdynamics-slurm.XXXXXX")"
    KEEP="${PRD_SLURM_KEEP:-0}"
fi
copy_repo() {  # tracked and untracked-but-not-ignored files, as tests/test_pipeline.py does
    local dest=$1
    mkdir -p "$dest"
    (cd "$ROOT" && git ls-files --cached --others --exclude-standard -z \
        | xargs -0 -r cp --parents -p -t "$dest" 2> /dev/null) || true
    [[ -f "$dest/Snakefile" && -f "$dest/profiles/slurm/config.yaml" ]] \
        || die "copying the repository to $dest failed"
}
copy_repo "$WORK/slurm"
copy_repo "$WORK/local"

failed_rules() {  # the rules Snakemake reported as failed in log $1, comma-separated
    sed -n 's/^Error in rule \([A-Za-z0-9_]*\):.*/\1/p' "$1" | sort -u | paste -sd, -
}

log "run 1/2: the quick DAG through SLURM (log: $WORK/slurm.log)"
t=$SECONDS
cd "$WORK/slurm"
RC_SLURM=0
run_child "$WORK/slurm.log" \
    "$PYTHON" -m snakemake --workflow-profile profiles/slurm --configfile config/quick.yaml \
    --slurm-status-command squeue --slurm-init-seconds-before-status-checks 5 \
    --slurm-keep-successful-logs || RC_SLURM=$?
SLURM_S=$((SECONDS - t))
grep -q "Using workflow specific profile profiles/slurm" "$WORK/slurm.log" \
    || die "Snakemake did not use profiles/slurm (see $WORK/slurm.log)"
N_SUBMITTED="$(grep -c "submitted with SLURM jobid" "$WORK/slurm.log" || true)"
N_SLURM="$(grep -c "_slurm_rpc_submit_batch_job: JobId=" "$STATE/slurmctld.log" || true)"
((N_SLURM > 0)) || die "slurmctld accepted no batch job: the run did not go through SLURM (see $WORK/slurm.log)"
if ((RC_SLURM != 0)); then
    tail -n 40 "$WORK/slurm.log" >&2
    log "the SLURM run FAILED after ${SLURM_S}s (exit $RC_SLURM, failed rules: $(failed_rules "$WORK/slurm.log"))"
    log "  logs: $WORK/slurm.log, job logs $WORK/slurm/.snakemake/slurm_logs, daemon logs $STATE"
    [[ -n "$(find "$WORK/slurm/results/sims" -name '*.npz' 2> /dev/null | head -1)" ]] \
        || die "the SLURM run wrote no simulation result: a SLURM problem, not a difference in numbers"
else
    log "SLURM run done in ${SLURM_S}s: $N_SUBMITTED jobs submitted by Snakemake, $N_SLURM accepted by slurmctld"
fi

log "run 2/2: the same DAG locally on 2 cores (log: $WORK/local.log)"
t=$SECONDS
cd "$WORK/local"
RC_LOCAL=0
run_child "$WORK/local.log" "$PYTHON" -m snakemake --configfile config/quick.yaml --cores 2 || RC_LOCAL=$?
cd "$ROOT"
if ((RC_LOCAL != 0)); then
    tail -n 40 "$WORK/local.log" >&2
    log "the local run FAILED after $((SECONDS - t))s (exit $RC_LOCAL, failed rules: $(failed_rules "$WORK/local.log"))"
else
    log "local run done in $((SECONDS - t))s"
fi

# ---------------------------------------------------------------------------------------------
# 4. compare (also after a failed run: Snakemake stops at the first failed rule, and whatever both
#    runs wrote must still agree)
log "comparing results"
SAME=0
"$PYTHON" - "$WORK/slurm" "$WORK/local" << 'EOF' || SAME=$?
import json
import sys
from pathlib import Path

import numpy as np

slurm, local = map(Path, sys.argv[1:3])


def arrays(repo):
    out = {}
    for path in sorted((repo / "results/sims").rglob("*.npz")):
        with np.load(path) as data:
            for key in data.files:
                if key != "provenance":  # holds a creation time
                    out[f"{path.relative_to(repo)}:{key}"] = data[key]
    return out


problems = []
got, want = arrays(slurm), arrays(local)
n_files = len({k.split(":")[0] for k in want})
if not want:
    problems.append("the local run wrote no results/sims/**/*.npz")
for key in sorted(set(got) ^ set(want)):
    problems.append(f"only in the {'SLURM' if key in got else 'local'} run: {key}")
for key in sorted(set(got) & set(want)):
    a, b = got[key], want[key]
    if a.dtype != b.dtype or a.shape != b.shape or not np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"):
        problems.append(f"differs: {key}")
for rel in ("results/checks.json", "results/tables/stopping_times.csv", "results/tables/threshold_check.csv"):
    a, b = slurm / rel, local / rel
    if not (a.exists() and b.exists()):
        problems.append(f"missing in the {'SLURM' if not a.exists() else 'local'} run: {rel}")
    elif a.read_bytes() != b.read_bytes():
        problems.append(f"differs: {rel}")
if not problems:
    claims = json.loads((local / "results/checks.json").read_text())
    failed = [c["id"] for c in claims if not c["passed"]]
    print(f"identical: {len(want)} arrays in {n_files} npz files, results/checks.json "
          f"({len(claims)} claims, failed: {', '.join(failed) or 'none'}), both table CSVs")
    sys.exit(0)
print(f"{len(problems)} differences between the SLURM and the local run:", file=sys.stderr)
for p in problems[:50]:
    print("  " + p, file=sys.stderr)
sys.exit(1)
EOF
if ((SAME != 0)); then
    die "the SLURM and the local run DIFFER (see above; runs kept in $WORK)"
fi
if ((RC_SLURM != 0 || RC_LOCAL != 0)); then
    die "the results agree, but the pipeline failed (SLURM run: exit $RC_SLURM, rules: $(failed_rules "$WORK/slurm.log"); local run: exit $RC_LOCAL, rules: $(failed_rules "$WORK/local.log"))"
fi
STATUS=0
log "OK: SLURM and local runs agree bit for bit (SLURM run ${SLURM_S}s, total ${SECONDS}s)"
