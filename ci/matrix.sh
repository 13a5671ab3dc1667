#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# CI entry point: the kernel matrix.  Fetches Debian's kernels into the
# cache ($AIO_SUITE_CACHE, default ~/.cache/aio-suite: cache it between
# runs), boots each in qemu with the suite inside (ci/kernels.py), and
# writes JUnit XML of every guest's conformance run to results/junit/.
# Arguments go to ci/kernels.py, e.g. --releases "6.1 6.12".
#
#   ci/matrix.sh [ci/kernels.py arguments]
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

bash ci/deps.sh || exit 1
make all || exit 1
python3 ci/kernels.py --summary results/kernels-summary.json "$@"
rc=$?
python3 tools/report.py --formats junit --no-charts --out results/junit/kernels -q &&
	cp results/junit/kernels/conform-junit.xml results/junit/kernels.xml || rc=1
exit $rc
