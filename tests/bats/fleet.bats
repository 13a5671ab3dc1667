#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: the suite on a fleet through Ansible (issue 13, item 2):
# make fleet / ci/fleet/run.sh running ci/fleet/fleet.yml.  The "hosts"
# are this machine: one through Ansible's local connection, one through
# SSH to a private sshd on 127.0.0.1 that the test starts (its own config,
# host key and authorized key in the test's directory, a free port, under
# a timeout in a process group of its own, stopped on teardown; nothing of
# the system's sshd or of ~/.ssh is used or changed), and one to a port
# where nothing listens.  Each host gets the `make dist` tarball of HEAD
# (made once into the test's directory) built in place in a directory of
# its own and runs a tiny job: aio-bench's conform part on the submit
# tests and a few of setup's.

load helpers

# Seconds an sshd of the test may live at most, even if bats is killed.
SSHD_LIMIT=${SSHD_LIMIT:-600}
# Seconds a fleet run may take.
FLEET_TIMEOUT=${FLEET_TIMEOUT:-600}

setup_file() {
	local dist=$BATS_FILE_TMPDIR/dist
	# One tarball for every test of the file; a failure is each test's skip.
	if "$TOP/ci/package.sh" dist "$dist" >"$BATS_FILE_TMPDIR/dist.log" 2>&1; then
		ls "$dist"/aio-suite-*.tar.gz >"$BATS_FILE_TMPDIR/tarball"
	fi
}

setup() {
	common_setup
	RESULTS=$BATS_TEST_TMPDIR/results
	SSHD=$BATS_TEST_TMPDIR/sshd
	INV=$BATS_TEST_TMPDIR/inventory
	# Ansible's own files in the test's directory, not under ~/.ansible;
	# no SSH connection outlives its task (no ControlPersist master).
	export ANSIBLE_HOME=$BATS_TEST_TMPDIR/ansible
	export ANSIBLE_LOCAL_TEMP=$ANSIBLE_HOME/tmp ANSIBLE_REMOTE_TEMP=$ANSIBLE_HOME/remote-tmp
	export ANSIBLE_CONFIG=$BATS_TEST_TMPDIR/ansible.cfg
	export ANSIBLE_SSH_ARGS="-o ControlMaster=no"
	export ANSIBLE_NOCOLOR=1 ANSIBLE_HOST_KEY_CHECKING=False
	: >"$ANSIBLE_CONFIG"
}

teardown() {
	stop_sshd
	common_teardown
}

requires_fleet() {
	requires python3
	command -v ansible-playbook >/dev/null 2>&1 ||
		skip "ansible-playbook is not installed (apt-get install ansible-core)"
	[[ -s $BATS_FILE_TMPDIR/tarball ]] ||
		skip "make dist cannot be made here: $(tail -1 "$BATS_FILE_TMPDIR/dist.log")"
	TARBALL=$(cat "$BATS_FILE_TMPDIR/tarball")
}

# A TCP port of 127.0.0.1 that nothing listens on now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_sshd: a private sshd on 127.0.0.1:$PORT that lets this user in
# with $SSHD/client_key only.  Skips with the reason when there is no sshd
# or it does not let the key in within 10 s.
start_sshd() {
	local sshd i made=
	sshd=$(command -v sshd || echo /usr/sbin/sshd)
	[[ -x $sshd ]] || skip "sshd is not installed (apt-get install openssh-server)"
	if ! command -v ssh >/dev/null || ! command -v ssh-keygen >/dev/null; then
		skip "ssh is not installed (apt-get install openssh-client)"
	fi
	mkdir -p "$SSHD"
	if ! ssh-keygen -q -t ed25519 -N '' -C fleet-host -f "$SSHD/host_key" ||
		! ssh-keygen -q -t ed25519 -N '' -C fleet-client -f "$SSHD/client_key"; then
		skip "ssh-keygen failed"
	fi
	cp "$SSHD/client_key.pub" "$SSHD/authorized_keys"
	PORT=$(free_port) || skip "no free port on 127.0.0.1"
	cat >"$SSHD/sshd_config" <<-EOF
		ListenAddress 127.0.0.1:$PORT
		HostKey $SSHD/host_key
		AuthorizedKeysFile $SSHD/authorized_keys
		PidFile $SSHD/sshd.pid
		AllowUsers $(id -un)
		PermitRootLogin prohibit-password
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		UsePAM no
		StrictModes no
		Subsystem sftp internal-sftp
	EOF
	# sshd wants its privilege separation directory; made here only when
	# missing, and removed again on teardown.
	if [[ ! -d /run/sshd ]]; then
		mkdir -m 0755 /run/sshd 2>/dev/null || skip "sshd cannot start: no /run/sshd and it cannot be made"
		made=1
	fi
	echo "$made" >"$SSHD/made-run-sshd"
	"$sshd" -t -f "$SSHD/sshd_config" >"$SSHD/check.log" 2>&1 ||
		skip "sshd cannot start: $(tail -1 "$SSHD/check.log")"
	setsid timeout -k 5 "$SSHD_LIMIT" "$sshd" -D -f "$SSHD/sshd_config" -E "$SSHD/sshd.log" \
		>/dev/null 2>&1 3>&- </dev/null &
	echo $! >"$SSHD/group"
	for ((i = 0; i < 100; i++)); do
		ssh_host true 2>/dev/null && return 0
		sleep 0.1
	done
	skip "sshd cannot start or refuses the test's key: $(tail -1 "$SSHD/sshd.log" 2>/dev/null)"
}

