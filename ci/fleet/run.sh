#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Description: make fleet: ci/fleet/fleet.yml on the hosts of an inventory.
#
#   ci/fleet/run.sh INVENTORY [JOB] [ansible-playbook options...]
#
# JOB is check (default), bench or conform (docs/FLEET.md).  The hosts'
# runs go to the results store, results/<inventory host>/<release>/<run
# id>/ ($AIO_SUITE_RESULTS moves it), where make report compares them.
# QUICK=1, REPEAT=N and CONFORM_TESTS="PATTERN ..." reach the job.  Exit
# status 0 when every host is ok, 1 when one failed or did not answer
# (the summary names it), 2 on a usage error.
set -u
prog=fleet
top=$(cd "$(dirname "$0")/../.." && pwd)

usage_error() {
	echo "$prog: $*" >&2
	exit 2
}

inventory=${1:-}
job=${2:-check}
[ -n "$inventory" ] ||
	usage_error "INVENTORY is missing: make fleet INVENTORY=FILE [JOB=check|bench|conform] (example: ci/fleet/inventory.example)"
[ -e "$inventory" ] || usage_error "INVENTORY '$inventory' does not exist"
case $job in
check | bench | conform) ;;
*) usage_error "unknown JOB '$job' (check, bench or conform)" ;;
esac
shift
[ $# -gt 0 ] && shift
case ${REPEAT:-} in
"" | [1-9] | [1-9][0-9] | [1-9][0-9][0-9] | 1000) ;;
*) usage_error "bad value for REPEAT: '$REPEAT' (1 to 1000)" ;;
esac
command -v ansible-playbook >/dev/null 2>&1 || {
	echo "$prog: ansible-playbook is not installed (as root: apt-get install ansible-core)" >&2
	exit 1
}

results=${AIO_SUITE_RESULTS:-$top/results}
mkdir -p "$results" || exit 1
results=$(cd "$results" && pwd)
run=$(date -u +%Y%m%dT%H%M%SZ)-fleet
state=$(mktemp -d "${TMPDIR:-/tmp}/aio-suite-fleet.XXXXXX") || exit 1
trap 'rm -rf "$state"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

extra=$(
	python3 - "$job" "$results" "$state" "$run" "${QUICK:-}" "${REPEAT:-}" \
		"${CONFORM_TESTS:-}" <<'EOF'
import json, sys
job, results, state, run, quick, repeat, tests = sys.argv[1:]
v = {"fleet_job": job, "fleet_results": results, "fleet_state": state, "fleet_run": run}
if quick not in ("", "0"):
    v["fleet_quick"] = True
if repeat:
    v["fleet_repeat"] = repeat
if tests.split():
    v["fleet_conform_tests"] = tests.split()
print(json.dumps(v))
EOF
)

echo "$prog: ci/fleet/fleet.yml, job $job, on the hosts of $inventory; runs into $results"
# The inventory's own ansible.cfg is not read from the tree; a user's is.
ANSIBLE_RETRY_FILES_ENABLED=0 ansible-playbook -i "$inventory" -e "$extra" "$@" \
	"$top/ci/fleet/fleet.yml"
rc=$?
[ -s "$state/summary.txt" ] && cat "$state/summary.txt"
if [ $rc -eq 0 ]; then
	echo "$prog: every host ok; make report compares the runs"
	exit 0
fi
echo "$prog: not every host ok (ansible-playbook exited with status $rc; the summary above names them)" >&2
exit 1
