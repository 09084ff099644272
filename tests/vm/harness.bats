#!/usr/bin/env bats
# Host-side self-test of the VM harness (tests/vm/run): it must fail a test
# whose console shows a kernel splat or a bug the module reports about
# itself, a test that exits non-zero and a test that hangs, and still
# report the tests that follow a hang; and its power cut (--kill-after),
# kept and snapshot images (--disk-file, --disk-file-snapshot) and --env
# must do what tests/crash relies on; a report from the kernel's own boot
# is booted again once, never more, and so is a kernel whose own boot does
# not reach /init in --kernel-boot-timeout.

setup_file() {
	export RUN_OUT="$BATS_FILE_TMPDIR/vm"
	run "$BATS_TEST_DIRNAME/run" -q --timeout 20 --out "$RUN_OUT" \
		tests/vm/selftest/clean.sh \
		tests/vm/selftest/fake-warning.sh \
		tests/vm/selftest/exit-status.sh \
		tests/vm/selftest/hang.sh \
		tests/vm/selftest/clean.sh \
		tests/vm/selftest/fake-bug.sh
	echo "$status" > "$BATS_FILE_TMPDIR/status"
	echo "$output" > "$BATS_FILE_TMPDIR/output"

	# images that outlive the guest, and a power cut in the last test
	truncate -s 1M "$BATS_FILE_TMPDIR/kept.img" "$BATS_FILE_TMPDIR/snap.img"
	run "$BATS_TEST_DIRNAME/run" -q --out "$BATS_FILE_TMPDIR/vm-kill" \
		--disk-file "$BATS_FILE_TMPDIR/kept.img" \
		--disk-file-snapshot "$BATS_FILE_TMPDIR/snap.img" \
		--env SELFTEST_WORD=persisted-42 --kill-after 6 \
		tests/vm/selftest/clean.sh tests/vm/selftest/kill-me.sh
	echo "$status" > "$BATS_FILE_TMPDIR/kill-status"
	echo "$output" > "$BATS_FILE_TMPDIR/kill-output"

	# a report in the kernel's own boot (the kernel echoes its command
	# line there, so a word of it looks like one to the harness)
	run "$BATS_TEST_DIRNAME/run" -q --timeout 20 --out "$BATS_FILE_TMPDIR/vm-early" \
		--cmdline "harness_selftest=KASAN:" tests/vm/selftest/clean.sh
	echo "$status" > "$BATS_FILE_TMPDIR/early-status"
	echo "$output" > "$BATS_FILE_TMPDIR/early-output"

	# a kernel that cannot reach /init in 1 s under TCG
	run "$BATS_TEST_DIRNAME/run" -q --timeout 20 --kernel-boot-timeout 1 \
		--out "$BATS_FILE_TMPDIR/vm-kboot" tests/vm/selftest/clean.sh
	echo "$status" > "$BATS_FILE_TMPDIR/kboot-status"
	echo "$output" > "$BATS_FILE_TMPDIR/kboot-output"
}

result_line() {
	grep -E "^(not )?ok - vm $1" "$BATS_FILE_TMPDIR/output" | sed -n "${2:-1}p"
}

@test "a run with failing tests exits non-zero" {
	[ "$(cat "$BATS_FILE_TMPDIR/status")" -ne 0 ]
}

@test "a clean test passes" {
	[[ "$(result_line tests/vm/selftest/clean.sh 1)" == "ok - vm "* ]]
}

@test "a WARNING splat on the console fails a test that exited 0" {
	line=$(result_line tests/vm/selftest/fake-warning.sh)
	[[ "$line" == "not ok - vm "* ]]
	[[ "$line" == *"kernel console shows: WARNING:"* ]]
}

@test "the module logging one of its own bugs fails a test that exited 0" {
	line=$(result_line tests/vm/selftest/fake-bug.sh)
	[[ "$line" == "not ok - vm "* ]]
	[[ "$line" == *"(a bug)"* ]]
}

@test "a non-zero exit status fails the test" {
	line=$(result_line tests/vm/selftest/exit-status.sh)
	[[ "$line" == *"not ok - vm "*"(exit status 3)"* ]]
}

@test "a hung test is killed at its timeout and reported failed" {
	line=$(result_line tests/vm/selftest/hang.sh)
	[[ "$line" == "not ok - vm "*"timed out after 20s"* ]]
}

@test "the test after a hang runs in a fresh guest and passes" {
	[[ "$(result_line tests/vm/selftest/clean.sh 2)" == "ok - vm "* ]]
	grep -q "in 2 boots" "$BATS_FILE_TMPDIR/output"
}

@test "the console log of each boot is kept" {
	grep -q "scoutfs-test: BEGIN 1 " "$RUN_OUT/console.0.log"
	grep -q "scoutfs-test: BEGIN 4 " "$RUN_OUT/console.1.log"
}

@test "--kill-after kills the guest in the last test, which passes" {
	[ "$(cat "$BATS_FILE_TMPDIR/kill-status")" -eq 0 ]
	grep -q "^ok - vm tests/vm/selftest/clean.sh$" "$BATS_FILE_TMPDIR/kill-output"
	grep -qE "^ok - vm tests/vm/selftest/kill-me.sh \(killed [0-9.]+s after it started, as --kill-after asked\)" \
		"$BATS_FILE_TMPDIR/kill-output"
	grep -q "^written" "$BATS_FILE_TMPDIR/vm-kill/results/1.log"
	[ ! -f "$BATS_FILE_TMPDIR/vm-kill/results/1.rc" ]
}

@test "--env sets a variable in the tests' environment" {
	grep -q "^word: persisted-42$" "$BATS_FILE_TMPDIR/vm-kill/results/1.log"
}

@test "--disk-file keeps the guest's writes, --disk-file-snapshot drops them" {
	[ "$(head -c 12 "$BATS_FILE_TMPDIR/kept.img")" = "persisted-42" ]
	[ "$(tr -d '\0' < "$BATS_FILE_TMPDIR/snap.img" | wc -c)" -eq 0 ]
}

@test "a report in the kernel's own boot is booted again once, and a second one fails the run" {
	out=$(cat "$BATS_FILE_TMPDIR/early-output")
	grep -q "^# vm: boot 0: the kernel reported a problem in its own boot, before scoutfs.ko was loaded; booting again once" <<< "$out"
	grep -q "^ok - vm tests/vm/selftest/clean.sh" <<< "$out"
	grep -q "^# vm: boot 0 was booted again" <<< "$out"
	grep -q "^not ok - vm boot 1 console outside tests shows: .*KASAN:" <<< "$out"
	[ "$(cat "$BATS_FILE_TMPDIR/early-status")" -ne 0 ]
}

@test "a kernel boot that does not reach /init in --kernel-boot-timeout is booted again once" {
	out=$(cat "$BATS_FILE_TMPDIR/kboot-output")
	grep -q "^# vm: boot 0: the kernel's own boot did not reach /init in 1 s; booting again once" <<< "$out"
	grep -q "^ok - vm tests/vm/selftest/clean.sh" <<< "$out"
	grep -q "^# vm: boot 0 was booted again: .*did not reach /init" <<< "$out"
	grep -q "^# vm: 1 tests in 2 boots, 0 failed" <<< "$out"
	[ "$(cat "$BATS_FILE_TMPDIR/kboot-status")" -eq 0 ]
}
