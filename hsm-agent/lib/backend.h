/* SPDX-License-Identifier: GPL-2.0 */
/*
 * backend.h: the one interface every archive backend implements.
 *
 * The HSM moves file contents between the filesystem and an archive tier
 * (a directory, an S3 bucket, tape volumes).  Everything above this
 * interface (the catalog, the archiver, stager and releaser) is the same
 * whatever the tier; everything below it knows one tier only.
 *
 * Data travels as streams so that a multi-GiB file never has to fit in
 * memory: put() pulls bytes from a reader callback and get() pushes bytes
 * to a writer callback.  put() computes the checksum while it sends and
 * returns it with the location; get() of a whole object verifies it.
 *
 * A location is an opaque string that only the backend interprets (an
 * object key, "volume:segment:offset:length", a relative path).  The
 * catalog stores it verbatim in the copies table.
 *
 * Errors: every call returns 0 or a negative errno and, on failure, leaves
 * a human-readable reason in the backend's error buffer (hsm_backend_error())
 * that names the object and the cause ("s3: PUT bucket/key: 403
 * SignatureDoesNotMatch", "dir: /a/b: No space left on device").
 * -EBADMSG always means "checksum mismatch": the stored copy is corrupt.
 */
#ifndef SCOUTFS_HSM_BACKEND_H
#define SCOUTFS_HSM_BACKEND_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "checksum.h"

#define HSM_LOCATION_MAX 1024
#define HSM_ERROR_MAX 512

/*
 * Identity of the file being archived.  Backends that keep self-describing
 * copies (tape pax headers, S3 object metadata) store all of it next to the
 * data, so that a copy can be identified without the catalog.
 */
struct hsm_object_info {
	char fsid[33];		/* filesystem id, hex */
	uint64_t ino;
	uint64_t data_version;
	uint64_t size;		/* bytes the reader will produce */
	int64_t mtime_sec;
	const char *path;	/* path at archive time, may be NULL */
	/*
	 * Which of the policy's copies this is (the catalog's copy_num,
	 * 1..N), 0 when the caller has no copy number.  Backends that name
	 * objects after the file put it in the name, so two copies of one
	 * version on one backend never share an object.
	 */
	unsigned int copy_num;
};

/*
 * put() pulls data with this: fill up to len bytes into buf, return the
 * number of bytes (0 at end of stream) or a negative errno.
 */
typedef ssize_t (*hsm_read_fn)(void *arg, void *buf, size_t len);

/*
 * get() pushes data with this: consume all len bytes, return 0 or a
 * negative errno (which aborts the get and is returned from it).
 */
typedef int (*hsm_write_fn)(void *arg, const void *buf, size_t len);

struct hsm_put_result {
	char location[HSM_LOCATION_MAX];
	struct hsm_checksum checksum;
	uint64_t bytes;
};

struct hsm_stat_result {
	uint64_t bytes;
	struct hsm_checksum checksum;	/* as recorded with the copy */
	struct hsm_object_info info;	/* path is NULL: not returned */
};

/*
 * list() calls this once per copy: its location and stored size.  Return
 * 0 to go on, anything else stops the listing and is returned by list().
 */
typedef int (*hsm_list_fn)(void *arg, const char *location, uint64_t bytes);

struct hsm_backend;

struct hsm_backend_ops {
	const char *name;	/* "directory", "s3", "tape" */

	/*
	 * Store a new copy.  The copy becomes visible atomically and only
	 * once it is complete: a failure or crash part way leaves nothing
	 * that stat() or get() can see.
	 */
	int (*put)(struct hsm_backend *be, const struct hsm_object_info *info,
		   hsm_read_fn reader, void *reader_arg,
		   struct hsm_put_result *res);

	/*
	 * Read [offset, offset + length) of a copy; length UINT64_MAX means
	 * to the end.  A read of the whole copy (offset 0, to the end) is
	 * verified against the stored checksum and returns -EBADMSG on a
	 * mismatch, after the writer has seen the bytes: callers stage into
	 * an offline region and only commit when get() returns 0.
	 */
	int (*get)(struct hsm_backend *be, const char *location,
		   uint64_t offset, uint64_t length,
		   hsm_write_fn writer, void *writer_arg);

	/* Remove a copy; removing a missing copy returns -ENOENT. */
	int (*del)(struct hsm_backend *be, const char *location);

	/* Size and recorded checksum of a copy, without reading the data. */
	int (*stat)(struct hsm_backend *be, const char *location,
		    struct hsm_stat_result *res);

	/*
	 * Read the whole copy and compare with its recorded checksum:
	 * 0 when it matches, -EBADMSG when it does not.
	 */
	int (*verify)(struct hsm_backend *be, const char *location);

	/*
	 * Every location below prefix ("" for all), in the backend's order,
	 * including copies that no catalog points to, so the recycler and
	 * `catalog rebuild` can find orphans.  Optional: NULL when the backend
	 * cannot list (hsm_backend_list() then returns -EOPNOTSUPP).
	 */
	int (*list)(struct hsm_backend *be, const char *prefix,
		    hsm_list_fn fn, void *arg);

	/*
	 * Optional: is the copy at location, returned by put(), committable
	 * yet?  1 yes, 0 not yet (a tape segment without its file mark:
	 * record it as being written, do not verify or release on it), or a
	 * negative errno when it was lost and the put must be redone.  NULL:
	 * every copy put() returns is durable (hsm_backend_committed() says 1).
	 */
	int (*committed)(struct hsm_backend *be, const char *location);

	/*
	 * Optional: store a pack of many small copies (pack.h), size bytes
	 * from reader, as one new object of filesystem fsid, atomically as
	 * put() does; res as put()'s.  The backend then also understands
	 * member locations (pack.h) in get(), stat(), verify() and del().
	 * NULL: the backend does not pack (hsm_backend_can_pack() is false).
	 */
	int (*put_pack)(struct hsm_backend *be, const char *fsid,
			uint64_t size, hsm_read_fn reader, void *reader_arg,
			struct hsm_put_result *res);

	void (*destroy)(struct hsm_backend *be);
};

/* Every backend embeds this as its first member. */
struct hsm_backend {
	const struct hsm_backend_ops *ops;
	char error[HSM_ERROR_MAX];
};

/* Record a formatted reason for the last failure; returns err. */
int hsm_backend_set_error(struct hsm_backend *be, int err,
			  const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline const char *hsm_backend_error(const struct hsm_backend *be)
{
	return be->error[0] ? be->error : "no error";
}

static inline int hsm_backend_list(struct hsm_backend *be, const char *prefix,
				   hsm_list_fn fn, void *arg)
{
	if (!be->ops->list)
		return hsm_backend_set_error(be, -EOPNOTSUPP,
					     "%s: listing is not supported",
					     be->ops->name);
	return be->ops->list(be, prefix, fn, arg);
}

static inline int hsm_backend_committed(struct hsm_backend *be,
					const char *location)
{
	return be->ops->committed ? be->ops->committed(be, location) : 1;
}

static inline bool hsm_backend_can_pack(const struct hsm_backend *be)
{
	return be->ops->put_pack != NULL;
}

static inline void hsm_backend_destroy(struct hsm_backend *be)
{
	if (be)
		be->ops->destroy(be);
}

#endif
