#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: the KCIDB export (tools/report.py --formats kcidb,
# aiosuite/report/kcidb.py) and its checker (tools/kcidb_check.py, the KCIDB v5.3
# schema's rules written here).  Synthetic stores (tools/synth.py) are
# exported and checked; every status mapping, the benchmark figures, the
# emulated, incomplete and bailed-out runs, hostile names and the log
# excerpt's limit are asserted; every rule of the checker rejects a
# document broken in its way.  No network.

load helpers
load report-helpers

CHECK=$TOP/tools/kcidb_check.py

# export_kcidb ARGS...: the report's KCIDB export of the store into $OUT.
export_kcidb() {
	timeout -k 5 120 python3 "$REPORT" --out "$OUT" --formats kcidb --no-charts -q "$@"
}

# kcidb_check ARGS...: the checker under a timeout.
kcidb_check() {
	timeout -k 5 60 python3 "$CHECK" "$@"
}

# the_doc: the one document of the export.
the_doc() {
	local f n=0 doc=

	for f in "$OUT"/kcidb/*.json; do
		[[ -f $f ]] || continue
		doc=$f
		n=$((n + 1))
	done
	[[ $n == 1 ]] || {
		echo "expected one document in $OUT/kcidb, seen $n" >&2
		return 1
	}
	echo "$doc"
}

# tests_true DOC PYEXPR...: every PYEXPR is true, with d the document and
# t(PATH) its test at PATH (None when it has none); each false one is named.
tests_true() {
	_python - "$@" <<'EOF'
import json
import sys

with open(sys.argv[1], encoding="utf-8") as f:
    d = json.load(f)
by = {}
for x in d.get("tests", []):
    by.setdefault(x["path"], x)


def t(path):
    return by.get(path)


bad = 0
for expr in sys.argv[2:]:
    try:
        v = eval(expr, {"d": d, "t": t})
    except Exception as e:
        v = f"{type(e).__name__}: {e}"
    if v is not True:
        print(f"expected true: {expr}\nseen: {v!r}", file=sys.stderr)
        bad += 1
sys.exit(1 if bad else 0)
EOF
}

# A document with an object of every kind and most optional properties
# set: what the negative tests break, one rule at a time.
VALID_DOC='{"version": {"major": 5, "minor": 3},
 "checkouts": [{"id": "aio_suite:6.1", "origin": "aio_suite", "tree_name": "mainline",
   "git_repository_url": "https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git",
   "git_commit_hash": "0123456789abcdef0123456789abcdef01234567", "patchset_hash": "",
   "patchset_files": [{"name": "0001.patch", "url": "https://example.org/0001.patch"}],
   "message_id": "a@example.org", "start_time": "2026-01-01T00:00:00+00:00",
   "valid": true, "misc": {"anything": [null, {"x": 1}]}}],
 "builds": [{"id": "aio_suite:h:6.1", "origin": "aio_suite", "checkout_id": "aio_suite:6.1",
   "architecture": "x86_64", "config_url": "https://example.org/config", "status": "PASS",
   "duration": 1.5, "comment": "Linux 6.1 on h"}],
 "tests": [{"id": "aio_suite:h:6.1:r:aio.conform.submit.basic", "origin": "aio_suite",
   "build_id": "aio_suite:h:6.1", "path": "aio.conform.submit.basic", "status": "PASS",
   "log_excerpt": "ok", "comment": "c",
   "environment": {"compatible": ["qemu,x86"], "comment": "host h", "misc": {}},
   "number": {"value": 1.5, "unit": "IOPS", "prefix": "metric"},
   "start_time": "2026-01-01T00:00:00Z", "duration": 0.5,
   "output_files": [{"name": "log.txt", "url": "https://example.org/log.txt"}]}],
 "issues": [{"id": "aio_suite:i1", "origin": "aio_suite", "version": 1,
   "categories": ["runtime.aio"], "culprit": {"code": true},
   "report_url": "https://example.org/bug/1"}],
 "incidents": [{"id": "aio_suite:n1", "origin": "aio_suite", "issue_id": "aio_suite:i1",
   "issue_version": 1, "test_id": "aio_suite:h:6.1:r:aio.conform.submit.basic",
   "present": true}]}'

# rejects RULE [--strict] PYTHON: VALID_DOC changed by PYTHON (d is the
# document; setting raw = b"..." writes those bytes instead) is refused by
# the checker, exit 1, naming RULE.
rejects() {
	local rule=$1 strict=
	shift
	if [[ $1 == --strict ]]; then
		strict=--strict
		shift
	fi
	_python - "$SCRATCH/bad.json" "$1" <<EOF
import json
import sys

d = json.loads('''$VALID_DOC''')
raw = None
exec(sys.argv[2])
with open(sys.argv[1], "wb") as f:
    f.write(raw if raw is not None else json.dumps(d).encode())
EOF
	run kcidb_check $strict "$SCRATCH/bad.json"
	assert_status 1
	assert_output_line ": $rule: "
}

@test "the KCIDB export writes one valid document per run, strict rules included" {
	synth --release 6.1 --seed 1
	synth --release 6.9 --seed 2 --slowdown 5
	run export_kcidb
	assert_status 0
	assert_output_has "kcidb/ (2 documents)"
	run kcidb_check --strict "$OUT"/kcidb/*.json
	assert_status 0
	assert_eq 2 "$(grep -c 'valid KCIDB v5.3 (strict)' <<<"$output")" "valid documents"
	for f in "$OUT"/kcidb/*.json; do
		tests_true "$f" 'd["version"] == {"major": 5, "minor": 3}' \
			'len(d["checkouts"]) == 1 and len(d["builds"]) == 1' \
			'all(o["origin"] == "aio_suite" for k in ("checkouts", "builds", "tests") for o in d[k])' \
			'd["builds"][0]["checkout_id"] == d["checkouts"][0]["id"]' \
			'all(x["build_id"] == d["builds"][0]["id"] for x in d["tests"])'
	done
}

@test "the default formats write no KCIDB document" {
	synth --release 6.1
	run timeout -k 5 120 python3 "$REPORT" --out "$OUT" --no-charts -q
	assert_status 0
	[[ ! -e $OUT/kcidb ]]
}

@test "each conformance result has the KCIDB status of its meaning" {
	synth --release 6.1 --conform-fail submit.basic --conform-skip submit.bad_fd \
		--conform-timeout reap.timeout
	edit "$(run_dir 6.1)/conform.json" '
r = d["results"]
r[5].update(result="xfail", reason="kernels before 4.13 answer so")
r[6].update(result="crash", reason="killed by signal 11 (SIGSEGV)")
r.append({"name": "cancel.poll", "variant": None, "result": "stuck", "reason": "pid 9 cannot be reaped"})
r.append({"name": "cancel.bad_ctx", "variant": None, "result": "interrupted", "reason": "interrupted by SIGINT"})'
	export_kcidb
	doc=$(the_doc)
	tests_true "$doc" 't("aio.conform.submit.basic")["status"] == "FAIL"' \
		't("aio.conform.submit.bad_fd")["status"] == "SKIP"' \
		't("aio.conform.reap.timeout")["status"] == "ERROR"' \
		't("aio.conform.data.roundtrip.ext4")["status"] == "PASS"' \
		't("aio.conform.flags.nowait")["status"] == "PASS"' \
		'"xfail" in t("aio.conform.flags.nowait")["comment"]' \
		't("aio.conform.flags.nowait")["misc"]["aio_conform_result"] == "xfail"' \
		't("aio.conform.cancel.read")["status"] == "FAIL"' \
		't("aio.conform.cancel.poll")["status"] == "FAIL"' \
		't("aio.conform.cancel.bad_ctx")["status"] == "MISS"' \
		't("aio.conform.submit.basic")["log_excerpt"] == "fail: synthetic"' \
		'"SIGSEGV" in t("aio.conform.cancel.read")["log_excerpt"]'
}

@test "a variant is a further component of the conformance test's path" {
	synth --release 6.1
	export_kcidb
	tests_true "$(the_doc)" 't("aio.conform.data.roundtrip.ext4")["misc"]["variant"] == "ext4"' \
		't("aio.conform.data.roundtrip.xfs")["misc"]["variant"] == "xfs"' \
		't("aio.conform.data.roundtrip") is None'
}

@test "a timed-out test's log excerpt carries the watchdog's report" {
	synth --release 6.1 --conform-timeout reap.timeout
	edit "$(run_dir 6.1)/conform.json" '
d["results"][2]["watchdog"] = {"iocbs_not_reaped": 3, "calls": [{"call": "io_getevents"}]}'
	export_kcidb
	tests_true "$(the_doc)" '"iocbs_not_reaped" in t("aio.conform.reap.timeout")["log_excerpt"]' \
		'"io_getevents" in t("aio.conform.reap.timeout")["log_excerpt"]'
}

@test "the headline figures of scenario points are DONE tests with a number" {
	synth --release 6.1 --repeat 3
	export_kcidb
	engines=$(run_dir 6.1)/synth-engines.json
	want=$(json_get "$engines" '[p for p in d["points"] if p["labels"] == {"engine": "libaio", "qd": 4}][0]["samples"]["iops"]')
	tests_true "$(the_doc)" \
		"t('aio.bench.synth-engines.ext4.engine-libaio.qd-4.iops')['number'] == {'value': sum($want) / 3, 'unit': 'IOPS', 'prefix': 'metric'}" \
		't("aio.bench.synth-engines.ext4.engine-libaio.qd-4.iops")["status"] == "DONE"' \
		"t('aio.bench.synth-engines.ext4.engine-libaio.qd-4.iops')['misc']['samples'] == $want" \
		't("aio.bench.synth-batching.null.batch-8.engine-libaio.submit_ns_per_iocb_p50")["number"]["unit"] == "ns"' \
		't("aio.bench.synth-blocking.ext4.cache-cold.mode-odirect.op-read.state-sparse.inline_ratio")["number"]["value"] > 0.9' \
		'"unit" not in t("aio.bench.synth-blocking.ext4.cache-cold.mode-odirect.op-read.state-sparse.inline_ratio")["number"]' \
		't("aio.bench.synth-batching.null.batch-8.engine-libaio.cpu_ns_per_io") is None'
}

@test "an aio-stress engine run's IOPS and io_submit cost are DONE tests" {
	synth --release 6.1
	d=$(run_dir 6.1)
	cp "$d/aio-stress-synth-engines-libaio-qd32.json" "$d/aio-stress-ext4-libaio-qd32.json"
	export_kcidb
	iops=$(json_get "$d/aio-stress-ext4-libaio-qd32.json" 'd["stages"][0]["iops"]')
	p50=$(json_get "$d/aio-stress-ext4-libaio-qd32.json" 'd["stages"][0]["submit"]["per_iocb_ns"]["p50"]')
	base=aio.bench.aio-stress.aio-stress-ext4-libaio-qd32.random_read
	tests_true "$(the_doc)" "t('$base.iops')['number']['value'] == $iops" \
		"t('$base.iops')['status'] == 'DONE'" \
		"t('$base.submit_ns_per_iocb_p50')['number'] == {'value': $p50, 'unit': 'ns'}"
}

@test "a point that was not measured is exported with its status and reason, without a number" {
	synth --release 6.1
	edit "$(run_dir 6.1)/synth-engines.json" '
p = d["points"]
p[0].update(status="skipped", reason="not root", samples={})
p[1].update(status="failed", reason="aio-stress: exit 1", samples={})
p[2].update(status="hang", reason="io_destroy did not return", samples={})'
	export_kcidb
	base=aio.bench.synth-engines.ext4.engine-libaio
	tests_true "$(the_doc)" "t('$base.qd-1')['status'] == 'SKIP'" \
		"t('$base.qd-4')['status'] == 'ERROR'" \
		"t('$base.qd-16')['status'] == 'FAIL'" \
		"t('$base.qd-1')['log_excerpt'] == 'skipped: not root'" \
		"'number' not in t('$base.qd-4')" \
		"t('$base.qd-1.iops') is None"
}

@test "an emulated run exports its conformance results and no benchmark figure" {
	synth --release 6.1 --emulated
	run export_kcidb
	assert_status 0
	tests_true "$(the_doc)" 't("aio.conform.submit.basic")["status"] == "PASS"' \
		't("aio.bench")["status"] == "SKIP"' \
		'not any("number" in x for x in d["tests"])' \
		'all(x["environment"]["misc"]["emulated"] is True for x in d["tests"])' \
		'all(x["environment"]["misc"]["accelerator"] == "tcg" for x in d["tests"])'
}

@test "an interrupted run says MISS for what it did not finish and leaves its figures out" {
	synth --release 6.1 --interrupted SIGINT
	run timeout -k 5 120 python3 "$REPORT" --out "$OUT" --formats kcidb --no-charts
	assert_status 0
	assert_output_line 'report: kcidb: .*benchmark figures left out: incomplete run'
	tests_true "$(the_doc)" 't("aio.conform.cancel.read")["status"] == "MISS"' \
		't("aio.conform")["status"] == "MISS"' \
		'"SIGINT" in t("aio.conform")["log_excerpt"]' \
		't("aio.bench")["status"] == "MISS"' \
		'not any("number" in x for x in d["tests"])' \
		'all(x["misc"]["run_complete"] is False for x in d["tests"])'
}

@test "with --include-incomplete an interrupted run's figures are exported" {
	synth --release 6.1 --interrupted SIGINT
	export_kcidb --include-incomplete
	tests_true "$(the_doc)" 't("aio.bench")["status"] == "MISS"' \
		't("aio.bench.synth-engines.ext4.engine-libaio.qd-4.iops")["status"] == "DONE"'
}

@test "the build has the architecture and the kernel config's AIO options of the run" {
	synth --release 6.1
	d=$(run_dir 6.1)
	edit "$d/env.json" 'd.update(machine="x86_64", kernel_version="#1 SMP Debian 6.1.76-1",
                       guest={"source": "debian", "package": "linux-image-6.1.0-18-amd64"})'
	_python -c 'import gzip, sys
with gzip.open(sys.argv[1], "wt") as f:
    f.write("CONFIG_AIO=y\n# CONFIG_IO_URING is not set\nCONFIG_HZ=250\nCONFIG_EXT4_FS=y\n")' \
		"$d/kernel-config.gz"
	export_kcidb
	tests_true "$(the_doc)" 'd["builds"][0]["architecture"] == "x86_64"' \
		'd["builds"][0]["misc"]["kernel_config"]["options"] == {"CONFIG_AIO": "y", "CONFIG_IO_URING": "n", "CONFIG_HZ": "250"}' \
		'd["builds"][0]["misc"]["kernel_version"] == "#1 SMP Debian 6.1.76-1"' \
		'd["checkouts"][0]["misc"]["source"]["package"] == "linux-image-6.1.0-18-amd64"' \
		'd["builds"][0]["status"] == "PASS"'
}

@test "a kernel config that is not gzip is named in the build, and the export goes on" {
	synth --release 6.1
	echo "not gzip" >"$(run_dir 6.1)/kernel-config.gz"
	run export_kcidb
	assert_status 0
	tests_true "$(the_doc)" '"error" in d["builds"][0]["misc"]["kernel_config"]' \
		't("aio.conform.submit.basic")["status"] == "PASS"'
}

@test "a run killed after its conformance run finished has MISS for its figures only" {
	synth --release 6.1 --incomplete
	export_kcidb
	tests_true "$(the_doc)" 't("aio.conform") is None' 't("aio") is None' \
		't("aio.bench")["status"] == "MISS"' \
		'all(x["misc"]["run_complete"] is False for x in d["tests"])'
}

@test "a killed run after a complete conformance run, without figures, is one MISS test for the run" {
	synth --release 6.1 --incomplete
	rm "$(run_dir 6.1)"/synth-*.json "$(run_dir 6.1)"/aio-stress-*.json
	export_kcidb
	tests_true "$(the_doc)" 't("aio.conform") is None' 't("aio")["status"] == "MISS"' \
		't("aio.conform.submit.basic")["status"] == "PASS"'
}

@test "an emulated run killed after its conformance run is one MISS test for the run" {
	synth --release 6.1 --emulated --incomplete
	export_kcidb
	tests_true "$(the_doc)" 't("aio.bench")["status"] == "SKIP"' 't("aio")["status"] == "MISS"'
}

@test "an interrupted run's timeout in an older conformance JSON is MISS, not ERROR" {
	synth --release 6.1 --interrupted SIGINT --legacy-conform
	edit "$(run_dir 6.1)/conform.json" 'd["results"][-1].update(result="timeout", reason="")'
	export_kcidb
	tests_true "$(the_doc)" 't("aio.conform.cancel.read")["status"] == "MISS"' \
		't("aio.conform")["status"] == "MISS"'
}

@test "a killed run with no results is one MISS test saying why" {
	synth --release 6.1 --incomplete --no-conform
	rm "$(run_dir 6.1)"/synth-*.json "$(run_dir 6.1)"/aio-stress-*.json
	export_kcidb
	tests_true "$(the_doc)" 'len(d["tests"]) == 1' 't("aio")["status"] == "MISS"' \
		'"complete false" in t("aio")["log_excerpt"]'
}

@test "a conformance run that bailed out is a failing aio.conform.bail_out test" {
	synth --release 6.1 --bail-out "3 tests left unkillable processes"
	export_kcidb
	tests_true "$(the_doc)" 't("aio.conform.bail_out")["status"] == "FAIL"' \
		'"unkillable" in t("aio.conform.bail_out")["log_excerpt"]' \
		't("aio.conform")["status"] == "MISS"'
}

@test "ids are derived from host, kernel and run, and the same in a second export" {
	synth --host lab1 --release 6.1.0-18-amd64 --run-id 20260102T030405Z-bench
	export_kcidb
	doc=$(the_doc)
	assert_eq "$OUT/kcidb/lab1-6.1.0-18-amd64-20260102T030405Z-bench.json" "$doc" "file"
	tests_true "$doc" 'd["checkouts"][0]["id"] == "aio_suite:6.1.0-18-amd64"' \
		'd["builds"][0]["id"] == "aio_suite:lab1:6.1.0-18-amd64"' \
		'd["tests"][0]["id"] == "aio_suite:lab1:6.1.0-18-amd64:20260102T030405Z-bench:" + d["tests"][0]["path"]' \
		'all(x["start_time"] == "2026-01-02T03:04:05+00:00" for x in d["tests"])'
	cp "$doc" "$SCRATCH/first.json"
	export_kcidb
	cmp "$SCRATCH/first.json" "$doc"
}

@test "hostile names (quotes, newlines, non-UTF-8) give valid JSON, valid ids and plain file names" {
	synth --host $'h\'"\nx' --release $'6.1\xff"q' --run-id $'r"\'\n\xfe%'
	d=$(echo "$AIO_SUITE_RESULTS"/*/*/*/)
	_python - "${d%/}/conform.json" <<'EOF'
import sys
p = sys.argv[1]
b = open(p, "rb").read().replace(b'"submit.basic"', b'"sub\xff\\"\\n\'`x`.$(y)"', 1)
open(p, "wb").write(b)
EOF
	run export_kcidb
	assert_status 0
	run kcidb_check --strict "$OUT"/kcidb/*.json
	assert_status 0
	run ls "$OUT/kcidb"
	assert_eq "h%27%22%0Ax-6.1%FF%22q-r%22%27%0A%FE%25.json" "$output" "file name"
	tests_true "$OUT"/kcidb/*.json \
		'd["builds"][0]["id"] == "aio_suite:h%27%22%0Ax:6.1%FF%22q"' \
		'd["checkouts"][0]["id"] == "aio_suite:6.1%FF%22q"' \
		'd["tests"][0]["id"].startswith("aio_suite:h%27%22%0Ax:6.1%FF%22q:r%22%27%0A%FE%25:")' \
		'd["tests"][0]["path"] == "aio.conform.sub_xff__x0a__x_.__y_"' \
		'd["tests"][0]["environment"]["misc"]["host"] == "h\x27\"\\x0ax"' \
		'd["tests"][0]["misc"]["run"] == "r\"\x27\\x0a\\xfe%"'
}

@test "a log excerpt is cut to 16 KiB on a character boundary" {
	synth --release 6.1 --conform-fail submit.basic
	edit "$(run_dir 6.1)/conform.json" 'd["results"][0]["reason"] = "é€😀x" * 5000'
	export_kcidb
	tests_true "$(the_doc)" \
		'len(t("aio.conform.submit.basic")["log_excerpt"].encode("utf-8")) <= 16384' \
		'len(t("aio.conform.submit.basic")["log_excerpt"].encode("utf-8")) > 16300' \
		'"\n[... cut: 50006 bytes in all]" in t("aio.conform.submit.basic")["log_excerpt"]' \
		'("fail: " + "é€😀x" * 5000).startswith(t("aio.conform.submit.basic")["log_excerpt"].split("\n[... cut")[0])'
	kcidb_check --strict "$(the_doc)"
}

@test "a report store that cannot hold the kcidb directory is a one-line error" {
	synth --release 6.1
	mkdir -p "$OUT"
	: >"$OUT/kcidb"
	run export_kcidb
	assert_one_line_error report 1
}

@test "the checker accepts the schema's smallest document and one of every kind" {
	echo '{"version": {"major": 5}}' >"$SCRATCH/min.json"
	echo "$VALID_DOC" >"$SCRATCH/full.json"
	run kcidb_check --strict "$SCRATCH/min.json" "$SCRATCH/full.json"
	assert_status 0
	assert_output_has "full.json: valid KCIDB v5.3 (strict): 1 checkouts, 1 builds, 1 tests, 1 issues, 1 incidents"
}

@test "the checker refuses no files, an unknown option and an unreadable file" {
	run kcidb_check
	assert_one_line_error kcidb_check 2
	run kcidb_check --bogus x
	assert_one_line_error kcidb_check 2
	run kcidb_check "$SCRATCH/none.json"
	assert_one_line_error kcidb_check 1
	mkfifo "$SCRATCH/fifo.json"
	run kcidb_check "$SCRATCH/fifo.json"
	assert_one_line_error kcidb_check 1
}

# One negative test per rule (kcidb_check.py --rules).
@test "rule json: NaN, bytes that are not UTF-8 and a lone surrogate are refused" {
	rejects json 'raw = json.dumps(d).replace("1.5", "NaN", 1).encode()'
	rejects json 'raw = json.dumps(d).replace("mainline", "main\\udcffline").encode()'
	rejects json 'raw = json.dumps(d, ensure_ascii=False).replace("mainline", "main\xffline").encode("latin-1")'
	rejects json 'raw = b"{\"version\": {\"major\": 5}"'
}

@test "rule property: a property the schema does not define is refused" {
	rejects property 'd["tests"][0]["colour"] = "red"'
	rejects property 'd["tests"][0]["number"]["scale"] = 2'
	rejects property 'd["extra"] = []'
}

@test "rule required: a test without build_id, an incident without issue_version are refused" {
	rejects required 'del d["tests"][0]["build_id"]'
	rejects required 'del d["incidents"][0]["issue_version"]'
	rejects required 'del d["tests"][0]["number"]["value"]'
	rejects required 'del d["version"]'
}

@test "rule type: a wrong type or a null is refused" {
	rejects type 'd["tests"][0]["duration"] = "1s"'
	rejects type 'd["tests"][0]["comment"] = None'
	rejects type 'd["builds"] = {}'
	rejects type 'd["issues"][0]["version"] = 1.5'
	rejects type 'd["checkouts"][0]["valid"] = 1'
}

@test "rule version: a major other than 5 or a minor above 3 is refused" {
	rejects version 'd["version"]["major"] = 4'
	rejects version 'd["version"]["minor"] = 4'
}

@test "rule origin: an origin with a hyphen (aio-suite) is refused" {
	rejects origin 'd["tests"][0]["origin"] = "aio-suite"'
	rejects origin 'd["builds"][0]["origin"] = "aio_suite\n"'
}

@test "rule id: an id without an origin and a colon is refused" {
	rejects id 'd["tests"][0]["id"] = "no-origin"'
	rejects id 'd["builds"][0]["checkout_id"] = "aio_suite:a\u0000b"'
}

@test "rule status: a status outside the schema's six is refused" {
	rejects status 'd["tests"][0]["status"] = "CRASH"'
	rejects status 'd["builds"][0]["status"] = "pass"'
}

@test "rule path: a path with an empty name or another character is refused" {
	rejects path 'd["tests"][0]["path"] = "aio..conform"'
	rejects path 'd["tests"][0]["path"] = "aio.conform.data[ext4]"'
	rejects path 'd["issues"][0]["categories"] = ["runtime."]'
}

@test "rule log-excerpt: a log excerpt of 16385 characters is refused" {
	rejects log-excerpt 'd["tests"][0]["log_excerpt"] = "é" * 16385'
}

@test "rule nul: a NUL in a text property is refused" {
	rejects nul 'd["tests"][0]["comment"] = "a\u0000b"'
	rejects nul 'd["tests"][0]["number"]["unit"] = "\u0000"'
}

@test "rule prefix: a number's prefix other than metric or binary is refused" {
	rejects prefix 'd["tests"][0]["number"]["prefix"] = "kilo"'
}

@test "rule architecture: an architecture with a hyphen is refused" {
	rejects architecture 'd["builds"][0]["architecture"] = "x86-64"'
}

@test "rule git-commit-hash: a short or upper-case commit hash is refused" {
	rejects git-commit-hash 'd["checkouts"][0]["git_commit_hash"] = "0123ABC"'
}

@test "rule patchset-hash: a patchset hash that is not sha256 is refused" {
	rejects patchset-hash 'd["checkouts"][0]["patchset_hash"] = "abc"'
}

@test "rule git-url: a git:// repository URL is refused" {
	rejects git-url 'd["checkouts"][0]["git_repository_url"] = "git://git.kernel.org/x.git"'
}

@test "rule resource-name: a resource name with a slash is refused" {
	rejects resource-name 'd["tests"][0]["output_files"][0]["name"] = "logs/x.txt"'
}

@test "rule compatible: a compatible string with a space is refused" {
	rejects compatible 'd["tests"][0]["environment"]["compatible"] = ["qemu x86"]'
}

@test "rule date-time: a date without a time or zone is refused" {
	rejects date-time 'd["tests"][0]["start_time"] = "2026-01-01"'
	rejects date-time 'd["checkouts"][0]["start_time"] = "2026-02-30T00:00:00Z"'
}

@test "rule uri: a URL that is not an absolute URI is refused" {
	rejects uri 'd["builds"][0]["config_url"] = "not a url"'
}

@test "rule email: a message id without @ is refused" {
	rejects email 'd["checkouts"][0]["message_id"] = "nobody"'
}

@test "rule minimum: a negative issue version is refused" {
	rejects minimum 'd["issues"][0]["version"] = -1'
}

@test "rule unique (strict): two tests with one id are refused" {
	rejects unique --strict 'd["tests"].append(dict(d["tests"][0]))'
	run kcidb_check "$SCRATCH/bad.json"
	assert_status 0
}

@test "rule link (strict): a test of a build the document lacks is refused" {
	rejects link --strict 'd["tests"][0]["build_id"] = "aio_suite:other"'
}

@test "rule own-origin (strict): an id that starts with another origin is refused" {
	rejects own-origin --strict 'd["tests"][0]["id"] = "other_ci:x"'
}

@test "every rule of the checker has a negative test here" {
	local rule missing=
	while IFS=$'\t' read -r rule _; do
		grep -q "rejects $rule " "$BATS_TEST_FILENAME" || missing+=" $rule"
	done < <(python3 "$CHECK" --rules)
	assert_eq "" "$missing" "rules without a negative test"
}
