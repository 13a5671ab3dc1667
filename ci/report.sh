#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# CI entry point: the report over everything in results/ (the host's and
# the guests' runs), failing on a significant regression or a new
# conformance failure.  Arguments go to tools/report.py.
#
#   ci/report.sh [tools/report.py arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f tools/report.py ]; then
	echo "report: tools/report.py is missing" >&2
	exit 1
fi
python3 tools/report.py --fail-on-regression "$@"
