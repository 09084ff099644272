// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module, never shipped: proves that the debug kernel's lockdep
 * reports a lock order inversion and that tests/vm/run fails the test
 * whose console shows it.
 *
 * Takes two mutexes in the order A, B and then, in the same thread, in
 * the order B, A.  No deadlock can actually happen (one thread), but
 * lockdep records the A -> B dependency and reports the B -> A one as a
 * "possible circular locking dependency".
 */
#include <linux/module.h>
#include <linux/mutex.h>

static DEFINE_MUTEX(selftest_lock_a);
static DEFINE_MUTEX(selftest_lock_b);

static int __init lockdep_inversion_init(void)
{
	mutex_lock(&selftest_lock_a);
	mutex_lock(&selftest_lock_b);
	mutex_unlock(&selftest_lock_b);
	mutex_unlock(&selftest_lock_a);

	mutex_lock(&selftest_lock_b);
	mutex_lock(&selftest_lock_a);
	mutex_unlock(&selftest_lock_a);
	mutex_unlock(&selftest_lock_b);

	pr_info("lockdep_inversion: took A->B then B->A\n");
	return 0;
}

static void __exit lockdep_inversion_exit(void)
{
}

module_init(lockdep_inversion_init);
module_exit(lockdep_inversion_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("scoutfs debug-kernel self-test: lock order inversion for lockdep");
