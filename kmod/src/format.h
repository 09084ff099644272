/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SCOUTFS_FORMAT_H_
#define _SCOUTFS_FORMAT_H_
/*
 * format.h: the single definition of everything scoutfs writes to disk.
 * The module, libscoutfs (kmod/src/libscoutfs) and the tools (mkfs, print,
 * fsck) all include this file; nothing on disk is described anywhere else.
 * All multi-byte fields are little-endian; structures are naturally aligned
 * with explicit padding so their layout is the same for every compiler.
 *
 * DEVICES
 *
 * A filesystem is two devices, each a block device or a regular file:
 *
 *  - the metadata device, in 64 KiB blocks (SCOUTFS_BLOCK_SHIFT).  Block 0
 *    is never written (room for labels); blocks 1 and 2 hold the two super
 *    block slots; blocks 3..(3 + SCOUTFS_QUORUM_MAX_SLOTS - 1) are the
 *    quorum election blocks, one per slot (used by the cluster step);
 *    blocks from SCOUTFS_META_FIRST_BLKNO on are allocated.
 *  - the data device, in 4 KiB blocks (SCOUTFS_DATA_BLOCK_SHIFT).  Its
 *    block 0 holds a struct scoutfs_data_super that names the filesystem,
 *    so a mount can refuse a data device from another filesystem; file
 *    data is allocated from SCOUTFS_DATA_FIRST_BLKNO on.
 *
 * BLOCKS
 *
 * Every metadata block starts with struct scoutfs_block_header: a crc32c
 * of the whole block after the crc field, a magic number for its type, the
 * fsid, the sequence number of the transaction that wrote it and its own
 * block number.  Blocks are referenced by struct scoutfs_block_ref, which
 * carries the referenced block's blkno and seq: a read checks the crc,
 * magic, fsid, blkno and seq and reports which of them failed, so a torn
 * write (crc), a misdirected write (blkno) and a stale or lost write (seq)
 * are each detected and named.
 *
 * TRANSACTIONS AND SUPER BLOCKS
 *
 * Metadata is copy-on-write: a transaction never overwrites a block that
 * the last committed super references.  Commit writes every dirty block to
 * newly allocated blocks, waits for them to be stable, then writes the
 * super with the new roots and the new seq.  There are two super slots and
 * commit seq N writes slot (N % 2); mount reads both and uses the valid one
 * with the higher seq.  A crash before the super write leaves the previous
 * super and everything it references intact; a torn super write fails its
 * crc and the other slot, the previous transaction, is used.  So after any
 * crash the filesystem is exactly the last committed transaction.
 *
 * ITEMS AND BTREES
 *
 * All filesystem metadata is items: a struct scoutfs_key and a small
 * value, kept sorted in copy-on-write btrees of 64 KiB blocks.  Keys sort
 * by (zone, first, type, second, third), compared as unsigned numbers in
 * that order, so all the items of one inode (first = ino) are adjacent in
 * the fs zone and a lock over an inode covers one contiguous key range.
 * The seq indexes and the orphan list live in their own zones so each is
 * one contiguous, ordered range.
 *
 * Btree blocks hold a sorted array of item headers growing from the front
 * and the values packed from the end, in item order and without holes:
 * item 0's value ends at the block's end, item i's value ends where item
 * i-1's starts, so a range of items has one contiguous range of value
 * bytes and splits and merges move both with two memmoves.  val_off is the
 * value's first byte; a zero-length value ending at the block's end (65536,
 * which does not fit the field) is stored as val_off 0.  Leaves (level 0) hold items;
 * parents hold, for each child, the greatest key in the child's subtree
 * with a struct scoutfs_block_ref as the value.  Nodes split when an
 * insertion does not fit and merge with a sibling when they fall below a
 * quarter full, so every root-to-leaf path has the same length.
 *
 * FREE SPACE
 *
 * Free metadata and data blocks are extent items in two allocator btrees
 * (zone SCOUTFS_FREE_ZONE, keyed by start block, value = length), so free
 * space is just more copy-on-write metadata committed with the super: after
 * a crash it is exactly what the last commit said.  Blocks freed by a
 * transaction are not reused until that transaction has committed (the
 * previous super may still reference them); they are kept in the
 * transaction's in-memory freed list and inserted into the free trees as
 * part of the commit.  The blocks that the allocator trees themselves need
 * to be copied are taken from a small per-transaction reserve (see alloc.c)
 * so allocation never recurses.  Allocator tree updates themselves need
 * reserve blocks, so commit cannot hand the whole reserve back to the free
 * tree; the few blocks left over (at most SCOUTFS_ALLOC_SAVED_MAX) are
 * recorded in the super's alloc_reserve[] and become the next
 * transaction's reserve.  They are allocated (not free) and referenced by
 * the super, which is how fsck accounts for them.
 *
 * CLUSTER: HOW A SECOND MOUNT FITS
 *
 * The super has up to SCOUTFS_QUORUM_MAX_SLOTS quorum slots (address and
 * port of each quorum member).  The mounts in those slots elect a leader
 * with the quorum blocks; the leader runs the server, which alone writes
 * the super.  Each mount writes its changes into its own log btree (struct
 * scoutfs_log_trees, one per mount, found in the super's logs_root keyed
 * by the mount's rid) with blocks from allocator extents the server hands
 * it; readers see the shared fs_root plus the log trees (a forest), with
 * the item of the newest seq winning; the server merges finished log trees
 * into fs_root.  With one mount, that mount is its own server and its log
 * is merged at every commit, so logs_root is empty on disk between commits.
 */

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <linux/types.h>
#endif