# ssh_host CMD: CMD on the test's sshd.
ssh_host() {
	ssh -F /dev/null -i "$SSHD/client_key" -p "$PORT" -o BatchMode=yes -o IdentitiesOnly=yes \
		-o UserKnownHostsFile="$SSHD/known_hosts" -o StrictHostKeyChecking=no \
		-o ConnectTimeout=5 "$(id -un)@127.0.0.1" "$@"
}

# stop_sshd: the test's sshd, its whole process group, and /run/sshd if
# the test made it.
stop_sshd() {
	local pid
	[[ -f ${SSHD:-}/group ]] || return 0
	pid=$(cat "$SSHD/group")
	# SIGTERM to the group, 5 s to go (tail --pid waits), then SIGKILL.
	kill -TERM -- "-$pid" 2>/dev/null
	timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null
	kill -KILL -- "-$pid" 2>/dev/null
	rm -f "$SSHD/group"
	[[ $(cat "$SSHD/made-run-sshd" 2>/dev/null) == 1 ]] && rmdir /run/sshd 2>/dev/null
	return 0
}

# inventory_line NAME: the inventory line of host NAME, one of local (the
# local connection), ssh (the test's sshd) or gone (SSH to a port where
# nothing listens); each host has a work directory of its own.
inventory_line() {
	local py common
	py=$(command -v python3)
	common="ansible_python_interpreter=$py fleet_dir=$BATS_TEST_TMPDIR/hosts/$1 fleet_install=tarball fleet_deps=false"
	local ssh_args="-F /dev/null -o IdentitiesOnly=yes -o UserKnownHostsFile=$SSHD/known_hosts -o StrictHostKeyChecking=no -o ConnectTimeout=5"
	case $1 in
	local) echo "local ansible_connection=local $common" ;;
	ssh | gone)
		echo "$1 ansible_host=127.0.0.1 ansible_port=$PORT ansible_user=$(id -un)" \
			"ansible_ssh_private_key_file=$SSHD/client_key ansible_ssh_common_args='$ssh_args' $common"
		;;
	esac
}

# write_inventory HOST...: $INV with those hosts (inventory_line).
write_inventory() {
	local h
	{
		echo "[fleet]"
		for h in "$@"; do inventory_line "$h"; done
	} >"$INV"
}

# fleet JOB HOST...: ci/fleet/run.sh (make fleet) on those hosts, the job's
# aio-conform tests limited to CONFORM_TESTS: by default the submit tests
# and a few of setup's, none that counts machine-wide aio-nr (the hosts are
# one kernel here, and run at once).
fleet() {
	local job=$1
	shift
	write_inventory "$@"
	AIO_SUITE_RESULTS=$RESULTS CONFORM_TESTS=${CONFORM_TESTS:-"submit.* setup.basic setup.nr_zero setup.nr_negative"} \
		timeout -k 10 "$FLEET_TIMEOUT" "$TOP/ci/fleet/run.sh" "$INV" "$job" \
		-e fleet_tarball="$TARBALL"
}

# failures: the tests that failed in the store's conformance runs (shown
# when a test fails).
failures() {
	grep -H "not ok" "$RESULTS"/*/*/*/conform.ktap 2>/dev/null | grep -v "# SKIP" || true
}

