# Debug-kernel self-test (guest side): loads lockdep_inversion.ko, which
# takes two mutexes in both orders.  The script itself succeeds; the
# harness must still report it FAILED because lockdep prints "possible
# circular locking dependency detected" on the console.  Run only on the
# debug kernel, by tests/vm/debug-kernel/debug-selftest.bats.
set -eu
. "$SCOUTFS_TOP/tests/vm/selftest/debug-common.sh"
ko=$(selftest_module lockdep_inversion)
insmod "$ko"
rmmod lockdep_inversion
exit 0
