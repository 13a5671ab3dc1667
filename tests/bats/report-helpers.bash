# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034
#
# Description: what the report's bats files (report*.bats) share, loaded
# after helpers: a per-test results store ($AIO_SUITE_RESULTS) that
# tools/synth.py writes, the report's directory ($OUT) and these helpers:
#
#   synth ARGS...          tools/synth.py into the store
#   run_dir RELEASE        the (first) run directory of RELEASE, host synth
#   edit FILE PYTHON [TO [ARG]]
#                          run PYTHON with d = the parsed JSON FILE (and ARG
#                          in sys.argv[4]), write d back (or to TO)

setup() {
	common_setup
	requires python3
	export AIO_SUITE_RESULTS=$SCRATCH/results
	OUT=$SCRATCH/report
	REPORT=$TOP/tools/report.py
}

teardown() {
	common_teardown
}

synth() {
	python3 "$TOP/tools/synth.py" "$AIO_SUITE_RESULTS" "$@" >/dev/null
}

run_dir() {
	local d
	for d in "$AIO_SUITE_RESULTS"/synth/"$1"/*/; do
		echo "${d%/}"
		return
	done
}

edit() {
	python3 - "$1" "$2" "${3:-$1}" "${4:-}" <<'PYEOF'
import json
import sys

with open(sys.argv[1]) as f:
    d = json.load(f)
exec(sys.argv[2])
with open(sys.argv[3], "w") as f:
    f.write(json.dumps(d))
PYEOF
}