# run_dir HOST: the one run directory of HOST in the store.
run_dir() {
	local d
	d=$(ls -d "$RESULTS/$1/$(uname -r)"/*/ 2>/dev/null)
	[[ $(printf '%s\n' "$d" | grep -c .) == 1 ]] || {
		echo "not one run of $1 in the store: ${d:-none}" >&2
		return 1
	}
	echo "${d%/}"
}

# The run of HOST arrived whole: its summary complete, the conform part ok,
# conform.json holding only the tests the job asked for.
run_arrived() {
	local d
	d=$(run_dir "$1") || return 1
	json_true "$d/summary.json" 'd["complete"] is True' \
		'[p["part"] for p in d["parts"]] == ["conform"]' &&
		json_true "$d/conform.json" 'len(d["results"]) > 0' \
		'all(r["name"].split(".")[0] in ("submit", "setup") for r in d["results"])' &&
		[[ -s $d/env.json ]]
}

# listed HOST: tools/report.py list's $output has a complete fleet-conform
# run of HOST on this kernel.
listed() {
	printf '%s\n' "$output" | awk -v h="$1" -v r="$(uname -r)" '
		$1 == h && $2 == r && $3 ~ /-fleet-conform$/ && $5 == "yes" { found = 1 }
		END { exit !found }'
}

@test "make fleet without INVENTORY names it and exits 2" {
	run make -s -C "$TOP" fleet
	[ "$status" -eq 2 ]
	# The script's one line, then make's own "*** [fleet] Error 2".
	[[ ${lines[0]} == "fleet: INVENTORY is missing: make fleet INVENTORY=FILE"* ]]
}

@test "ci/fleet/run.sh refuses a missing inventory file and an unknown job" {
	run "$TOP/ci/fleet/run.sh" "$BATS_TEST_TMPDIR/none"
	assert_one_line_error fleet 2
	[[ $output == *"$BATS_TEST_TMPDIR/none"* ]]
	: >"$INV"
	run "$TOP/ci/fleet/run.sh" "$INV" sprint
	assert_one_line_error fleet 2
	[[ $output == *"'sprint'"* ]]
}

@test "the fleet on localhost brings the run home as results/<host>/<release>/<run id>" {
	requires_fleet
	run fleet conform local
	echo "$output" | tail -20
	failures
	[ "$status" -eq 0 ]
	[[ $output == *"fleet: local: ok, 1 run(s): local/$(uname -r)/"*"-fleet-conform"* ]]
	run_arrived local
	run python3 "$TOP/tools/report.py" --results "$RESULTS" list
	echo "$output"
	[ "$status" -eq 0 ]
	listed local
}

@test "a host whose job fails is reported failed and its run still comes home" {
	requires_fleet
	CONFORM_TESTS="no.such.test" run fleet conform local
	echo "$output" | tail -20
	[ "$status" -eq 1 ]
	[[ $output == *"fleet: local: failed (the job exited with status 1: bench: conform: failed (exit status 2))"* ]]
	[[ $output == *"fleet: not ok: local"* ]]
	d=$(run_dir local)
	json_true "$d/summary.json" '[p["status"] for p in d["parts"]] == ["failed"]'
}

@test "the fleet leaves alone a work directory whose src/ it did not make" {
	requires_fleet
	mkdir -p "$BATS_TEST_TMPDIR/hosts/local/src"
	echo mine >"$BATS_TEST_TMPDIR/hosts/local/src/file"
	run fleet conform local
	echo "$output" | tail -20
	[ "$status" -eq 1 ]
	[[ $output == *"fleet: local: failed (a fresh work directory and results store on the host: fleet_dir $BATS_TEST_TMPDIR/hosts/local has a src/ that the fleet did not make"* ]]
	[ "$(cat "$BATS_TEST_TMPDIR/hosts/local/src/file")" = mine ]
}

@test "the fleet over loopback SSH and the local connection brings both hosts' runs into the store" {
	requires_fleet
	start_sshd
	t0=$SECONDS
	run fleet conform local ssh
	echo "# $((SECONDS - t0)) s" >&3
	echo "$output" | tail -25
	failures
	[ "$status" -eq 0 ]
	[[ $output == *"fleet: local: ok"* && $output == *"fleet: ssh: ok"* ]]
	run_arrived local
	run_arrived ssh
	# The SSH host's run was made there: in its own work directory.
	[[ -d $BATS_TEST_TMPDIR/hosts/ssh/src/build && -d $BATS_TEST_TMPDIR/hosts/local/src/build ]]
	run python3 "$TOP/tools/report.py" --results "$RESULTS" list
	echo "$output"
	[ "$status" -eq 0 ]
	listed local && listed ssh
}

@test "make fleet stopped by Ctrl-C stops a local host's job, which records the interruption, and exits 130" {
	requires_fleet
	local pid i
	# The whole conformance run: long enough to be stopped in its middle.
	write_inventory local
	AIO_SUITE_RESULTS=$RESULTS CONFORM_TESTS="*" setsid env --default-signal=INT \
		timeout -k 10 "$FLEET_TIMEOUT" "$TOP/ci/fleet/run.sh" "$INV" conform -e fleet_tarball="$TARBALL" \
		>"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	for ((i = 0; i < 240; i++)); do
		pgrep -f "$BATS_TEST_TMPDIR/hosts/local/src/build/aio-conform" >/dev/null && break
		sleep 0.5
	done
	sleep 2
	kill -INT -- -"$pid"
	wait_status "$pid"
	tail -5 "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 130 ]
	# The job cleans up on its own time (Ansible does not wait for it):
	# until nothing of the host's runs, at most 60 s.
	for ((i = 0; i < 300; i++)); do
		pgrep -f "$BATS_TEST_TMPDIR/hosts/local" >/dev/null || break
		sleep 0.2
	done
	run pgrep -af "$BATS_TEST_TMPDIR/hosts/local"
	[ -z "$output" ]
	cat "$BATS_TEST_TMPDIR"/hosts/local/results/*/*/*/*/summary.json
	json_true "$(ls "$BATS_TEST_TMPDIR"/hosts/local/results/*/*/*/*/summary.json)" \
		'd["complete"] is False' 'd["interrupted"] == "SIGINT"'
	# The job's output, in the run directory, says so too.
	grep -q '^bench: interrupted by SIGINT' "$BATS_TEST_TMPDIR"/hosts/local/results/*/*/*/*/fleet-job.log
	run scratch_leftovers "$BATS_TEST_TMPDIR/hosts/local/src"
	[ -z "$output" ]
}

@test "an unreachable host is reported as such, the other's run still arrives and the fleet fails" {
	requires_fleet
	command -v ssh >/dev/null || skip "ssh is not installed (apt-get install openssh-client)"
	PORT=$(free_port)
	SSHD=$BATS_TEST_TMPDIR/nokeys
	run fleet conform gone local
	echo "$output" | tail -25
	[ "$status" -eq 1 ]
	[[ $output == *"fleet: gone: unreachable"* ]]
	[[ $output == *"fleet: local: ok"* ]]
	[[ $output == *"fleet: not ok: gone"* ]]
	run_arrived local
	[ ! -e "$RESULTS/gone" ]
}

@test "import_runs.py leaves out what is not a plain file inside a run" {
	requires python3
	mkdir -p "$SCRATCH/s/node/rel/run1" "$SCRATCH/s/report"
	echo '{}' >"$SCRATCH/s/node/rel/run1/summary.json"
	echo x >"$SCRATCH/s/report/index.html"
	ln -s /etc/passwd "$SCRATCH/s/node/rel/run1/link.json"
	tar -C "$SCRATCH/s" -czf "$SCRATCH/runs.tar.gz" .
	tar -C "$SCRATCH" -rf "$SCRATCH/evil.tar" --transform 's|^|../|' runs.tar.gz 2>/dev/null || true
	run python3 "$TOP/ci/fleet/import_runs.py" --host h1 --results "$RESULTS" "$SCRATCH/runs.tar.gz"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"left out: './node/rel/run1/link.json'"* ]]
	[ -f "$RESULTS/h1/rel/run1/summary.json" ]
	[ ! -e "$RESULTS/h1/rel/run1/link.json" ]
	[ ! -e "$RESULTS/report" ] && [ ! -e "$RESULTS/h1/report" ]
	# The same run again is a run of its own, as the store names them.
	run --separate-stderr python3 "$TOP/ci/fleet/import_runs.py" --host h1 --results "$RESULTS" \
		"$SCRATCH/runs.tar.gz"
	[ "$status" -eq 0 ]
	[ "$output" = "h1/rel/run1.2" ]
	run python3 "$TOP/ci/fleet/import_runs.py" --host h1 --results "$RESULTS" "$SCRATCH/evil.tar"
	[[ $output == *"left out: '../runs.tar.gz'"* ]]
	[ ! -e "$RESULTS/../runs.tar.gz" ]
	# A host directory that leads out of the store is not written through.
	mkdir -p "$SCRATCH/outside"
	ln -s "$SCRATCH/outside" "$RESULTS/h2"
	run python3 "$TOP/ci/fleet/import_runs.py" --host h2 --results "$RESULTS" "$SCRATCH/runs.tar.gz"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"leads outside"* ]]
	[ -z "$(ls -A "$SCRATCH/outside")" ]
}
