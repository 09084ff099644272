# Debug-kernel self-test (guest side): a clean test that must PASS on the
# debug kernel.  Checks that scoutfs is loaded and registered, and that
# this really is the debug kernel with its detectors live, so a debug run
# can't silently fall back to a kernel that detects nothing.
set -eu
fail() { echo "debug-clean: $*" >&2; exit 1; }

grep -qw scoutfs /proc/filesystems || fail "scoutfs is not in /proc/filesystems"

[ -r /proc/config.gz ] || fail "no /proc/config.gz: not the debug kernel"
for opt in CONFIG_PROVE_LOCKING=y CONFIG_KASAN=y CONFIG_DETECT_HUNG_TASK=y \
	   CONFIG_SOFTLOCKUP_DETECTOR=y CONFIG_DEBUG_ATOMIC_SLEEP=y CONFIG_DEBUG_LIST=y; do
	zcat /proc/config.gz | grep -qx "$opt" || fail "kernel lacks $opt"
done

# lockdep turns itself off after its first report (or on a bug in
# itself); loading scoutfs must not have done that
grep -Eq '^ *debug_locks: +1$' /proc/lockdep_stats ||
	fail "lockdep is off: $(grep debug_locks /proc/lockdep_stats)"

t=$(cat /proc/sys/kernel/hung_task_timeout_secs)
[ "$t" -gt 0 ] || fail "hung task detection is off (timeout $t)"
echo "debug kernel $(uname -r): lockdep on, KASAN on, hung task timeout ${t}s"
