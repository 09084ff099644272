/* SPDX-License-Identifier: GPL-2.0 */
/*
 * catalog.h: the HSM catalog, one sqlite file that says which versions of
 * which files have which archive copies, what work is queued, and which
 * tape volumes exist.  catalog.c explains the schema, the transaction and
 * crash rules, and migrations.
 *
 * Every call returns 0 or a negative errno and, on failure, leaves a
 * reason naming the object and the cause in hsm_catalog_error().  Errors
 * with a meaning of their own:
 *   -ENOENT   no such row (file, copy, request, volume) or catalog file
 *   -EEXIST   the row already exists (volume label, copy number in use)
 *   -EINVAL   a state change the row's current state does not allow
 *   -EBUSY    another process held the catalog past the busy timeout
 *   -EUCLEAN  the file is not a catalog or is corrupt
 *   -ENOTSUP  the catalog was written by a newer version of this code
 *   -EBADMSG  a copy's checksum disagrees with its file's checksum
 *   -ESTALE   the request's lease passed to another node
 *   -ECANCELED  hsm_catalog_batch_end(cat, false) rolled the batch back
 *
 * A struct hsm_catalog is one sqlite connection: use it from one thread
 * at a time; open one per thread or process for concurrency.
 */
#ifndef SCOUTFS_HSM_CATALOG_H
#define SCOUTFS_HSM_CATALOG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "checksum.h"

/* The schema version this code writes; older catalogs are migrated. */
#define HSM_CATALOG_SCHEMA_VERSION 7
#define HSM_CATALOG_BUSY_TIMEOUT_MS 10000
#define HSM_CATALOG_DEFAULT_MAX_ATTEMPTS 5
#define HSM_CATALOG_FSID_MAX 33		/* hex fsid + NUL */
#define HSM_CATALOG_NAME_MAX 64		/* backend names, volume labels */
#define HSM_CATALOG_PURGE_BATCH 1000	/* finished requests per purge txn */

/* hsm_catalog_open() flags */
#define HSM_CATALOG_CREATE	(1U << 0)	/* create a missing catalog */
#define HSM_CATALOG_READONLY	(1U << 1)	/* never write (no migration) */

struct hsm_catalog;

enum hsm_copy_state {
	HSM_COPY_WRITING = 0,	/* intent recorded, backend put under way */
	HSM_COPY_VALID,		/* stored and verified */
	HSM_COPY_BAD,		/* failed, abandoned or corrupt: to delete */
	HSM_COPY_DELETED,	/* removed from the backend */
};

enum hsm_request_kind {
	HSM_REQ_STAGE = 0,
	HSM_REQ_ARCHIVE,
	HSM_REQ_RELEASE,
	HSM_REQ_RECYCLE,
	HSM_REQ_ANY = -1,	/* for claim and count: every kind */
};

enum hsm_request_state {
	HSM_REQ_QUEUED = 0,
	HSM_REQ_RUNNING,
	HSM_REQ_DONE,
	HSM_REQ_FAILED,
	HSM_REQ_STATE_ANY = -1,	/* for count: every state */
};

/* Where an inode's file data is, as the indexer last saw it. */
enum hsm_inode_state {
	HSM_INODE_ONLINE = 0,	/* every block is on the filesystem */
	HSM_INODE_OFFLINE,	/* released: data only in archive copies */
	HSM_INODE_PARTIAL,	/* some blocks released, some online */
};

enum hsm_volume_state {
	HSM_VOL_EMPTY = 0,
	HSM_VOL_ACTIVE,		/* being appended to */
	HSM_VOL_FULL,
	HSM_VOL_READONLY,	/* errors seen: read, never write */
	HSM_VOL_RETIRED,
};

/* enqueue with this priority to get the kind's default */
#define HSM_REQ_PRIORITY_DEFAULT INT_MIN

struct hsm_catalog_fs {
	char fsid[HSM_CATALOG_FSID_MAX];
	char mount_path[PATH_MAX];
	uint64_t meta_seq;	/* last stable meta_seq the indexer walked */
	uint64_t data_seq;	/* last stable data_seq the indexer walked */
};

/*
 * One inode of an indexed filesystem as the indexer last saw it: the
 * catalog's mirror of the namespace, one row per (fsid, ino).  path is
 * one of its paths (the first INO_PATH gave), "" when unknown.
 */
