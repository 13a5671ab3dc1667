#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: tools/report.py on a hostile or broken results store: names
# that hold shell and gnuplot syntax, HTML and Markdown; FIFOs, devices,
# symbolic link loops; truncated JSON, wrong schemas and types, NaN,
# Infinity and huge numbers; duplicate run ids and runs of one sample.
# The report never runs a command, never writes outside its directory,
# never hangs or prints a traceback: it names each bad file (on stderr and
# in report.md) and goes on.  Stores are written by tools/synth.py.

load helpers
load report-helpers

# report ARGS...: the report into $OUT under a timeout, stderr apart.
report() {
	timeout -k 5 120 python3 "$REPORT" --out "$OUT" "$@"
}

# no_traceback: the last `run` printed no Python traceback.
no_traceback() {
	refute_line '^Traceback|^  File "' "$output"
}

# hostile_store [QUOTES]: three kernels whose host, releases, run id,
# scenario, point names, labels and a test name hold backquotes, $(), %,
# @, ../ and backslashes (and with QUOTES, single and double quotes and a
# newline): a command in them makes a file X<n>.
hostile_store() {
	local ex=${1:+$'\'"\n'} f
	synth --host 'h`touch X1`$(touch X2)' --release '6.9`touch X3`' \
		--run-id "r\`touch X4\`${ex}%s\\x" --seed 1
	synth --host 'h`touch X1`$(touch X2)' --release "6.1${ex}q\$(touch X5)%s\\@xt" \
		--seed 2 --slowdown 8 --conform-fail submit.basic
	synth --host 'h`touch X1`$(touch X2)' --release "6.3${ex}\`touch X13\`" --seed 3 --slowdown 8
	for f in "$AIO_SUITE_RESULTS"/*/*/*/synth-engines.json; do
		edit "$f" '
ex = sys.argv[4]
d["scenario"] = "eng`touch X6`$(touch X7)" + ex
for p in d["points"]:
    p["target"] = "`touch X8`\\../../x" + ex
    p["labels"]["engine"] += "`touch X9`\\@xt %s" + ex' "$f" "$ex"
	done
	for f in "$AIO_SUITE_RESULTS"/*/*/*/synth-blocking.json; do
		edit "$f" '
for p in d["points"]:
    p["labels"]["mode"] += "`touch X10`$(touch X11)\\#x" + sys.argv[4]' "$f" "$ex"
	done
	for f in "$AIO_SUITE_RESULTS"/*/*/*/conform.json; do
		edit "$f" 'd["results"][0]["name"] = "sub`touch X12`.x" + sys.argv[4]' "$f" "$ex"
	done
}

@test "a backquote or \$() in a host, a release, a run id or a label runs nothing" {
	requires gnuplot
	hostile_store
	mkdir -p "$SCRATCH/cwd"
	touch "$SCRATCH/marker"
	run bash -c 'cd "$1" && shift && timeout -k 5 300 python3 "$@"' - "$SCRATCH/cwd" \
		"$REPORT" --out "$OUT" --formats md,html,csv
	# Nothing ran: no X file anywhere, nothing written outside the report.
	run find "$SCRATCH" "$TOP" /tmp -xdev -name 'X[0-9]*' -newer "$SCRATCH/marker"
	assert_eq "" "$output" "files made by commands in the names"
	run find "$SCRATCH" -newer "$SCRATCH/marker" -not -path "$OUT*" -not -path "$SCRATCH"
	assert_eq "" "$output" "files written outside $OUT"
}

@test "quotes, backslashes, %, ../ and newlines in names break no chart" {
	requires gnuplot
	hostile_store quotes
	run timeout -k 5 300 python3 "$REPORT" --out "$OUT" --formats md
	assert_status 0
	no_traceback
	# Every chart was drawn, none skipped because gnuplot failed.
	run grep -c 'not drawn' "$OUT/report.md"
	assert_eq 0 "$output" "charts not drawn"
	run bash -c 'ls "$1"/charts/*.png | wc -l' - "$OUT"
	assert_eq 9 "$output" "charts drawn"
}

