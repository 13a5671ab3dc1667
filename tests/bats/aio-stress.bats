#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Description: aio-stress's command line, the classic v0.21 flags and the
# long options, its JSON report, data verification, target safety, --loop
# and Ctrl-C.  Runs use files of a few MB in a per-test scratch directory.

load aio-stress-common

teardown() {
	stress_teardown
	[[ -z ${CHECKOUT_SCRATCH:-} ]] || rm -rf "$CHECKOUT_SCRATCH"
}

# ---- the classic flags ----

@test "aio-stress -a sets the buffer alignment" {
	run aio_stress --quiet -a 8k -o 0 -s 1m -r 4k --json "$J" "$F"
	assert_status 0
	assert_eq 8192 "$(json_get "$J" "d['options']['alignment_bytes']")" alignment_bytes
	run aio_stress --quiet -a 16 -o 0 -s 1m -r 4k --json "$J" "$F"
	assert_status 0
	assert_eq 16384 "$(json_get "$J" "d['options']['alignment_bytes']")" "alignment_bytes of -a 16 (KB)"
}

@test "aio-stress refuses an alignment that is not a power of two with one line and status 2" {
	run aio_stress -a 3k -o 0 -s 1m -r 4k "$F"
	assert_one_line_error aio-stress
	assert_output_has "'3k'"
}

@test "aio-stress -b caps the iocbs given to one io_submit call" {
	run aio_stress --quiet -b 4 -i 4 -o 0 -s 1m -r 4k --json "$J" "$F"
	assert_status 0
	assert_eq 4 "$(json_get "$J" "d['options']['max_io_submit']")" max_io_submit
	json_true "$J" "0 < d['stages'][0]['submit']['iocbs_per_call'] <= 4"
	json_true "$J" "d['stages'][0]['submit']['iocbs'] == 256"
}

@test "aio-stress -c and -C start each context at its offset" {
	run aio_stress --quiet -c 2 -C 1m -o 0 -s 4m -r 4k --json "$J" "$F"
	assert_status 0
	assert_eq 2 "$(json_get "$J" "d['options']['contexts']")" contexts
	assert_eq 1048576 "$(json_get "$J" "d['options']['context_offset_bytes']")" context_offset_bytes
	assert_eq "[0, 1048576]" \
		"$(json_get "$J" "sorted(p['start_bytes'] for p in d['stages'][0]['per_file'])")" \
		"per_file start_bytes"
}

@test "aio-stress -d sets the depth and drops io_iter below it" {
	run aio_stress --quiet -d 16 -o 0 -s 1m -r 4k --json "$J" "$F"
	assert_status 0
	assert_eq 16 "$(json_get "$J" "d['options']['depth']")" depth
	run aio_stress -d 4 -i 8 -o 0 -s 1m -r 4k --json "$J" "$F"
	assert_status 0
	assert_output_line '^dropping io_iter to 4$'
	assert_eq 4 "$(json_get "$J" "d['options']['depth']")" depth
	assert_eq 4 "$(json_get "$J" "d['options']['io_per_iteration']")" io_per_iteration
}

@test "aio-stress -i sets the I/O per file per iteration" {
	run aio_stress --quiet -i 4 -o 0 -s 1m -r 4k --json "$J" "$F"
	assert_status 0
	assert_eq 4 "$(json_get "$J" "d['options']['io_per_iteration']")" io_per_iteration
	# Without -b a call takes -i I/Os from each file and context.
	assert_eq 4 "$(json_get "$J" "d['options']['max_io_submit']")" max_io_submit
}

@test "aio-stress -I 2 -b 8 -i 8 stops the write stage after exactly 16 ios" {
	run aio_stress --quiet -I 2 -b 8 -i 8 -o 0 -s 4m -r 4k --json "$J" "$F"
	assert_status 0
	assert_eq 2 "$(json_get "$J" "d['options']['iterations']")" iterations
	assert_eq 16 "$(json_get "$J" "d['stages'][0]['ios']")" "write stage ios"
}

@test "aio-stress -l prints the io_submit latency line and only with -l" {
	run --separate-stderr aio_stress -o 0 -s 1m -r 4k "$F"
	assert_status 0
	refute_line '^latency min' "$stderr"
	run aio_stress -l -o 0 -s 1m -r 4k "$F"
	assert_status 0
	assert_output_line '^latency min [0-9.]+ avg [0-9.]+ max [0-9.]+$'
}

