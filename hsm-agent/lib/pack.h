/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pack.h: many small archive copies in one backend object (pack.c).
 *
 * A site with millions of 4 KiB files must not pay one S3 PUT (and one
 * catalog location, one object to list) per file.  Files below a
 * backend's pack_threshold are gathered into a pack: their bytes one
 * after another, then an index of the members, then a fixed footer, all
 * put as one object through the backend's put_pack() (backend.h).  The
 * pack is self-describing, so a bucket can be read without the catalog:
 *
 *	member data ... | index: nr entries | footer (64 bytes)
 *
 * Every integer is little-endian.  An index entry (HSM_PACK_ENTRY_BYTES):
 * ino, data_version, offset, length (u64 each), mtime (s64), copy_num
 * (u32), 4 reserved zero bytes, the member's SHA-256 (32 bytes).  The
 * footer: HSM_PACK_MAGIC (8 bytes), format version (u32), nr (u32), the
 * index's offset (u64), the fsid (32 hex digits), the first 8 bytes of
 * the index's SHA-256.  Its last byte is the object's last byte, so a
 * reader finds the index from the object's size alone.
 *
 * Member locations.  A member is reached through its pack's location:
 *
 *	<pack location>#<offset>+<length>:sha256:<64 hex>
 *
 * which names the bytes and the checksum they must have.  A backend that
 * packs (backend_s3.c) reads a member with one ranged GET and checks the
 * checksum itself, so get(), stat() and verify() of a member location work
 * wherever a location is used (the stager, recovery); del() of a member
 * deletes nothing, because other members share the object: a pack object
 * is deleted only once the catalog says every one of its members is dead
 * (hsm_catalog_pack_list_dead()).
 *
 * Building: hsm_pack_add() reads a member's bytes into memory at once
 * (members are small by definition; the caller bounds the count and the
 * bytes), checksumming them; hsm_pack_drop() takes out a member whose
 * file changed before the put; hsm_pack_put() seals the index, puts the
 * object, then reads it back whole (the backend checks the object's own
 * checksum) and checks every member's checksum on the way: only members
 * with is_verified may count as copies.  hsm_pack_commit() then records
 * the pack and its members in one catalog batch, asking the caller once
 * more whether each member's file is still at the version it was read at.
 */
#ifndef SCOUTFS_HSM_PACK_H
#define SCOUTFS_HSM_PACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "catalog.h"
#include "checksum.h"

#define HSM_PACK_MAGIC "SCFSPAK1"
#define HSM_PACK_VERSION 1
#define HSM_PACK_ENTRY_BYTES 80
#define HSM_PACK_FOOTER_BYTES 64
/* separates a pack's location from a member's place in it */
#define HSM_PACK_MEMBER_SEP '#'

enum hsm_pack_outcome {
	HSM_PACK_PENDING = 0,
	HSM_PACK_COMMITTED,	/* its copy is valid, in the pack */
	HSM_PACK_CHANGED,	/* its file changed: copy deleted, retry */
	HSM_PACK_BAD,		/* failed its verify or disagrees: copy bad */
};

struct hsm_pack_member {
	uint64_t ino;
	uint64_t data_version;
	uint64_t offset;	/* in the pack object */
	uint64_t length;
	int64_t mtime_sec;
	unsigned int copy_num;
	struct hsm_checksum checksum;	/* of the bytes as read */
	bool is_verified;	/* read back from the backend with checksum */
	int64_t copy_id;	/* the catalog's copy it becomes */
	enum hsm_pack_outcome outcome;	/* set by hsm_pack_commit() */
	void *cookie;		/* the caller's, untouched */
};

struct hsm_pack {
	char fsid[33];
	char *buf;		/* member data, then (sealed) index + footer */
	size_t len, cap;
	struct hsm_pack_member *members;
	size_t nr, max;
};

void hsm_pack_init(struct hsm_pack *p, const char *fsid);
/* Frees the data and the members; the pack is empty again. */
void hsm_pack_reset(struct hsm_pack *p);

static inline size_t hsm_pack_nr(const struct hsm_pack *p)
{
	return p->nr;
}

/* Bytes of member data so far. */
static inline uint64_t hsm_pack_bytes(const struct hsm_pack *p)
{
	return p->len;
}

/*
 * Read exactly info->size bytes from reader as a new member (info's
 * fsid must be the pack's).  0, or -EIO when the stream is shorter or
 * longer, the reader's errno, -ENOMEM, -EINVAL; the pack is unchanged on
 * failure.
 */
int hsm_pack_add(struct hsm_pack *p, const struct hsm_object_info *info,
		 hsm_read_fn reader, void *reader_arg, int64_t copy_id,
		 void *cookie);
/* Take member i out (before hsm_pack_put()); later members move down. */
void hsm_pack_drop(struct hsm_pack *p, size_t i);

/*
 * Seal the index, put the pack as one object with be's put_pack(), read
 * it back whole and set each member's is_verified.  res gets the pack's
 * location, checksum and size.  0 once the object is stored (even when
 * some or all members failed their verify: their copies must not count),
 * -EOPNOTSUPP when be does not pack, else the put's errno with the reason
 * in be's error.  A failure after the put deletes the object again; a
 * crash leaves it unreferenced, for the recycler's listing to find.
 */
int hsm_pack_put(struct hsm_pack *p, struct hsm_backend *be,
		 struct hsm_put_result *res);

/*
 * Is the member's file still at the data_version it was read at?  The
 * archiver asks the filesystem; false drops the member from the commit.
 */
typedef bool (*hsm_pack_same_fn)(void *arg, const struct hsm_pack_member *m);

/*
 * Commit a pack hsm_pack_put() stored (res) on backend, in one catalog
 * batch: the pack's row, and for each member its copy (member->copy_id,
 * begun with hsm_catalog_copy_begin()): written in the pack and verified
 * when it passed its verify and same() says its file did not change
 * (HSM_PACK_COMMITTED), deleted when it changed (HSM_PACK_CHANGED: the
 * caller retries it), bad when it failed its verify or its checksum
 * disagrees with another copy (HSM_PACK_BAD).  With no member to commit
 * no pack row is written and *pack_id is 0: the caller deletes the
 * object.  0, or the catalog's errno with the batch rolled back (the
 * object is then referenced by nothing).
 */
int hsm_pack_commit(struct hsm_catalog *cat, const char *backend,
		    struct hsm_pack *p, const struct hsm_put_result *res,
		    hsm_pack_same_fn same, void *same_arg, int64_t *pack_id);

/* "<pack>#<offset>+<length>:<checksum>" into out; 0 or -ENAMETOOLONG. */
int hsm_pack_member_location(const char *pack_location,
			     const struct hsm_pack_member *m,
			     char *out, size_t out_len);

struct hsm_pack_ref {
	char pack[HSM_LOCATION_MAX];
	uint64_t offset;
	uint64_t length;
	struct hsm_checksum checksum;
};

/* 1 and ref for a member location, 0 for any other, -EINVAL if malformed. */
int hsm_pack_parse_location(const char *location, struct hsm_pack_ref *ref);

/*
 * The index of the pack at location (size bytes), read with two ranged
 * get()s (footer, index) and checked; *members (free() it) gets *nr
 * entries.  0, -EUCLEAN for an object that is no pack, or get()'s errno.
 */
int hsm_pack_read_index(struct hsm_backend *be, const char *location,
			uint64_t size, char *fsid_out,
			struct hsm_pack_member **members, size_t *nr);

#endif
