#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The suite's counter (tests/tap-count, used by tests/run-all): TAP's
# "# SKIP" and "# TODO" directives decide a line's class before its
# "ok"/"not ok", so cmocka's "not ok N # SKIP" is a skip, not a failure.

load helpers

@test "tap-count: SKIP and TODO directives win over ok/not ok" {
	run "$TOP/tests/tap-count" <<-'TAP'
	1..9
	ok 1 plain pass
	not ok 2 - test_s3_put # SKIP s3rver not installed
	ok 3 # skip bats style
	not ok 4 known bug # TODO fix the thing
	not ok 5 real failure
	ok 6 name with \# escaped hash
	ok 7 - x #SKIP no space after the hash
	# ok 8 a diagnostic, not a test line
	okay 9 not a test line either
	TAP
	[ "$status" -eq 0 ]
	[ "$output" = "2 1 3 1" ]
}

@test "tap-count: a real cmocka skip counts as a skip" {
	cat > "$BATS_TEST_TMPDIR/skip.c" <<-'C'
	#include <stdarg.h>
	#include <stddef.h>
	#include <stdint.h>
	#include <setjmp.h>
	#include <cmocka.h>
	static void passes(void **s) { (void)s; }
	static void skips(void **s) { (void)s; skip(); }
	int main(void)
	{
		const struct CMUnitTest t[] = {
			cmocka_unit_test(passes), cmocka_unit_test(skips),
		};
		return cmocka_run_group_tests(t, NULL, NULL);
	}
	C
	cc -o "$BATS_TEST_TMPDIR/skip" "$BATS_TEST_TMPDIR/skip.c" -lcmocka
	CMOCKA_MESSAGE_OUTPUT=TAP "$BATS_TEST_TMPDIR/skip" > "$BATS_TEST_TMPDIR/tap"
	grep -q '^not ok 2 # SKIP skips' "$BATS_TEST_TMPDIR/tap"
	run "$TOP/tests/tap-count" "$BATS_TEST_TMPDIR/tap"
	[ "$output" = "1 0 1 0" ]
}

# run-all end to end, with a stand-in make whose "check-unit" prints TAP
@test "run-all: skips and todos are not failures, failures are" {
	fake=$BATS_TEST_TMPDIR/fake-make
	printf '#!/bin/sh\ncat "%s"\n' "$BATS_TEST_TMPDIR/out" > "$fake"
	chmod +x "$fake"
	printf 'ok 1 a\nnot ok 2 b # SKIP x\nnot ok 3 c # TODO y\n' > "$BATS_TEST_TMPDIR/out"
	run env MAKE="$fake" RUN_ALL_LOGS="$BATS_TEST_TMPDIR/logs" "$TOP/tests/run-all" unit
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "1 passed, 0 failed, 1 skipped, 1 todo" ]

	printf 'ok 1 a\nnot ok 2 b\n' > "$BATS_TEST_TMPDIR/out"
	run env MAKE="$fake" RUN_ALL_LOGS="$BATS_TEST_TMPDIR/logs" "$TOP/tests/run-all" unit
	[ "$status" -ne 0 ]
	[ "${lines[-1]}" = "1 passed, 1 failed" ]
}
