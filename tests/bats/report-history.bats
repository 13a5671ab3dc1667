#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: the report's history (aiosuite/report/changepoints.py,
# trends.py): the runs of a host and kernel in time order, change points
# (E-Divisive, a permutation-style test at --cp-alpha, the --noise floor)
# per point metric and per composite, the "Change points" section,
# changepoints.csv and the trend charts (charts/trend-<scenario>), and
# the dashboard HTML: charts first, tables sortable, one file.  Histories
# are written by tools/synth.py --series.

load helpers
load report-helpers

# report ARGS...: the report into $OUT under a timeout.
report() {
	timeout -k 5 300 python3 "$REPORT" --out "$OUT" "$@"
}

# cps_where PYEXPR: print PYEXPR over rows, the rows of changepoints.csv
# (dicts; position, change_pct and p_value as numbers).
cps_where() {
	python3 - "$OUT/changepoints.csv" "$1" <<'EOF'
import csv
import sys

rows = list(csv.DictReader(open(sys.argv[1])))
for r in rows:
    for k in ("position", "change_pct", "p_value", "runs"):
        r[k] = float(r[k])
print(eval(sys.argv[2], {"rows": rows}))
EOF
}

# history_counts: "SERIES SHIFTED" from the report's console line.
history_counts() {
	sed -nE 's/^report: history: ([0-9]+) series .*: ([0-9]+) with a change point$/\1 \2/p' \
		<<<"$output"
}

@test "a 10% step at run 7 of 12 runs (5% CV) is a change point at run 7 +- 1 of every composite" {
	synth --series 12 --step-at 7 --step-pct 10 --cv 5 --release 6.1
	run report --no-charts --formats md,csv
	assert_status 0
	# Every composite (three scenarios, their engines) shifted once, at run
	# 7 +- 1, by -10% +- 3 (a lower-is-better metric 10% worse is -9.1%).
	run cps_where '[(r["point"], r["position"], round(r["change_pct"])) for r in rows
		if r["composite"] == "true"]'
	assert_status 0
	echo "$output"
	run cps_where 'sorted({r["point"] for r in rows if r["composite"] == "true"})'
	assert_eq "['synth-batching composite', 'synth-batching composite engine=libaio', 'synth-blocking composite', 'synth-engines composite', 'synth-engines composite engine=io_uring', 'synth-engines composite engine=libaio']" \
		"$output" "composites that shifted"
	run cps_where 'all(6 <= r["position"] <= 8 and -13 <= r["change_pct"] <= -7
		and r["p_value"] <= 0.01 and r["verdict"] == "regression"
		for r in rows if r["composite"] == "true")'
	assert_eq True "$output" "composites at run 7 +- 1, -10% +- 3, p <= 0.01, regressions"
}

@test "the 10% step of 12 runs is found at run 7 +- 1 in most point metrics and nowhere else" {
	synth --series 12 --step-at 7 --step-pct 10 --cv 5 --release 6.1
	run report --no-charts --formats csv
	assert_status 0
	local counts
	counts=$(history_counts)
	# 64 point metrics with a direction moved (engines' inline_ratio has
	# none and never changes), plus 6 composites.
	run cps_where 'sum(1 for r in rows if r["composite"] == "false" and r["better"]
		and 6 <= r["position"] <= 8)'
	echo "# step found at run 7 +- 1 in $output of 64 point metrics (series, shifted: $counts)" >&3
	((output >= 51)) # 80%
	run cps_where '[(r["point"], r["metric"], r["position"]) for r in rows
		if not 6 <= r["position"] <= 8]'
	assert_eq "[]" "$output" "change points away from the step"
}

