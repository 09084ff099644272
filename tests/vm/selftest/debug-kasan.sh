# Debug-kernel self-test (guest side): loads kasan_oob.ko, which reads one
# byte past a kmalloc()ed buffer.  The script itself succeeds; the harness
# must still report it FAILED because KASAN prints "BUG: KASAN:
# slab-out-of-bounds" on the console.  Run only on the debug kernel, by
# tests/vm/debug-kernel/debug-selftest.bats.
set -eu
. "$SCOUTFS_TOP/tests/vm/selftest/debug-common.sh"
ko=$(selftest_module kasan_oob)
insmod "$ko"
rmmod kasan_oob
exit 0