@test "aio-stress -L prints the completion latency line and only with -L" {
	run --separate-stderr aio_stress -o 0 -s 1m -r 4k "$F"
	assert_status 0
	refute_line '^completion latency min' "$stderr"
	run aio_stress -L -o 0 -s 1m -r 4k "$F"
	assert_status 0
	assert_output_line '^completion latency min [0-9.]+ avg [0-9.]+ max [0-9.]+$'
}

@test "aio-stress -m shm puts the buffers in ipc shared memory" {
	run aio_stress -m shm -o 0 -o 1 -s 1m -r 4k --verify --json "$J" "$F"
	assert_status 0
	assert_output_line '^using ipc shm$'
	assert_eq shm "$(json_get "$J" "d['options']['buffers']")" buffers
	assert_eq ok "$(json_get "$J" "d['result']")" result
}

@test "aio-stress -m shmfs puts the buffers in a /dev/shm file" {
	run aio_stress -m shmfs -o 0 -o 1 -s 1m -r 4k --verify --json "$J" "$F"
	assert_status 0
	assert_output_line '^using /dev/shm for buffers$'
	assert_eq shmfs "$(json_get "$J" "d['options']['buffers']")" buffers
	assert_eq ok "$(json_get "$J" "d['result']")" result
}

@test "aio-stress refuses -m bogus with one line and status 2" {
	run aio_stress -m bogus -o 0 -s 1m "$F"
	assert_one_line_error aio-stress
	assert_output_has "'bogus'"
}

@test "aio-stress -n turns off the fsync between stages" {
	run aio_stress --quiet -o 0 -o 1 -s 1m -r 4k --json "$J" "$F"
	assert_status 0
	assert_eq true "$(json_get "$J" "d['options']['fsync_between_stages']")" "fsync_between_stages by default"
	run aio_stress --quiet -n -o 0 -o 1 -s 1m -r 4k --json "$J" "$F"
	assert_status 0
	assert_eq false "$(json_get "$J" "d['options']['fsync_between_stages']")" fsync_between_stages
	json_true "$J" "all(s['fsync_ns'] == 0 for s in d['stages'])"
}

@test "aio-stress -o runs the named stages in the classic order" {
	run aio_stress --quiet -o 3 -o 1 -o 0 -s 1m -r 4k --json "$J" "$F"
	assert_status 0
	assert_eq '["write", "read", "random read"]' \
		"$(json_get "$J" "[s['name'] for s in d['stages']]")" "stage names"
	run aio_stress --quiet -o 2 -s 1m -r 4k --json "$J" "$F"
	assert_status 0
	assert_eq '["random write"]' \
		"$(json_get "$J" "[s['name'] for s in d['stages']]")" "stage names"
}

@test "aio-stress without -o runs all four stages" {
	run aio_stress --quiet -s 1m -r 4k --json "$J" "$F"
	assert_status 0
	assert_eq '["write", "read", "random write", "random read"]' \
		"$(json_get "$J" "[s['name'] for s in d['stages']]")" "stage names"
}

@test "aio-stress refuses -o 7 with one line and status 2" {
	run aio_stress -o 7 -s 1m "$F"
	assert_one_line_error aio-stress
	assert_output_has "'7'"
}

@test "aio-stress -O opens the files with O_DIRECT" {
	requires odirect
	run aio_stress --quiet -O -o 0 -o 1 -s 1m -r 4k --json "$J" "$F"
	assert_status 0
	assert_eq true "$(json_get "$J" "d['options']['o_direct']")" o_direct
	assert_eq ok "$(json_get "$J" "d['result']")" result
}

@test "aio-stress -r sets the record size with KB as the unit and k m g suffixes" {
	run aio_stress --quiet -r 8 -o 0 -s 1m --json "$J" "$F"
	assert_status 0
	assert_eq 8192 "$(json_get "$J" "d['options']['record_bytes']")" "record_bytes of -r 8"
	assert_eq 128 "$(json_get "$J" "d['stages'][0]['ios']")" "ios of 1m in 8k records"
	run aio_stress --quiet -r 16k -o 0 -s 1m --json "$J" "$F"
	assert_status 0
	assert_eq 16384 "$(json_get "$J" "d['options']['record_bytes']")" "record_bytes of -r 16k"
	run aio_stress --quiet -r 1m -o 0 -s 2m --json "$J" "$F"
	assert_status 0
	assert_eq 1048576 "$(json_get "$J" "d['options']['record_bytes']")" "record_bytes of -r 1m"
	# -s 1g on /dev/null, one submission round: only the parse matters.
	run aio_stress --quiet -I 1 -r 1m -s 1g -o 0 --json "$J" /dev/null
	assert_status 0
	assert_eq 1073741824 "$(json_get "$J" "d['options']['file_size_bytes']")" "file_size_bytes of -s 1g"
}