@test "flat histories over four seeds: at most 1 series in 20 has a change point" {
	local s
	for s in 1 2 3 4; do
		# Runs differ by a 5% CV of their own, beside their samples' 5%.
		synth --series 12 --cv 5 --run-cv 5 --release "6.$s" --seed "$s"
	done
	run report --no-charts --formats csv
	assert_status 0
	local series shifted
	read -r series shifted <<<"$(history_counts)"
	echo "# flat: $shifted of $series series with a change point" >&3
	((series >= 280))
	((shifted * 20 <= series))
}

@test "a flat history with no run-to-run drift has no change point at all" {
	synth --series 12 --cv 5 --release 6.1 --seed 7
	run report --no-charts --formats csv
	assert_status 0
	assert_output_line '^report: history: [0-9]+ series of 1 host and kernel \(12 runs\): 0 with a change point$'
	run cps_where 'len(rows)'
	assert_eq 0 "$output"
}

@test "the Change points section lists the latest shift of each series, composites first, in report.md and report.html" {
	synth --series 8 --step-at 5 --step-pct 20 --cv 2 --release 6.1
	run report --no-charts --formats md,html
	assert_status 0
	assert_output_line '^report: change point: synth/6.1: synth-engines composite: -[0-9.]+% from run 20260101T040000Z-series-1-05 \(5 of 8, p=[0-9.<]+\)$'
	grep -q '^## Change points$' "$OUT/report.md"
	# The first row of the table is a composite, shifted at run 5.
	run sed -n '/^## Change points$/,/^## /{/^| 2026/p}' "$OUT/report.md"
	[[ ${lines[0]} == *"| 5 of 8 | ◆ synth-"*" composite"* ]]
	grep -q '<h2>Change points</h2>' "$OUT/report.html"
	grep -q '<td>◆ synth-engines composite</td>' "$OUT/report.html"
}

@test "report.html is a dashboard: the verdict, trends, change points and charts before the tables" {
	requires gnuplot
	synth --series 6 --step-at 4 --step-pct 20 --cv 2 --release 6.1
	run report --formats md,html
	assert_status 0
	run grep -o '<h2>[^<]*</h2>' "$OUT/report.html"
	assert_eq "Verdict Trends Change points Charts Runs" \
		"$(sed -E 's/<\/?h2>//g' <<<"$output" | head -5 | paste -sd' ')" "the first sections"
	run grep -o '<h2>[^<]*</h2>' "$OUT/report.html"
	[[ $output == *"All metrics"* ]]
}

@test "a trend chart per scenario is drawn as a PNG and an SVG, with its bands and change points" {
	requires gnuplot
	synth --series 6 --step-at 4 --step-pct 20 --cv 2 --release 6.1
	run report --formats md
	assert_status 0
	local c
	for c in synth-engines synth-blocking synth-batching; do
		[[ -s $OUT/charts/trend-$c.png && -s $OUT/charts/trend-$c.svg ]] ||
			{ echo "missing trend-$c" >&2; false; }
		# The change point at run 4 (01-01 03:00 UTC) is marked.
		grep -q $'^1767236400\t' "$OUT/charts/trend-$c-cps.dat" ||
			{ echo "no change point in trend-$c-cps.dat" >&2; false; }
	done
	grep -qF '](<charts/trend-synth-engines.png>)' "$OUT/report.md"
	run grep -c 'chart trend-.*not drawn' "$OUT/report.md"
	assert_eq 0 "$output" "trend charts not drawn"
}

@test "fewer than 4 runs of a host and kernel: no history, said once, no chart skipped" {
	requires gnuplot
	synth --series 3 --release 6.1
	run report --formats md
	assert_status 0
	refute_line '^report: (history|chart trend)' "$output"
	grep -q '^No history: no host and kernel has 4 or more runs' "$OUT/report.md"
	[[ ! -e $OUT/charts/trend-synth-engines.png ]]
}