#define SCOUTFS_FS_TYPE_NAME		"scoutfs"

/* statfs(2) f_type of a mounted scoutfs: "SCOU" */
#define SCOUTFS_SUPER_MAGIC		0x554f4353

/* Incremented on any incompatible change of this file. */
#define SCOUTFS_FORMAT_VERSION		1ULL

/*
 * Block sizes.
 */
#define SCOUTFS_BLOCK_SHIFT		16
#define SCOUTFS_BLOCK_SIZE		(1 << SCOUTFS_BLOCK_SHIFT)	/* 64 KiB */
#define SCOUTFS_DATA_BLOCK_SHIFT	12
#define SCOUTFS_DATA_BLOCK_SIZE		(1 << SCOUTFS_DATA_BLOCK_SHIFT)	/* 4 KiB */

/*
 * Fixed places on the metadata device, in 64 KiB blocks.
 */
#define SCOUTFS_SUPER_BLKNO		1ULL
#define SCOUTFS_SUPER_SLOTS		2
#define SCOUTFS_QUORUM_BLKNO		3ULL
#define SCOUTFS_QUORUM_MAX_SLOTS	15
#define SCOUTFS_META_FIRST_BLKNO	32ULL

/* Fixed places on the data device, in 4 KiB blocks. */
#define SCOUTFS_DATA_SUPER_BLKNO	0ULL
#define SCOUTFS_DATA_FIRST_BLKNO	16ULL

/*
 * The smallest devices mkfs accepts: room for the fixed blocks, the first
 * trees and some working space.
 */
#define SCOUTFS_META_MIN_BLOCKS		(SCOUTFS_META_FIRST_BLKNO + 96ULL) /* 8 MiB */
#define SCOUTFS_DATA_MIN_BLOCKS		(SCOUTFS_DATA_FIRST_BLKNO + 240ULL) /* 1 MiB */

/*
 * Magic numbers, one per block type.
 */
#define SCOUTFS_BLOCK_MAGIC_SUPER	0x103c428bU
#define SCOUTFS_BLOCK_MAGIC_BTREE	0xe597f96dU
#define SCOUTFS_BLOCK_MAGIC_QUORUM	0xbc310868U
#define SCOUTFS_DATA_SUPER_MAGIC	0x5a7ad5a1U

struct scoutfs_block_header {
	__le32 crc;		/* crc32c of the block from magic to its end */
	__le32 magic;
	__le64 fsid;
	__le64 seq;		/* transaction that wrote the block */
	__le64 blkno;
};

struct scoutfs_block_ref {
	__le64 blkno;
	__le64 seq;
};

/*
 * Keys.
 */
struct scoutfs_key {
	__u8 sk_zone;
	__u8 sk_type;
	__u8 _pad[6];
	__le64 _sk_first;
	__le64 _sk_second;
	__le64 _sk_third;
};

/* zones, in sort order */
#define SCOUTFS_FREE_ZONE		1	/* free extents (allocator trees) */
#define SCOUTFS_ORPHAN_ZONE		4	/* first = ino */
#define SCOUTFS_META_SEQ_INDEX_ZONE	8	/* first = meta_seq, second = ino */
#define SCOUTFS_DATA_SEQ_INDEX_ZONE	9	/* first = data_seq, second = ino */
#define SCOUTFS_XATTR_SRCH_ZONE		12	/* first = name hash, second = ino, third = xattr id */
#define SCOUTFS_FS_ZONE			16	/* first = ino */
#define SCOUTFS_LOG_TREES_ZONE		24	/* first = rid (cluster) */

