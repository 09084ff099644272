/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SCOUTFS_FAULT_H_
#define _SCOUTFS_FAULT_H_

#include <linux/types.h>

/*
 * Test-only fault injection (fault.c): compiled in only when the module
 * is built with SCOUTFS_FAULT_INJECT=y (tests/kernel/fault_sweep.bats
 * builds that variant); otherwise every site compiles to nothing.
 */
#ifdef SCOUTFS_FAULT_INJECT
bool scoutfs_fault_hit(void);
u32 scoutfs_fault_freed_data_cap(u32 cap);
void scoutfs_fault_batch_pause(void);
#else
static inline bool scoutfs_fault_hit(void)
{
	return false;
}

static inline u32 scoutfs_fault_freed_data_cap(u32 cap)
{
	return cap;
}

static inline void scoutfs_fault_batch_pause(void)
{
}
#endif

#endif
