// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module, never shipped: proves that the debug kernel's KASAN
 * reports an out-of-bounds read and that tests/vm/run fails the test
 * whose console shows it.
 *
 * Reads the byte just past a kmalloc()ed buffer.  The size is a module
 * parameter and the access goes through a volatile pointer so the
 * compiler can neither see the overflow nor drop the read; generic KASAN
 * tracks byte granularity, so the one-past read of a 13 byte object is a
 * "slab-out-of-bounds".
 */
#include <linux/module.h>
#include <linux/slab.h>

static unsigned int size = 13;
module_param(size, uint, 0444);
MODULE_PARM_DESC(size, "bytes to allocate; the byte at [size] is read");

static int __init kasan_oob_init(void)
{
	volatile char *buf;
	char val;

	buf = kmalloc(size, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;

	val = buf[size];
	pr_info("kasan_oob: read %d one past a %u byte buffer\n", val, size);

	kfree((void *)buf);
	return 0;
}

static void __exit kasan_oob_exit(void)
{
}

module_init(kasan_oob_init);
module_exit(kasan_oob_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("scoutfs debug-kernel self-test: one byte slab out-of-bounds read for KASAN");