@test "aio-stress -s leaves a file of exactly that size after a write stage" {
	run aio_stress --quiet -s 3m -r 4k -o 0 "$F"
	assert_status 0
	assert_eq 3145728 "$(stat -c %s "$F")" "size of the file after -s 3m"
	rm -f "$F"
	run aio_stress --quiet -s 100k -r 4k -o 0 "$F"
	assert_status 0
	assert_eq 102400 "$(stat -c %s "$F")" "size of the file after -s 100k"
}

@test "aio-stress -S opens the files with O_SYNC" {
	run aio_stress --quiet -o 0 -s 1m -r 4k --json "$J" "$F"
	assert_status 0
	assert_eq false "$(json_get "$J" "d['options']['o_sync']")" "o_sync by default"
	run aio_stress --quiet -S -o 0 -s 1m -r 4k --json "$J" "$F"
	assert_status 0
	assert_eq true "$(json_get "$J" "d['options']['o_sync']")" o_sync
}

@test "aio-stress -t 2 on two files runs two threads and prints the throughput line" {
	run aio_stress -t 2 -o 0 -s 2m -r 4k --json "$J" "$F" "$F.2"
	assert_status 0
	assert_output_line '^Running multi thread version num_threads:2$'
	assert_output_line '^write throughput \([0-9.]+ MB/s\)'
	assert_eq 2 "$(json_get "$J" "d['options']['threads']")" threads
	assert_eq "[0, 1]" \
		"$(json_get "$J" "sorted(p['thread'] for p in d['stages'][0]['per_file'])")" \
		"threads of the per_file entries"
}

@test "aio-stress -u removes the files afterwards" {
	run aio_stress --quiet -o 0 -s 1m -r 4k "$F"
	assert_status 0
	[[ -f $F ]]
	run aio_stress -u -o 0 -o 1 -s 1m -r 4k "$F"
	assert_status 0
	assert_output_has "Cleaning up file $F"
	[[ ! -e $F ]]
}

@test "aio-stress -v verifies what the write stage wrote" {
	run aio_stress --quiet -v -o 0 -o 1 -s 1m -r 4k --json "$J" "$F"
	assert_status 0
	assert_eq true "$(json_get "$J" "d['options']['verify']")" verify
	json_true "$J" "d['stages'][1]['verify']['blocks_checked'] > 0"
	assert_eq 0 "$(json_get "$J" "d['stages'][1]['verify']['failures']")" failures
}

@test "aio-stress -x turns off stonewalling" {
	run aio_stress --quiet -o 0 -s 1m -r 4k --json "$J" "$F"
	assert_status 0
	assert_eq true "$(json_get "$J" "d['options']['stonewall']")" "stonewall by default"
	run aio_stress --quiet -x -o 0 -s 1m -r 4k --json "$J" "$F"
	assert_status 0
	assert_eq false "$(json_get "$J" "d['options']['stonewall']")" stonewall
}

@test "aio-stress -h prints the usage on stdout and exits 0" {
	run --separate-stderr "$AIO_STRESS" -h
	assert_status 0
	[[ ${lines[0]} == "usage: aio-stress "* ]]
	assert_eq "" "$stderr" stderr
}

@test "aio-stress runs the seed command line unchanged with random write and random read stages" {
	requires odirect
	cd "$SCRATCH"
	run aio_stress -O -o 2 -o 3 -r 8 -d 128 -b 32 -i 32 -s 16 file
	assert_status 0
	assert_output_line '^random write on file \('
	assert_output_line '^random read on file \('
	run aio_stress -O -o 2 -o 3 -r 8 -d 128 -b 32 -i 32 -s 16 file --json "$J"
	assert_status 0
	assert_eq 16777216 "$(json_get "$J" "d['options']['file_size_bytes']")" "file_size_bytes of -s 16"
	assert_eq 8192 "$(json_get "$J" "d['options']['record_bytes']")" "record_bytes of -r 8"
	assert_eq '["random write", "random read"]' \
		"$(json_get "$J" "[s['name'] for s in d['stages']]")" "stage names"
	json_true "$J" "all(s['ios'] == 2048 and s['errors'] == 0 for s in d['stages'])"
}

