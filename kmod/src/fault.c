// SPDX-License-Identifier: GPL-2.0
/*
 * fault.c: test-only fault injection, compiled in only by a module built
 * with SCOUTFS_FAULT_INJECT=y (never in the module that ships).
 *
 * The sites are the allocations an operation makes inside its hold: each
 * item change's log entry (item.c) and each data block allocation
 * (data.c).  With /sys/module/scoutfs/parameters/fail_pid set to a
 * process id and fail_nth to N, the Nth site reached by that process
 * fails, once, as the allocation would (-ENOMEM for an item, -ENOSPC for
 * blocks); writing fail_nth restarts the count, fault_hits counts the
 * faults injected, so a test knows whether its operation reached N.
 * tests/kernel/fault_sweep.bats sweeps N over the namespace and data
 * operations and checks that each failure leaves the filesystem unchanged
 * or read-only (trans.c, NO OPERATION IS HALF ON DISK).
 *
 * freed_data_max (read at each transaction's start) shrinks the
 * transaction's freed data extent list, so tests/kernel/bounded_work.bats
 * sees deletes span many commits with thousands of extents instead of
 * hundreds of thousands; batch_pause_ms makes such a delete (or truncate,
 * or release) sleep that long after each batch's commit and
 * delete_batches counts the batches
 * committed, so the test cuts the power between two commits however fast
 * or slow the host is.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/atomic.h>
#include <linux/delay.h>

#include "fault.h"

static int fail_pid;
module_param(fail_pid, int, 0644);
MODULE_PARM_DESC(fail_pid, "test only: the process whose allocations fail_nth counts");

static atomic_t fault_seen = ATOMIC_INIT(0);
static int fail_nth;

static int set_fail_nth(const char *val, const struct kernel_param *kp)
{
	int ret = param_set_int(val, kp);

	if (ret == 0)
		atomic_set(&fault_seen, 0);
	return ret;
}

static const struct kernel_param_ops fail_nth_ops = {
	.set = set_fail_nth,
	.get = param_get_int,
};
module_param_cb(fail_nth, &fail_nth_ops, &fail_nth, 0644);
MODULE_PARM_DESC(fail_nth, "test only: fail the Nth allocation of fail_pid (0: none)");

static int fault_hits;
module_param(fault_hits, int, 0444);
MODULE_PARM_DESC(fault_hits, "test only: faults injected so far");

static int freed_data_max;
module_param(freed_data_max, int, 0644);
MODULE_PARM_DESC(freed_data_max, "test only: the most freed data extents one transaction records (0: the default)");

u32 scoutfs_fault_freed_data_cap(u32 cap)
{
	int max = READ_ONCE(freed_data_max);

	return max > 0 && max < cap ? max : cap;
}

static int batch_pause_ms;
module_param(batch_pause_ms, int, 0644);
MODULE_PARM_DESC(batch_pause_ms, "test only: sleep this long after each committed batch of a delete, truncate or release (0: none)");

static int delete_batches;
module_param(delete_batches, int, 0444);
MODULE_PARM_DESC(delete_batches, "test only: batches of deletes, truncates and releases committed so far");

/*
 * Called outside any hold and lock after a full freed list's commit in
 * the middle of freeing a file's extents (inode.c, data.c).
 */
void scoutfs_fault_batch_pause(void)
{
	int ms = READ_ONCE(batch_pause_ms);

	WRITE_ONCE(delete_batches, delete_batches + 1);
	if (ms > 0)
		msleep(min(ms, 10000));
}

bool scoutfs_fault_hit(void)
{
	int nth = READ_ONCE(fail_nth);

	if (nth <= 0 || task_tgid_nr(current) != READ_ONCE(fail_pid))
		return false;
	if (atomic_inc_return(&fault_seen) != nth)
		return false;
	WRITE_ONCE(fail_nth, 0);
	WRITE_ONCE(fault_hits, fault_hits + 1);
	return true;
}