struct hsm_catalog_inode {
	uint64_t ino;
	uint64_t data_version;
	uint64_t size;
	int64_t mtime_sec;
	uint32_t mtime_nsec;
	uint32_t mode;
	uint32_t uid;
	uint32_t gid;
	uint64_t meta_seq;	/* the inode's meta_seq when seen */
	uint64_t data_seq;	/* the inode's data_seq when seen */
	enum hsm_inode_state state;
	char path[PATH_MAX];
};

/*
 * Called by hsm_catalog_inode_foreach() for each row, in ino order; a
 * non-zero return stops the walk and is returned by foreach.
 */
typedef int (*hsm_catalog_inode_fn)(void *arg,
				    const struct hsm_catalog_inode *inode);

struct hsm_catalog_file {
	int64_t id;		/* set by record and get */
	char fsid[HSM_CATALOG_FSID_MAX];
	uint64_t ino;
	uint64_t data_version;
	uint64_t size;
	int64_t mtime_sec;
	char checksum[HSM_CHECKSUM_TEXT_MAX];	/* "" until a copy is written */
	char path[PATH_MAX];	/* path at archive time, "" if unknown */
};

struct hsm_catalog_copy {
	int64_t id;		/* > 0, opaque; ordered by file, then begin */
	int64_t file_id;
	unsigned int copy_num;	/* 1..N: which of the policy's copies */
	char backend[HSM_CATALOG_NAME_MAX];
	char location[HSM_LOCATION_MAX];	/* "" until written */
	enum hsm_copy_state state;
	int64_t created;	/* unix seconds */
	int64_t verified;	/* unix seconds, 0 = never */
	int64_t pack_id;	/* the pack holding it (pack.h), 0: none */
};

/*
 * A pack: one backend object holding many small copies (pack.h).  Its
 * members are copies whose pack_id is its id; it may be deleted from the
 * backend only once none of them is live (writing or valid).
 */
struct hsm_catalog_pack {
	int64_t id;
	char backend[HSM_CATALOG_NAME_MAX];
	char location[HSM_LOCATION_MAX];
	uint64_t bytes;
	uint64_t members;	/* copies ever committed into it */
	uint64_t live;		/* of them, writing or valid */
	bool is_deleted;	/* removed from the backend */
	int64_t created;	/* unix seconds */
};

struct hsm_catalog_request {
	int64_t id;
	enum hsm_request_kind kind;
	int64_t file_id;
	int priority;		/* higher runs first */
	enum hsm_request_state state;
	unsigned int attempts;	/* claims so far, including interrupted */
	char last_error[HSM_ERROR_MAX];
	int64_t created;
	int64_t updated;
	int64_t owner;		/* node id that claimed it, 0 = none */
	int64_t lease_expires;	/* unix seconds, 0 = no lease */
};

struct hsm_catalog_volume {
	char label[HSM_CATALOG_NAME_MAX];
	uint64_t capacity;	/* bytes */
	uint64_t used;		/* bytes */
	enum hsm_volume_state state;
};

struct hsm_catalog_recovery {
	unsigned int requests_requeued;	/* running -> queued */
	unsigned int requests_failed;	/* running, out of attempts -> failed */
	unsigned int copies_abandoned;	/* writing -> bad */
	unsigned int copies_committed;	/* writing, complete on backend -> valid */
	unsigned int copies_retried;	/* writing, partial -> deleted, requeued */
};

/* The backend a copy names (its backend name), NULL if not configured. */
typedef struct hsm_backend *(*hsm_catalog_backend_fn)(void *arg,
						      const char *name);

/* ---- open, close, errors ---- */

/*
 * Open (and with HSM_CATALOG_CREATE create) the catalog at path and
 * migrate it to HSM_CATALOG_SCHEMA_VERSION.  Opening costs the same at
 * any size: it identifies the file (header, application id, version) but
 * does not read every page; hsm_catalog_check() does that on demand.  On failure returns a
 * negative errno with the reason in err (may be NULL).
 */
int hsm_catalog_open(const char *path, unsigned int flags,
		     struct hsm_catalog **out, char *err, size_t errlen);
void hsm_catalog_close(struct hsm_catalog *cat);
const char *hsm_catalog_error(const struct hsm_catalog *cat);
/*
 * Full integrity check of every page and index (O(size): for operators
 * and `scoutfs-hsm catalog check`, never on the hot path).  -EUCLEAN with
 * the first problem in hsm_catalog_error() when the catalog is damaged.
 */
int hsm_catalog_check(struct hsm_catalog *cat);
/*
 * An online, consistent copy of the catalog at dest (replaced atomically
 * once complete and synced); other processes keep reading and writing.
 */
