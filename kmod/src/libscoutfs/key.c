// SPDX-License-Identifier: GPL-2.0
/*
 * key.c: building, ordering and printing item keys.
 *
 * Owns the one definition of key order: (zone, first, type, second, third),
 * each compared as an unsigned number (format.h explains why: an inode's
 * items are adjacent, and each index zone is one ordered range).  The
 * padding bytes are always zero so that a key read back compares equal to
 * the key that was written; every init helper goes through
 * scoutfs_key_init() to keep that true.
 *
 * inc/dec step to the immediately following/preceding key in that order,
 * carrying from third to second to type to first to zone, which is what
 * iterators need to continue after an item.
 *
 * scoutfs_key_str() is the printed form used by print and fsck:
 * "zone.type first.second.third" with names where known and numbers where
 * not, so a corrupt key still prints.
 */
#include "scoutfs_os.h"
#include "key.h"

void scoutfs_key_init(struct scoutfs_key *key, u8 zone, u64 first, u8 type,
		      u64 second, u64 third)
{
	memset(key, 0, sizeof(*key));
	key->sk_zone = zone;
	key->sk_type = type;
	key->_sk_first = cpu_to_le64(first);
	key->_sk_second = cpu_to_le64(second);
	key->_sk_third = cpu_to_le64(third);
}

void scoutfs_key_set_zeros(struct scoutfs_key *key)
{
	scoutfs_key_init(key, 0, 0, 0, 0, 0);
}

void scoutfs_key_set_ones(struct scoutfs_key *key)
{
	scoutfs_key_init(key, 0xff, ~0ULL, 0xff, ~0ULL, ~0ULL);
}

void scoutfs_key_init_inode(struct scoutfs_key *key, u64 ino)
{
	scoutfs_key_init(key, SCOUTFS_FS_ZONE, ino, SCOUTFS_INODE_TYPE, 0, 0);
}

void scoutfs_key_init_xattr(struct scoutfs_key *key, u64 ino, u64 hash,
			    u64 id, u8 part)
{
	scoutfs_key_init(key, SCOUTFS_FS_ZONE, ino, SCOUTFS_XATTR_TYPE, hash,
			 (id << SCOUTFS_XATTR_PART_SHIFT) | part);
}

void scoutfs_key_init_dirent(struct scoutfs_key *key, u64 dir_ino, u64 hash,
			     u64 pos)
{
	scoutfs_key_init(key, SCOUTFS_FS_ZONE, dir_ino, SCOUTFS_DIRENT_TYPE,
			 hash, pos);
}

void scoutfs_key_init_readdir(struct scoutfs_key *key, u64 dir_ino, u64 pos)
{
	scoutfs_key_init(key, SCOUTFS_FS_ZONE, dir_ino, SCOUTFS_READDIR_TYPE,
			 pos, 0);
}

void scoutfs_key_init_backref(struct scoutfs_key *key, u64 ino, u64 dir_ino,
			      u64 pos)
{
	scoutfs_key_init(key, SCOUTFS_FS_ZONE, ino, SCOUTFS_LINK_BACKREF_TYPE,
			 dir_ino, pos);
}

void scoutfs_key_init_symlink(struct scoutfs_key *key, u64 ino, u64 part)
{
	scoutfs_key_init(key, SCOUTFS_FS_ZONE, ino, SCOUTFS_SYMLINK_TYPE,
			 part, 0);
}

void scoutfs_key_init_data_extent(struct scoutfs_key *key, u64 ino,
				  u64 iblock)
{
	scoutfs_key_init(key, SCOUTFS_FS_ZONE, ino, SCOUTFS_DATA_EXTENT_TYPE,
			 iblock, 0);
}

void scoutfs_key_init_orphan(struct scoutfs_key *key, u64 ino)
{
	scoutfs_key_init(key, SCOUTFS_ORPHAN_ZONE, ino, SCOUTFS_ORPHAN_TYPE,
			 0, 0);
}

void scoutfs_key_init_meta_seq(struct scoutfs_key *key, u64 seq, u64 ino)
{
	scoutfs_key_init(key, SCOUTFS_META_SEQ_INDEX_ZONE, seq,
			 SCOUTFS_SEQ_INDEX_TYPE, ino, 0);
}

void scoutfs_key_init_data_seq(struct scoutfs_key *key, u64 seq, u64 ino)
{
	scoutfs_key_init(key, SCOUTFS_DATA_SEQ_INDEX_ZONE, seq,
			 SCOUTFS_SEQ_INDEX_TYPE, ino, 0);
}

void scoutfs_key_init_srch(struct scoutfs_key *key, u64 hash, u64 ino,
			   u64 id)
{
	scoutfs_key_init(key, SCOUTFS_XATTR_SRCH_ZONE, hash, SCOUTFS_SRCH_TYPE,
			 ino, id);
}

void scoutfs_key_init_free_extent(struct scoutfs_key *key, u64 start)
{
	scoutfs_key_init(key, SCOUTFS_FREE_ZONE, start,
			 SCOUTFS_FREE_EXTENT_TYPE, 0, 0);
}

void scoutfs_key_init_log_trees(struct scoutfs_key *key, u64 rid)
{
	scoutfs_key_init(key, SCOUTFS_LOG_TREES_ZONE, rid,
			 SCOUTFS_LOG_TREES_TYPE, 0, 0);
}

static int cmp_u64(u64 a, u64 b)
{
	return a < b ? -1 : a > b ? 1 : 0;
}

