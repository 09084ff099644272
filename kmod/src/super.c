// SPDX-License-Identifier: GPL-2.0
/*
 * super.c: module entry and the scoutfs filesystem type.
 *
 * This file owns registration of the "scoutfs" filesystem type with the
 * VFS and the module's init/exit.  Mounting is described where it is
 * implemented; until then a mount attempt fails cleanly with -EOPNOTSUPP
 * and one log line, so that a stray mount never oopses.
 */
#include <linux/module.h>
#include <linux/fs.h>
#include <linux/err.h>

#include "format.h"

static struct dentry *scoutfs_mount(struct file_system_type *fs_type,
				    int flags, const char *dev_name,
				    void *data)
{
	pr_err("scoutfs: mount of %s: mounting is not implemented yet\n",
	       dev_name);
	return ERR_PTR(-EOPNOTSUPP);
}

static struct file_system_type scoutfs_fs_type = {
	.owner		= THIS_MODULE,
	.name		= "scoutfs",
	.mount		= scoutfs_mount,
	.kill_sb	= kill_block_super,
	.fs_flags	= FS_REQUIRES_DEV,
};
MODULE_ALIAS_FS("scoutfs");

static int __init scoutfs_module_init(void)
{
	return register_filesystem(&scoutfs_fs_type);
}

static void __exit scoutfs_module_exit(void)
{
	unregister_filesystem(&scoutfs_fs_type);
}

module_init(scoutfs_module_init);
module_exit(scoutfs_module_exit);

MODULE_AUTHOR("scoutfs developers");
MODULE_DESCRIPTION("scoutfs clustered archive filesystem");
MODULE_LICENSE("GPL");