# ---- long options ----

# engine_round_trip NAME: write and read back with --verify on engine NAME.
engine_round_trip() {
	run aio_stress --quiet --engine "$1" -o 0 -o 1 -s 2m -r 4k --verify \
		--json "$J" "$F"
	assert_status 0
	assert_eq "$1" "$(json_get "$J" "d['options']['engine']")" engine
	assert_eq ok "$(json_get "$J" "d['result']")" result
	json_true "$J" "d['stages'][1]['verify']['blocks_checked'] == 512"
	assert_eq 0 "$(json_get "$J" "d['stages'][1]['verify']['failures']")" failures
}

@test "aio-stress --engine libaio writes and reads back verified data" {
	engine_round_trip libaio
}

@test "aio-stress --engine sync writes and reads back verified data" {
	engine_round_trip sync
}

@test "aio-stress --engine io_uring writes and reads back verified data" {
	requires io_uring
	engine_round_trip io_uring
}

# io_uring options the kernel may refuse: run, or skip with the reason the
# engine gave (a refusal must name the option).
uring_option_round_trip() {
	run aio_stress --quiet --engine io_uring "$@" -o 0 -o 1 -s 2m -r 4k \
		--verify --json "$J" "$F"
	if [ "$status" -ne 0 ] && [[ $output == *"refused"* ]]; then
		skip "${output#aio-stress: }"
	fi
	assert_status 0
	assert_eq ok "$(json_get "$J" "d['result']")" result
	assert_eq 0 "$(json_get "$J" "d['stages'][1]['verify']['failures']")" failures
}

@test "aio-stress --sqpoll reads back verified data through an SQPOLL ring" {
	requires io_uring
	uring_option_round_trip --sqpoll
	assert_eq true "$(json_get "$J" "d['options']['sqpoll']")" sqpoll
}

@test "aio-stress --fixed-files --fixed-bufs reads back verified data" {
	requires io_uring
	uring_option_round_trip --fixed-files --fixed-bufs
	assert_eq true "$(json_get "$J" "d['options']['fixed_files'] and d['options']['fixed_bufs']")" fixed
}

# The checkout's own disk (a virtio disk here, /tmp may be tmpfs): IOPOLL
# there used to poll forever for completions the device never polls.
@test "aio-stress --iopoll on a target that cannot poll fails within 60 s saying polled I/O is not supported" {
	requires io_uring
	CHECKOUT_SCRATCH=$(mktemp -d "$TOP/.scratch-iopoll.XXXXXX")
	SCRATCH=$CHECKOUT_SCRATCH
	requires odirect
	run timeout -k 5 60 "$AIO_STRESS" --quiet --engine io_uring --iopoll -O \
		-s 16m -r 4k -d 32 --json "$J" "$CHECKOUT_SCRATCH/file"
	if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
		echo "aio-stress --iopoll was still running after 60 s" >&2
		return 1
	fi
	if [ "$status" -eq 0 ]; then
		skip "$(stat -f -c %T "$CHECKOUT_SCRATCH") under $TOP supports polled I/O: the run succeeded"
	fi
	if [[ $output == *"IOPOLL refused"* ]]; then
		skip "${output#aio-stress: }"
	fi
	assert_status 1
	local reason
	reason=$(json_get "$J" "d['reason']")
	if [[ $reason != *"not support polled I/O"* ]]; then
		echo "reason: expected 'not support polled I/O', seen '$reason'" >&2
		return 1
	fi
	json_true "$J" "d['result'] in ('io_errors', 'failed')" \
		"d['options']['iopoll'] is True"
	assert_output_has "$reason"
}

@test "aio-stress refuses io_uring options with another engine with one line" {
	for opt in --sqpoll --iopoll --fixed-files --fixed-bufs; do
		run aio_stress --engine libaio "$opt" -s 1m "$F"
		assert_one_line_error aio-stress
		assert_output_has "need --engine io_uring"
	done
}

@test "aio-stress --cpu 0 pins its thread and reports it" {
	run aio_stress --quiet --cpu 0 -o 0 -s 1m -r 4k --json "$J" "$F"
	assert_status 0
	assert_eq 0 "$(json_get "$J" "d['options']['cpu']")" cpu
}