int hsm_catalog_backup(struct hsm_catalog *cat, const char *dest);

/*
 * Batches: between begin and end every state-changing call joins one
 * transaction (each call stays all-or-nothing within it), so many files
 * cost one commit and one fsync.  A call that fails inside a batch leaves
 * the batch open with that call undone; end(false) undoes the whole batch.
 * A crash before end(true) returns leaves the state before the batch.
 * The batch holds the write lock: keep batches to a few thousand calls.
 * If an error made sqlite drop the whole transaction (I/O error, disk
 * full), later calls fail with -EIO until the batch is ended.
 */
int hsm_catalog_batch_begin(struct hsm_catalog *cat);
int hsm_catalog_batch_end(struct hsm_catalog *cat, bool is_commit);

/* The schema version of the open catalog (PRAGMA user_version). */
int hsm_catalog_schema_version(struct hsm_catalog *cat, int *version);
/*
 * SQL that migrates a catalog from version to_version - 1 to to_version
 * (1 creates it), NULL past HSM_CATALOG_SCHEMA_VERSION.  For tests and
 * upgrade drills that need a catalog of an older version.  Step 6 calls
 * hsm_checksum_blob(), which only catalog connections define.
 */
const char *hsm_catalog_migration_sql(int to_version);

/*
 * Return work a dead process of this node (hsm_catalog_set_owner()) left
 * in flight: its requests 'running' go back
 * to 'queued' (or to 'failed' once they used max_attempts claims) and
 * copies still 'writing' become 'bad' so the recycler removes whatever
 * part of them a backend holds.  Only the one agent that owns the queues
 * calls this, at start-up, before it claims anything.  out may be NULL.
 */
int hsm_catalog_recover(struct hsm_catalog *cat,
			struct hsm_catalog_recovery *out);
/*
 * At start-up, before hsm_catalog_recover(): every copy still 'writing'
 * is checked on the backend lookup() returns for it.  Present, of the
 * file's size and checksum, and verified by a full read: committed
 * ('valid').  Otherwise the partial object is deleted, the copy becomes
 * 'deleted' and an archive request is queued to write it again.  Copies
 * of backends lookup() does not know stay 'writing' (recover marks them
 * bad).  Adds to out's copies_committed and copies_retried (may be NULL).
 */
int hsm_catalog_recover_copies(struct hsm_catalog *cat,
			       hsm_catalog_backend_fn lookup, void *arg,
			       struct hsm_catalog_recovery *out);
/* Claims a request may use before a failure is final (default 5). */
void hsm_catalog_set_max_attempts(struct hsm_catalog *cat,
				  unsigned int max_attempts);

/* ---- filesystems ---- */

/* Add the filesystem, or update its mount path; seqs are kept. */
int hsm_catalog_fs_upsert(struct hsm_catalog *cat, const char *fsid,
			  const char *mount_path);
/*
 * Record how far the indexer walked; -EINVAL if a seq went backwards.
 * Inside a batch it commits with the batch's inode rows.
 */
int hsm_catalog_fs_set_seqs(struct hsm_catalog *cat, const char *fsid,
			    uint64_t meta_seq, uint64_t data_seq);
int hsm_catalog_fs_get(struct hsm_catalog *cat, const char *fsid,
		       struct hsm_catalog_fs *out);

/* ---- inodes: the indexer's mirror of the namespace ---- */

/*
 * Add or replace the row of inode->ino in filesystem fsid (which must
 * exist: -ENOENT).  Meant to be called many times inside a batch, with
 * hsm_catalog_fs_set_seqs() in the same batch recording how far the walk
 * got, so the rows and the resume point commit together or not at all.
 */
int hsm_catalog_inode_upsert(struct hsm_catalog *cat, const char *fsid,
			     const struct hsm_catalog_inode *inode);
/* Remove the row; -ENOENT if there was none. */
int hsm_catalog_inode_delete(struct hsm_catalog *cat, const char *fsid,
			     uint64_t ino);
int hsm_catalog_inode_get(struct hsm_catalog *cat, const char *fsid,
			  uint64_t ino, struct hsm_catalog_inode *out);
/*
 * Call fn for every inode row of fsid with ino >= first_ino, in ino
 * order (foreach: from the first).  fn must not change the inode rows of
 * this filesystem while the walk runs; collect and change afterwards.
 */
int hsm_catalog_inode_foreach(struct hsm_catalog *cat, const char *fsid,
			      hsm_catalog_inode_fn fn, void *arg);
