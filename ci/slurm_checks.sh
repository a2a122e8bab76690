# The campaigns and checks of ci/slurm.sh (sourced by it; uses its variables
# scenario, seeds, shards, work, timeout_seconds). Each check prints one line
# and returns non-zero when it does not hold.

slurm_fail() {
  echo "slurm.sh: FAILED: $*" >&2
  return 1
}

# Slurm and munge processes on this machine, by pid (to tell ours afterwards).
slurm_our_process_list() { pgrep 'slurm|munged' | sort -n || true; }

# After slurm_cluster_stop: nothing started since $1 may remain. A zombie left
# to pid 1 by an exited slurmstepd is not running; it is waited for, not fatal.
slurm_check_nothing_left() {
  local before=$1 now left pid waited=0
  while :; do
    now=$(slurm_our_process_list)
    left=$(comm -13 <(echo "$before") <(echo "$now") | sed '/^$/d')
    [[ -n "$left" ]] || { echo "slurm.sh: daemons stopped; no Slurm or munge process of ours is left"; return 0; }
    ((waited < 150)) || break
    sleep 0.1
    waited=$((waited + 1))
  done
  for pid in $left; do
    [[ $(ps -o stat= -p "$pid" 2>/dev/null) == Z* ]] && continue
    echo "slurm.sh: FAILED: still running after the cluster stopped:" >&2
    ps -o pid,stat,args -p "$(echo "$left" | paste -sd,)" >&2 || true
    return 1
  done
  echo "slurm.sh: daemons stopped (exited slurmstepd zombies not yet reaped by pid 1: $(echo "$left" | paste -sd' '))"
}

seconds_since() { awk -v now="$(date +%s.%N)" -v then="$1" 'BEGIN { printf "%.1f", now - then }'; }

slurm_wait_job() {
  local job=$1 waited=0
  while [[ -n $(squeue -h -j "$job" -o %i 2>/dev/null) ]]; do
    if ((waited >= timeout_seconds * 2)); then
      squeue >&2 || true
      slurm_fail "job $job still queued or running after ${timeout_seconds}s"
      return 1
    fi
    sleep 0.5
    waited=$((waited + 1))
  done
}

# The exit code of a finished (non-array) job.
slurm_job_exit_code() { scontrol show job -o "$1" | sed -n 's/.* ExitCode=\([0-9]*\):.*/\1/p'; }

# Every task of array $1 completed with exit 0 (a seed failure is not a task failure).
slurm_check_tasks() {
  local array=$1 lines bad
  lines=$(scontrol show job -o "$array")
  bad=$(grep -v 'JobState=COMPLETED .*ExitCode=0:0' <<<"$lines" | grep -o 'JobId=[0-9]* ArrayJobId=[0-9]* ArrayTaskId=[0-9]*\|JobState=[A-Z_]*\|ExitCode=[0-9:]*' | paste -sd' ' || true)
  [[ -z "$bad" ]] || { slurm_fail "array $array: a task did not complete with exit 0: $bad"; return 1; }
  echo "slurm.sh: array $array: $(wc -l <<<"$lines") tasks COMPLETED, exit 0"
}

seed_count() { python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["seeds"]))' "$1"; }

# campaign_sweep NAME SEGSIM BUDGET_SECONDS EXPECTED_RC [SWEEP OPTION...]: submits
# the campaign with deploy/slurm/submit-sweep.sh into $work/NAME, waits, checks
# the tasks and the merge job's exit (3 when a budget left seeds out, else
# EXPECTED_RC); sets campaign_seconds. Shards that had results must resume.
campaign_sweep() {
  local name=$1 segsim=$2 budget=$3 expected=$4
  shift 4
  local results=$work/$name t0 array merge rc merged had_results=0 shard
  compgen -G "$results/shard-*.json" >/dev/null && had_results=1
  t0=$(date +%s.%N)
  read -r array merge < <(SEGSIM=$segsim SEGSIM_SHARD_SECONDS=$budget \
    deploy/slurm/submit-sweep.sh "$scenario" "$seeds" "$shards" "$results" "$@")
  [[ -n "$merge" ]] || { slurm_fail "$name: submit-sweep.sh did not submit"; return 1; }
  echo "slurm.sh: $name: sbatch array $array (${shards} tasks, budget ${budget}s per task), merge $merge (afterany:$array)"
  slurm_wait_job "$merge"
  campaign_seconds=$(seconds_since "$t0")
  slurm_check_tasks "$array"
  rc=$(slurm_job_exit_code "$merge")
  merged=$(seed_count "$results/merged.json")
  sed 's/^/  | /' "$results/summary.txt"
  echo "slurm.sh: $name: merge job exit $rc, $merged seeds merged, ${campaign_seconds}s from submit to merged"
  if ((merged < 400)); then
    [[ "$rc" == 3 ]] || { slurm_fail "$name: $merged of 400 seeds merged but the merge job exited $rc, not 3"; return 1; }
  else
    [[ "$rc" == "$expected" ]] || { slurm_fail "$name: merge job exited $rc, expected $expected"; return 1; }
  fi
  if ((had_results)); then
    for ((shard = 0; shard < shards; shard++)); do
      grep -q '^resuming: [0-9]* seeds already in' "$results/logs/sweep-${array}_$shard.log" ||
        { slurm_fail "$name: task $shard did not resume from $results/shard-$shard.json"; return 1; }
    done
    echo "slurm.sh: $name: every task resumed from its shard's results"
  fi
}