@test "bytes that are not UTF-8 and control characters in names and labels are shown escaped" {
	requires gnuplot
	synth --release $'6.1\xff\xfe\t#' --seed 1
	synth --release $'6.12\x01' --host $'h\xe9' --seed 2 --slowdown 10
	edit "$(run_dir $'6.1\xff\xfe\t#')/synth-engines.json" '
for p in d["points"]:
    p["labels"]["engine"] += "\ud800\u2028\x00"'
	run report --formats md,html,csv
	assert_status 0
	no_traceback
	assert_output_has 'baseline synth/6.1\xff\xfe\x09#:'
	grep -qF '| h\\xe9 | 6.12\\x01 |' "$OUT/report.md"
	grep -qF 'engine=libaio\ud800\u2028\x00' "$OUT/report.csv"
	# Two kernels: a blocking matrix each, and the six other charts.
	run bash -c 'ls "$1"/charts/*.png | wc -l' - "$OUT"
	assert_eq 8 "$output" "charts drawn"
	grep -qF '](<charts/blocking-h-xe9-6.12-x01-' "$OUT/report.md"
}

@test "a <script> in a label, a run id or a test name is text in report.html and report.md" {
	synth --release 6.1 --seed 1 --run-id '20260101T000000Z-<script>alert(1)'
	synth --release 6.12 --seed 2 --slowdown 10
	local f
	for f in "$AIO_SUITE_RESULTS"/*/*/*/synth-batching.json; do
		edit "$f" '
for p in d["points"]:
    p["target"] = "<img src=x onerror=alert(2)>"
    p["labels"]["engine"] = "[x](javascript:alert(3)) <!-- \\<b>"'
	done
	run report --no-charts --formats md,html
	assert_status 0
	# The one script is the report's own table sorter, on a line of its own.
	run bash -c 'grep -v "^<script>/\* aio-suite: sortable tables \*/" "$1" |
		grep -Ec "<(script|img|b>|!--)"' - "$OUT/report.html"
	assert_eq 0 "$output" "raw tags in report.html"
	grep -q '&lt;img src=x onerror=alert(2)&gt;' "$OUT/report.html"
	# Markdown: every tag and link escaped, so no renderer takes it as one.
	run grep -Ec '(^|[^\\])<(script|img|!--|b>)|[^\\]\]\(' "$OUT/report.md"
	assert_eq 0 "$output" "raw tags or links in report.md"
	grep -qF '\<img src=x onerror=alert(2)>' "$OUT/report.md"
}

@test "synth.py refuses a name that would leave the store: one line, status 2, nothing written" {
	mkdir -p "$SCRATCH/a/b"
	run python3 "$TOP/tools/synth.py" "$SCRATCH/a/b/store" --release ../../escape
	assert_one_line_error synth
	assert_output_has "--release"
	[[ ! -e $SCRATCH/a/escape && ! -e $SCRATCH/a/b/store/escape ]]
	run python3 "$TOP/tools/synth.py" "$SCRATCH/store" --release 6.1 --host /tmp
	assert_one_line_error synth
	run python3 "$TOP/tools/synth.py" "$SCRATCH/store" --release 6.1 --run-id ..
	assert_one_line_error synth
	# A link in the store that leads out of it is refused too.
	mkdir -p "$SCRATCH/store/synth" "$SCRATCH/elsewhere"
	ln -s "$SCRATCH/elsewhere" "$SCRATCH/store/synth/6.2"
	run python3 "$TOP/tools/synth.py" "$SCRATCH/store" --release 6.2
	assert_one_line_error synth
	assert_output_has "leads outside"
	run ls -A "$SCRATCH/elsewhere"
	assert_eq "" "$output"
}

