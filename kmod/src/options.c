// SPDX-License-Identifier: GPL-2.0
/*
 * options.c: the mount options, as upstream scoutfs names them, and their
 * files in the mount's sysfs directory (sysfs.c):
 *
 *   metadev_path=PATH              the metadata device (required, fixed)
 *   quorum_slot_nr=N               quorum slot 0..SCOUTFS_QUORUM_MAX_SLOTS-1 (fixed)
 *   data_prealloc_blocks=N         preallocation size in 4 KiB blocks, 1 and up
 *   data_prealloc_contig_only=0|1  only preallocate when extending (data.c)
 *   orphan_scan_delay_ms=N         100..60000 ms between orphan scans (inode.c)
 *
 * /sys/fs/scoutfs/<mount>/mount_options/ has a file per option; the last
 * three can be written to change them in the running mount.  A bad value,
 * at mount or written to a file, fails with EINVAL and one log line
 * naming the option and its valid range.
 *
 * Locking: the changeable options are copied in and out under
 * sbi->opts_seqlock (scoutfs_options_read()); it is taken by nothing
 * else and takes nothing, so it nests inside any lock (a leaf).
 */
#include <linux/fs.h>
#include <linux/parser.h>
#include <linux/slab.h>
#include <linux/seq_file.h>
#include <linux/kobject.h>
#include <linux/sysfs.h>
#include <linux/kstrtox.h>

#include "format.h"
#include "super.h"
#include "options.h"
#include "inode.h"
#include "sysfs.h"

#define DEFAULT_DATA_PREALLOC_BLOCKS	1ULL
#define MIN_DATA_PREALLOC_BLOCKS	1ULL
#define MAX_DATA_PREALLOC_BLOCKS	(U64_MAX >> SCOUTFS_DATA_BLOCK_SHIFT)
#define MIN_ORPHAN_SCAN_DELAY_MS	100ULL
#define DEFAULT_ORPHAN_SCAN_DELAY_MS	10000U
#define MAX_ORPHAN_SCAN_DELAY_MS	60000ULL

enum {
	Opt_metadev_path,
	Opt_quorum_slot_nr,
	Opt_data_prealloc_blocks,
	Opt_data_prealloc_contig_only,
	Opt_orphan_scan_delay_ms,
	Opt_err,
};

static const match_table_t scoutfs_mount_tokens = {
	{ Opt_metadev_path, "metadev_path=%s" },
	{ Opt_quorum_slot_nr, "quorum_slot_nr=%s" },
	{ Opt_data_prealloc_blocks, "data_prealloc_blocks=%s" },
	{ Opt_data_prealloc_contig_only, "data_prealloc_contig_only=%s" },
	{ Opt_orphan_scan_delay_ms, "orphan_scan_delay_ms=%s" },
	{ Opt_err, NULL },
};

/* The range each numeric option accepts, for parsing and for sysfs. */
struct opt_range {
	const char *name;
	u64 min;
	u64 max;
};

static const struct opt_range range_quorum_slot_nr = {
	"quorum_slot_nr", 0, SCOUTFS_QUORUM_MAX_SLOTS - 1
};
static const struct opt_range range_data_prealloc_blocks = {
	"data_prealloc_blocks", MIN_DATA_PREALLOC_BLOCKS, MAX_DATA_PREALLOC_BLOCKS
};
static const struct opt_range range_data_prealloc_contig_only = {
	"data_prealloc_contig_only", 0, 1
};
static const struct opt_range range_orphan_scan_delay_ms = {
	"orphan_scan_delay_ms", MIN_ORPHAN_SCAN_DELAY_MS, MAX_ORPHAN_SCAN_DELAY_MS
};

/*
 * A decimal (or 0x hex) number within the option's range, else -EINVAL
 * with a log line naming the option; where says whether it came from
 * the mount or a sysfs file.
 */
static int parse_ranged(struct super_block *sb, const char *str,
			const struct opt_range *r, const char *where, u64 *val)
{
	int ret;

	ret = kstrtoull(str, 0, val);
	if (ret == 0 && (*val < r->min || *val > r->max))
		ret = -ERANGE;
	if (ret) {
		scoutfs_err(sb, "invalid %s value '%s' %s, must be between %llu and %llu",
			    r->name, str, where, r->min, r->max);
		return -EINVAL;
	}
	return 0;
}

