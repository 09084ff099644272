# Sourced by the debug-kernel self-tests (tests/vm/selftest/debug-*.sh).
#
# selftest_module NAME: path of the self-test module NAME.ko built against
# the running kernel by tests/vm/selftest-modules/build.  Looked for in
# the selftest-modules/ directory beside the scoutfs.ko under test
# (build/debug-kernel/{kmod,selftest-modules}/ for `make debug-kernel`),
# then in build/debug-kernel/selftest-modules/ of the tree.
selftest_module() {
	local d
	for d in ${SCOUTFS_MODULE:+"$(dirname "$SCOUTFS_MODULE")/../selftest-modules"} \
		 "$SCOUTFS_TOP/build/debug-kernel/selftest-modules"; do
		if [ -f "$d/$1.ko" ]; then
			echo "$d/$1.ko"
			return 0
		fi
	done
	echo "no $1.ko found; run 'make debug-kernel'" >&2
	return 1
}