@test "the store's run directories are built from plain names only (store.inside)" {
	run python3 - "$TOP" "$SCRATCH" <<'EOF'
import platform, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from aiosuite import store
root = Path(sys.argv[2]) / "results"
bad = 0
for names in (["..", "x"], ["a", "../b"], ["/etc"], ["a", ""], ["a", "b\0c"]):
    try:
        store.inside(root, *names)
        print(f"accepted {names}")
        bad += 1
    except store.OutsideRoot as e:
        assert str(e), names
print(store.inside(root, "h", "6.1", "r").relative_to(root))
# new_run_dir: a host name that is a path is refused, nothing is made.
platform.node = lambda: "../../escape"
import os
os.environ["AIO_SUITE_RESULTS"] = str(root)
os.environ.pop("AIO_SUITE_RUN_DIR", None)
try:
    store.new_run_dir("t")
    bad += 1
    print("new_run_dir accepted ../../escape")
except OSError as e:
    print(f"refused: {e.strerror.split(':')[0]}")
sys.exit(bad)
EOF
	assert_status 0
	assert_output_line '^h/6\.1/r$'
	assert_output_line '^refused: '
	[[ ! -e $SCRATCH/../escape ]]
}

@test "the report does not hang on a FIFO named *.json: it names it and goes on" {
	synth --release 6.1 --seed 1
	synth --release 6.12 --seed 2 --slowdown 10
	mkfifo "$(run_dir 6.12)/fifo.json"
	run --separate-stderr report --no-charts --formats md --fail-on-regression
	assert_status 1
	assert_output_line '^report: 2 runs, 2 kernels, baseline 6\.1: [1-9][0-9]* regressions'
	[[ $stderr == *"report: bad file: synth/6.12/20260101T000000Z-synth-2/fifo.json: not a regular file (a FIFO)"* ]]
	grep -q 'fifo.json: not a regular file (a FIFO)' "$OUT/report.md"
}

@test "a link to /dev/zero, a huge file and a directory named *.json are refused unread" {
	synth --release 6.1 --seed 1
	local d
	d=$(run_dir 6.1)
	ln -s /dev/zero "$d/zero.json"
	truncate -s 200M "$d/huge.json"
	mkdir "$d/dir.json"
	# Bounded memory: reading /dev/zero would exhaust it.
	run --separate-stderr bash -c 'ulimit -v 2000000; "$@"' - timeout -k 5 60 \
		python3 "$REPORT" --out "$OUT" --no-charts --formats md
	assert_status 0
	[[ $stderr == *"zero.json: not a regular file (a character device)"* ]]
	[[ $stderr == *"huge.json: 209715200 bytes, more than a result file may have"* ]]
	[[ $stderr == *"dir.json: not a regular file (a directory)"* ]]
	[[ $(grep -c '^report: bad file: ' <<<"$stderr") == 3 ]]
}

@test "symbolic link loops, in files and directories, are named and not followed" {
	synth --release 6.1 --seed 1
	local d
	d=$(run_dir 6.1)
	ln -s a.json "$d/b.json"
	ln -s b.json "$d/a.json"
	ln -s loop "$AIO_SUITE_RESULTS/synth/loop"
	ln -s / "$AIO_SUITE_RESULTS/synth/6.1/root"
	run --separate-stderr report --no-charts --formats md
	assert_status 0
	[[ $stderr == *"a.json: cannot read it: Too many levels of symbolic links"* ]]
	[[ $stderr == *"b.json: cannot read it: Too many levels of symbolic links"* ]]
	[[ $stderr == *"synth/loop: symbolic link not followed: Too many levels of symbolic links"* ]]
	[[ $stderr == *"synth/6.1/root: symbolic link out of the store (to /): not followed"* ]]
	assert_output_has "report: 1 runs, 1 kernels"
}

