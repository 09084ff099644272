/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SCOUTFS_IOCTL_H_
#define _SCOUTFS_IOCTL_H_
/*
 * ioctl.h: the single definition of the scoutfs ioctl ABI, shared by the
 * module and every userspace program.
 *
 * Numbers and layouts match upstream scoutfs so that tools written against
 * it (its utilities, scoutfs-go, archive agents) work unchanged.  Structs
 * are naturally aligned with explicit padding to 8 bytes, so 32- and
 * 64-bit callers agree; user pointers travel as __u64.  Every struct is
 * validated by the module: unknown flag bits, non-zero padding where
 * upstream rejects it, and counts beyond the caps below fail with EINVAL
 * before any allocation is sized from them.
 *
 * Each struct's size is asserted at compile time (SCOUTFS_IOCTL_SIZE_IS,
 * in the module and in every program that includes this) with upstream's
 * size, because the size is part of the ioctl number: a struct that grows
 * by a byte gets a different number and upstream's tools get ENOTTY.
 * Note WALK_INODES is 72 bytes (two 24-byte entries, entries_ptr,
 * nr_entries, index, 11 bytes of padding), as upstream's ioctl.h has it.
 */
#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/ioctl.h>
#include <linux/build_bug.h>
#define SCOUTFS_IOCTL_SIZE_IS(type, bytes) \
	static_assert(sizeof(struct type) == (bytes), #type " size")
#else
#include <linux/types.h>
#include <sys/ioctl.h>
#define SCOUTFS_IOCTL_SIZE_IS(type, bytes) \
	_Static_assert(sizeof(struct type) == (bytes), #type " size")
#endif

#define SCOUTFS_IOCTL_MAGIC 0xE8

/*
 * A position in a seq index: major is the seq, minor is unused (0), ino
 * orders inodes within a seq.
 */
struct scoutfs_ioctl_walk_inodes_entry {
	__u64 major;
	__u64 ino;
	__u32 minor;
	__u8 _pad[4];
};
SCOUTFS_IOCTL_SIZE_IS(scoutfs_ioctl_walk_inodes_entry, 24);

#define SCOUTFS_IOC_WALK_INODES_META_SEQ	0
#define SCOUTFS_IOC_WALK_INODES_DATA_SEQ	1
#define SCOUTFS_IOC_WALK_INODES_UNKNOWN		2

/*
 * Fill up to nr_entries entries, in (seq, ino) order, of inodes whose
 * index position lies in [first, last].  Returns the number filled, 0 at
 * the end.  Results stop at the last committed seq, so a walker that
 * resumes after the last entry it saw never misses an inode that commits
 * later with a lower seq.
 */
struct scoutfs_ioctl_walk_inodes {
	struct scoutfs_ioctl_walk_inodes_entry first;
	struct scoutfs_ioctl_walk_inodes_entry last;
	__u64 entries_ptr;
	__u32 nr_entries;
	__u8 index;
	__u8 _pad[11];
};
SCOUTFS_IOCTL_SIZE_IS(scoutfs_ioctl_walk_inodes, 72);

#define SCOUTFS_IOC_WALK_INODES \
	_IOW(SCOUTFS_IOCTL_MAGIC, 1, struct scoutfs_ioctl_walk_inodes)

/*
 * One path to ino, relative to the mount root, per call.  dir_ino and
 * dir_pos are the cursor: start at 0/0, then pass back the result's
 * dir_ino and dir_pos + 1 to find the next hard link.  ENOENT when there
 * are no more.
 */
struct scoutfs_ioctl_ino_path {
	__u64 ino;
	__u64 dir_ino;
	__u64 dir_pos;
	__u64 result_ptr;
	__u16 result_bytes;
	__u8 _pad[6];
};
SCOUTFS_IOCTL_SIZE_IS(scoutfs_ioctl_ino_path, 40);

struct scoutfs_ioctl_ino_path_result {
	__u64 dir_ino;
	__u64 dir_pos;
	__u16 path_bytes;	/* including the terminating NUL */
	__u8 _pad[6];
	__u8 path[];
};
SCOUTFS_IOCTL_SIZE_IS(scoutfs_ioctl_ino_path_result, 24);

#define SCOUTFS_IOC_INO_PATH \
	_IOW(SCOUTFS_IOCTL_MAGIC, 2, struct scoutfs_ioctl_ino_path)

/*
 * Free the blocks of [offset, offset + length) and mark the range
 * offline.  Byte range aligned to 4 KiB; data_version must equal the
 * inode's (ESTALE otherwise).  Size, mtime and data_version are unchanged.
 * A length of 0 returns 0 before anything else is checked, as upstream's.
 */
struct scoutfs_ioctl_release {
	__u64 offset;
	__u64 length;
	__u64 data_version;
};
SCOUTFS_IOCTL_SIZE_IS(scoutfs_ioctl_release, 24);

#define SCOUTFS_IOC_RELEASE \
	_IOW(SCOUTFS_IOCTL_MAGIC, 3, struct scoutfs_ioctl_release)

/*
 * Write length bytes from buf_ptr at offset into the offline blocks of
 * that range; blocks already online are left as they are (they hold
 * this data_version's contents) and count as staged, as upstream's.
 * Returns the bytes staged; wakes readers waiting on those blocks.
 */
struct scoutfs_ioctl_stage {
	__u64 data_version;
	__u64 buf_ptr;
	__u64 offset;
	__s32 length;
	__u8 _pad[4];
};
SCOUTFS_IOCTL_SIZE_IS(scoutfs_ioctl_stage, 32);

#define SCOUTFS_IOC_STAGE \
	_IOW(SCOUTFS_IOCTL_MAGIC, 4, struct scoutfs_ioctl_stage)

struct scoutfs_ioctl_stat_more {
	__u64 meta_seq;
	__u64 data_seq;
	__u64 data_version;
	__u64 online_blocks;
	__u64 offline_blocks;
	__u64 crtime_sec;
	__u32 crtime_nsec;
	__u8 _pad[4];
};
SCOUTFS_IOCTL_SIZE_IS(scoutfs_ioctl_stat_more, 56);

#define SCOUTFS_IOC_STAT_MORE \
	_IOR(SCOUTFS_IOCTL_MAGIC, 5, struct scoutfs_ioctl_stat_more)

/* what a task waiting on offline data was doing */
#define SCOUTFS_IOC_DWO_READ		(1 << 0)
#define SCOUTFS_IOC_DWO_WRITE		(1 << 1)
#define SCOUTFS_IOC_DWO_CHANGE_SIZE	(1 << 2)
#define SCOUTFS_IOC_DWO_UNKNOWN		(1 << 3)

struct scoutfs_ioctl_data_waiting_entry {
	__u64 ino;
	__u64 iblock;
	__u8 op;
	__u8 _pad[7];
};
SCOUTFS_IOCTL_SIZE_IS(scoutfs_ioctl_data_waiting_entry, 24);

#define SCOUTFS_IOC_DATA_WAITING_FLAGS_UNKNOWN	(~0ULL)

/*
 * List this mount's tasks waiting on offline data, after the
 * (after_ino, after_iblock) cursor; returns the number of entries filled.
 */
struct scoutfs_ioctl_data_waiting {
	__u64 flags;
	__u64 after_ino;
	__u64 after_iblock;
	__u64 ents_ptr;
	__u16 ents_nr;
	__u8 _pad[6];
};
SCOUTFS_IOCTL_SIZE_IS(scoutfs_ioctl_data_waiting, 40);

#define SCOUTFS_IOC_DATA_WAITING \
	_IOW(SCOUTFS_IOCTL_MAGIC, 6, struct scoutfs_ioctl_data_waiting)

#define SCOUTFS_IOC_SETATTR_MORE_OFFLINE	(1 << 0)
#define SCOUTFS_IOC_SETATTR_MORE_UNKNOWN	(~1ULL)

/*
 * On a regular file that never had contents (data_version 0): set
 * data_version and i_size, and with OFFLINE make all of it offline
 * (restoring a namespace from an archive).  As upstream's: a non-zero
 * i_size needs a non-zero data_version, OFFLINE needs an i_size (EINVAL).
 */
struct scoutfs_ioctl_setattr_more {
	__u64 data_version;
	__u64 i_size;
	__u64 flags;
	__u64 ctime_sec;
	__u32 ctime_nsec;
	__u32 crtime_nsec;
	__u64 crtime_sec;
};
SCOUTFS_IOCTL_SIZE_IS(scoutfs_ioctl_setattr_more, 48);

#define SCOUTFS_IOC_SETATTR_MORE \
	_IOW(SCOUTFS_IOCTL_MAGIC, 7, struct scoutfs_ioctl_setattr_more)

/* list the scoutfs.hide. xattrs that listxattr does not show */
struct scoutfs_ioctl_listxattr_hidden {
	__u64 id_pos;
	__u64 buf_ptr;
	__u32 buf_bytes;
	__u32 hash_pos;
};
SCOUTFS_IOCTL_SIZE_IS(scoutfs_ioctl_listxattr_hidden, 24);

#define SCOUTFS_IOC_LISTXATTR_HIDDEN \
	_IOWR(SCOUTFS_IOCTL_MAGIC, 8, struct scoutfs_ioctl_listxattr_hidden)

#define SCOUTFS_SEARCH_XATTRS_OFLAG_END	(1ULL << 0)

/* inodes in [next_ino, last_ino] with an xattr named name (a .srch. name) */
struct scoutfs_ioctl_search_xattrs {
	__u64 next_ino;
	__u64 last_ino;
	__u64 name_ptr;
	__u64 inodes_ptr;
	__u64 output_flags;
	__u64 nr_inodes;
	__u16 name_bytes;
	__u8 _pad[6];
};
SCOUTFS_IOCTL_SIZE_IS(scoutfs_ioctl_search_xattrs, 56);

#define SCOUTFS_IOC_SEARCH_XATTRS \
	_IOW(SCOUTFS_IOCTL_MAGIC, 9, struct scoutfs_ioctl_search_xattrs)

struct scoutfs_ioctl_statfs_more {
	__u64 fsid;
	__u64 rid;
	__u64 committed_seq;
	__u64 total_meta_blocks;
	__u64 total_data_blocks;
	__u64 reserved_meta_blocks;
};
SCOUTFS_IOCTL_SIZE_IS(scoutfs_ioctl_statfs_more, 48);

#define SCOUTFS_IOC_STATFS_MORE \
	_IOR(SCOUTFS_IOCTL_MAGIC, 10, struct scoutfs_ioctl_statfs_more)

/*
 * Give the tasks waiting on [offset, offset + count) of ino for op the
 * error err (-MAX_ERRNO..-1), which their system call returns.
 */
struct scoutfs_ioctl_data_wait_err {
	__u64 ino;
	__u64 data_version;	/* ignored, as upstream */
	__u64 offset;
	__u64 count;
	__u64 op;
	__s64 err;
};
SCOUTFS_IOCTL_SIZE_IS(scoutfs_ioctl_data_wait_err, 48);

#define SCOUTFS_IOC_DATA_WAIT_ERR \
	_IOW(SCOUTFS_IOCTL_MAGIC, 11, struct scoutfs_ioctl_data_wait_err)

/*
 * Move the extents of [from_off, from_off + len) of the file from_fd
 * into the file the ioctl is called on, at to_off, without copying data:
 * the blocks change owner.  Called on the destination; both files are
 * regular files of the same mount open for writing.  from_off, to_off and
 * len are multiples of 4 KiB, except that the range may end at the
 * source's i_size (its last, partial block moves whole).  Only extents
 * below the source's i_size move; holes in the source range move nothing.
 * The destination's i_size grows to cover what was moved (keeping the
 * source's partial last block partial).  A len of 0 returns 0.
 *
 * Without MB_STAGE the destination range under each moved extent must be
 * a hole, and neither file may have offline blocks (ENODATA); both files'
 * ctime, mtime, data_seq and data_version change.  With MB_STAGE (an
 * archive agent staging from a file it wrote) data_version must equal
 * the destination's (ESTALE) and the destination range under each moved
 * extent must be offline; only the source's times and version change,
 * and readers waiting on the range wake.
 *
 * EINVAL: unaligned offsets or length, the same file, not regular files,
 * the destination range not a hole (or, with MB_STAGE, not offline),
 * unknown flags; EOVERFLOW: an end beyond 64 bits; EBADF: from_fd is not
 * an open file (or either file is not open for writing); EXDEV: another
 * filesystem; EISDIR: a directory.  Big ranges move in several
 * transactions: an error part way leaves what moved before it moved.
 */
#define SCOUTFS_IOC_MB_STAGE		(1ULL << 0)
#define SCOUTFS_IOC_MB_UNKNOWN		(~1ULL)

struct scoutfs_ioctl_move_blocks {
	__u64 from_fd;
	__u64 from_off;
	__u64 len;
	__u64 to_off;
	__u64 data_version;
	__u64 flags;
};
SCOUTFS_IOCTL_SIZE_IS(scoutfs_ioctl_move_blocks, 48);

#define SCOUTFS_IOC_MOVE_BLOCKS \
	_IOW(SCOUTFS_IOCTL_MAGIC, 13, struct scoutfs_ioctl_move_blocks)

/*
 * The directory entries that refer to ino, in (dir_ino, dir_pos) order
 * from the cursor (dir_ino, dir_pos) on, packed into entries_ptr
 * (aligned to 16 bytes) as struct scoutfs_ioctl_dirent records of
 * entry_bytes each: the struct, the name and its NUL, padded to 16
 * bytes.  Returns the number of entries, 0 when there are none; the
 * record after which there are no more carries DIRENT_FLAG_LAST.  To go
 * on, pass the last record's (dir_ino, dir_pos) plus one (dir_pos
 * wrapping into dir_ino).  EINVAL when entries_ptr is not aligned or the
 * buffer cannot hold the first entry.  Needs CAP_DAC_READ_SEARCH.
 */
struct scoutfs_ioctl_get_referring_entries {
	__u64 ino;
	__u64 dir_ino;
	__u64 dir_pos;
	__u64 entries_ptr;
	__u64 entries_bytes;
};
SCOUTFS_IOCTL_SIZE_IS(scoutfs_ioctl_get_referring_entries, 40);

struct scoutfs_ioctl_dirent {
	__u64 dir_ino;
	__u64 dir_pos;
	__u64 ino;
	__u16 entry_bytes;
	__u8 flags;
	__u8 d_type;		/* DT_* */
	__u8 name_len;		/* without the NUL */
	__u8 name[3];		/* name_len + 1 bytes in the buffer */
};
SCOUTFS_IOCTL_SIZE_IS(scoutfs_ioctl_dirent, 32);

#define SCOUTFS_IOCTL_DIRENT_FLAG_LAST	(1 << 0)
#define SCOUTFS_IOCTL_DIRENT_ALIGN	16

#define SCOUTFS_IOC_GET_REFERRING_ENTRIES \
	_IOW(SCOUTFS_IOCTL_MAGIC, 17, struct scoutfs_ioctl_get_referring_entries)

/*
 * Turn the offline blocks of [offset, offset + len) into a hole, which
 * reads as zeros and needs no staging.  offset and len are multiples of
 * 4 KiB and len is not 0 (EOVERFLOW otherwise, as upstream's); flags
 * must be 0; data_version must equal the file's (ESTALE); the range may
 * hold only offline blocks and holes (EINVAL if any block is online or
 * unwritten, before anything changes).  Blocks beyond i_size are left
 * alone.  data_version, size and times are unchanged; readers waiting on
 * the range wake and read zeros.  CAP_SYS_ADMIN and a file open for
 * writing.
 */
struct scoutfs_ioctl_punch_offline {
	__u64 offset;
	__u64 len;
	__u64 data_version;
	__u64 flags;
};
SCOUTFS_IOCTL_SIZE_IS(scoutfs_ioctl_punch_offline, 32);

#define SCOUTFS_IOC_PUNCH_OFFLINE \
	_IOW(SCOUTFS_IOCTL_MAGIC, 24, struct scoutfs_ioctl_punch_offline)

/*
 * GET_ATTR_X (18) and SET_ATTR_X (19): upstream's extensible inode
 * attributes.  x_mask names the fields a call fills (get) or changes
 * (set), SCOUTFS_IOC_IAX_* below; single-bit attributes travel in bits
 * (SCOUTFS_IOC_IAX_B_*).  Unknown x_mask or x_flags bits: EINVAL.
 *
 * Get fills every field it is asked for (project_id is always 0: this
 * module has no project ids yet).  Set changes only RETENTION here (any
 * other field: EOPNOTSUPP, before anything changes; SETATTR_MORE sets
 * data_version, size and times).
 *
 * RETENTION: a retained regular file cannot be written, truncated,
 * fallocated, punched, moved from or to, have its attributes, ACLs or
 * user. xattrs changed, be linked, renamed or unlinked (all EPERM) until
 * the mark is cleared.  It can be read, released and staged (its
 * contents stay the same), and its xattrs outside user. (the scoutfs.
 * ones) can change.  Setting or clearing it needs CAP_SYS_ADMIN (EPERM)
 * and a regular file (EINVAL).
 */
struct scoutfs_ioctl_inode_attr_x {
	__u64 x_mask;
	__u64 x_flags;
	__u64 meta_seq;
	__u64 data_seq;
	__u64 data_version;
	__u64 online_blocks;
	__u64 offline_blocks;
	__u64 ctime_sec;
	__u32 ctime_nsec;
	__u32 crtime_nsec;
	__u64 crtime_sec;
	__u64 size;
	__u64 bits;
	__u64 project_id;
};
SCOUTFS_IOCTL_SIZE_IS(scoutfs_ioctl_inode_attr_x, 104);

/* x_flags */
#define SCOUTFS_IOC_IAX_F_SIZE_OFFLINE	(1ULL << 0)
#define SCOUTFS_IOC_IAX_F__UNKNOWN	(~0ULL << 1)

/* bits */
#define SCOUTFS_IOC_IAX_B_RETENTION	(1ULL << 0)

/* x_mask */
#define SCOUTFS_IOC_IAX_META_SEQ	(1ULL << 0)
#define SCOUTFS_IOC_IAX_DATA_SEQ	(1ULL << 1)
#define SCOUTFS_IOC_IAX_DATA_VERSION	(1ULL << 2)
#define SCOUTFS_IOC_IAX_ONLINE_BLOCKS	(1ULL << 3)
#define SCOUTFS_IOC_IAX_OFFLINE_BLOCKS	(1ULL << 4)
#define SCOUTFS_IOC_IAX_CTIME		(1ULL << 5)
#define SCOUTFS_IOC_IAX_CRTIME		(1ULL << 6)
#define SCOUTFS_IOC_IAX_SIZE		(1ULL << 7)
#define SCOUTFS_IOC_IAX_RETENTION	(1ULL << 8)
#define SCOUTFS_IOC_IAX_PROJECT_ID	(1ULL << 9)
#define SCOUTFS_IOC_IAX__UNKNOWN	(~0ULL << 10)

#define SCOUTFS_IOC_GET_ATTR_X \
	_IOW(SCOUTFS_IOCTL_MAGIC, 18, struct scoutfs_ioctl_inode_attr_x)
#define SCOUTFS_IOC_SET_ATTR_X \
	_IOW(SCOUTFS_IOCTL_MAGIC, 19, struct scoutfs_ioctl_inode_attr_x)

/*
 * statfs(2) reports f_ffree as the free metadata blocks times this bound
 * on the inodes one block holds, so `scoutfs df` can give the free
 * metadata blocks (upstream reads them with an ALLOC_DETAIL ioctl, 12,
 * which this module does not have).
 */
#define SCOUTFS_STATFS_INODES_PER_META_BLOCK	64

/*
 * Caps on user-supplied counts: no user number sizes a kernel allocation
 * beyond these.
 */
#define SCOUTFS_IOC_WALK_INODES_MAX_ENTRIES	4096
#define SCOUTFS_IOC_DATA_WAITING_MAX_ENTRIES	4096
#define SCOUTFS_IOC_SEARCH_XATTRS_MAX_INODES	4096
#define SCOUTFS_IOC_INO_PATH_MAX_BYTES		4096
#define SCOUTFS_IOC_LISTXATTR_HIDDEN_MAX_BYTES	65536
/* entries one GET_REFERRING_ENTRIES call gathers, whatever the buffer */
#define SCOUTFS_IOC_REFERRING_ENTRIES_MAX_BYTES	65536

#endif