# hostile_history [QUOTES]: six runs of a host and release whose names, the
# scenario's name, targets and labels hold backquotes, $(), %, @, ../ and
# backslashes (and with QUOTES, quotes and a newline), a step at run 4: a
# command in them makes a file X<n>.
hostile_history() {
	local ex=${1:+$'\'"\n'} f
	synth --series 6 --step-at 4 --step-pct 20 --cv 2 --host 'h`touch X1`$(touch X2)' \
		--release "6.9${ex}\`touch X3\`%s\\x"
	for f in "$AIO_SUITE_RESULTS"/*/*/*/synth-engines.json; do
		edit "$f" '
ex = sys.argv[4]
d["scenario"] = "eng`touch X6`$(touch X7)%s\\@" + ex
for p in d["points"]:
    p["target"] = "`touch X8`\\../../x" + ex
    p["labels"]["engine"] += "`touch X9`\\@xt %s #" + ex' "$f" "$ex"
	done
}

@test "a backquote or \$() in a host, a release, a scenario or a label runs nothing in the trend charts" {
	requires gnuplot
	hostile_history
	mkdir -p "$SCRATCH/cwd"
	touch "$SCRATCH/marker"
	run bash -c 'cd "$1" && shift && timeout -k 5 300 python3 "$@"' - "$SCRATCH/cwd" \
		"$REPORT" --out "$OUT" --formats md,html,csv
	assert_status 0
	run bash -c 'ls "$1"/charts/trend-*.png | wc -l' - "$OUT"
	assert_eq 3 "$output" "trend charts"
	run find "$SCRATCH" "$TOP" /tmp -xdev -name 'X[0-9]*' -newer "$SCRATCH/marker"
	assert_eq "" "$output" "files made by commands in the names"
	run find "$SCRATCH" -newer "$SCRATCH/marker" -not -path "$OUT*" -not -path "$SCRATCH"
	assert_eq "" "$output" "files written outside $OUT"
}

@test "quotes, backslashes, %, # and newlines in names break no trend chart" {
	requires gnuplot
	hostile_history quotes
	run report --formats md
	assert_status 0
	run grep -c 'chart trend-.*not drawn' "$OUT/report.md"
	assert_eq 0 "$output" "trend charts not drawn"
	local f
	f=$(ls "$OUT"/charts/trend-eng-*.dat | grep -v -- '-band\|-cps')
	[[ -s ${f%.dat}.png && -s ${f%.dat}.svg ]]
	# The labels are data: the engine label, escaped, is a series title.
	grep -qF 'touch X9`\\@xt %s #' "$f"
}

@test "report.html stays one file: one inline script, nothing loaded" {
	requires gnuplot
	synth --series 6 --step-at 4 --step-pct 20 --cv 2 --release 6.1
	run report --formats html
	assert_status 0
	run grep -c '<script' "$OUT/report.html"
	assert_eq 1 "$output" "script elements"
	grep -q '^<script>/\* aio-suite: sortable tables \*/' "$OUT/report.html"
	run grep -Eo '(src|href)="[^"]{0,12}|<link|<iframe|<object|https?:|url\(|import\(|fetch\(|XMLHttpRequest' \
		"$OUT/report.html"
	refute_line '(src|href)="[^d]|<link|<iframe|<object|https?:|url\(|import\(|fetch\(|XMLHttpRequest' "$output"
	# Every table has a head to click.
	[[ $(grep -c '<table>' "$OUT/report.html") == $(grep -c '<table><thead>' "$OUT/report.html") ]]
}

