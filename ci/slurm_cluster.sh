# A private single-node Slurm cluster for ci/slurm.sh: munged with its own key
# and socket, slurmctld and slurmd with their own slurm.conf, every spool, state,
# log and pid file under one folder, on localhost only, 2 CPUs. Sourced, not run:
#   slurm_cluster_start DIR   starts the daemons; exports SLURM_CONF for sbatch & co.
#   slurm_cluster_stop        cancels our jobs, stops the daemons this shell started
#                             (by pid) and waits until they and their job steps are gone.
# Nothing here touches /etc/slurm, /etc/munge or a system munged: a machine that
# runs a real cluster keeps it, and ours uses other ports.

slurm_cluster_pids=()
slurm_cluster_dir=""

# A free TCP port on 127.0.0.1 at or above $1 (bash's /dev/tcp: a refused
# connect means nobody listens there).
slurm_free_port() {
  local port=$1
  while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  echo "$port"
}

slurm_write_conf() {
  local dir=$1 user node ctld_port slurmd_port
  user=$(id -un)
  node=$(hostname -s)
  ctld_port=$(slurm_free_port 16817)
  slurmd_port=$(slurm_free_port $((ctld_port + 1)))
  # proctrack/linuxproc and task/none: no cgroups, which containers often lack.
  # SchedulerParameters: a 1 s scheduling pass, so array tasks and the dependent
  # merge start within a second of becoming eligible (the default waits up to 60 s).
  cat >"$dir/slurm.conf" <<EOF
ClusterName=segsim-ci
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1,bf_interval=1
MinJobAge=3600
KillWait=5
NodeName=$node NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=segsim Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
}

# Waits up to $2 seconds for the command in $1 to succeed.
slurm_wait_for() {
  local command=$1 seconds=$2 waited=0
  until eval "$command" >/dev/null 2>&1; do
    ((waited < seconds * 10)) || return 1
    sleep 0.1
    waited=$((waited + 1))
  done
}

slurm_cluster_start() {
  local dir=$1
  slurm_cluster_dir=$dir
  rm -rf "$dir"
  mkdir -p "$dir"/{munge,state,spool,log}
  chmod 700 "$dir/munge"
  mungekey --create --keyfile="$dir/munge/munge.key" --force
  chmod 600 "$dir/munge/munge.key"
  slurm_write_conf "$dir"
  export SLURM_CONF=$dir/slurm.conf
  # --force: munged refuses key and socket folders it finds too open (e.g. a
  # group-writable checkout); the key is ours and only lives for this run.
  munged --foreground --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munge.seed" \
    >>"$dir/log/munged.out" 2>&1 &
  slurm_cluster_pids+=($!)
  slurm_wait_for "[[ -S '$dir/munge/munge.socket' ]]" 10 || { echo "slurm.sh: munged did not start (see $dir/log/munged.log)" >&2; return 1; }
  slurmctld -D -i -f "$SLURM_CONF" >>"$dir/log/slurmctld.out" 2>&1 &
  slurm_cluster_pids+=($!)
  slurm_wait_for "scontrol ping | grep -q UP" 20 || { echo "slurm.sh: slurmctld did not start (see $dir/log/slurmctld.log)" >&2; return 1; }
  slurmd -D -N "$(hostname -s)" -f "$SLURM_CONF" >>"$dir/log/slurmd.out" 2>&1 &
  slurm_cluster_pids+=($!)
  slurm_wait_for "sinfo -h -N -o %t | grep -Eq '^(idle|mix|alloc)'" 30 || { echo "slurm.sh: slurmd did not register (see $dir/log/slurmd.log)" >&2; return 1; }
}

slurm_cluster_stop() {
  ((${#slurm_cluster_pids[@]} > 0)) || return 0
  # Our jobs first, while slurmd still runs to kill their steps.
  scancel --full --quiet 2>/dev/null || true
  slurm_wait_for "[[ -z \$(squeue -h -o %i 2>/dev/null) ]]" 20 || true
  # Reverse start order: slurmd, slurmctld, munged.
  local i pid
  for ((i = ${#slurm_cluster_pids[@]} - 1; i >= 0; i--)); do
    pid=${slurm_cluster_pids[i]}
    kill -TERM "$pid" 2>/dev/null || continue
    slurm_wait_for "! kill -0 $pid" 15 || kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  slurm_cluster_pids=()
}
