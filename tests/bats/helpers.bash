# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034,SC2154
#
# Shared helpers for the bats tests: every .bats file does `load helpers`
# and calls common_setup from setup() and common_teardown from teardown().
#
#   requires NAME...            skip with a reason when something is missing;
#                               an unknown NAME fails the test
#   json_get FILE PYEXPR        print a Python expression over the JSON `d`
#   assert_one_line_error PROG [STATUS]
#                               $status is STATUS (default 2, usage) and the
#                               output is one line starting "PROG: "
#   aio_stress ARGS...          build/aio-stress under a timeout
#
# BUILD (default build, as in tests/run-all.sh) picks the build directory.
# (SC2034, SC2154: variables set here for the .bats files, and bats's own
# $status, $output and $stderr.)

bats_require_minimum_version 1.5.0

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
BUILD_DIR=${BUILD:-build}
[[ $BUILD_DIR == /* ]] || BUILD_DIR=$TOP/$BUILD_DIR
AIO_STRESS=$BUILD_DIR/aio-stress
AIO_BARE=$BUILD_DIR/aio-bare
AIO_CONFORM=$BUILD_DIR/aio-conform

# Seconds any one run of a tool may take before it counts as hung.
AIO_TEST_TIMEOUT=${AIO_TEST_TIMEOUT:-60}

common_setup() {
	# A user's FIO_CLIENTS would send every test study's fio runs to hosts.
	unset FIO_CLIENTS
	SCRATCH=$BATS_TEST_TMPDIR/scratch
	mkdir -p "$SCRATCH"
	# Loop devices this test attached itself (losetup), one per line.
	LOOPS_FILE=$BATS_TEST_TMPDIR/loops
	: >"$LOOPS_FILE"
}

# Detach every loop device the test attached and any loop device still
# backed by a file in $SCRATCH (what a failed --loop run left behind).
common_teardown() {
	local dev f

	if [[ -s $BATS_TEST_TMPDIR/mounts ]]; then
		while read -r f; do umount "$f" 2>/dev/null; done <"$BATS_TEST_TMPDIR/mounts"
	fi
	[[ $(id -u) == 0 ]] && command -v losetup >/dev/null 2>&1 || return 0
	if [[ -s ${LOOPS_FILE:-} ]]; then
		while read -r dev; do
			[[ -n $dev ]] && losetup -d "$dev" 2>/dev/null
		done <"$LOOPS_FILE"
	fi
	[[ -d ${SCRATCH:-} ]] || return 0
	for f in "$SCRATCH"/*; do
		[[ -f $f ]] || continue
		for dev in $(losetup -j "$f" 2>/dev/null | cut -d: -f1); do
			losetup -d "$dev" 2>/dev/null
		done
	done
	return 0
}

# attach_loop FILE: print the loop device now over FILE; teardown detaches.
attach_loop() {
	local dev

	dev=$(losetup -f --show "$1") || return 1
	echo "$dev" >>"$LOOPS_FILE"
	echo "$dev"
}

aio_stress() {
	timeout -k 5 "$AIO_TEST_TIMEOUT" "$AIO_STRESS" "$@"
}

aio_bare() {
	timeout -k 5 "$AIO_TEST_TIMEOUT" "$AIO_BARE" "$@"
}

# The reason a requirement is missing, or nothing when it is met.
_missing() {
	local out

	case $1 in
	root)
		[[ $(id -u) == 0 ]] || echo "needs root"
		;;
	loop)
		if [[ $(id -u) != 0 ]]; then
			echo "loop devices need root"
		elif [[ ! -c /dev/loop-control ]]; then
			echo "no /dev/loop-control (loop driver missing)"
		elif ! command -v losetup >/dev/null 2>&1; then
			echo "losetup is not installed (util-linux)"
		fi
		;;
	odirect)
		mkdir -p "$SCRATCH"
		if ! dd if=/dev/zero of="$SCRATCH/.odirect-probe" bs=4096 \
			count=1 oflag=direct status=none 2>/dev/null; then
			echo "O_DIRECT does not work on $(stat -f -c %T "$SCRATCH") ($SCRATCH)"
		fi
		rm -f "$SCRATCH/.odirect-probe"
		;;
	io_uring)
		mkdir -p "$SCRATCH"
		out=$("$AIO_STRESS" --quiet --engine io_uring -o 0 -s 64k -r 4k \
			"$SCRATCH/.io_uring-probe" 2>&1)
		local rc=$?
		rm -f "$SCRATCH/.io_uring-probe"
		# Absent, not broken: a build without liburing (the engine is
		# not listed) or a kernel that refuses io_uring (exit 77, the
		# skip).  Any other failure is left for the test to report.
		if ((rc == 77)) || ((rc != 0)) && [[ $out == *"io_uring unavailable"* ||
			$out == *"not compiled in"* ||
			$out == *"unknown engine 'io_uring'"* ]]; then
			echo "io_uring: ${out%%$'\n'*}"
		fi
		;;
	qemu)
		command -v qemu-system-x86_64 >/dev/null 2>&1 ||
			echo "qemu-system-x86_64 is not installed (qemu-system-x86)"
		;;
	busybox-static)
		if ! command -v busybox >/dev/null 2>&1; then
			echo "busybox is not installed (busybox-static)"
		elif ldd "$(command -v busybox)" >/dev/null 2>&1; then
			echo "busybox is not static (busybox-static)"
		fi
		;;
	kernel-cache)
		# Debian's 6.1 kernel, from the cache or fetched into it.
		python3 "$TOP/ci/fetch_kernels.py" --cached-only 6.1 \
			>/dev/null 2>&1 ||
			python3 "$TOP/ci/fetch_kernels.py" 6.1 >/dev/null 2>&1 ||
			echo "no Debian 6.1 kernel in the cache ($("$TOP/ci/fetch_kernels.py" --cache-dir 2>/dev/null)) and it cannot be fetched"
		;;
	fio | gnuplot | node | python3 | mkfs.ext4 | mkfs.xfs | mkfs.btrfs)
		command -v "$1" >/dev/null 2>&1 || echo "$1 is not installed"
		;;
	nonroot)
		if [[ $(id -u) != 0 ]]; then
			echo "switching to uid 65534 needs root"
		elif ! command -v setpriv >/dev/null 2>&1; then
			echo "setpriv is not installed (util-linux)"
		elif ! setpriv --reuid=65534 --regid=65534 --clear-groups \
			test -x "$AIO_STRESS" 2>/dev/null; then
			echo "uid 65534 cannot execute $AIO_STRESS"
		fi
		;;
	*)
		return 1
		;;
	esac
}

# requires NAME...: skip the test, naming every missing requirement.
requires() {
	local name why reasons=()

	for name in "$@"; do
		if ! why=$(_missing "$name"); then
			echo "requires: unknown requirement '$name'" >&2
			false
			return 1
		fi
		[[ -n $why ]] && reasons+=("$why")
	done
	if ((${#reasons[@]})); then
		local joined=${reasons[0]} i
		for ((i = 1; i < ${#reasons[@]}; i++)); do
			joined+="; ${reasons[i]}"
		done
		skip "$joined"
	fi
}

# The python3 on PATH, resolved once per bats run (a pyenv shim costs a
# shell script on every call).
_python() {
	local cache=${BATS_RUN_TMPDIR:-$BATS_TEST_TMPDIR}/python3

	if [[ ! -s $cache ]]; then
		python3 -c 'import sys; print(sys.executable)' >"$cache.$$" &&
			mv "$cache.$$" "$cache"
	fi
	"$(cat "$cache")" "$@"
}

# json_get FILE PYEXPR: print PYEXPR evaluated with d = the parsed FILE.
# Strings print as they are, everything else as JSON (true, null, [1, 2]).
json_get() {
	_python - "$1" "$2" <<'EOF'
import json
import sys

with open(sys.argv[1]) as f:
    d = json.load(f)
v = eval(sys.argv[2], {"d": d})
print(v if isinstance(v, str) else json.dumps(v))
EOF
}

# json_true FILE PYEXPR...: succeed when every PYEXPR over the JSON `d` is
# true; name each one that is not.
json_true() {
	_python - "$@" <<'EOF'
import json
import sys

with open(sys.argv[1]) as f:
    d = json.load(f)
bad = 0
for expr in sys.argv[2:]:
    try:
        v = eval(expr, {"d": d})
    except Exception as e:
        v = f"{type(e).__name__}: {e}"
    if v is not True:
        print(f"expected true: {expr}", file=sys.stderr)
        print(f"seen: {v!r}", file=sys.stderr)
        bad += 1
sys.exit(1 if bad else 0)
EOF
}

# assert_eq EXPECTED SEEN [WHAT]
assert_eq() {
	if [[ $1 != "$2" ]]; then
		echo "${3:-value}: expected '$1', seen '$2'" >&2
		return 1
	fi
}

# assert_status EXPECTED: compare with the $status of the last `run`.
assert_status() {
	if [[ $status != "$1" ]]; then
		echo "exit status: expected $1, seen $status" >&2
		echo "output: $output" >&2
		return 1
	fi
}

# assert_output_has TEXT: the output of the last `run` contains TEXT.
assert_output_has() {
	if [[ $output != *"$1"* ]]; then
		echo "expected in the output: '$1'" >&2
		echo "output: $output" >&2
		return 1
	fi
}

# assert_output_line REGEX: some line of the last `run` matches REGEX.
assert_output_line() {
	if ! grep -Eq -- "$1" <<<"$output"; then
		echo "expected a line matching /$1/" >&2
		echo "output: $output" >&2
		return 1
	fi
}

# refute_line REGEX TEXT: no line of TEXT matches REGEX.
refute_line() {
	if grep -Eq -- "$1" <<<"$2"; then
		echo "expected no line matching /$1/, seen:" >&2
		echo "$2" >&2
		return 1
	fi
}

# assert_one_line_error PROGRAM [STATUS]
assert_one_line_error() {
	local prog=$1 want=${2:-2}

	assert_status "$want" || return 1
	if [[ -z $output || $output == *$'\n'* ]]; then
		echo "expected exactly one line of output, seen:" >&2
		echo "$output" >&2
		return 1
	fi
	if [[ $output != "$prog: "* ]]; then
		echo "expected the line to start with '$prog: ', seen: $output" >&2
		return 1
	fi
}

# interrupt_on_loop PID DIR NAME LOG: wait (up to 20 s) for a loop device
# over a file under DIR, send SIGINT to PID, and wait up to 60 s for it to
# exit; fails, killing PID and showing LOG, when no loop device appeared
# or NAME did not exit after SIGINT.
interrupt_on_loop() {
	local pid=$1 dir=$2 name=$3 log=$4 i dev

	for ((i = 0; i < 400; i++)); do
		dev=$(losetup --list --noheadings -O NAME,BACK-FILE 2>/dev/null |
			grep -F "$dir/" | head -1)
		[[ -n $dev ]] && break
		sleep 0.05
	done
	if [[ -z $dev ]]; then
		kill -KILL "$pid" 2>/dev/null
		echo "no loop device appeared" >&2
		cat "$log" >&2
		return 1
	fi
	kill -INT "$pid"
	# The clean-up may take a few seconds; never wait for ever.
	for ((i = 0; i < 600; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -KILL "$pid" 2>/dev/null; then
		echo "$name did not exit after SIGINT" >&2
		return 1
	fi
}

# wait_status PID: wait for PID, a background job of this shell, and set
# $status to its exit status (`run wait` waits in a subshell, which cannot).
wait_status() {
	status=0
	wait "$1" || status=$?
}

# scratch_leftovers DIR: what runs of the suite left in DIR -- loop devices
# over files in it, mounts in it, scratch directories -- one a line;
# nothing when DIR is clean.
scratch_leftovers() {
	local dir=$1
	losetup --list --noheadings -O NAME,BACK-FILE 2>/dev/null | grep -F " $dir/"
	awk -v d="$dir/" 'index($5, d) == 1 { print "mount " $5 }' /proc/self/mountinfo
	find "$dir" -maxdepth 1 \( -name '.scratch-study-*' -o -name 'aio-bench-*' \
		-o -name '.scratch-bench-*' -o -name 'aio-conform*' \) -printf 'scratch %p\n'
	return 0
}

# assert_refused PROG COMMAND... -- ARGS...: COMMAND with each ARGS
# (words split at spaces) ends with one line "PROG: ..." and status 2.
assert_refused() {
	local prog=$1 cmd=() a
	shift
	while [[ $# -gt 0 && $1 != -- ]]; do
		cmd+=("$1")
		shift
	done
	shift
	for a in "$@"; do
		# shellcheck disable=SC2086 # an option and its value
		run timeout 20 "${cmd[@]}" $a
		assert_one_line_error "$prog" || { echo "with $a" >&2; return 1; }
	done
}

# readonly_dir: print a directory on a read-only filesystem (a tmpfs the
# test mounts; teardown unmounts it).  Needs root.
readonly_dir() {
	local d=$SCRATCH/ro
	mkdir -p "$d"
	mount -t tmpfs -o ro,size=1m aio-suite-test "$d" || return 1
	echo "$d" >>"$BATS_TEST_TMPDIR/mounts"
	echo "$d"
}

# wait_output FILE PID: wait (up to 30 s) until PID has written to FILE,
# that is, has started (a signal before a program has set up its handlers
# is the interpreter's business, not the program's).
wait_output() {
	local i
	for ((i = 0; i < 300; i++)); do
		[[ -s $1 ]] && return 0
		kill -0 "$2" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}