@test "aio-stress refuses --cpu abc with one line and status 2" {
	run aio_stress --cpu abc -s 1m "$F"
	assert_one_line_error aio-stress
	assert_output_has "'abc'"
}

@test "aio-stress refuses --inject without --verify or with an unknown kind" {
	run aio_stress --inject zero:0 -s 1m "$F"
	assert_one_line_error aio-stress
	assert_output_has "--inject needs --verify"
	run aio_stress --verify --inject melted:0 -s 1m "$F"
	assert_one_line_error aio-stress
	assert_output_has "melted"
}

@test "aio-stress refuses --engine nope with one line and status 2" {
	run aio_stress --engine nope -s 1m "$F"
	assert_one_line_error aio-stress
	assert_output_has "'nope'"
}

@test "aio-stress --json writes the aio-stress/1 report with every documented field" {
	run aio_stress --quiet -o 0 -o 1 -s 2m -r 4k --json "$J" "$F"
	assert_status 0
	assert_eq aio-stress/1 "$(json_get "$J" "d['schema']")" schema
	assert_eq "$(uname -r)" "$(json_get "$J" "d['kernel']['release']")" kernel.release
	assert_eq ok "$(json_get "$J" "d['result']")" result
	assert_eq 2 "$(json_get "$J" "len(d['stages'])")" "number of stages"
	json_true "$J" "len(d['targets'][0]['fstype']) > 0"
	local s checks=()
	for s in 0 1; do
		checks+=(
			"d['stages'][$s]['ios'] == 512"
			"d['stages'][$s]['bytes'] == 2097152"
			"d['stages'][$s]['elapsed_ns'] > 0"
			"d['stages'][$s]['iops'] > 0"
			"d['stages'][$s]['bytes_per_s'] > 0"
			"all(isinstance(d['stages'][$s]['submit']['per_iocb_ns'][k], int) for k in ('p50', 'p99', 'p99_9', 'max'))"
			"0 < d['stages'][$s]['submit']['per_iocb_ns']['p50'] <= d['stages'][$s]['submit']['per_iocb_ns']['p99'] <= d['stages'][$s]['submit']['per_iocb_ns']['p99_9'] <= d['stages'][$s]['submit']['per_iocb_ns']['max']"
			"0 <= d['stages'][$s]['submit']['inline_ratio'] <= 1"
			"d['stages'][$s]['completion_latency_ns']['p50'] > 0"
			"abs(sum(d['stages'][$s]['wall_split'][k] for k in ('submit_fraction', 'reap_fraction', 'other_fraction')) - 1) < 0.01"
			"isinstance(d['stages'][$s]['cpu']['ns_per_io'], (int, float)) and d['stages'][$s]['cpu']['ns_per_io'] >= 0"
		)
	done
	json_true "$J" "${checks[@]}"
}

@test "aio-stress --json - writes the report to stdout and nothing else" {
	run --separate-stderr aio_stress -o 0 -s 1m -r 4k --json - "$F"
	assert_status 0
	printf '%s\n' "$output" >"$J"
	assert_eq aio-stress/1 "$(json_get "$J" "d['schema']")" "schema of stdout"
	assert_eq '["write"]' "$(json_get "$J" "[s['name'] for s in d['stages']]")" "stage names"
}

@test "aio-stress --runtime 1 keeps the write stage going for a second" {
	run aio_stress --quiet --runtime 1 -o 0 -s 1m -r 4k --json "$J" /dev/null
	assert_status 0
	json_true "$J" "d['stages'][0]['elapsed_ns'] >= 900000000"
	json_true "$J" "d['options']['runtime_s'] == 1"
	# It wrapped around the 256-record range.
	json_true "$J" "d['stages'][0]['ios'] > 256"
}

@test "aio-stress refuses --runtime -1 with one line and status 2" {
	run aio_stress --runtime -1 -s 1m "$F"
	assert_one_line_error aio-stress
	assert_output_has "'-1'"
}

@test "aio-stress refuses --runtime abc with one line and status 2" {
	run aio_stress --runtime abc -s 1m "$F"
	assert_one_line_error aio-stress
	assert_output_has "'abc'"
}