int hsm_catalog_inode_foreach_from(struct hsm_catalog *cat, const char *fsid,
				   uint64_t first_ino,
				   hsm_catalog_inode_fn fn, void *arg);
/* How many inode rows fsid has, from a maintained counter (O(1)). */
int hsm_catalog_inode_count(struct hsm_catalog *cat, const char *fsid,
			    uint64_t *count);

/* ---- file versions ---- */

/*
 * Record a version of a file (fsid, ino, data_version) before copying
 * it, and set file->id.  Recording a version again updates size, mtime
 * and path and keeps its copies.  The filesystem must exist.
 */
int hsm_catalog_file_record(struct hsm_catalog *cat,
			    struct hsm_catalog_file *file);
int hsm_catalog_file_get(struct hsm_catalog *cat, int64_t file_id,
			 struct hsm_catalog_file *out);
int hsm_catalog_file_find(struct hsm_catalog *cat, const char *fsid,
			  uint64_t ino, uint64_t data_version,
			  struct hsm_catalog_file *out);

/* ---- copies ---- */

/* Intent: copy copy_num of file_id is being written to backend. */
int hsm_catalog_copy_begin(struct hsm_catalog *cat, int64_t file_id,
			   unsigned int copy_num, const char *backend,
			   int64_t *copy_id);
/*
 * The backend put finished: record where and with which checksum.  The
 * first copy sets the file's checksum; a copy whose checksum differs
 * from it is marked bad and -EBADMSG returned.  State stays 'writing'.
 */
int hsm_catalog_copy_written(struct hsm_catalog *cat, int64_t copy_id,
			     const char *location,
			     const struct hsm_checksum *checksum);
/*
 * A verify of the copy succeeded: 'writing' (written) becomes 'valid',
 * and a 'valid' copy gets a new verified time.
 */
int hsm_catalog_copy_verified(struct hsm_catalog *cat, int64_t copy_id);
/* The copy is unusable (failed put, failed verify): it becomes 'bad'. */
int hsm_catalog_copy_mark_bad(struct hsm_catalog *cat, int64_t copy_id);
/* The backend object is gone: 'deleted' (from any other state). */
int hsm_catalog_copy_mark_deleted(struct hsm_catalog *cat, int64_t copy_id);
int hsm_catalog_copy_get(struct hsm_catalog *cat, int64_t copy_id,
			 struct hsm_catalog_copy *out);
/*
 * Valid, verified copies of (fsid, ino, data_version), by copy number:
 * up to max into out, *count set to how many exist.
 */
int hsm_catalog_copy_list_valid(struct hsm_catalog *cat, const char *fsid,
				uint64_t ino, uint64_t data_version,
				struct hsm_catalog_copy *out, size_t max,
				size_t *count);
/*
 * Packs.  A pack is recorded once its object is stored and read back
 * (hsm_pack_put()), in the same batch as its members' copies, so a crash
 * leaves either the pack with its members or neither (the object then
 * is an orphan that listing finds): never a row naming a missing object.
 * pack_add: the pack's row (no live member yet).  copy_written_packed:
 * as copy_written, for copy copy_id stored in pack_id at location, a
 * member location (hsm_pack_member_location()) that must begin with the
 * pack's; only the member's place in the pack is stored, and reads of
 * the copy give the whole location back.
 */
int hsm_catalog_pack_add(struct hsm_catalog *cat, const char *backend,
			 const char *location, uint64_t bytes,
			 int64_t *pack_id);
int hsm_catalog_copy_written_packed(struct hsm_catalog *cat, int64_t copy_id,
				    int64_t pack_id, const char *location,
				    const struct hsm_checksum *checksum);
int hsm_catalog_pack_get(struct hsm_catalog *cat, int64_t pack_id,
			 struct hsm_catalog_pack *out);
/*
 * The recycler's rule: packs of backend none of whose members is live,
 * the only packs it may delete; paged by id as the copy lists are.
 */
int hsm_catalog_pack_list_dead(struct hsm_catalog *cat, const char *backend,
			       int64_t after_id, struct hsm_catalog_pack *out,
			       size_t max, size_t *count);
/* The pack's object was deleted; -EBUSY while a member is live. */
int hsm_catalog_pack_mark_deleted(struct hsm_catalog *cat, int64_t pack_id);

/* The tape volume a copy was written to. */
int hsm_catalog_copy_set_volume(struct hsm_catalog *cat, int64_t copy_id,
				const char *label);