static int parse_arg(struct super_block *sb, substring_t *arg,
		     const struct opt_range *r, u64 *val)
{
	char *str;
	int ret;

	str = match_strdup(arg);
	if (!str)
		return -ENOMEM;
	ret = parse_ranged(sb, str, r, "in the mount options", val);
	kfree(str);
	return ret;
}

/* Each tunable option may be given once: a second is a mistake. */
static int given_once(struct super_block *sb, unsigned long *seen, int token,
		const char *name)
{
	if (test_and_set_bit(token, seen)) {
		scoutfs_err(sb, "mount option %s given more than once", name);
		return -EINVAL;
	}
	return 0;
}

/*
 * Parse the mount's option string into sbi->opts, before anything else
 * of the mount is set up.  The metadev_path string is freed with the
 * rest of the mount (free_sbi() in super.c), on failure too.
 */
int scoutfs_options_parse(struct super_block *sb, char *options)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	struct scoutfs_mount_options *opts = &sbi->opts;
	substring_t args[MAX_OPT_ARGS];
	unsigned long seen = 0;
	int token;
	char *p;
	u64 val;
	int ret;

	seqlock_init(&sbi->opts_seqlock);
	opts->quorum_slot_nr = -1;
	opts->data_prealloc_blocks = DEFAULT_DATA_PREALLOC_BLOCKS;
	opts->data_prealloc_contig_only = true;
	opts->orphan_scan_delay_ms = DEFAULT_ORPHAN_SCAN_DELAY_MS;

	while (options && (p = strsep(&options, ",")) != NULL) {
		if (!*p)
			continue;
		token = match_token(p, scoutfs_mount_tokens, args);
		ret = 0;
		switch (token) {
		case Opt_metadev_path:
			kfree(opts->metadev_path);
			opts->metadev_path = match_strdup(&args[0]);
			if (!opts->metadev_path)
				return -ENOMEM;
			break;
		case Opt_quorum_slot_nr:
			ret = parse_arg(sb, &args[0], &range_quorum_slot_nr, &val);
			opts->quorum_slot_nr = val;
			break;
		case Opt_data_prealloc_blocks:
			ret = given_once(sb, &seen, token, range_data_prealloc_blocks.name) ?:
			      parse_arg(sb, &args[0], &range_data_prealloc_blocks,
					&val);
			opts->data_prealloc_blocks = val;
			break;
		case Opt_data_prealloc_contig_only:
			ret = given_once(sb, &seen, token,
				   range_data_prealloc_contig_only.name) ?:
			      parse_arg(sb, &args[0],
					&range_data_prealloc_contig_only, &val);
			opts->data_prealloc_contig_only = val;
			break;
		case Opt_orphan_scan_delay_ms:
			ret = given_once(sb, &seen, token, range_orphan_scan_delay_ms.name) ?:
			      parse_arg(sb, &args[0], &range_orphan_scan_delay_ms,
					&val);
			opts->orphan_scan_delay_ms = val;
			break;
		default:
			scoutfs_err(sb, "unknown mount option '%s'", p);
			return -EINVAL;
		}
		if (ret)
			return ret;
	}

	if (!opts->metadev_path) {
		scoutfs_err(sb, "the metadev_path=PATH option naming the metadata device is required");
		return -EINVAL;
	}
	return 0;
}

void scoutfs_options_read(struct super_block *sb,
			  struct scoutfs_mount_options *opts)
{
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	unsigned int seq;

	do {
		seq = read_seqbegin(&sbi->opts_seqlock);
		*opts = sbi->opts;
	} while (read_seqretry(&sbi->opts_seqlock, seq));
}

int scoutfs_options_show(struct seq_file *seq, struct dentry *root)
{
	struct scoutfs_mount_options opts;

	scoutfs_options_read(root->d_sb, &opts);
	seq_show_option(seq, "metadev_path", opts.metadev_path);
	if (opts.quorum_slot_nr >= 0)
		seq_printf(seq, ",quorum_slot_nr=%d", opts.quorum_slot_nr);
	seq_printf(seq, ",data_prealloc_blocks=%llu,data_prealloc_contig_only=%d,orphan_scan_delay_ms=%u",
		   opts.data_prealloc_blocks, opts.data_prealloc_contig_only,
		   opts.orphan_scan_delay_ms);
	return 0;
}