int scoutfs_key_compare(const struct scoutfs_key *a,
			const struct scoutfs_key *b)
{
	int cmp;

	cmp = cmp_u64(a->sk_zone, b->sk_zone);
	if (!cmp)
		cmp = cmp_u64(scoutfs_key_first(a), scoutfs_key_first(b));
	if (!cmp)
		cmp = cmp_u64(a->sk_type, b->sk_type);
	if (!cmp)
		cmp = cmp_u64(scoutfs_key_second(a), scoutfs_key_second(b));
	if (!cmp)
		cmp = cmp_u64(scoutfs_key_third(a), scoutfs_key_third(b));
	return cmp;
}

/* Add (+1) or subtract (-1) one in key order, wrapping at the ends. */
static void key_step(struct scoutfs_key *key, int dir)
{
	u64 third = scoutfs_key_third(key);
	u64 second = scoutfs_key_second(key);
	u64 first = scoutfs_key_first(key);
	u64 edge = dir > 0 ? ~0ULL : 0;

	if (third != edge)
		goto third;
	if (second != edge)
		goto second;
	if (key->sk_type != (u8)edge)
		goto type;
	if (first != edge)
		goto first;
	key->sk_zone += dir;
first:
	first += dir;
type:
	key->sk_type += dir;
second:
	second += dir;
third:
	third += dir;
	key->_sk_first = cpu_to_le64(first);
	key->_sk_second = cpu_to_le64(second);
	key->_sk_third = cpu_to_le64(third);
}

void scoutfs_key_inc(struct scoutfs_key *key)
{
	key_step(key, 1);
}

void scoutfs_key_dec(struct scoutfs_key *key)
{
	key_step(key, -1);
}

const char *scoutfs_key_zone_name(u8 zone)
{
	switch (zone) {
	case SCOUTFS_FREE_ZONE:			return "free";
	case SCOUTFS_ORPHAN_ZONE:		return "orphan";
	case SCOUTFS_META_SEQ_INDEX_ZONE:	return "meta_seq";
	case SCOUTFS_DATA_SEQ_INDEX_ZONE:	return "data_seq";
	case SCOUTFS_XATTR_SRCH_ZONE:		return "srch";
	case SCOUTFS_FS_ZONE:			return "fs";
	case SCOUTFS_LOG_TREES_ZONE:		return "log_trees";
	}
	return NULL;
}

const char *scoutfs_key_type_name(u8 zone, u8 type)
{
	if (zone == SCOUTFS_FS_ZONE) {
		switch (type) {
		case SCOUTFS_INODE_TYPE:	return "inode";
		case SCOUTFS_XATTR_TYPE:	return "xattr";
		case SCOUTFS_DIRENT_TYPE:	return "dirent";
		case SCOUTFS_READDIR_TYPE:	return "readdir";
		case SCOUTFS_LINK_BACKREF_TYPE:	return "backref";
		case SCOUTFS_SYMLINK_TYPE:	return "symlink";
		case SCOUTFS_DATA_EXTENT_TYPE:	return "extent";
		}
		return NULL;
	}
	if (type != 1)
		return NULL;
	switch (zone) {
	case SCOUTFS_FREE_ZONE:			return "extent";
	case SCOUTFS_ORPHAN_ZONE:		return "orphan";
	case SCOUTFS_META_SEQ_INDEX_ZONE:
	case SCOUTFS_DATA_SEQ_INDEX_ZONE:	return "seq";
	case SCOUTFS_XATTR_SRCH_ZONE:		return "srch";
	case SCOUTFS_LOG_TREES_ZONE:		return "log_trees";
	}
	return NULL;
}

/* A tiny bounded string builder: no snprintf in the shared environment. */
struct strbuf {
	char *buf;
	size_t size;
	size_t len;
};

static void sb_char(struct strbuf *sb, char c)
{
	if (sb->len + 1 < sb->size)
		sb->buf[sb->len] = c;
	sb->len++;
}

static void sb_str(struct strbuf *sb, const char *s)
{
	while (*s)
		sb_char(sb, *s++);
}

static void sb_u64(struct strbuf *sb, u64 v)
{
	char digits[20];
	int n = 0;

	do {
		digits[n++] = '0' + (char)(v % 10);
		v /= 10;
	} while (v);
	while (n)
		sb_char(sb, digits[--n]);
}

static void sb_name_or_u64(struct strbuf *sb, const char *name, u64 v)
{
	if (name)
		sb_str(sb, name);
	else
		sb_u64(sb, v);
}

/*
 * Writes "zone.type first.second.third" into buf (always nul-terminated
 * when size > 0) and returns the full length it needed.
 */
int scoutfs_key_str(char *buf, size_t size, const struct scoutfs_key *key)
{
	struct strbuf sb = { .buf = buf, .size = size };

	sb_name_or_u64(&sb, scoutfs_key_zone_name(key->sk_zone), key->sk_zone);
	sb_char(&sb, '.');
	sb_name_or_u64(&sb, scoutfs_key_type_name(key->sk_zone, key->sk_type),
		       key->sk_type);
	sb_char(&sb, ' ');
	sb_u64(&sb, scoutfs_key_first(key));
	sb_char(&sb, '.');
	sb_u64(&sb, scoutfs_key_second(key));
	sb_char(&sb, '.');
	sb_u64(&sb, scoutfs_key_third(key));
	if (size)
		buf[sb.len < size ? sb.len : size - 1] = '\0';
	return (int)sb.len;
}
