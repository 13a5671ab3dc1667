#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: ci/history.sh, the results store kept in a branch of the
# project's repository.  A local bare repository is the remote; each
# simulated CI pipeline is a clone of it (the checkout) with a results
# store of its own, holding runs that tools/synth.py writes.

load helpers

setup() {
	common_setup
	requires python3
	command -v git >/dev/null 2>&1 || skip "git is not installed"
	HISTORY=$TOP/ci/history.sh
	REMOTE=$SCRATCH/remote.git
	# Every temporary file of the script goes here: the tests see what
	# is left.
	export TMPDIR=$SCRATCH/tmp
	mkdir -p "$TMPDIR"
	# The CI system's variables of the test's own run must not leak in.
	unset GITHUB_SHA GITHUB_REF_NAME GITHUB_RUN_ID CI_COMMIT_SHA \
		CI_COMMIT_REF_NAME CI_PIPELINE_URL AIO_SUITE_RESULTS \
		AIO_SUITE_HISTORY_REMOTE AIO_SUITE_HISTORY_BRANCH \
		AIO_SUITE_HISTORY_KEEP AIO_SUITE_HISTORY_MAX_BYTES \
		AIO_SUITE_HISTORY_RETRIES
	git init -q --bare -b main "$REMOTE"
	pipeline seed
	git -C "$SCRATCH/seed" commit -q --allow-empty -m "the project"
	git -C "$SCRATCH/seed" push -q origin main
}

teardown() {
	common_teardown
}

# pipeline NAME: a fresh checkout $SCRATCH/NAME of the remote's main and an
# empty results store $SCRATCH/NAME.results, as a CI job starts with.
pipeline() {
	git clone -q "$REMOTE" "$SCRATCH/$1" 2>/dev/null
	git -C "$SCRATCH/$1" config user.name "aio-suite test"
	git -C "$SCRATCH/$1" config user.email "test@localhost"
	mkdir -p "$SCRATCH/$1.results"
}

# synth_run NAME RELEASE RUN_ID [synth.py options]: a run in NAME's store.
synth_run() {
	local name=$1 release=$2 id=$3

	shift 3
	python3 "$TOP/tools/synth.py" "$SCRATCH/$name.results" --release "$release" \
		--run-id "$id" --repeat 3 "$@" >/dev/null
}

# history NAME ARGS...: ci/history.sh in NAME's checkout with NAME's store.
history() {
	local name=$1

	shift
	(cd "$SCRATCH/$name" &&
		timeout -k 5 120 "$HISTORY" --results "$SCRATCH/$name.results" "$@")
}

# branch_ls DIR: the paths under DIR in the remote's history branch.
branch_ls() {
	git -C "$REMOTE" ls-tree -r --name-only aio-suite-results -- "$1" | sort
}

# nothing_left NAME: no temporary file, directory or ref of the script.
nothing_left() {
	local left

	left=$(ls -A "$TMPDIR")
	[[ -z $left ]] || {
		echo "left in TMPDIR: $left" >&2
		return 1
	}
	left=$(git -C "$SCRATCH/$1" for-each-ref refs/aio-suite-history)
	[[ -z $left ]] || {
		echo "refs left: $left" >&2
		return 1
	}
}

# assert_one_line_stderr STATUS: the last `run --separate-stderr` exited
# with STATUS and wrote one line, "history: ...", on stderr (what it did
# before the error is on stdout).
assert_one_line_stderr() {
	assert_status "$1" || return 1
	if [[ -z $stderr || $stderr == *$'\n'* || $stderr != "history: "* ]]; then
		echo "expected one line 'history: ...' on stderr, seen:" >&2
		echo "$stderr" >&2
		return 1
	fi
}

# checkout_state NAME: what a caller's checkout is: its branch, HEAD, the
# index, the work tree's changes and the worktrees.
checkout_state() {
	local c=$SCRATCH/$1

	git -C "$c" symbolic-ref HEAD
	git -C "$c" rev-parse HEAD
	git -C "$c" ls-files -s
	git -C "$c" diff --cached
	git -C "$c" diff
	git -C "$c" status --porcelain --untracked-files=all
	git -C "$c" worktree list --porcelain
}

@test "history.sh pull from a remote without the branch says it is a first run and succeeds" {
	run history seed pull
	assert_status 0
	assert_output_has "no branch aio-suite-results on origin yet: nothing to pull (a first run)"
	nothing_left seed
}