/* types in the free zone: first = start block, value = scoutfs_free_extent */
#define SCOUTFS_FREE_EXTENT_TYPE	1

/* types in the orphan and index zones */
#define SCOUTFS_ORPHAN_TYPE		1
#define SCOUTFS_SEQ_INDEX_TYPE		1
#define SCOUTFS_SRCH_TYPE		1

/* types in the fs zone, all with first = ino */
#define SCOUTFS_INODE_TYPE		1	/* second = third = 0 */
#define SCOUTFS_XATTR_TYPE		2	/* second = name hash, third = id << 8 | part */
#define SCOUTFS_DIRENT_TYPE		3	/* second = name hash, third = readdir pos */
#define SCOUTFS_READDIR_TYPE		4	/* second = readdir pos */
#define SCOUTFS_LINK_BACKREF_TYPE	5	/* first = target ino: second = dir ino, third = readdir pos */
#define SCOUTFS_SYMLINK_TYPE		6	/* second = part nr */
#define SCOUTFS_DATA_EXTENT_TYPE	7	/* second = first logical block */

/* types in the log trees zone */
#define SCOUTFS_LOG_TREES_TYPE		1

/*
 * The largest value of any item, chosen so that many items fit in a leaf
 * and a split always leaves both halves able to take one more.  Bigger
 * things (xattr values up to 64 KiB, long symlinks) are split into parts.
 */
#define SCOUTFS_MAX_VAL_SIZE		4096

/*
 * Btree blocks.
 */
struct scoutfs_btree_item {
	struct scoutfs_key key;
	__le16 val_off;		/* from the start of the block */
	__le16 val_len;
	__u8 _pad[4];
};

struct scoutfs_btree_block {
	struct scoutfs_block_header hdr;
	__le16 nr_items;
	__le16 val_bytes;	/* bytes of values packed at the block's end */
	__u8 level;		/* 0: leaf */
	__u8 _pad[3];
	struct scoutfs_btree_item items[];
};

#define SCOUTFS_BTREE_MAX_HEIGHT	20

struct scoutfs_btree_root {
	struct scoutfs_block_ref ref;
	__u8 height;		/* 0: empty tree */
	__u8 _pad[7];
};

/* free extent value; the key's first is the start block */
struct scoutfs_free_extent {
	__le64 len;
};

/*
 * Quorum slots.
 */
#define SCOUTFS_QUORUM_ADDR_NONE	0
#define SCOUTFS_QUORUM_ADDR_IPV4	4
#define SCOUTFS_QUORUM_ADDR_IPV6	6

struct scoutfs_quorum_slot {
	__u8 addr_family;	/* SCOUTFS_QUORUM_ADDR_*; NONE: slot unused */
	__u8 _pad[1];
	__le16 port;
	__u8 addr[16];		/* IPv4 in the first 4 bytes, network order */
};

/*
 * Per-mount log trees (cluster step).  Each mount writes its items into
 * its own item btree with blocks from its own allocator extents.
 */
struct scoutfs_log_trees {
	struct scoutfs_btree_root item_root;
	struct scoutfs_btree_root meta_avail;
	struct scoutfs_btree_root data_avail;
	__le64 rid;
	__le64 nr;
};

/*
 * The super block, written in one of two slots at each commit.
 */
#define SCOUTFS_ALLOC_SAVED_MAX		96
struct scoutfs_super_block {
	struct scoutfs_block_header hdr;
	__le64 format_version;
	__le64 flags;
	__u8 uuid[16];
	__le64 seq;			/* the committed transaction */
	__le64 next_ino;		/* next inode number to allocate */
	__le64 total_meta_blocks;	/* size of the metadata device */
	__le64 total_data_blocks;	/* size of the data device */
	__le64 free_meta_blocks;	/* sum of the meta free tree */
	__le64 free_data_blocks;	/* sum of the data free tree */
	__le64 inode_count;
	struct scoutfs_quorum_slot quorum_slots[SCOUTFS_QUORUM_MAX_SLOTS];
	struct scoutfs_btree_root fs_root;	/* fs, orphan, index, srch zones */
	struct scoutfs_btree_root meta_free;	/* free metadata blocks */
	struct scoutfs_btree_root data_free;	/* free data blocks */
	struct scoutfs_btree_root logs_root;	/* per-mount log trees */
	__le64 alloc_reserve_nr;	/* entries used in alloc_reserve[] */
	__le64 alloc_reserve[SCOUTFS_ALLOC_SAVED_MAX];	/* allocated, unused */
	__u8 _reserved[64];
};

