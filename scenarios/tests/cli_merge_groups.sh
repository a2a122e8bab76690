#!/usr/bin/env bash
# Issue 18: `segsim merge` groups failures by stable signature — the one-screen
# summary and --groups F.json — end to end on two shard results, one of whose
# failing seeds has a real repro that must replay. Usage: cli_merge_groups.sh SEGSIM
source "$(dirname "$0")/cli_test_lib.sh"

# A real failing repro (test-only sabotage) to stand for a group's representative.
"$segsim" run chicago --seed 42 --test-hook corrupt-segment --report report.json >/dev/null
[[ -f chicago-seed42.repro.json ]] || fail "no repro from the sabotaged run"
# Two shards of chicago 1..8 (real results, so every field is valid), then
# failures written into them: two signatures differing only in numbers, one crash.
"$segsim" sweep chicago --seeds 1..8 --shard 0/2 --json s0.json >/dev/null 2>&1 || fail "sweep shard 0"
"$segsim" sweep chicago --seeds 1..8 --shard 1/2 --json s1.json >/dev/null 2>&1 || fail "sweep shard 1"
python3 - "$work" <<'PY' || fail "could not edit the shard results"
import json, sys, os
failures = {2: ("failed", "leak: 12 page(s) still borrowed at quiescence", ""),
            3: ("failed", "leak: 7 page(s) still borrowed at quiescence", "chicago-seed42.repro.json"),
            5: ("failed", "leak: 800 page(s) still borrowed at quiescence", "x/chicago-seed5.json"),
            6: ("crashed", "killed by SIGSEGV", "x/chicago-seed6.json")}
for name in ("s0.json", "s1.json"):
    path = os.path.join(sys.argv[1], name)
    result = json.load(open(path))
    for seed in result["seeds"]:
        if seed["seed"] in failures:
            seed["outcome"], seed["detail"], seed["repro"] = failures[seed["seed"]]
    result["failures"] = sum(s["outcome"] != "passed" for s in result["seeds"])
    json.dump(result, open(path, "w"))
PY

"$segsim" merge s0.json s1.json --groups groups.json > merge.txt; code=$?
[[ $code == 1 ]] || fail "merge with failures exited $code, expected 1"
grep -q "failures: 4 of 8 seeds, 2 signature(s)" merge.txt || fail "no grouped headline: $(cat merge.txt)"
grep -Eq "^ +3 +2  failed: leak: N page\(s\) still borrowed at quiescence$" merge.txt || fail "leak group: $(cat merge.txt)"
grep -q "seed 3: segsim replay chicago-seed42.repro.json" merge.txt || fail "representative is not the lowest seed with a repro"
grep -Eq "^ +1 +6  crashed: killed by SIGSEGV$" merge.txt || fail "crash group: $(cat merge.txt)"
[[ $(grep -c 'segsim replay' merge.txt) == 2 ]] || fail "not one repro line per group: $(cat merge.txt)"

python3 - <<'PY' || fail "groups.json: $(cat groups.json)"
import json
g = json.load(open("groups.json"))
assert g["format"] == "segsim-failure-groups" and g["seeds"] == 8 and g["failures"] == 4
leak, crash = g["groups"]
assert (leak["count"], leak["first_seed"], leak["repro_seed"]) == (3, 2, 3), leak
assert leak["example_seeds"] == [2, 3, 5] and leak["detail"].startswith("leak: 7 ")
assert (crash["outcome"], crash["count"], crash["repro"]) == ("crashed", 1, "x/chicago-seed6.json"), crash
PY
"$segsim" replay "$(python3 -c 'import json; print(json.load(open("groups.json"))["groups"][0]["repro"])')" >/dev/null
[[ $? == 1 ]] || fail "the leak group's representative repro does not replay to its failure"

# Shards in the other order: the same groups.
"$segsim" merge s1.json s0.json --groups groups2.json >/dev/null
cmp -s groups.json groups2.json || fail "groups depend on the order of the shards"
# No failures: no groups section, an empty group list.
"$segsim" sweep chicago --seeds 1..2 --json ok.json >/dev/null 2>&1
"$segsim" merge ok.json --groups none.json > ok.txt || fail "merge of passing seeds did not exit 0"
grep -q "failures:" ok.txt && fail "a groups section without failures"
python3 -c 'import json; assert json.load(open("none.json"))["groups"] == []' || fail "none.json has groups"
# An unwritable --groups is bad output, refused before merging (one line, exit 2).
err=$("$segsim" merge s0.json --groups /nonexistent-dir/g.json 2>&1 >/dev/null); code=$?
[[ $code == 2 && $(wc -l <<<"$err") == 1 ]] || fail "unwritable --groups: exit $code: $err"
echo "PASS"