@test "a second CI pipeline pulls the first one's run and pushes both" {
	pipeline one
	synth_run one 6.1 20260101T000000Z-ci
	run history one pull
	assert_status 0
	run history one push
	assert_status 0
	assert_output_has "pushed to aio-suite-results on origin"
	assert_output_has "add synth/6.1/20260101T000000Z-ci"

	pipeline two
	synth_run two 6.1 20260102T000000Z-ci --seed 2
	run history two pull
	assert_status 0
	assert_output_has "unpacked 1 run into"
	[[ -f $SCRATCH/two.results/synth/6.1/20260101T000000Z-ci/synth-engines.json ]]
	[[ -f $SCRATCH/two.results/.history/synth/6.1/20260101T000000Z-ci.summary.json ]]
	cmp "$SCRATCH/one.results/synth/6.1/20260101T000000Z-ci/synth-engines.json" \
		"$SCRATCH/two.results/synth/6.1/20260101T000000Z-ci/synth-engines.json"
	# the report of the second pipeline sees both runs
	run python3 "$TOP/tools/report.py" --results "$SCRATCH/two.results" list
	assert_output_has "20260101T000000Z-ci"
	assert_output_has "20260102T000000Z-ci"
	run history two push
	assert_status 0
	assert_output_has "add synth/6.1/20260102T000000Z-ci"
	refute_line "added synth/6.1/20260101T000000Z-ci" "$output"
	assert_eq "history/synth/6.1/20260101T000000Z-ci.summary.json
history/synth/6.1/20260102T000000Z-ci.summary.json" "$(branch_ls history)"
	[[ -n $(branch_ls runs/synth/6.1/20260102T000000Z-ci) ]]
	# one commit per push, its message naming host/kernel/run
	assert_eq 2 "$(git -C "$REMOTE" rev-list --count aio-suite-results)"
	assert_eq "history: add synth/6.1/20260102T000000Z-ci" \
		"$(git -C "$REMOTE" log -1 --format=%s aio-suite-results)"
	nothing_left one
	nothing_left two
}

@test "history.sh push twice pushes nothing the second time" {
	pipeline one
	synth_run one 6.1 20260101T000000Z-ci
	history one push
	run history one push
	assert_status 0
	assert_output_has "nothing new"
	assert_eq 1 "$(git -C "$REMOTE" rev-list --count aio-suite-results)"
}

@test "history.sh pull keeps a run already in the store as it is" {
	pipeline one
	synth_run one 6.1 20260101T000000Z-ci
	history one push
	pipeline two
	synth_run two 6.1 20260101T000000Z-ci --seed 7
	local f=$SCRATCH/two.results/synth/6.1/20260101T000000Z-ci/synth-engines.json
	local before
	before=$(sha256sum <"$f")
	run history two pull
	assert_status 0
	assert_output_has "1 already there, kept as they are"
	assert_eq "$before" "$(sha256sum <"$f")" "this pipeline's run"
}

@test "history.sh push keeps the raw files of the newest N runs of each host and kernel and every summary" {
	local i rel

	for i in 1 2 3 4; do
		pipeline "p$i"
		for rel in 6.1 6.12; do
			synth_run "p$i" "$rel" "2026010${i}T000000Z-ci" --seed "$i"
		done
		history "p$i" pull >/dev/null
		run history "p$i" push --keep 2
		assert_status 0
	done
	assert_output_has "pruned the raw files of synth/6.1/20260102T000000Z-ci (more than 2 runs of synth/6.1); its summary stays"
	assert_output_has "pruned the raw files of synth/6.12/20260102T000000Z-ci"
	assert_eq "20260103T000000Z-ci
20260104T000000Z-ci" "$(git -C "$REMOTE" ls-tree --name-only aio-suite-results runs/synth/6.1/ | xargs -n1 basename)"
	assert_eq "20260103T000000Z-ci
20260104T000000Z-ci" "$(git -C "$REMOTE" ls-tree --name-only aio-suite-results runs/synth/6.12/ | xargs -n1 basename)"
	assert_eq 8 "$(branch_ls history | wc -l)"
	# a later pipeline pulls the newest two of each and all eight summaries
	pipeline p5
	run history p5 pull
	assert_status 0
	assert_output_has "unpacked 4 runs"
	assert_output_has "and 8 summaries"
	# the pruned runs are not pushed again from a store that still has them
	run history p4 push --keep 2
	assert_output_has "nothing new"
}