@test "NaN, Infinity and 1e308 are refused: each file is named, the rest is compared" {
	synth --release 6.1 --seed 1
	synth --release 6.12 --seed 2 --slowdown 10
	local d
	d=$(run_dir 6.12)
	edit "$d/synth-batching.json" 'd["points"][0]["samples"]["cpu_ns_per_io"][0] = float("nan")' "$d/nan.json"
	edit "$d/synth-engines.json" 'd["points"][0]["samples"]["iops"][0] = float("inf")' "$d/inf.json"
	edit "$d/synth-engines.json" 'd["points"][0]["samples"]["iops"][0] = "BIG"' "$d/big.json"
	sed -i 's/"BIG"/1e400/' "$d/big.json"
	edit "$d/synth-engines.json" 'd["points"][0]["samples"]["iops"][:2] = [1e308, 1e308]'
	run --separate-stderr report --no-charts --formats md,csv --fail-on-regression
	assert_status 1
	no_traceback
	[[ $stderr != *Traceback* ]]
	[[ $stderr == *"nan.json: NaN is not a number JSON allows"* ]]
	[[ $stderr == *"inf.json: Infinity is not a number JSON allows"* ]]
	[[ $stderr == *"big.json: 1e400 is too big for a number"* ]]
	[[ $stderr == *"synth-engines.json: points[0].samples.iops[0]: 1e+308 is out of range"* ]]
	# The batching and blocking scenarios of 6.12 are still compared.
	assert_output_line 'regression: synth-batching .* on 6\.12'
	grep -q '^## Files not read' "$OUT/report.md"
}

@test "values of the wrong JSON type are refused with the file and the place named" {
	synth --release 6.1 --seed 1
	synth --release 6.12 --seed 2 --slowdown 10
	local d
	d=$(run_dir 6.12)
	edit "$d/synth-engines.json" 'd["points"][1]["samples"]["iops"] = ["fast", 2, 3]' "$d/a.json"
	edit "$d/synth-engines.json" 'd["points"][2]["labels"]["qd"] = {"deep": 1}' "$d/b.json"
	edit "$d/synth-engines.json" 'd["points"] = "none"' "$d/c.json"
	edit "$d/aio-stress-synth-engines-libaio-qd32.json" 'd["stages"][0]["completion_latency_ns"]["buckets"] = [[1, 2]]' "$d/d.json"
	edit "$d/aio-stress-synth-engines-libaio-qd32.json" 'd["stages"][0]["iops"] = True' "$d/e.json"
	echo '[1, 2, 3]' >"$d/f.json"
	edit "$d/machine.json" 'd["probes"][0]["cpu_loop_ns"] = "20ms"' "$d/g.json"
	edit "$d/synth-engines.json" 'd["points"][0]["raw"] = ["../../../../../etc/passwd"]' "$d/h.json"
	run --separate-stderr report --formats md,csv --fail-on-regression
	assert_status 1
	no_traceback
	[[ $stderr != *Traceback* ]]
	local want
	for want in "a.json: points[1].samples.iops[0]: the string 'fast' where a number belongs" \
		"b.json: points[2].labels.qd: an object where a number belongs" \
		"c.json: points: the string 'none' where a list belongs" \
		"d.json: stages[0].completion_latency_ns.buckets[0]: a list where [low, high, count] belongs" \
		"e.json: stages[0].iops: true where a number belongs" \
		"g.json: probes[0].cpu_loop_ns: the string '20ms' where a number belongs" \
		"h.json: points[0].raw[0]: '../../../../../etc/passwd' is not a file name in the run's directory"; do
		[[ $stderr == *"$want"* ]] || { echo "missing: $want" >&2; echo "$stderr" >&2; false; }
	done
	# A JSON list is no result file of any kind: not read, not an error.
	[[ $stderr != *f.json* ]]
}

@test "env.json \"emulated\": \"yes\" is a bad file, not a TCG run" {
	synth --release 6.1 --seed 1
	edit "$(run_dir 6.1)/env.json" 'd["emulated"] = "yes"'
	run --separate-stderr python3 "$REPORT" list
	assert_status 0
	[[ $stderr == *"report: bad file: synth/6.1/20260101T000000Z-synth-1/env.json: emulated: the string 'yes' where true or false belongs"* ]]
	assert_output_line '^synth +6\.1 +20260101T000000Z-synth-1 +no '
}

@test "report --results DIR list names DIR when it has no runs" {
	mkdir -p "$SCRATCH/empty"
	run python3 "$REPORT" --results "$SCRATCH/empty" list
	assert_status 0
	assert_eq "report: no runs in $SCRATCH/empty" "$output"
}