@test "a click on a table heading sorts its rows by number (SI prefixes, %, <), then text, blanks last" {
	requires node
	synth --series 6 --release 6.1
	run report --no-charts --formats html
	assert_status 0
	sed -n 's/^<script>\(.*\)<\/script>$/\1/p' "$OUT/report.html" >"$SCRATCH/sorter.js"
	[[ -s $SCRATCH/sorter.js ]]
	# A stand-in for the browser's document: one table, one column.
	run node -e '
const vals = ["1.5k", "-", "+3.2%", "<0.001", "900", "2M", "abc", "-7.5%"];
function cell(t) { return { textContent: t }; }
const th = { attrs: {}, handlers: {},
  setAttribute(k, v) { this.attrs[k] = v; }, getAttribute(k) { return this.attrs[k]; },
  removeAttribute(k) { delete this.attrs[k]; },
  addEventListener(e, f) { this.handlers[e] = f; } };
const body = { rows: vals.map(v => ({ cells: [cell(v)] })),
  appendChild(r) { this.rows.splice(this.rows.indexOf(r), 1); this.rows.push(r); } };
const table = { tHead: { rows: [{ cells: [th] }] }, tBodies: [body] };
global.document = { querySelectorAll: () => [table] };
eval(require("fs").readFileSync(process.argv[1], "utf8"));
const show = () => body.rows.map(r => r.cells[0].textContent).join(" ");
th.handlers.click(); console.log(show(), th.attrs["aria-sort"]);
th.handlers.click(); console.log(show(), th.attrs["aria-sort"]);
' "$SCRATCH/sorter.js"
	assert_status 0
	assert_eq "-7.5% <0.001 +3.2% 900 1.5k 2M abc - ascending" "${lines[0]}"
	assert_eq "abc 2M 1.5k 900 +3.2% <0.001 -7.5% - descending" "${lines[1]}"
}

@test "runs are ordered by the time of their run id, else env.json's time_utc" {
	synth --release 6.1 --run-id 'b-first' --seed 1
	synth --release 6.1 --run-id 'a-second' --seed 2
	synth --release 6.1 --run-id '20250101T000000Z-third' --seed 3
	synth --release 6.1 --run-id 'c-none' --seed 4
	edit "$(dirname "$(run_dir 6.1)")/b-first/env.json" 'd["time_utc"] = "2024-01-01T00:00:00+00:00"'
	edit "$(dirname "$(run_dir 6.1)")/a-second/env.json" 'd["time_utc"] = "2024-06-01T00:00:00Z"'
	PYTHONPATH=$TOP run python3 - "$AIO_SUITE_RESULTS" <<'EOF'
import sys
from pathlib import Path
from aiosuite.report import changepoints, collect

notes = []
for host, release, runs in changepoints.history(collect.load_store(Path(sys.argv[1])), notes):
    print(" ".join(r.run_id for r, _ in runs))
print(*notes, sep="\n")
EOF
	assert_status 0
	assert_eq "b-first a-second 20250101T000000Z-third" "${lines[0]}"
	assert_eq "synth/6.1/c-none: no time (run id or env.json time_utc): left out of the history" "${lines[1]}"
}

@test "points whose parameters differ only in their rounds count are one series" {
	synth --series 4 --release 6.1
	local f
	for f in "$AIO_SUITE_RESULTS"/synth/6.1/*-0[12]/synth-engines.json; do
		edit "$f" 'd["params"]["rounds"] = 3'
	done
	run report --no-charts --formats csv
	assert_status 0
	assert_output_line '^report: history: [0-9]+ series of 1 host and kernel \(4 runs\)'
	run python3 - "$OUT/report.csv" <<'EOF'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["source"] == "synth-engines"]
print(len({r["variant"] for r in rows}))
EOF
	assert_eq 1 "$output" "engines variants"
}

@test "report refuses a --cp-alpha outside (0, 1) and synth a --step-at without --series: one line, status 2" {
	synth --release 6.1
	run report --cp-alpha 0
	assert_one_line_error report
	assert_output_has "--cp-alpha: must be between 0 and 1"
	run report --cp-alpha 1.5
	assert_one_line_error report
	run python3 "$TOP/tools/synth.py" "$AIO_SUITE_RESULTS" --release 6.1 --step-at 3
	assert_one_line_error synth
	run python3 "$TOP/tools/synth.py" "$AIO_SUITE_RESULTS" --release 6.1 --series 5 --step-at 6
	assert_one_line_error synth
	assert_output_has "--step-at: must be 1 to 5"
}