@test "the size cap prunes the oldest raw runs first, names them and keeps their summaries" {
	local i one

	pipeline p0
	synth_run p0 6.1 20260101T000000Z-ci
	one=$(find "$SCRATCH/p0.results/synth/6.1/20260101T000000Z-ci" -type f -printf '%s\n' |
		awk '{ n += $1 } END { print n }')
	for i in 1 2 3; do
		pipeline "p$i"
		synth_run "p$i" "6.$i" "2026010${i}T000000Z-ci" --seed "$i"
		history "p$i" pull >/dev/null
		# room for two runs, not three
		run history "p$i" push --max-bytes $((one * 5 / 2))
		assert_status 0
	done
	assert_output_line "pruned the raw files of synth/6.1/20260101T000000Z-ci \(raw files over the cap of [0-9]+ bytes"
	refute_line "pruned the raw files of synth/6.[23]" "$output"
	assert_eq "" "$(branch_ls runs/synth/6.1)"
	[[ -n $(branch_ls runs/synth/6.2) && -n $(branch_ls runs/synth/6.3) ]]
	assert_eq 3 "$(branch_ls history | wc -l)"
	git -C "$REMOTE" log -1 --format=%B aio-suite-results | grep -q \
		"synth/6.1/20260101T000000Z-ci: raw files over the cap"
}

# race_hook: the remote's pre-receive hook lets pipeline "first" push its
# run while the first push to reach it waits: that push then finds the
# branch moved, as when another CI pipeline pushed first.
race_hook() {
	cat >"$REMOTE/hooks/pre-receive" <<EOF
#!/bin/bash
[ -e "$SCRATCH/raced" ] && exit 0
touch "$SCRATCH/raced"
cd "$SCRATCH/first" || exit 1
env -u GIT_DIR -u GIT_QUARANTINE_PATH -u GIT_OBJECT_DIRECTORY \
	-u GIT_ALTERNATE_OBJECT_DIRECTORIES "$HISTORY" \
	--results "$SCRATCH/first.results" push >"$SCRATCH/first.log" 2>&1
exit 0
EOF
	chmod +x "$REMOTE/hooks/pre-receive"
}

@test "a push that another pipeline's push overtakes merges the data and both runs land" {
	pipeline base
	synth_run base 6.1 20260101T000000Z-ci
	history base push >/dev/null
	pipeline first
	synth_run first 6.1 20260102T000000Z-first
	pipeline second
	synth_run second 6.1 20260102T000000Z-second --seed 2
	history first pull >/dev/null
	history second pull >/dev/null
	race_hook
	run history second push
	assert_status 0
	assert_output_has "aio-suite-results on origin moved (another pipeline pushed first): merging and pushing again, attempt 2 of 5"
	grep -q "pushed to aio-suite-results" "$SCRATCH/first.log"
	assert_eq "history/synth/6.1/20260101T000000Z-ci.summary.json
history/synth/6.1/20260102T000000Z-first.summary.json
history/synth/6.1/20260102T000000Z-second.summary.json" "$(branch_ls history)"
	[[ -n $(branch_ls runs/synth/6.1/20260102T000000Z-first) ]]
	[[ -n $(branch_ls runs/synth/6.1/20260102T000000Z-second) ]]
	# a straight line of commits: base, first, second
	assert_eq 3 "$(git -C "$REMOTE" rev-list --count aio-suite-results)"
	nothing_left second
}

@test "with one attempt only, the push that another pipeline overtakes fails in one line" {
	pipeline first
	synth_run first 6.1 20260102T000000Z-first
	pipeline second
	synth_run second 6.1 20260102T000000Z-second
	race_hook
	run --separate-stderr history second push --retries 1
	assert_one_line_stderr 1
	[[ $stderr == *"gave up after 1 attempt: aio-suite-results on origin moved each time"* ]]
	# the other pipeline's run landed, this one did not
	assert_eq "history/synth/6.1/20260102T000000Z-first.summary.json" "$(branch_ls history)"
	nothing_left second
}

@test "a push the remote refuses fails in one line without trying again" {
	pipeline one
	synth_run one 6.1 20260101T000000Z-ci
	printf '#!/bin/sh\necho "no pushes here" >&2\nexit 1\n' >"$REMOTE/hooks/pre-receive"
	chmod +x "$REMOTE/hooks/pre-receive"
	run --separate-stderr history one push
	assert_one_line_stderr 1
	assert_eq "history: cannot push to aio-suite-results on origin: remote rejected (pre-receive hook declined); the remote said: no pushes here" "$stderr"
	nothing_left one
}

