// SPDX-License-Identifier: GPL-2.0
/*
 * sysfs.c: each mount's directory, /sys/fs/scoutfs/f.FSID.r.RID/, named
 * as upstream names it (the top 24 bits of the fsid and of the mount's
 * rid in hex, the prefix of the mount's log lines), with:
 *
 *   fsid, rid        the full 64 bit ids in hex
 *   mount_options/   the mount options (options.c)
 *   counters/        orphan_scan, orphan_scan_item, orphan_scan_cached
 *                    (inode.c, the periodic orphan scan)
 *
 * The directory exists from the end of a successful mount until the
 * start of its unmount (scoutfs_sysfs_destroy() is the first thing
 * unmount does), so a show or store never sees a half set up or torn
 * down mount.  kobject_del() waits for show and store calls in flight.
 *
 * Locking: no lock is held across the kobject calls; show and store take
 * only what their subsystem documents (options.c: opts_seqlock).
 */
#include <linux/fs.h>
#include <linux/kobject.h>
#include <linux/sysfs.h>
#include <linux/slab.h>
#include <linux/completion.h>

#include "super.h"
#include "options.h"
#include "sysfs.h"

static struct kset *scoutfs_kset;

struct scoutfs_sysfs_info {
	struct super_block *sb;
	struct kobject kobj;
	struct completion released;
};

struct super_block *scoutfs_sysfs_sb(struct kobject *kobj)
{
	return container_of(kobj, struct scoutfs_sysfs_info, kobj)->sb;
}

static ssize_t fsid_show(struct kobject *kobj, struct kobj_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%016llx\n", SCOUTFS_SB(scoutfs_sysfs_sb(kobj))->fsid);
}

static ssize_t rid_show(struct kobject *kobj, struct kobj_attribute *attr,
			char *buf)
{
	return sysfs_emit(buf, "%016llx\n", SCOUTFS_SB(scoutfs_sysfs_sb(kobj))->rid);
}

static struct kobj_attribute fsid_attr = __ATTR_RO(fsid);
static struct kobj_attribute rid_attr = __ATTR_RO(rid);

static struct attribute *top_attrs[] = {
	&fsid_attr.attr,
	&rid_attr.attr,
	NULL,
};

static const struct attribute_group top_group = {
	.attrs = top_attrs,
};

#define COUNTER_SHOW(_name)						\
static ssize_t _name##_show(struct kobject *kobj,			\
			    struct kobj_attribute *attr, char *buf)	\
{									\
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(scoutfs_sysfs_sb(kobj));	\
									\
	return sysfs_emit(buf, "%lld\n",				\
			  atomic64_read(&sbi->counters._name));		\
}									\
static struct kobj_attribute _name##_attr = __ATTR_RO(_name)

COUNTER_SHOW(orphan_scan);
COUNTER_SHOW(orphan_scan_item);
COUNTER_SHOW(orphan_scan_cached);

static struct attribute *counters_attrs[] = {
	&orphan_scan_attr.attr,
	&orphan_scan_cached_attr.attr,
	&orphan_scan_item_attr.attr,
	NULL,
};

static const struct attribute_group counters_group = {
	.name = "counters",
	.attrs = counters_attrs,
};

static const struct attribute_group *mount_groups[] = {
	&top_group,
	&scoutfs_options_group,
	&counters_group,
	NULL,
};

static void sysfs_info_release(struct kobject *kobj)
{
	complete(&container_of(kobj, struct scoutfs_sysfs_info, kobj)->released);
}

static const struct kobj_type mount_ktype = {
	.sysfs_ops = &kobj_sysfs_ops,
	.release = sysfs_info_release,
	.default_groups = mount_groups,
};

int scoutfs_sysfs_setup(struct super_block *sb)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	struct scoutfs_sysfs_info *ssi;
	int ret;

	ssi = kzalloc(sizeof(*ssi), GFP_KERNEL);
	if (!ssi)
		return -ENOMEM;
	ssi->sb = sb;
	init_completion(&ssi->released);
	ssi->kobj.kset = scoutfs_kset;
	ret = kobject_init_and_add(&ssi->kobj, &mount_ktype, NULL,
				   "f.%06llx.r.%06llx", scoutfs_msg_id(sb, true),
				   scoutfs_msg_id(sb, false));
	if (ret) {
		kobject_put(&ssi->kobj);
		wait_for_completion(&ssi->released);
		kfree(ssi);
		scoutfs_err(sb, "creating the sysfs directory failed (%d)", ret);
		return ret;
	}
	sbi->sysfs = ssi;
	return 0;
}

void scoutfs_sysfs_destroy(struct super_block *sb)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	struct scoutfs_sysfs_info *ssi = sbi ? sbi->sysfs : NULL;

	if (!ssi)
		return;
	kobject_del(&ssi->kobj);
	kobject_put(&ssi->kobj);
	wait_for_completion(&ssi->released);
	kfree(ssi);
	sbi->sysfs = NULL;
}

int __init scoutfs_sysfs_init(void)
{
	scoutfs_kset = kset_create_and_add("scoutfs", NULL, fs_kobj);
	return scoutfs_kset ? 0 : -ENOMEM;
}

void scoutfs_sysfs_exit(void)
{
	kset_unregister(scoutfs_kset);
}