# local_sweep NAME SEGSIM EXPECTED_RC [SWEEP OPTION...]: the same range on this
# machine, --jobs 2, into $work/NAME-local.json; sets local_seconds.
local_sweep() {
  local name=$1 segsim=$2 expected=$3 t0 rc=0
  shift 3
  t0=$(date +%s.%N)
  "$segsim" sweep "$scenario" --seeds "$seeds" --jobs 2 --json "$work/$name-local.json" \
    --failures-dir "$work/$name-local-failures" "$@" >"$work/$name-local.log" 2>&1 || rc=$?
  local_seconds=$(seconds_since "$t0")
  [[ "$rc" == "$expected" ]] || { slurm_fail "$name: local sweep exited $rc, expected $expected (see $work/$name-local.log)"; return 1; }
  echo "slurm.sh: $name: local sweep --jobs 2: $(grep "^sweep $scenario: [0-9]* seeds" "$work/$name-local.log")"
}

check_equal() {
  python3 ci/slurm_compare.py "$work/$1-local.json" "$work/$1/merged.json" ||
    { slurm_fail "$1: the Slurm campaign's merged result is not the local sweep"; return 1; }
}

# The negative control: the same shards with one dropped must fail both the
# equality check and merge.sbatch's completeness check.
check_dropped_shard_is_caught() {
  local name=$1 segsim=$2 dropped=$work/$1-dropped rc=0
  rm -rf "$dropped"
  mkdir -p "$dropped"
  cp "$work/$name"/shard-{0,2,3}.json "$dropped/"
  SEGSIM=$segsim deploy/slurm/merge.sbatch "$seeds" "$dropped" >"$dropped/merge.log" 2>&1 || rc=$?
  [[ "$rc" == 3 ]] || { slurm_fail "merge.sbatch without shard 1 exited $rc, not 3 (incomplete)"; return 1; }
  if python3 ci/slurm_compare.py "$work/$name-local.json" "$dropped/merged.json" >"$dropped/compare.log"; then
    slurm_fail "the equality check passed with shard 1 dropped"
    return 1
  fi
  echo "slurm.sh: negative control: shard 1 dropped -> merge.sbatch exit 3 and '$(tail -1 "$dropped/compare.log")'"
}

# --drop-shard K: delete shard K's results and merge again on the cluster; the
# equality check that follows must then fail.
drop_shard_and_merge() {
  local name=$1 shard=$2 segsim=$3
  rm -f "$work/$name/shard-$shard.json"
  echo "slurm.sh: --drop-shard: removed shard-$shard.json; merging again on the cluster"
  SEGSIM=$segsim sbatch --wait --output="$work/$name/logs/merge-dropped-%j.log" \
    deploy/slurm/merge.sbatch "$seeds" "$work/$name" >/dev/null || true
}

# The bug campaign's groups: they account for every failing seed, match the
# local sweep's groups, and each representative repro replays (exit 1).
check_groups() {
  local name=$1 segsim=$2 repro rc count=0
  "$segsim" merge "$work/$name-local.json" --groups "$work/$name-local-groups.json" >/dev/null || true
  python3 - "$work/$name/groups.json" "$work/$name-local-groups.json" "$work/$name/merged.json" <<'EOF' || return 1
import json, sys
slurm, local, merged = (json.load(open(p)) for p in sys.argv[1:])
key = lambda g: (g["signature"], g["count"], g["first_seed"], g["repro_seed"])
failed = sum(1 for s in merged["seeds"] if s["outcome"] != "passed")
if not slurm["groups"] or sum(g["count"] for g in slurm["groups"]) != failed:
    sys.exit(f"slurm.sh: FAILED: the groups do not account for the {failed} failing seeds")
if [key(g) for g in slurm["groups"]] != [key(g) for g in local["groups"]]:
    sys.exit("slurm.sh: FAILED: the Slurm campaign's groups are not the local sweep's")
if any(not g["repro"] for g in slurm["groups"]):
    sys.exit("slurm.sh: FAILED: a group has no repro")
EOF
  while read -r repro; do
    rc=0
    "$segsim" replay "$repro" >"$work/$name-replay.log" 2>&1 || rc=$?
    [[ "$rc" == 1 ]] || { slurm_fail "segsim replay $repro exited $rc, not 1"; return 1; }
    count=$((count + 1))
  done < <(python3 -c 'import json,sys; [print(g["repro"]) for g in json.load(open(sys.argv[1]))["groups"]]' "$work/$name/groups.json")
  echo "slurm.sh: $name: $count group(s), equal to the local sweep's; each representative repro replays its failure (exit 1)"
}