@test "history.sh leaves the caller's branch, index and work tree as they were" {
	local c=$SCRATCH/one before

	pipeline one
	synth_run one 6.1 20260101T000000Z-ci
	history one push >/dev/null
	synth_run one 6.1 20260102T000000Z-ci --seed 2
	# a checkout with a staged, an unstaged and an untracked change
	echo tracked >"$c/tracked"
	git -C "$c" add tracked
	git -C "$c" commit -q -m tracked
	echo staged >"$c/staged"
	git -C "$c" add staged
	echo changed >>"$c/tracked"
	echo untracked >"$c/untracked"
	before=$(checkout_state one)
	run history one pull
	assert_status 0
	run history one push
	assert_status 0
	assert_output_has "add synth/6.1/20260102T000000Z-ci"
	assert_eq "$before" "$(checkout_state one)" "the checkout"
	assert_eq "refs/heads/main" "$(git -C "$c" symbolic-ref HEAD)"
	nothing_left one
}

@test "a CI cancel (SIGTERM to the process group) during a push leaves no temporary file or ref" {
	local pid i

	pipeline one
	synth_run one 6.1 20260101T000000Z-ci
	printf '#!/bin/sh\ntouch "%s"\nsleep 30\n' "$SCRATCH/in-hook" \
		>"$REMOTE/hooks/pre-receive"
	chmod +x "$REMOTE/hooks/pre-receive"
	(cd "$SCRATCH/one" && exec setsid "$HISTORY" --results "$SCRATCH/one.results" \
		push >"$SCRATCH/log" 2>&1) &
	pid=$!
	for ((i = 0; i < 200; i++)); do
		[[ -e $SCRATCH/in-hook ]] && break
		sleep 0.1
	done
	[[ -e $SCRATCH/in-hook ]]
	kill -TERM -- "-$pid"
	local rc=0
	wait "$pid" || rc=$?
	assert_eq 143 "$rc" "exit status"
	grep -q "history: terminated" "$SCRATCH/log"
	nothing_left one
	run git -C "$REMOTE" rev-parse -q --verify aio-suite-results
	assert_status 1
}

@test "history.sh refuses bad arguments with one line each" {
	local args

	for args in "" "fetch" "pull push" "--keep 0 push" "--keep x push" \
		"--retries 0 push" "--max-bytes 10T push" "--max-bytes push" \
		"--branch a..b pull" "--branch -x pull" "--remote -x pull" \
		"--bogus pull" "pull -- --noise 3" "--results"; do
		# shellcheck disable=SC2086
		run "$HISTORY" $args
		assert_one_line_error history 2 || {
			echo "arguments: $args" >&2
			return 1
		}
	done
}

@test "history.sh --help says what pull, push and compare do" {
	run "$HISTORY" --help
	assert_status 0
	assert_output_has "usage: ci/history.sh"
	assert_output_has "--keep N"
	assert_output_has "--max-bytes SIZE"
}

@test "history.sh outside a git repository fails in one line" {
	mkdir -p "$SCRATCH/plain"
	run "$HISTORY" -C "$SCRATCH/plain" --results "$SCRATCH/plain/r" pull
	assert_one_line_error history 1
	assert_output_has "not a git repository"
}

@test "history.sh with an unreachable remote fails in one line and hides the URL's credentials" {
	run history seed --remote "https://user:s3cret@127.0.0.1:9/x.git" pull
	assert_one_line_error history 1
	assert_output_has "cannot read https://127.0.0.1:9/x.git"
	[[ $output != *s3cret* ]]
	nothing_left seed
}

@test "a run's summary holds its conformance totals and headline figures" {
	local s

	pipeline one
	synth_run one 6.1 20260101T000000Z-ci --conform-fail submit.basic
	history one push >/dev/null
	s=$SCRATCH/summary.json
	git -C "$REMOTE" show \
		aio-suite-results:history/synth/6.1/20260101T000000Z-ci.summary.json >"$s"
	json_true "$s" 'd["schema"] == "aio-suite-history/1"' \
		'd["host"] == "synth" and d["kernel_release"] == "6.1"' \
		'd["run_id"] == "20260101T000000Z-ci"' \
		'd["run_time_utc"] == "2026-01-01T00:00:00Z"' \
		'd["complete"] is True and d["emulated"] is False' \
		'd["conformance"]["totals"] == {"fail": 1, "pass": 6}' \
		'd["conformance"]["failing"] == ["submit.basic"]' \
		'd["machine"]["probes"] == 3' \
		'd["headline"]["synth-engines"]["points"] == 10' \
		'd["headline"]["synth-engines"]["metrics"]["iops"]["better"] == "higher"' \
		'd["pushed_by"]["ref"] == "main"'
	# the IOPS headline is the geometric mean of the points' means
	run python3 - "$s" "$SCRATCH/one.results/synth/6.1/20260101T000000Z-ci/synth-engines.json" <<'EOF'
import json, math, sys
s = json.load(open(sys.argv[1]))
d = json.load(open(sys.argv[2]))
means = [sum(p["samples"]["iops"]) / len(p["samples"]["iops"]) for p in d["points"]]
want = math.exp(sum(map(math.log, means)) / len(means))
got = s["headline"]["synth-engines"]["metrics"]["iops"]["geomean"]
sys.exit(0 if abs(got - want) <= want * 1e-5 else f"{got} != {want}")
EOF
	assert_status 0
}