/*
 * Index lookups, paged by copy id: up to max copies with id > after_id
 * (start at 0) into out, *count how many; fewer than max at the end.
 * On volume: every copy recorded on that tape volume, whatever its state.
 * To recycle: the bad copies on that backend, which the recycler deletes.
 */
int hsm_catalog_copy_list_on_volume(struct hsm_catalog *cat, const char *label,
				    int64_t after_id,
				    struct hsm_catalog_copy *out, size_t max,
				    size_t *count);
int hsm_catalog_copy_list_to_recycle(struct hsm_catalog *cat,
				     const char *backend, int64_t after_id,
				     struct hsm_catalog_copy *out, size_t max,
				     size_t *count);
/*
 * The release safety check: *is_safe is true only when copies 1 to
 * required_copies of (fsid, ino, data_version) are all valid and
 * verified, data_version being the file's current one.
 */
int hsm_catalog_release_is_safe(struct hsm_catalog *cat, const char *fsid,
				 uint64_t ino, uint64_t data_version,
				 unsigned int required_copies, bool *is_safe);

/* ---- requests ---- */

/* Default priority of a kind: stage, then archive, release, recycle. */
int hsm_catalog_default_priority(enum hsm_request_kind kind);
/*
 * Queue work on a file version.  While a request of the same kind for the
 * same file is queued or running, its id is returned instead (with the
 * higher of the two priorities).
 */
int hsm_catalog_request_enqueue(struct hsm_catalog *cat,
				enum hsm_request_kind kind, int64_t file_id,
				int priority, int64_t *request_id);
/*
 * Requests this handle claims carry node_id as owner and, with lease_sec
 * > 0, a lease that expires lease_sec seconds after the claim or the last
 * renewal; another node may then claim the request.  Default: owner 0,
 * no lease (one agent owns the catalog).
 */
void hsm_catalog_set_owner(struct hsm_catalog *cat, int64_t node_id,
			   unsigned int lease_sec);
/*
 * Take the highest priority, oldest request of kind (or HSM_REQ_ANY)
 * that is queued or running with an expired lease, mark it running under
 * this handle's owner and count the attempt, in one atomic update: of
 * two racing claimers only one gets a request.  -ENOENT when there is
 * none.
 */
int hsm_catalog_request_claim(struct hsm_catalog *cat,
			      enum hsm_request_kind kind,
			      struct hsm_catalog_request *out);
/* Extend the lease; -ESTALE if another node took the request over. */
int hsm_catalog_request_renew(struct hsm_catalog *cat, int64_t request_id);
/*
 * Delete done and failed requests last updated more than keep_sec ago,
 * batch (0: HSM_CATALOG_PURGE_BATCH) per transaction; *purged (may be
 * NULL) says how many.
 */
int hsm_catalog_request_purge(struct hsm_catalog *cat, int64_t keep_sec,
			      unsigned int batch, uint64_t *purged);
/* running -> done; -ESTALE when another node now owns it */
int hsm_catalog_request_complete(struct hsm_catalog *cat, int64_t request_id);
/*
 * running -> queued again when is_retryable and attempts remain, else
 * failed; error is kept as last_error.
 */
int hsm_catalog_request_fail(struct hsm_catalog *cat, int64_t request_id,
			     const char *error, bool is_retryable);
int hsm_catalog_request_get(struct hsm_catalog *cat, int64_t request_id,
			    struct hsm_catalog_request *out);
/* From maintained counters: O(1) whatever the history's size. */
int hsm_catalog_request_count(struct hsm_catalog *cat,
			      enum hsm_request_kind kind,
			      enum hsm_request_state state, uint64_t *count);

/* ---- volumes ---- */

int hsm_catalog_volume_add(struct hsm_catalog *cat, const char *label,
			   uint64_t capacity);
int hsm_catalog_volume_get(struct hsm_catalog *cat, const char *label,
			   struct hsm_catalog_volume *out);
/* Set used bytes and state; -EINVAL if used exceeds capacity. */
int hsm_catalog_volume_update(struct hsm_catalog *cat, const char *label,
			      uint64_t used, enum hsm_volume_state state);
int hsm_catalog_volume_delete(struct hsm_catalog *cat, const char *label);

/* ---- names ---- */

const char *hsm_copy_state_name(enum hsm_copy_state state);
const char *hsm_request_kind_name(enum hsm_request_kind kind);
const char *hsm_request_state_name(enum hsm_request_state state);
const char *hsm_volume_state_name(enum hsm_volume_state state);
const char *hsm_inode_state_name(enum hsm_inode_state state);

#endif