/* ---- sysfs: /sys/fs/scoutfs/<mount>/mount_options/ ---- */

static ssize_t metadev_path_show(struct kobject *kobj,
				 struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n", SCOUTFS_SB(scoutfs_sysfs_sb(kobj))->opts.metadev_path);
}

static ssize_t quorum_slot_nr_show(struct kobject *kobj,
				   struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", SCOUTFS_SB(scoutfs_sysfs_sb(kobj))->opts.quorum_slot_nr);
}

/* The changeable options, by the opt_range that names each. */
static u64 tunable_get(const struct scoutfs_mount_options *opts,
		       const struct opt_range *r)
{
	if (r == &range_data_prealloc_blocks)
		return opts->data_prealloc_blocks;
	if (r == &range_data_prealloc_contig_only)
		return opts->data_prealloc_contig_only;
	return opts->orphan_scan_delay_ms;
}

static void tunable_set(struct scoutfs_mount_options *opts,
			const struct opt_range *r, u64 val)
{
	if (r == &range_data_prealloc_blocks)
		opts->data_prealloc_blocks = val;
	else if (r == &range_data_prealloc_contig_only)
		opts->data_prealloc_contig_only = val;
	else
		opts->orphan_scan_delay_ms = val;
}

static ssize_t tunable_show(struct kobject *kobj, const struct opt_range *r,
			    char *buf)
{
	struct scoutfs_mount_options opts;

	scoutfs_options_read(scoutfs_sysfs_sb(kobj), &opts);
	return sysfs_emit(buf, "%llu\n", tunable_get(&opts, r));
}

/*
 * A value written to a tunable's sysfs file: one number, with at most a
 * trailing newline, within the option's range.
 */
static ssize_t tunable_store(struct kobject *kobj, const struct opt_range *r,
			     const char *buf, size_t count)
{
	struct super_block *sb = scoutfs_sysfs_sb(kobj);
	struct scoutfs_sb_info *sbi = SCOUTFS_SB(sb);
	char str[24];
	u64 val;
	int ret;

	if (count >= sizeof(str)) {
		scoutfs_err(sb, "invalid %s value written to its sysfs file: too long",
			    r->name);
		return -EINVAL;
	}
	memcpy(str, buf, count);
	str[count] = '\0';
	if (count && str[count - 1] == '\n')
		str[count - 1] = '\0';
	ret = parse_ranged(sb, str, r, "written to its sysfs file", &val);
	if (ret)
		return ret;

	write_seqlock(&sbi->opts_seqlock);
	tunable_set(&sbi->opts, r, val);
	write_sequnlock(&sbi->opts_seqlock);
	/* the next orphan scan comes after the new delay */
	if (r == &range_orphan_scan_delay_ms)
		scoutfs_orphan_scan_schedule(sb, true);
	return count;
}

#define TUNABLE_ATTR(_name)						\
static ssize_t _name##_show(struct kobject *kobj,			\
			    struct kobj_attribute *attr, char *buf)	\
{									\
	return tunable_show(kobj, &range_##_name, buf);			\
}									\
static ssize_t _name##_store(struct kobject *kobj,			\
			     struct kobj_attribute *attr,		\
			     const char *buf, size_t count)		\
{									\
	return tunable_store(kobj, &range_##_name, buf, count);	\
}									\
static struct kobj_attribute _name##_attr = __ATTR_RW(_name)

TUNABLE_ATTR(data_prealloc_blocks);
TUNABLE_ATTR(data_prealloc_contig_only);
TUNABLE_ATTR(orphan_scan_delay_ms);

static struct kobj_attribute metadev_path_attr = __ATTR_RO(metadev_path);
static struct kobj_attribute quorum_slot_nr_attr = __ATTR_RO(quorum_slot_nr);

static struct attribute *options_attrs[] = {
	&data_prealloc_blocks_attr.attr,
	&data_prealloc_contig_only_attr.attr,
	&metadev_path_attr.attr,
	&orphan_scan_delay_ms_attr.attr,
	&quorum_slot_nr_attr.attr,
	NULL,
};

const struct attribute_group scoutfs_options_group = {
	.name = "mount_options",
	.attrs = options_attrs,
};