# pr_against_history ARGS...: the default branch pushes a run; a pull
# request's pipeline with a run made with synth ARGS pulls and compares.
pr_against_history() {
	pipeline main
	synth_run main 6.1 20260101T000000Z-ci --repeat 5
	history main push >/dev/null
	pipeline pr
	synth_run pr 6.1 20260102T000000Z-ci --repeat 5 "$@"
	history pr pull >/dev/null
	run history pr compare
}

@test "compare fails a pull request's run that regressed against the default branch's history" {
	pr_against_history --slowdown 10
	assert_status 1
	assert_output_has "synth/6.1/20260102T000000Z-ci against synth/6.1/20260101T000000Z-ci"
	assert_output_has "report: regression:"
	assert_output_has "regressed against the history"
}

@test "compare fails a pull request's run with a new conformance failure" {
	pr_against_history --conform-fail reap.timeout
	assert_status 1
	assert_output_has "new conformance failure: reap.timeout"
}

@test "compare passes a pull request's run like the history's" {
	pr_against_history --seed 3
	assert_status 0
	assert_output_has "0 regressions"
}

@test "compare without any history says so and passes" {
	pipeline pr
	synth_run pr 6.1 20260102T000000Z-ci
	history pr pull >/dev/null
	run history pr compare
	assert_status 0
	assert_output_has "no history in the store"
}

@test "the workflows pull the history before the report, compare pull requests and push on the default branch only" {
	local py=python3
	/usr/bin/python3 -c 'import yaml' 2>/dev/null && py=/usr/bin/python3
	"$py" -c 'import yaml' 2>/dev/null || skip "PyYAML is not installed (python3-yaml)"
	run "$py" - "$TOP/.github/workflows/ci.yml" "$TOP/.gitlab-ci.yml" <<'EOF'
import sys
import yaml

gh = yaml.safe_load(open(sys.argv[1]))
steps = gh["jobs"]["report"]["steps"]
runs = [str(s.get("run", "")) for s in steps]
def at(text):
    found = [i for i, r in enumerate(runs) if text in r]
    assert len(found) == 1, f"github: one step runs {text!r}: {found}"
    return found[0]
pull, rep, cmp, push = (at(t) for t in ("history.sh pull", "ci/report.sh",
                                         "history.sh compare", "history.sh push"))
assert pull < rep < push and pull < cmp, "github: pull, report, compare, push in order"
assert "default_branch" in steps[push]["if"] and "'push'" in steps[push]["if"], steps[push]["if"]
assert "!=" in steps[cmp]["if"] and "default_branch" in steps[cmp]["if"], steps[cmp]["if"]
assert gh["jobs"]["report"]["permissions"]["contents"] == "write"

gl = yaml.safe_load(open(sys.argv[2]))
script = [str(x) for x in gl["report"]["script"]]
i = lambda t: next(n for n, x in enumerate(script) if t in x)
assert i("history.sh pull") < i("ci/report.sh") < i("history.sh compare")
assert "CI_DEFAULT_BRANCH" in script[i("history.sh compare")]
push = gl["history"]
assert any("history.sh push" in str(x) for x in push["script"])
assert push["rules"][0]["if"] == "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", push["rules"]
assert gl["stages"].index(push["stage"]) > gl["stages"].index("report")
print("ok")
EOF
	assert_status 0
}

@test "the YAML check refuses an unquoted '!' value and a step with neither run nor uses" {
	printf 'on:\n  push:\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: y\n        if: !cancelled()\n' \
		>"$SCRATCH/tag.yml"
	AIO_SUITE_NO_PYYAML=1 run python3 "$TOP/ci/check_yaml.py" "$SCRATCH/tag.yml"
	assert_status 1
	assert_output_has "line 8: a value starting with '!' is a YAML tag: quote it"
	python3 -c 'import yaml' 2>/dev/null || skip "PyYAML is not installed (python3-yaml)"
	printf 'on:\n  push:\njobs:\n  a:\n    runs-on: x\n    steps:\n      - name: y\n' \
		>"$SCRATCH/step.yml"
	run python3 "$TOP/ci/check_yaml.py" "$SCRATCH/step.yml"
	assert_status 1
	assert_output_has "job a step 1: needs one of run or uses"
}
