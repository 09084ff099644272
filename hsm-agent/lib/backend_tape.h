/* SPDX-License-Identifier: GPL-2.0 */
/*
 * backend_tape.h: the tape backend, pax archives on tape volumes (a real
 * st(4) drive, optionally behind an mtx(1) changer, or file-backed
 * volumes in a directory).  How it works, the on-volume format and the
 * durability rule are described at the top of backend_tape.c and
 * tape_format.c.
 *
 * Locations: "tape:<label>:<segment>:<offset>:<length>:<block>:<skip>"
 * (tape_format.c); older ones without block and skip are still read.
 *
 * Durability: by default (HSM_TAPE_SYNC_ON_SEGMENT) put() returns a
 * *pending* copy: its bytes stream into the open segment and nothing is
 * flushed per file, so a drive keeps streaming.  A pending copy becomes
 * committable only when its segment's file mark is written (the segment
 * fills up, hsm_tape_flush(), a volume change).  The caller may record
 * the location (catalog state 'writing') but must not count, verify or
 * release anything on it before hsm_backend_committed() returns 1 or the
 * commit callback (hsm_tape_set_commit_fn()) reported 0 for it; if the
 * segment could not be ended, the callback reports an error and the put
 * must be redone.  HSM_TAPE_SYNC_EACH_PUT flushes the drive after every
 * file (slow on a real drive: it stops streaming) and returns durable
 * copies.
 */
#ifndef SCOUTFS_HSM_BACKEND_TAPE_H
#define SCOUTFS_HSM_BACKEND_TAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "tape_changer.h"
#include "tape_format.h"
#include "tape_volume.h"

/* Defaults for zero fields of struct hsm_tape_config. */
#define HSM_TAPE_DEFAULT_BLOCK_SIZE (256 * 1024)
#define HSM_TAPE_DEFAULT_SEGMENT_BYTES (1024ULL * 1024 * 1024)

struct hsm_tape_volume_config {
	const char *label;	/* see tape_label_is_valid() */
	uint64_t capacity;	/* bytes; 0: the default_capacity */
	unsigned int slot;	/* changer slot holding it */
};

enum hsm_tape_durability {
	HSM_TAPE_SYNC_ON_SEGMENT = 0,	/* default: committed at the file mark */
	HSM_TAPE_SYNC_EACH_PUT,		/* put() returns a durable copy */
};
/* the same as the default: a flush ends the segment early */
#define HSM_TAPE_SYNC_ON_FLUSH HSM_TAPE_SYNC_ON_SEGMENT

struct hsm_tape_config {
	/* a no-rewind st(4) node "/dev/nst0", or NULL for file-backed */
	const char *device;
	/* file-backed volumes: VOLDIR/<label>/<segment>.pax */
	const char *volume_dir;
	/* volumes to append to, in this order */
	const struct hsm_tape_volume_config *volumes;
	size_t nr_volumes;
	/* file-backed: capacity of volumes without one; 0 unlimited */
	uint64_t default_capacity;
	/*
	 * file-backed: when set, once the list is used up create volumes
	 * "<prefix>000001", "<prefix>000002"... with default_capacity
	 */
	const char *auto_label_prefix;
	/* close a segment (file mark) once it holds this many bytes */
	uint64_t segment_bytes;
	/* tape block: bytes per write(2) / read(2) of the device */
	size_t block_size;
	enum hsm_tape_durability durability;
	/* changer.mtx_path NULL: no changer, the loaded volume is used */
	struct hsm_tape_changer_config changer;
	/* file-backed: simulated drive timing and faults (tape_volume.h) */
	struct hsm_tape_sim sim;
	/* device: how long a drive may take to be ready; 0: 10 minutes */
	unsigned int ready_timeout_ms;
};

/*
 * The configuration is copied.  0, or -errno with *out NULL and the
 * reason in error (when not NULL).  Nothing is opened before first use.
 */
int hsm_tape_create(const struct hsm_tape_config *cfg,
		    struct hsm_backend **out, char *error, size_t error_len);

/*
 * Close the open segment (end of archive, fsync / file mark) so that
 * every put() since the last flush is durable.  0 means all of them can
 * be committed; an error means none of them may be.
 */
int hsm_tape_flush(struct hsm_backend *be);

/*
 * Called once for every pending copy put() returned (SYNC_ON_SEGMENT),
 * after that put() returned, when its segment's fate is known: result 0
 * once the file mark is written (commit it), or a negative errno when the
 * segment could not be ended (the copy is void; redo the put).  Runs
 * inside whichever call ends the segment (a later put, a flush, a read
 * on the drive, destroy).  fn NULL turns it off.
 */
typedef void (*hsm_tape_commit_fn)(void *arg, const char *location,
				   int result);
void hsm_tape_set_commit_fn(struct hsm_backend *be, hsm_tape_commit_fn fn,
			    void *arg);

/* What the drive was asked to do so far (counters since create). */
void hsm_tape_get_stats(struct hsm_backend *be, struct hsm_tape_stats *out);

/*
 * Recall many copies in one pass per volume.  Items are grouped by volume
 * and read in (segment, offset) order whatever their order in the array;
 * the same location may appear more than once.  For each item, write()
 * gets its bytes in order and then done() (optional) is called with
 * item->result set: 0, -EBADMSG (checksum mismatch, after the bytes were
 * written), -ENOENT (no copy there), -EINVAL (bad location), or the
 * writer's own error.  One failed item does not stop the others.  Returns
 * 0 when every item succeeded, else the first failure in read order.
 */
struct hsm_tape_recall {
	const char *location;	/* in */
	void *arg;		/* in: the caller's, for the callbacks */
	int result;		/* out */
};

struct hsm_tape_recall_ops {
	int (*write)(struct hsm_tape_recall *item, const void *buf,
		     size_t len);
	void (*done)(struct hsm_tape_recall *item);
};

int hsm_tape_recall_batch(struct hsm_backend *be,
			  struct hsm_tape_recall *items, size_t nr_items,
			  const struct hsm_tape_recall_ops *ops);

/*
 * The order to recall copies in one by one (a stager that stages each
 * file as it goes): order[] gets the indexes of locations[] so that the
 * volume in the drive comes first, then each other volume once, and on
 * each volume the copies in position order (segment, then offset, which
 * is block address order), so a drive loads each volume once and only
 * ever moves forward.  Equal or unparseable locations keep their request
 * order (the unparseable ones last).  0, -ENOMEM, or -EINVAL when be is
 * not a tape backend.
 */
int hsm_tape_order(struct hsm_backend *be, const char *const *locations,
		   size_t nr, size_t *order);

/*
 * Read a volume without the catalog: one callback per archived file, in
 * position order.  is_sealed false means the DATA entry has no SEAL after
 * it: an incomplete copy (crash or end of medium while writing) that is
 * never valid.  The data itself is not read; verify() does that.
 */
struct hsm_tape_scan_entry {
	char location[HSM_LOCATION_MAX];
	struct hsm_object_info info;	/* info.path valid in the callback */
	struct hsm_checksum checksum;	/* when is_sealed */
	bool is_sealed;
};

/* A non-zero return stops the scan and is returned from it. */
typedef int (*hsm_tape_scan_fn)(void *arg,
				const struct hsm_tape_scan_entry *entry);

/*
 * 0 when the whole volume read cleanly; -EIO (after scanning the rest)
 * when a segment could not be read to its end.
 */
int hsm_tape_scan_volume(struct hsm_backend *be, const char *label,
			 hsm_tape_scan_fn fn, void *arg);

#endif