@test "aio-stress --iovecs 4 sends vectored requests that verify" {
	run aio_stress --quiet --iovecs 4 -o 0 -o 1 -s 1m -r 4k --verify --json "$J" "$F"
	assert_status 0
	assert_eq 4 "$(json_get "$J" "d['options']['iovecs']")" iovecs
	json_true "$J" "d['stages'][1]['verify']['blocks_checked'] == 256"
	assert_eq 0 "$(json_get "$J" "d['stages'][1]['verify']['failures']")" failures
}

@test "aio-stress --rw-flags dsync is passed through and reported" {
	run aio_stress --quiet --rw-flags dsync -o 0 -s 1m -r 4k --json "$J" "$F"
	assert_status 0
	assert_eq dsync "$(json_get "$J" "d['options']['rw_flags']")" rw_flags
	assert_eq ok "$(json_get "$J" "d['result']")" result
}

@test "aio-stress refuses --rw-flags bogus with one line naming it" {
	run aio_stress --rw-flags bogus -s 1m "$F"
	assert_one_line_error aio-stress
	assert_output_has "'bogus'"
}

@test "aio-stress --user-reap reaps from the ring and verifies" {
	run aio_stress --quiet --user-reap -o 0 -o 1 -s 1m -r 4k --verify --json "$J" "$F"
	assert_status 0
	assert_eq true "$(json_get "$J" "d['options']['user_reap']")" user_reap
	assert_eq ok "$(json_get "$J" "d['result']")" result
	json_true "$J" "d['stages'][1]['verify']['blocks_checked'] == 256"
}

@test "aio-stress refuses --user-reap with --engine sync with one line and status 2" {
	run aio_stress --engine sync --user-reap -s 1m "$F"
	assert_one_line_error aio-stress
	assert_output_has "--user-reap"
}

@test "aio-stress --quiet prints nothing on a successful run" {
	run aio_stress --quiet -o 0 -o 1 -s 1m -r 4k "$F"
	assert_status 0
	assert_eq "" "$output" "output of --quiet"
	# The same run without --quiet does talk.
	run aio_stress -o 0 -o 1 -s 1m -r 4k "$F"
	assert_status 0
	[[ -n $output ]]
}

@test "aio-stress --help exits 0 and lists every long option" {
	run --separate-stderr "$AIO_STRESS" --help
	assert_status 0
	assert_eq "" "$stderr" stderr
	local opt
	for opt in engine json runtime iovecs rw-flags user-reap sqpoll \
		iopoll fixed-files fixed-bufs verify inject loop cpu force \
		quiet version help; do
		assert_output_has "--$opt"
	done
	# The engines compiled in are listed.
	assert_output_line '^[[:space:]]*--engine NAME .*libaio.*sync'
}

@test "aio-stress --version prints its version and exits 0" {
	run --separate-stderr "$AIO_STRESS" --version
	assert_status 0
	[[ $output =~ ^aio-stress\ [0-9]+\.[0-9]+ ]]
	assert_eq "" "$stderr" stderr
}

# ---- bad arguments ----

@test "aio-stress refuses an unknown option with one line and status 2" {
	run aio_stress -Q -s 1m "$F"
	assert_one_line_error aio-stress
	assert_output_has "'-Q'"
}

@test "aio-stress refuses an unknown long option with one line and status 2" {
	run aio_stress --bogus -s 1m "$F"
	assert_one_line_error aio-stress
	assert_output_has "'--bogus'"
}

@test "aio-stress refuses a short option without its argument with one line naming it" {
	run aio_stress "$F" -s
	assert_one_line_error aio-stress
	assert_output_has "'-s'"
}

@test "aio-stress refuses a long option without its argument with one line naming it" {
	run aio_stress "$F" --json
	assert_one_line_error aio-stress
	assert_output_has "'--json'"
}

@test "aio-stress refuses -s abc with one line and status 2" {
	run aio_stress -s abc "$F"
	assert_one_line_error aio-stress
	assert_output_has "'abc'"
}

@test "aio-stress refuses -s 0 with one line and status 2" {
	run aio_stress -s 0 "$F"
	assert_one_line_error aio-stress
	assert_output_has "-s: '0'"
}

@test "aio-stress refuses -o 9 with one line and status 2" {
	run aio_stress -o 9 -s 1m "$F"
	assert_one_line_error aio-stress
	assert_output_has "'9'"
}

@test "aio-stress without a file says so in one line with status 2" {
	run aio_stress -s 1m
	assert_one_line_error aio-stress
	assert_output_has "no file"
}