@test "truncated JSON and an unknown schema version are named; the rest of the run is read" {
	synth --release 6.1 --seed 1
	synth --release 6.12 --seed 2 --slowdown 10
	local d
	d=$(run_dir 6.12)
	head -c 300 "$d/synth-batching.json" >"$d/cut.json"
	head -c 300 "$d/synth-batching.json" >"$d/synth-batching.json.x"
	mv "$d/synth-batching.json.x" "$d/synth-batching.json"
	edit "$d/machine.json" 'd["schema"] = "aio-suite-machine/7"'
	run --separate-stderr report --no-charts --formats md --fail-on-regression
	assert_status 1
	[[ $stderr == *"synth-batching.json: not JSON (Unterminated string"* ]] ||
		[[ $stderr == *"synth-batching.json: not JSON ("* ]]
	[[ $stderr == *"cut.json: not JSON ("* ]]
	[[ $stderr == *"machine.json: schema 'aio-suite-machine/7': this report reads aio-suite-machine/1 or aio-suite-machine/2"* ]]
	assert_output_line 'regression: synth-engines .* on 6\.12'
	refute_line 'regression: synth-batching' "$output"
}

@test "two runs with one run id are two columns, named by host/release/run id" {
	synth --release 6.1 --seed 1 --run-id 20260101T000000Z-same
	synth --release 6.12 --seed 2 --run-id 20260101T000000Z-same --slowdown 10
	run report --by run --no-charts --formats md,csv --fail-on-regression
	assert_status 1
	assert_output_has "2 runs, 2 runs, baseline synth/6.1/20260101T000000Z-same"
	assert_output_line 'regression: .* on synth/6\.12/20260101T000000Z-same'
	grep -q 'run id 20260101T000000Z-same names 2 runs' "$OUT/report.md"
	run report --by run --no-charts --formats csv --baseline 20260101T000000Z-same
	assert_one_line_error report
	assert_output_has "matches 2 runs"
	run report --no-charts --formats csv --baseline synth/6.12/20260101T000000Z-same
	assert_status 0
	assert_output_has "baseline synth/6.12/20260101T000000Z-same"
}

@test "runs of one sample are shown and never called, with every chart" {
	requires gnuplot
	synth --release 6.1 --seed 1 --repeat 1
	synth --release 6.12 --seed 2 --repeat 1 --slowdown 30
	run report --formats md,csv --fail-on-regression
	assert_status 0
	no_traceback
	run python3 - "$OUT/report.csv" <<'EOF'
import csv, sys
print(sorted({r["verdict"] for r in csv.DictReader(open(sys.argv[1])) if r["column"] == "6.12"}))
EOF
	assert_eq "['few']" "$output"
}

@test "the blocking heatmap has one label per cell when a kernel's runs differ in parameters" {
	requires gnuplot
	synth --release 6.1 --seed 1 --run-id 20260101T000000Z-a
	synth --release 6.1 --seed 2 --run-id 20260102T000000Z-b --slowdown 10
	# The second run was a quick one: its points are other points.
	edit "$AIO_SUITE_RESULTS/synth/6.1/20260102T000000Z-b/synth-blocking.json" \
		'd["params"]["quick"] = True'
	run report --formats md
	assert_status 0
	[[ -s $OUT/charts/blocking-6.1.png ]]
	# x, y of every cell: each once.
	run bash -c 'cut -f1,2 "$1" | sort | uniq -d' - "$OUT/charts/blocking-6.1.dat"
	assert_eq "" "$output" "cells drawn twice"
	[[ $(wc -l <"$OUT/charts/blocking-6.1.dat") == 8 ]]
}

@test "an unexpected error is one line naming it, status 1, not a traceback" {
	run python3 - "$TOP" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
from aiosuite.report import cli as report
def broken(argv):
    raise KeyError("no such thing")
report.run = broken
sys.exit(report.main([]))
EOF
	assert_one_line_error report 1
	assert_eq "report: internal error: KeyError: 'no such thing'" "$output"
}
