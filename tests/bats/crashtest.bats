#!/usr/bin/env bats
# crashtest (tests/crash), the power-cut test's workload and verifier, on
# the host and without a crash: the files of a workload that finished
# pass, and a changed byte, a lost file, a cut file or a file the workload
# never made fail, naming what is wrong.  (tests/crash/run-cycles runs it
# against real power cuts in the VM.)
load helpers

setup() {
	ROOT=$BATS_TEST_TMPDIR/root
	LOG=$BATS_TEST_TMPDIR/log
	mkdir -p "$ROOT"
	crashtest run --root "$ROOT" --log "$LOG" --seed 7 --cycle 1 --ops 400 > /dev/null
}

# the biggest file the workload left, relative to the cycle's directory
biggest() {
	(cd "$ROOT/c1" && ls -S d0/* d1/* | head -n 1)
}

@test "the files of a finished workload pass" {
	run crashtest verify --root "$ROOT" --log "$LOG"
	[ "$status" -eq 0 ]
	[[ "$output" == *"; 0 problems"* ]]
}

@test "a changed byte fails, naming the file and an offset" {
	f=$(biggest)
	b=$(od -An -tu1 -j 50 -N 1 "$ROOT/c1/$f" | tr -d ' ')
	printf "\\x$(printf %02x $(((b + 1) % 256)))" |
		dd of="$ROOT/c1/$f" bs=1 seek=50 conv=notrunc status=none
	run crashtest verify --root "$ROOT" --log "$LOG"
	[ "$status" -eq 1 ]
	echo "$output" | grep -E "^MISMATCH $f \(fid [0-9]+, ino [0-9]+\): .*gen [0-9]+.* offset [0-9]+"
}

@test "a lost file fails the check of the names" {
	rm "$ROOT/c1/$(biggest)"
	run crashtest verify --root "$ROOT" --log "$LOG"
	[ "$status" -eq 1 ]
	[[ "$output" == *"MISMATCH names:"* ]]
	[[ "$output" == *"found nothing"* ]]
}

@test "a file the workload never made fails" {
	touch "$ROOT/c1/d1/f99" "$ROOT/c1/stray"
	run crashtest verify --root "$ROOT" --log "$LOG"
	[ "$status" -eq 1 ]
	[[ "$output" == *"c1/d1/f99: not a name the workload uses"* ]]
	[[ "$output" == *"c1/stray: not made by the workload"* ]]
}

@test "a durable file cut short fails; nothing durable before the cut, it passes" {
	f=$(biggest)
	truncate -s 0 "$ROOT/c1/$f"
	run crashtest verify --root "$ROOT" --log "$LOG"
	[ "$status" -eq 1 ]
	[[ "$output" == *"MISMATCH $f "* ]]
	# a replayed write log that stops after line 1 promises nothing
	run crashtest verify --root "$ROOT" --log "$LOG" --durable-upto 1
	[ "$status" -eq 0 ]
}

@test "an empty log means the power cut came first: nothing to check" {
	: > "$BATS_TEST_TMPDIR/empty"
	run crashtest verify --root "$ROOT" --log "$BATS_TEST_TMPDIR/empty"
	[ "$status" -eq 0 ]
	[[ "$output" == *"nothing to check"* ]]
}

@test "a missing log is an error, not nothing to check (a path the guest cannot see)" {
	run crashtest verify --root "$ROOT" --log "$BATS_TEST_TMPDIR/none"
	[ "$status" -ne 0 ]
	[[ "$output" == *"$BATS_TEST_TMPDIR/none"* ]]
	[[ "$output" != *"nothing to check"* ]]
}

@test "run-cycles refuses a CRASH_OUT the guest covers with tmpfs" {
	CRASH_OUT=/tmp/crash-out-$$ run "$TOP/tests/crash/run-cycles"
	rmdir /tmp/crash-out-$$ 2> /dev/null || true
	[ "$status" -eq 2 ]
	[[ "$output" == *"tmpfs"* ]]
}