@test "aio-stress names a file in a missing directory in one line with status 1" {
	run aio_stress -s 1m -r 4k "$SCRATCH/no/such/dir/file"
	assert_one_line_error aio-stress 1
	assert_output_has "$SCRATCH/no/such/dir/file"
	[[ ! -e $SCRATCH/no ]]
}

# ---- verification ----

# inject KIND: damage block 8192 after the write; the read must say so.
inject() {
	run aio_stress --quiet -o 0 -o 1 -s 1m -r 4k --verify \
		--inject "$1:8192" "$F" --json "$J"
	assert_status 1
	assert_output_line "offset 8192: $1( |\$)"
	assert_eq verify_failed "$(json_get "$J" "d['result']")" result
	assert_eq 8192 "$(json_get "$J" "d['stages'][1]['verify']['first_bad']['offset_bytes']")" first_bad.offset_bytes
	assert_eq "$1" "$(json_get "$J" "d['stages'][1]['verify']['first_bad']['kind']")" first_bad.kind
	assert_eq 1 "$(json_get "$J" "d['stages'][1]['verify']['failures']")" failures
}

@test "aio-stress --verify finds a zeroed block at its offset" {
	inject zero
}

@test "aio-stress --verify finds a misplaced block at its offset" {
	inject misplaced
}

@test "aio-stress --verify finds a stale block at its offset" {
	inject stale
}

@test "aio-stress --verify finds a torn block at its offset" {
	inject torn
}

@test "aio-stress --verify finds a garbage block at its offset" {
	inject garbage
}

@test "aio-stress --verify passes a clean write and read with status 0" {
	run aio_stress --quiet -s 2m -r 4k --verify --json "$J" "$F"
	assert_status 0
	assert_eq ok "$(json_get "$J" "d['result']")" result
	json_true "$J" "all(s['verify']['failures'] == 0 for s in d['stages'])"
	json_true "$J" "sum(s['verify']['blocks_checked'] for s in d['stages']) > 0"
}

@test "aio-stress --verify with -O passes a clean write and read with status 0" {
	requires odirect
	run aio_stress --quiet -O -s 2m -r 4k --verify --json "$J" "$F"
	assert_status 0
	assert_eq ok "$(json_get "$J" "d['result']")" result
	assert_eq true "$(json_get "$J" "d['options']['o_direct']")" o_direct
	json_true "$J" "all(s['verify']['failures'] == 0 for s in d['stages'])"
	json_true "$J" "sum(s['verify']['blocks_checked'] for s in d['stages']) > 0"
}

# ---- target safety ----

# ext4_loop: a loop device over a fresh ext4 image; sets DEV and IMG.
ext4_loop() {
	IMG=$SCRATCH/ext4.img
	truncate -s 16m "$IMG"
	mkfs.ext4 -q -F "$IMG" >/dev/null
	DEV=$(attach_loop "$IMG")
}

# ext4_magic FILE: the ext4 superblock magic (ef53 when it is intact).
ext4_magic() {
	od -An -tx2 -j 1080 -N 2 "$1" | tr -d ' '
}

@test "aio-stress refuses to write to a loop device holding an ext4 filesystem" {
	requires loop mkfs.ext4
	ext4_loop
	run aio_stress -s 1m -r 4k "$DEV"
	assert_one_line_error aio-stress 1
	assert_output_has refusing
	assert_output_has "$DEV"
	assert_eq ef53 "$(ext4_magic "$IMG")" "ext4 magic after the refusal"
}

@test "aio-stress reads a loop device holding an ext4 filesystem" {
	requires loop mkfs.ext4
	ext4_loop
	run aio_stress --quiet -o 1 -s 1m -r 4k --json "$J" "$DEV"
	assert_status 0
	assert_eq ok "$(json_get "$J" "d['result']")" result
	assert_eq 256 "$(json_get "$J" "d['stages'][0]['ios']")" "read stage ios"
	assert_eq ef53 "$(ext4_magic "$IMG")" "ext4 magic after the read"
}

@test "aio-stress --force writes over a loop device holding an ext4 filesystem" {
	requires loop mkfs.ext4
	ext4_loop
	run aio_stress --quiet --force -o 0 -s 1m -r 4k --json "$J" "$DEV"
	assert_status 0
	assert_eq ok "$(json_get "$J" "d['result']")" result
	assert_eq 256 "$(json_get "$J" "d['stages'][0]['ios']")" "write stage ios"
	sync
	[[ $(ext4_magic "$IMG") != ef53 ]]
}

