#!/usr/bin/env bats
# The module's sources stay clean: no compiler warnings with W=1, no sparse
# warnings (C=2 checks every file), and checkpatch finds no errors or
# warnings.  Runs on the host: it only compiles.
load helpers

# every kernel C source and header we ship (the test-only modules and
# Kbuild's generated *.mod.c excepted)
kmod_sources() {
	ls "$TOP"/kmod/src/*.[ch] "$TOP"/kmod/src/libscoutfs/*.[ch] | grep -v '\.mod\.c$'
}

@test "the module builds without warnings under W=1 and sparse" {
	command -v sparse
	# a private copy, so every file is compiled (W=1 only warns on compile)
	cp -r "$TOP/kmod/src" "$BATS_TEST_TMPDIR/src"
	rm -f "$BATS_TEST_TMPDIR"/src/*.o "$BATS_TEST_TMPDIR"/src/libscoutfs/*.o
	KDIR=$(make -s -C "$TOP/kmod" print-kdir)
	run make -C "$KDIR" M="$BATS_TEST_TMPDIR/src" C=1 W=1 modules
	echo "$output"
	[ "$status" -eq 0 ]
	! echo "$output" | grep -E 'warning:|error:'
}

@test "checkpatch finds no errors or warnings in the module sources" {
	dk=$("$TOP/tests/vm/debug-kernel/path") ||
		skip "checkpatch.pl comes with the kernel source (make debug-kernel)"
	cp=$dk/linux/scripts/checkpatch.pl
	[ -f "$cp" ]
	run perl "$cp" --no-tree --terse --show-types -f $(kmod_sources)
	echo "$output"
	! echo "$output" | grep -E ': (ERROR|WARNING):'
}
