#!/usr/bin/env bash
# The harness's own files and inputs end to end (issue 11): every output
# checked before the run, bounded reads, one line for bad input, values
# refused not clamped, sweeps that lose nothing, settings and probes in sweep
# results, compact repros, environment errors apart from findings.
# Usage: cli_harness.sh SEGSIM [SECTION...]   (CTest runs one section per test)
source "$(dirname "$0")/cli_test_lib.sh"

# bad input: exit 2 and exactly one line on stderr, whatever the input held.
one_line_exit2() {  # description, then the command
  local what=$1; shift
  local err code
  err=$("$@" 2>&1 >/dev/null); code=$?
  [[ $code == 2 ]] || fail "$what: exit $code, expected 2 ($err)"
  [[ $(printf '%s\n' "$err" | wc -l) == 1 ]] || fail "$what: not one line: $(head -c 300 <<<"$err")"
  (( ${#err} < 600 )) || fail "$what: a ${#err}-byte line"
  grep -q "bad_alloc\|terminate\|Aborted" <<<"$err" && fail "$what: $err"
  return 0
}

# ---- values: refused with one line, never clamped
section_values() {
  for bad in "--seed -1" "--seed 18446744073709551616" "--steps 18446744073709551616" "--steps 0" \
             "--threads 4294967297" "--threads 65" "--size 0" "--size 1001" "--pct-depth 17"; do
    one_line_exit2 "run chicago $bad" "$segsim" run chicago $bad
  done
  for bad in "nan" "inf" "-1" "1e-6" "1e999" "0"; do
    one_line_exit2 "sweep --timeout $bad" "$segsim" sweep chicago --seeds 1..2 --timeout "$bad"
  done
  one_line_exit2 "shrink --max-seconds nan" "$segsim" shrink x.json -o y.json --max-seconds nan
  one_line_exit2 "sweep --jobs 0" "$segsim" sweep chicago --seeds 1..2 --jobs 0
  # hunt's bounds are checked before it asks for the mutants build.
  for bad in "--budget-seeds 0" "--budget-seeds 100001" "--budget-seeds -1" "--budget-seeds 1.5" \
             "--repeats 0" "--repeats 101" "--jobs 65" "--budget-seconds nan"; do
    one_line_exit2 "hunt $bad" "$segsim" hunt --bug all $bad
  done
  err=$("$segsim" hunt --bug all --budget-seeds 0 2>&1 >/dev/null)
  grep -q -- "--budget-seeds 0 is out of range" <<<"$err" || fail "hunt --budget-seeds 0 said: $err"
}

# ---- reads: bounded while reading, one line
section_reads() {
  one_line_exit2 "replay /dev/zero" "$segsim" replay /dev/zero
  one_line_exit2 "shrink /dev/zero" "$segsim" shrink /dev/zero -o min.json
  one_line_exit2 "merge /dev/zero" "$segsim" merge /dev/zero
  err=$(yes | "$segsim" replay /dev/stdin 2>&1 >/dev/null); code=$?
  [[ $code == 2 && $(wc -l <<<"$err") == 1 ]] || fail "yes | replay /dev/stdin: exit $code: $err"
  one_line_exit2 "replay a folder" "$segsim" replay /tmp
  "$segsim" sweep evict-race --seeds 1..2 --json good.json >/dev/null 2>&1 || fail "sweep for merge inputs"
  sed 's/"wall_seconds": [0-9.e+-]*/"wall_seconds": 1e999/' good.json > huge-number.json
  grep -q 1e999 huge-number.json || fail "could not make a 1e999 file"
  one_line_exit2 "merge 1e999" "$segsim" merge huge-number.json
  one_line_exit2 "scenario name with newlines" "$segsim" run "$(printf 'chi\ncago\nx')"
  one_line_exit2 "100 KB scenario name" "$segsim" run "$(head -c 100000 /dev/zero | tr '\0' a)"
  printf '{"format": "segsim-repro", "version": 2, "scenario": "chi\\ncago\\nx", "seed": 1, "strategy": "random",
    "pct_depth": 3, "faults": "none", "knobs": {"threads": 0, "size": 0, "max_steps": 10},
    "test_hook": "", "build_id": "b", "expected_trace_hash": "0x0"}' > newline-scenario.json
  one_line_exit2 "repro naming a scenario with newlines" "$segsim" replay newline-scenario.json
  python3 -c "import json;d=json.load(open('newline-scenario.json'));d['scenario']='a'*5000000;json.dump(d,open('5mb.json','w'))"
  one_line_exit2 "repro naming a 5 MB scenario" "$segsim" replay 5mb.json
  sed 's/"threads": 0/"threads": 4294967297/' newline-scenario.json > big-knob.json
  one_line_exit2 "repro knob beyond 32 bits" "$segsim" replay big-knob.json
}

# ---- writes: every output checked before the run
section_writes() {
  start=$SECONDS
  one_line_exit2 "--report /nonexistent/" "$segsim" run chicago --test-hook corrupt-segment --report /nonexistent/r.json
  one_line_exit2 "sweep --json /proc/x" "$segsim" sweep chicago --seeds 1..300 --json /proc/x
  one_line_exit2 "sweep --junit /nonexistent/" "$segsim" sweep chicago --seeds 1..300 --junit /nonexistent/j.xml
  one_line_exit2 "replay --trace-out /nonexistent/" "$segsim" replay good.json --trace-out /nonexistent/t.json
  (( SECONDS - start < 20 )) || fail "unwritable outputs were found only after running"
  # A failure found, its repro unwritable: the report and failure are printed, exit stays 1.
  rm -rf segsim-failures; touch segsim-failures   # a file where the repro folder should be
  "$segsim" run chicago --seed 42 --test-hook corrupt-segment > found.txt 2>&1; code=$?
  [[ $code == 1 ]] || fail "a found failure with an unwritable repro exited $code, expected 1"
  grep -q "FAILURE: oracle" found.txt || fail "no failure report: $(tail -3 found.txt)"
  grep -q "repro NOT written" found.txt || fail "no note of the missing repro"
  rm segsim-failures
  # /dev/null stays a device (root would replace it with a file by renaming).
  "$segsim" sweep evict-race --seeds 1..2 --json /dev/null >/dev/null 2>&1 || fail "sweep --json /dev/null"
  [[ -c /dev/null ]] || fail "/dev/null is no longer a character device"
}

# ---- nothing lost: SIGINT writes what is done, exit 130, resume finishes it
section_nothing_lost() {
  "$segsim" sweep chicago --seeds 1..400 --jobs 2 --json int.json >int.out 2>int.err & pid=$!
  for _ in $(seq 1 100); do [[ -s int.json ]] && break; sleep 0.1; done
  sleep 0.5
  kill -INT $pid; wait $pid; code=$?
  [[ $code == 130 ]] || fail "SIGINT sweep exited $code, expected 130"
  grep -q "resume: segsim sweep chicago .*--resume" int.err || fail "no resume hint: $(tail -2 int.err)"
  done_seeds=$(python3 -c "import json;d=json.load(open('int.json'));assert d['interrupted']==2;print(len(d['seeds']))") \
    || fail "interrupted results unreadable"
  (( done_seeds > 0 && done_seeds < 400 )) || fail "interrupted sweep kept $done_seeds seeds"
  "$segsim" sweep chicago --seeds 1..40 --jobs 2 --json int.json --resume >/dev/null 2>resume.err; code=$?
  [[ $code == 0 ]] || fail "resume exited $code: $(tail -2 resume.err)"
  grep -q "resuming: $done_seeds seeds already" resume.err || fail "resume did not skip: $(head -2 resume.err)"
  # SIGTERM too.
  "$segsim" sweep chicago --seeds 1..400 --json term.json >/dev/null 2>&1 & pid=$!
  sleep 1; kill -TERM $pid; wait $pid; code=$?
  [[ $code == 130 ]] || fail "SIGTERM sweep exited $code"
  python3 -c "import json;json.load(open('term.json'))" || fail "no results after SIGTERM"
  # A closed pipe on the progress output does not lose the results.
  "$segsim" sweep evict-race --seeds 1..30 --jobs 2 --json pipe.json 2>&1 | head -1 >/dev/null
  [[ ${PIPESTATUS[0]} == 0 ]] || fail "sweep | head -1 exited ${PIPESTATUS[0]}"
  [[ $(python3 -c "import json;print(len(json.load(open('pipe.json'))['seeds']))") == 30 ]] || fail "pipe.json incomplete"
}

# ---- settings recorded; merge refuses a mix; a resume with other settings is refused
section_settings() {
  "$segsim" sweep evict-race --seeds 1..3 --size 2 --json size2.json >/dev/null 2>&1 || fail "sweep --size 2"
  "$segsim" sweep evict-race --seeds 4..6 --json default.json >/dev/null 2>&1 || fail "sweep default"
  python3 -c "import json;s=json.load(open('size2.json'))['settings'];assert s['size']==2 and s['threads']>0 and s['max_steps']>0 and s['build_id']" \
    || fail "settings not recorded"
  one_line_exit2 "merge of two settings" "$segsim" merge size2.json default.json
  out=$("$segsim" merge size2.json default.json 2>&1)
  grep -q "size '2' vs '1'" <<<"$out" || fail "merge does not name the setting: $out"
  one_line_exit2 "resume with other settings" "$segsim" sweep evict-race --seeds 1..6 --json size2.json --resume
}

# ---- probes: counted per sweep, merged, required
section_probes() {
  "$segsim" sweep evict-race --seeds 4..6 --json default.json >/dev/null 2>&1 || fail "sweep for probes"
  python3 - default.json <<'PY' || fail "probes missing from sweep results"
import json, sys
probes = json.load(open(sys.argv[1]))["probes"]
assert isinstance(probes, dict) and len(probes) > 0 and all(isinstance(v, int) for v in probes.values())
PY
  "$segsim" sweep evict-race --seeds 1..3 --json p.json > psum.txt 2>/dev/null
  grep -q "^probes: [0-9]* of [0-9]* fired" psum.txt || fail "no probe summary"
  # Fault points: asked on the paths the run took, fired only where a plan targets them.
  grep -q "^fault points: [1-9][0-9]* of [0-9]* asked, 0 fired" psum.txt || fail "no fault point summary"
  python3 - p.json <<'PY' || fail "fault points missing from sweep results"
import json, sys
points = json.load(open(sys.argv[1]))["fault_points"]
assert points and all(set(v) == {"asks", "fires"} and v["fires"] == 0 for v in points.values())
assert any(v["asks"] > 0 for v in points.values())
PY
  printf 'no.such.probe\n' > unknown.txt
  one_line_exit2 "unknown required probe" "$segsim" sweep evict-race --seeds 1..2 --require-probes unknown.txt
  never=$(python3 -c "import json;print(next((k for k,v in json.load(open('p.json'))['probes'].items() if v==0),''))")
  if [[ -n $never ]]; then
    printf '# campaign\n%s\n' "$never" > required.txt
    "$segsim" sweep evict-race --seeds 1..3 --require-probes required.txt > req.txt 2>/dev/null; code=$?
    [[ $code == 1 ]] || fail "a required probe never fired, exit $code"
    grep -q "REQUIRED PROBES NEVER FIRED.*$never" req.txt || fail "missing probe not named"
    "$segsim" merge p.json --require-probes required.txt > mreq.txt; [[ $? == 1 ]] || fail "merge --require-probes"
  fi
}

# ---- repros: compact decisions, a step-limit failure replays exactly
section_repros() {
  "$segsim" run chicago --size 16 --steps 1000000 --report long.json > long.txt; code=$?
  [[ $code == 1 ]] || fail "step-limited run exited $code"
  repro=chicago-seed1.repro.json
  python3 -c "import json;d=json.load(open('$repro'))['decisions'];assert d['encoding']=='varint-deflate-base64' and d['count']>=1000000" \
    || fail "decisions not compact"
  (( $(stat -c %s "$repro") < 1500000 )) || fail "repro of 1 M decisions is $(stat -c %s "$repro") bytes"
  "$segsim" replay "$repro" > replay.txt; [[ $? == 1 ]] || fail "replay of the long repro"
  grep -q "reproduced exactly" replay.txt || fail "long repro did not replay exactly"
}

# ---- memory of a long run: RSS does not grow by bytes per step (docs/long-runs.md)
section_memory() {
  # Sanitizers' shadow memory and quarantine say nothing about ours.
  [[ -n ${SEGSIM_SANITIZE:-} ]] && return 0
  # chicago --size 64: 7.6 M steps. Was 104 MB (12.8 bytes a step), now ~15 MB.
  local peak_kb
  peak_kb=$(python3 - "$segsim" <<'PY'
import resource, subprocess, sys
subprocess.run([sys.argv[1], "run", "chicago", "--size", "64"], stdout=subprocess.DEVNULL, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
) || fail "chicago --size 64 did not pass"
  (( peak_kb < 40000 )) || fail "chicago --size 64 peaked at $peak_kb KB (a long run's memory grows with its length)"
}

# ---- a replay that does not reproduce its recorded failure is not exit 0
section_replay() {
  printf '{"format": "segsim-repro", "version": 2, "scenario": "evict-race", "seed": 1, "strategy": "random",
    "pct_depth": 3, "faults": "none", "knobs": {"threads": 0, "size": 0, "max_steps": 4000000},
    "test_hook": "", "build_id": "b", "expected_trace_hash": "0x0000000000000000",
    "failure": {"oracle": "crash", "message": "killed by SIGSEGV"}}' > crash.json
  "$segsim" replay crash.json > crash.txt 2>&1; code=$?
  [[ $code != 0 ]] || fail "a crash repro that now passes exited 0"
  grep -q "NOT reproduced" crash.txt || fail "no 'NOT reproduced' line"
}

# ---- no false failures; the environment is not a finding
section_environment() {
  "$segsim" run leak-soak --seed 1 --faults 'mmap:ENOMEM@p=1' >/dev/null || fail "leak-soak with every map failing"
  # Sanitizers reserve terabytes of shadow memory: no ulimit -v for them.
  [[ -n ${SEGSIM_SANITIZE:-} ]] && return 0
  err=$(ulimit -v 1000000; "$segsim" run chicago 2>&1 >/dev/null); code=$?
  [[ $code == 2 && $(wc -l <<<"$err") == 1 ]] || fail "ulimit -v run: exit $code: $err"
  grep -q "address space" <<<"$err" || fail "the resource is not named: $err"
  err=$(ulimit -v 1000000; "$segsim" sweep chicago --seeds 1..3 2>&1 >/dev/null); code=$?
  [[ $code == 2 ]] || fail "ulimit -v sweep: exit $code"
  grep -q "address space" <<<"$err" || fail "sweep does not name the resource: $err"
}

sections=(values reads writes nothing_lost settings probes repros memory replay environment)
[[ $# -ge 2 ]] && sections=("${@:2}")
for section in "${sections[@]}"; do
  declare -F "section_$section" >/dev/null || fail "no section '$section' (${sections[*]})"
  "section_$section"
done
echo "cli harness: ${sections[*]}: passed"