/*
 * The data device's identity block, at SCOUTFS_DATA_SUPER_BLKNO.  Written
 * once by mkfs.
 */
struct scoutfs_data_super {
	__le32 crc;		/* crc32c from magic to the end of the struct */
	__le32 magic;
	__le64 fsid;
	__le64 format_version;
	__le64 total_data_blocks;
	__u8 uuid[16];
};

/*
 * Inodes.
 */
#define SCOUTFS_ROOT_INO		1ULL

struct scoutfs_timespec {
	__le64 sec;
	__le32 nsec;
	__u8 _pad[4];
};

/*
 * RETENTION: a regular file that nothing may change or delete until the
 * flag is cleared (SET_ATTR_X, ioctl.h; enforced in inode.c).
 */
#define SCOUTFS_INO_FLAG_RETENTION	(1ULL << 0)
#define SCOUTFS_INO_FLAGS_ALL		SCOUTFS_INO_FLAG_RETENTION

struct scoutfs_inode {
	__le64 size;
	__le64 meta_seq;	/* transaction of the last change of any kind */
	__le64 data_seq;	/* transaction of the last content change */
	__le64 data_version;	/* changes with every content change */
	__le64 online_blocks;
	__le64 offline_blocks;
	__le64 next_readdir_pos; /* directories: next dirent position */
	__le64 next_xattr_id;
	__le64 flags;
	__le32 nlink;
	__le32 uid;
	__le32 gid;
	__le32 mode;
	__le32 rdev;
	__u8 _pad[4];
	struct scoutfs_timespec atime;
	struct scoutfs_timespec mtime;
	struct scoutfs_timespec ctime;
	struct scoutfs_timespec crtime;
};

/* readdir positions 0 and 1 are "." and ".." */
#define SCOUTFS_DIRENT_FIRST_POS	2ULL

#define SCOUTFS_NAME_LEN		255

/*
 * Directory entries: one value format for the DIRENT (lookup by hash),
 * READDIR (iterate by position) and LINK_BACKREF (paths of an inode)
 * items, so the three stay identical copies of one entry.
 */
struct scoutfs_dirent {
	__le64 ino;
	__le64 hash;
	__le64 pos;
	__u8 type;		/* DT_* */
	__u8 _pad[7];
	__u8 name[];
};

/*
 * Extended attributes: the first part's value starts with this header,
 * the name follows, then the value, continuing in parts 1, 2, ... of at
 * most SCOUTFS_MAX_VAL_SIZE bytes each.
 */
#define SCOUTFS_XATTR_MAX_NAME_LEN	255
#define SCOUTFS_XATTR_MAX_VAL_LEN	65535	/* upstream's limit; E2BIG beyond */
#define SCOUTFS_XATTR_PART_SHIFT	8

struct scoutfs_xattr {
	__le16 val_len;
	__u8 name_len;
	__u8 flags;		/* none defined: always 0 */
	__u8 _pad[4];
	__u8 name[];
};

/* hidden from listxattr, listed by the LISTXATTR_HIDDEN ioctl */
#define SCOUTFS_XATTR_HIDE_PREFIX	"scoutfs.hide."
/* indexed for the SEARCH_XATTRS ioctl */
#define SCOUTFS_XATTR_SRCH_TAG		".srch."

/*
 * File data extents, keyed by first logical block.  An offline extent has
 * been released: its data lives only in the archive, it has no physical
 * blocks (blkno is 0) and readers of it wait until it is staged.  An
 * unwritten extent has blocks that read as zeros (fallocate).
 */
#define SCOUTFS_EXTENT_FLAG_OFFLINE	(1U << 0)
#define SCOUTFS_EXTENT_FLAG_UNWRITTEN	(1U << 1)
#define SCOUTFS_EXTENT_FLAGS_ALL	(SCOUTFS_EXTENT_FLAG_OFFLINE | \
					 SCOUTFS_EXTENT_FLAG_UNWRITTEN)

struct scoutfs_data_extent {
	__le64 len;		/* in data blocks */
	__le64 blkno;		/* first physical data block; 0 when offline */
	__le32 flags;
	__u8 _pad[4];
};

/* orphans, seq index and srch items have no value */

#endif
