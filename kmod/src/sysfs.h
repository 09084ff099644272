/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SCOUTFS_SYSFS_H_
#define _SCOUTFS_SYSFS_H_

struct super_block;
struct kobject;

int scoutfs_sysfs_init(void);
void scoutfs_sysfs_exit(void);
int scoutfs_sysfs_setup(struct super_block *sb);
void scoutfs_sysfs_destroy(struct super_block *sb);
struct super_block *scoutfs_sysfs_sb(struct kobject *kobj);

#endif
