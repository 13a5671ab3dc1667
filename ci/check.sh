#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# CI entry point: the suite on the running kernel.  Installs what is
# missing (ci/deps.sh), builds, runs every test (make check), stores
# aio-conform's results for this kernel in results/, and writes JUnit XML
# of them to results/junit/host.xml for the CI system to show.
#
#   ci/check.sh
set -euo pipefail
cd "$(dirname "$0")/.."

bash ci/deps.sh
make check
python3 ci/kernels.py --host-only
python3 tools/report.py --runs "$(uname -r)" --formats junit --no-charts \
	--out results/junit/host -q
cp results/junit/host/conform-junit.xml results/junit/host.xml