# A short fuzzing array on one target with its merge job (skipped, saying so,
# when the fuzz preset is not built). SEGSIM_FUZZ_BUILD: the tree that has it
# (default build/fuzz; ci/test.sh: build/asan, built with its fuzz targets).
campaign_fuzz() {
  local target=${SEGSIM_FUZZ_BUILD:-build/fuzz}/fuzz/fuzz_alloc_ops results=$work/fuzz array merge rc before after
  if [[ ! -x "$target" ]]; then
    echo "slurm.sh: fuzz: no $target (build the fuzz preset); the fuzzing array was not run"
    return 0
  fi
  read -r array merge < <(SEGSIM_FUZZ_SECONDS=${SEGSIM_SLURM_FUZZ_SECONDS:-5} \
    deploy/slurm/submit-fuzz.sh "$target" 2 "$results" fuzz/corpus/alloc_ops)
  [[ -n "$merge" ]] || { slurm_fail "fuzz: submit-fuzz.sh did not submit"; return 1; }
  echo "slurm.sh: fuzz: sbatch array $array (2 tasks), merge $merge (afterany:$array)"
  slurm_wait_job "$merge"
  slurm_check_tasks "$array"
  rc=$(slurm_job_exit_code "$merge")
  sed 's/^/  | /' "$results/fuzz-summary.txt"
  [[ "$rc" == 0 ]] || { slurm_fail "fuzz: merge job exited $rc (artifacts: $results/artifacts)"; return 1; }
  grep -q 'INFO: Seed: 1$' "$results/logs/fuzz-${array}_0.log" && grep -q 'INFO: Seed: 2$' "$results/logs/fuzz-${array}_1.log" ||
    { slurm_fail "fuzz: the tasks did not run with -seed=1 and -seed=2"; return 1; }
  before=$(find "$results/corpus" -type f | wc -l)
  after=$(find "$results/corpus-min" -type f | wc -l)
  ((after > 0 && after <= before)) || { slurm_fail "fuzz: minimised corpus has $after inputs (shared corpus $before)"; return 1; }
  echo "slurm.sh: fuzz: tasks seeded 1 and 2 on one corpus; merged ($before -> $after inputs), no artifacts"
}

# Bad uses of the job scripts are refused with one line and exit 2, before
# any seed runs (run here as Slurm would, with its variables set).
check_usage_errors() {
  local segsim=$1 dir=$work/usage case rc err
  mkdir -p "$dir"
  local -a cases=(
    "no array|env -u SLURM_ARRAY_TASK_ID deploy/slurm/sweep.sbatch chicago 1..8 $dir"
    "array 1-4|env SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_MAX=4 SLURM_ARRAY_TASK_COUNT=4 deploy/slurm/sweep.sbatch chicago 1..8 $dir"
    "bad budget|env SLURM_ARRAY_TASK_ID=0 SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_MAX=0 SLURM_ARRAY_TASK_COUNT=1 SEGSIM_SHARD_SECONDS=soon deploy/slurm/sweep.sbatch chicago 1..8 $dir"
    "bad scenario|env SLURM_ARRAY_TASK_ID=0 SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_MAX=0 SLURM_ARRAY_TASK_COUNT=1 deploy/slurm/sweep.sbatch nope 1..8 $dir"
    "merge range|deploy/slurm/merge.sbatch 9..1 $dir"
    "merge nothing|deploy/slurm/merge.sbatch 1..8 $dir/none"
    "fuzz target|env SLURM_ARRAY_TASK_ID=0 deploy/slurm/fuzz.sbatch /nonexistent $dir")
  for case in "${cases[@]}"; do
    rc=0
    err=$(SEGSIM=$segsim bash -c "${case#*|}" 2>&1 >/dev/null) || rc=$?
    [[ "$rc" == 2 && $(wc -l <<<"$err") == 1 ]] ||
      { slurm_fail "deploy/slurm, ${case%%|*}: exit $rc, expected 2 and one line: $err"; return 1; }
  done
  echo "slurm.sh: deploy/slurm refuses ${#cases[@]} bad uses with one line and exit 2"
}