@test "aio-stress writes to a blank loop device without --force" {
	requires loop
	truncate -s 16m "$SCRATCH/blank.img"
	DEV=$(attach_loop "$SCRATCH/blank.img")
	run aio_stress --quiet -o 0 -o 1 -s 1m -r 4k --verify --json "$J" "$DEV"
	assert_status 0
	assert_eq block "$(json_get "$J" "d['targets'][0]['kind']")" "target kind"
	assert_eq ok "$(json_get "$J" "d['result']")" result
}

# ---- --loop ----

# loop_mode MODE DIO: a verified run over --loop MODE, detached afterwards.
loop_mode() {
	run aio_stress --quiet --loop "$1" -o 0 -o 1 -s 4m -r 4k --verify \
		--json "$J" "$F"
	assert_status 0
	assert_eq ok "$(json_get "$J" "d['result']")" result
	assert_eq "$2" "$(json_get "$J" "d['targets'][0]['loop_direct_io']")" loop_direct_io
	assert_eq "$F" "$(json_get "$J" "d['targets'][0]['loop_backing']")" loop_backing
	assert_eq block "$(json_get "$J" "d['targets'][0]['kind']")" "target kind"
	json_true "$J" "d['stages'][1]['verify']['blocks_checked'] == 1024"
	assert_eq 0 "$(json_get "$J" "d['stages'][1]['verify']['failures']")" failures
	assert_eq "" "$(losetup -j "$F")" "loop devices left on $F"
}

@test "aio-stress --loop dio runs over a direct-I/O loop device and detaches it" {
	requires loop odirect
	loop_mode dio true
}

@test "aio-stress --loop buffered runs over a buffered loop device and detaches it" {
	requires loop
	loop_mode buffered false
}

# ---- Ctrl-C ----

# interrupt ARGS...: start aio-stress --runtime 30 ARGS in the background,
# wait until $F exists (and, with --loop, the loop device is attached),
# SIGINT it a moment later; $status is its exit status.
interrupt() {
	local pid i

	"$AIO_STRESS" --quiet --runtime 30 "$@" 3>&- &
	pid=$!
	for ((i = 0; i < 100; i++)); do
		if [[ -e $F ]] && { [[ $* != *--loop* ]] ||
			[[ -n $(losetup -j "$F" 2>/dev/null) ]]; }; then
			break
		fi
		sleep 0.1
	done
	sleep 1
	kill -INT "$pid"
	# Guard: a run that ignores SIGINT is killed after 20 s.
	for ((i = 0; i < 200; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	status=0
	wait "$pid" || status=$?
}

@test "aio-stress stops on SIGINT with status 130 and reports the interrupted stage" {
	interrupt -o 0 -o 1 -s 4m -r 4k --json "$J" "$F"
	assert_status 130
	assert_eq interrupted "$(json_get "$J" "d['result']")" result
	assert_eq '["write"]' "$(json_get "$J" "[s['name'] for s in d['stages']]")" "stages that ran"
	assert_eq true "$(json_get "$J" "d['stages'][0]['interrupted']")" "the write stage's interrupted"
	json_true "$J" "d['stages'][0]['ios'] > 0"
}

@test "aio-stress --loop detaches its loop device on SIGINT" {
	requires loop
	interrupt --loop buffered -o 0 -o 1 -s 4m -r 4k --json "$J" "$F"
	assert_status 130
	assert_eq interrupted "$(json_get "$J" "d['result']")" result
	assert_eq "" "$(losetup -j "$F")" "loop devices left on $F"
}

@test "aio-stress -u removes the file even after SIGINT" {
	interrupt -u -o 0 -o 1 -s 4m -r 4k "$F"
	assert_status 130
	[[ ! -e $F ]]
}

# ---- non-root ----

@test "aio-stress --loop as non-root fails with one line saying it needs root" {
	requires nonroot
	run timeout -k 5 "$AIO_TEST_TIMEOUT" setpriv --reuid=65534 \
		--regid=65534 --clear-groups "$AIO_STRESS" --quiet --loop dio \
		-o 0 -s 1m -r 4k "$F"
	assert_one_line_error aio-stress 1
	assert_output_has "needs root"
}
