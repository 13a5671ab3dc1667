# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034
#
# Description: what the aio-stress-*.bats files share: `load helpers`, a
# scratch file $F and a JSON path $J per test, and the common teardown.
# A file that needs more teardown defines its own teardown() calling
# stress_teardown.

load helpers

setup() {
	common_setup
	F=$SCRATCH/file
	J=$SCRATCH/out.json
}

stress_teardown() {
	common_teardown
}

teardown() {
	stress_teardown
}
