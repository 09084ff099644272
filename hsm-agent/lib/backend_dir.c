// SPDX-License-Identifier: GPL-2.0
/*
 * backend_dir.c: the directory backend, archive copies as files below a
 * root directory (a local disk, an NFS export, a second scoutfs).
 *
 * Layout.  A copy of (fsid, ino, data_version) lives at
 *
 *	<root>/<h0>/<h1>/<fsid>-<ino:016x>-<data_version:016x>-<copy:08x>-<put:016x>
 *
 * where h0 and h1 are the first two bytes, in hex, of SHA-256 of
 * "<fsid>/<ino>/<data_version>".  Two levels of 256 spread millions of
 * copies so no directory grows past a few hundred entries.  The location
 * string handed to the catalog is the part after "<root>/", so the root
 * can move without rewriting the catalog.
 *
 * Every put makes a file of its own: the name carries the copy number
 * (hsm_object_info.copy_num) and 64 random bits drawn for that put.  So
 * two copies of one version on one backend, or on two backends that share
 * a root, never share a file, and neither do a copy that went bad and the
 * copy written again under the same number: the recycler deleting the bad
 * one's location can never remove the file a valid copy points to.  The
 * price is that a put whose result is lost (a crash after the rename,
 * before the catalog recorded it) leaves an unreferenced file instead of
 * being replaced by the retry; list() walks the tree so the recycler and
 * `catalog rebuild` find such orphans.  (Names of the older form, without
 * the copy and put fields, are still read.)

 * Object format: self-describing, one file.  The file is the data, byte
 * for byte, then a text trailer, then a fixed 32-byte footer:
 *
 *	<data: size bytes>
 *	scoutfs-hsm-dir-object 1\n
 *	fsid=<hex>\n ino=<n>\n data_version=<n>\n size=<n>\n mtime=<n>\n
 *	checksum=sha256:<hex>\n copy=<n>\n [path=<path, %XX-escaped>\n]
 *	SCOUTFS-HSM-DIR1<trailer length: 15 hex digits>\n
 *
 * Data first means a range read is a pread at the same offset and the
 * checksum, only known once the data has streamed through, is simply
 * written after it: nothing is rewritten.  The footer is found from the
 * file size, names the trailer's length, and stat() checks that data,
 * trailer and footer add up to the file size.  Without the catalog, a
 * copy still says what it is (`tail -c 400` shows it).  Runs of zeros are
 * not written but seeked over, so sparse files stay sparse in the archive.
 *
 * Crash rules.  put() writes to "<dir>/.<name>.XXXXXX" (mkostemp in the
 * final directory, so rename() cannot cross filesystems), fsyncs it,
 * renames it over the final name and fsyncs the directory; directories it
 * creates are fsynced into their parents.  A failure at any point unlinks
 * the temporary file.  A crash can leave a dot-file behind, never a
 * partial object under a final name: get() and stat() only accept final
 * names (the location check refuses dot-files and anything with "..").
 *
 * Reads.  get() of [offset, offset + length) clips length at the end of
 * the data; an offset past the end is -EINVAL.  A read from offset 0 to
 * the end is checksummed and returns -EBADMSG on a mismatch (after the
 * writer has seen the bytes, as backend.h requires), and so does a copy
 * whose trailer or footer is damaged.  There is no locking: each copy is
 * written once under a private name and replaced atomically.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend_dir.h"

#define DIR_OBJECT_MAGIC_LINE "scoutfs-hsm-dir-object 1"
#define DIR_FOOTER_MAGIC "SCOUTFS-HSM-DIR1"
#define DIR_FOOTER_BYTES 32
#define DIR_FOOTER_LEN_DIGITS 15
/* fixed fields need < 400 bytes; an escaped path at most 3 * PATH_MAX */
#define DIR_TRAILER_MAX (3 * PATH_MAX + 1024)
#define DIR_IO_BYTES (1024 * 1024)
#define DIR_ZERO_BLOCK_BYTES 4096
#define DIR_FILE_MODE 0444
#define DIR_DIR_MODE 0755

struct dir_backend {
	struct hsm_backend be;	/* first: the generic code casts to it */
	char root[PATH_MAX];
};

/* What the trailer of a stored copy says. */
struct dir_trailer {
	struct hsm_object_info info;
	struct hsm_checksum checksum;
	uint64_t trailer_bytes;	/* trailer + footer */
};

static struct dir_backend *to_dir(struct hsm_backend *be)
{
	return (struct dir_backend *)be;
}

static int dir_errno(struct dir_backend *db, int err, const char *what,
		     const char *path)
{
	return hsm_backend_set_error(&db->be, err, "dir: %s %s: %s", what,
				     path, strerror(-err));
}

static bool dir_is_hex(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		      (c >= 'A' && c <= 'F')))
			return false;
	}
	return len > 0;
}

/*
 * A location must be exactly "hh/hh/name" with a name made of the
 * characters dir_location() produces and not starting with '.': that
 * rules out escaping the root and reading a temporary file.
 */
static bool dir_location_is_valid(const char *loc)
{
	size_t len = strlen(loc);
	size_t i;

	if (len < 7 || len >= HSM_LOCATION_MAX)
		return false;
	if (!dir_is_hex(loc, 2) || loc[2] != '/' || !dir_is_hex(loc + 3, 2) ||
	    loc[5] != '/' || loc[6] == '.')
		return false;
	for (i = 6; i < len; i++) {
		char c = loc[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		      (c >= 'A' && c <= 'F') || c == '-'))
			return false;
	}
	return true;
}

/* 64 random bits that make one put's name its own. */
static int dir_put_token(uint64_t *token)
{
	ssize_t n;

	do {
		n = getrandom(token, sizeof(*token), 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(*token) ? 0 : -EIO;
}

static void dir_location(const struct hsm_object_info *info, uint64_t token,
			 char *loc, size_t len)
{
	struct hsm_checksum hash;
	char key[128];
	int n;

	n = snprintf(key, sizeof(key), "%s/%" PRIu64 "/%" PRIu64, info->fsid,
		     info->ino, info->data_version);
	hsm_checksum_buf(key, (size_t)n, &hash);
	snprintf(loc, len, "%02x/%02x/%s-%016" PRIx64 "-%016" PRIx64
		 "-%08x-%016" PRIx64, hash.bytes[0], hash.bytes[1],
		 info->fsid, info->ino, info->data_version, info->copy_num,
		 token);
}

static int dir_full_path(struct dir_backend *db, const char *loc, char *path,
			 size_t len)
{
	int n = snprintf(path, len, "%s/%s", db->root, loc);

	if (n < 0 || (size_t)n >= len)
		return hsm_backend_set_error(&db->be, -ENAMETOOLONG,
					     "dir: %s/%s: path too long",
					     db->root, loc);
	return 0;
}

static int dir_fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * mkdir one level; when it is new, fsync the parent so the entry survives
 * a crash before the object that will live below it.
 */
static int dir_mkdir_durable(struct dir_backend *db, const char *parent,
			     const char *path)
{
	int ret;

	if (mkdir(path, DIR_DIR_MODE) == 0) {
		ret = dir_fsync_path(parent);
		if (ret)
			return dir_errno(db, ret, "fsync", parent);
		return 0;
	}
	if (errno == EEXIST)
		return 0;
	return dir_errno(db, -errno, "mkdir", path);
}

static int dir_write_all(int fd, const void *buf, size_t len, off_t off)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

static bool dir_block_is_zero(const uint8_t *p, size_t len)
{
	return len && p[0] == 0 && memcmp(p, p + 1, len - 1) == 0;
}

/* Write buf at off, skipping whole zero blocks so the file stays sparse. */
static int dir_write_sparse(int fd, const uint8_t *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		size_t n = len - done;
		int ret;

		if (n > DIR_ZERO_BLOCK_BYTES)
			n = DIR_ZERO_BLOCK_BYTES;
		if (n == DIR_ZERO_BLOCK_BYTES && dir_block_is_zero(buf + done, n)) {
			done += n;
			continue;
		}
		ret = dir_write_all(fd, buf + done, n, off + (off_t)done);
		if (ret)
			return ret;
		done += n;
	}
	return 0;
}

/* Append s to out escaping bytes that would break the line format. */
static size_t dir_escape_path(const char *s, char *out, size_t cap)
{
	size_t n = 0;

	for (; *s && n + 4 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f || c == '%')
			n += (size_t)snprintf(out + n, cap - n, "%%%02X", c);
		else
			out[n++] = (char)c;
	}
	out[n] = '\0';
	return n;
}

static int dir_format_trailer(const struct hsm_object_info *info,
			      uint64_t bytes, const struct hsm_checksum *sum,
			      char *out, size_t cap, size_t *len)
{
	char sum_text[HSM_CHECKSUM_TEXT_MAX];
	size_t n;
	int w;

	hsm_checksum_to_text(sum, sum_text);
	w = snprintf(out, cap,
		     DIR_OBJECT_MAGIC_LINE "\n"
		     "fsid=%s\nino=%" PRIu64 "\ndata_version=%" PRIu64 "\n"
		     "size=%" PRIu64 "\nmtime=%" PRId64 "\nchecksum=%s\n"
		     "copy=%u\n",
		     info->fsid, info->ino, info->data_version, bytes,
		     info->mtime_sec, sum_text, info->copy_num);
	if (w < 0 || (size_t)w >= cap)
		return -ENAMETOOLONG;
	n = (size_t)w;
	if (info->path) {
		if (cap - n < 8 + 3 * strlen(info->path) + DIR_FOOTER_BYTES)
			return -ENAMETOOLONG;
		memcpy(out + n, "path=", 5);
		n += 5;
		n += dir_escape_path(info->path, out + n, cap - n);
		out[n++] = '\n';
	}
	if (cap - n < DIR_FOOTER_BYTES + 1)
		return -ENAMETOOLONG;
	/* the footer names the trailer's length including itself */
	snprintf(out + n, cap - n, "%s%0*zx\n", DIR_FOOTER_MAGIC,
		 DIR_FOOTER_LEN_DIGITS, n + DIR_FOOTER_BYTES);
	*len = n + DIR_FOOTER_BYTES;
	return 0;
}

static int dir_parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return (errno || *end) ? -EINVAL : 0;
}

/* Parse the trailer lines; buf is NUL-terminated and writable. */
static int dir_parse_trailer(char *buf, struct dir_trailer *tr)
{
	unsigned int seen = 0;
	char *save = NULL;
	char *line;
	int ret = 0;

	line = strtok_r(buf, "\n", &save);
	if (!line || strcmp(line, DIR_OBJECT_MAGIC_LINE) != 0)
		return -EBADMSG;

	while ((line = strtok_r(NULL, "\n", &save))) {
		char *val = strchr(line, '=');

		if (!val)
			return -EBADMSG;
		*val++ = '\0';
		if (!strcmp(line, "fsid")) {
			if (strlen(val) >= sizeof(tr->info.fsid))
				return -EBADMSG;
			strcpy(tr->info.fsid, val);
			seen |= 1;
		} else if (!strcmp(line, "ino")) {
			ret = dir_parse_u64(val, &tr->info.ino);
			seen |= 2;
		} else if (!strcmp(line, "data_version")) {
			ret = dir_parse_u64(val, &tr->info.data_version);
			seen |= 4;
		} else if (!strcmp(line, "size")) {
			ret = dir_parse_u64(val, &tr->info.size);
			seen |= 8;
		} else if (!strcmp(line, "mtime")) {
			char *end;

			errno = 0;
			tr->info.mtime_sec = strtoll(val, &end, 10);
			ret = (errno || *end || !*val) ? -EINVAL : 0;
			seen |= 16;
		} else if (!strcmp(line, "checksum")) {
			ret = hsm_checksum_from_text(val, &tr->checksum);
			seen |= 32;
		} else if (!strcmp(line, "copy")) {
			uint64_t copy;

			/* optional: copies written before it have none */
			ret = dir_parse_u64(val, &copy);
			if (!ret && copy > UINT_MAX)
				ret = -EINVAL;
			tr->info.copy_num = (unsigned int)copy;
		}
		/* unknown keys (path, later additions) are skipped */
		if (ret)
			return -EBADMSG;
	}
	return seen == 63 ? 0 : -EBADMSG;
}

/*
 * Read and check the trailer of the open copy at path.  -EBADMSG, with
 * the reason recorded, when footer, trailer or sizes do not agree.
 */
static int dir_read_trailer(struct dir_backend *db, int fd, const char *path,
			    struct dir_trailer *tr)
{
	char footer[DIR_FOOTER_BYTES + 1];
	struct stat st;
	uint64_t tlen;
	char *buf = NULL;
	char *end;
	int ret;

	memset(tr, 0, sizeof(*tr));
	if (fstat(fd, &st))
		return dir_errno(db, -errno, "fstat", path);
	if (st.st_size < DIR_FOOTER_BYTES)
		goto bad;
	if (pread(fd, footer, DIR_FOOTER_BYTES,
		  st.st_size - DIR_FOOTER_BYTES) != DIR_FOOTER_BYTES)
		return dir_errno(db, -EIO, "read footer of", path);
	footer[DIR_FOOTER_BYTES] = '\0';
	if (memcmp(footer, DIR_FOOTER_MAGIC, strlen(DIR_FOOTER_MAGIC)) != 0 ||
	    footer[DIR_FOOTER_BYTES - 1] != '\n')
		goto bad;
	footer[DIR_FOOTER_BYTES - 1] = '\0';
	errno = 0;
	tlen = strtoull(footer + strlen(DIR_FOOTER_MAGIC), &end, 16);
	if (errno || *end || tlen < DIR_FOOTER_BYTES || tlen > DIR_TRAILER_MAX ||
	    tlen > (uint64_t)st.st_size)
		goto bad;

	buf = malloc(tlen + 1);
	if (!buf)
		return dir_errno(db, -ENOMEM, "read trailer of", path);
	if (pread(fd, buf, tlen - DIR_FOOTER_BYTES,
		  st.st_size - (off_t)tlen) != (ssize_t)(tlen - DIR_FOOTER_BYTES)) {
		free(buf);
		return dir_errno(db, -EIO, "read trailer of", path);
	}
	buf[tlen - DIR_FOOTER_BYTES] = '\0';
	ret = dir_parse_trailer(buf, tr);
	free(buf);
	if (ret || tr->info.size + tlen != (uint64_t)st.st_size)
		goto bad;
	tr->trailer_bytes = tlen;
	return 0;
bad:
	return hsm_backend_set_error(&db->be, -EBADMSG,
				     "dir: %s: damaged copy: trailer or footer unreadable or sizes disagree",
				     path);
}

/* Validate loc, build its path and open it read-only. */
static int dir_open_copy(struct dir_backend *db, const char *loc, char *path,
			 size_t len, int *fd)
{
	int ret;

	if (!loc || !dir_location_is_valid(loc))
		return hsm_backend_set_error(&db->be, -EINVAL,
					     "dir: invalid location '%s'",
					     loc ? loc : "(null)");
	ret = dir_full_path(db, loc, path, len);
	if (ret)
		return ret;
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return dir_errno(db, -errno, "open", path);
	return 0;
}

/* Stream data from the reader into fd; returns bytes and checksum. */
static int dir_put_stream(struct dir_backend *db, int fd, const char *tmp,
			  hsm_read_fn reader, void *reader_arg,
			  uint64_t *bytes, struct hsm_checksum *sum)
{
	struct hsm_checksum_ctx *ctx = hsm_checksum_begin();
	uint8_t *buf = malloc(DIR_IO_BYTES);
	uint64_t off = 0;
	int ret = 0;

	if (!ctx || !buf) {
		ret = dir_errno(db, -ENOMEM, "buffer for", tmp);
		goto out;
	}
	for (;;) {
		ssize_t n = reader(reader_arg, buf, DIR_IO_BYTES);

		if (n == 0)
			break;
		if (n < 0 || n > DIR_IO_BYTES) {
			ret = n < 0 ? (int)n : -EINVAL;
			hsm_backend_set_error(&db->be, ret,
					      "dir: %s: source read failed at byte %" PRIu64 ": %s",
					      tmp, off, strerror(-ret));
			goto out;
		}
		hsm_checksum_update(ctx, buf, (size_t)n);
		ret = dir_write_sparse(fd, buf, (size_t)n, (off_t)off);
		if (ret) {
			dir_errno(db, ret, "write", tmp);
			goto out;
		}
		off += (uint64_t)n;
	}
	hsm_checksum_end(ctx, sum);
	ctx = NULL;
	*bytes = off;
out:
	hsm_checksum_abort(ctx);
	free(buf);
	return ret;
}

/*
 * Move the finished temporary file to a final name that no other file
 * has: never replace one (a name drawn twice gets a new token).  Without
 * RENAME_NOREPLACE (NFS) a hard link does the same; a filesystem with
 * neither gets a plain rename, where 64 random bits have to do.
 */
static int dir_place(struct dir_backend *db, const struct hsm_object_info *info,
		     const char *tmp, char *loc, char *path)
{
	unsigned int tries;
	uint64_t token;
	int ret;

	for (tries = 0; tries < 8; tries++) {
		if (tries) {
			ret = dir_put_token(&token);
			if (ret)
				return dir_errno(db, ret, "random name for", tmp);
			dir_location(info, token, loc, HSM_LOCATION_MAX);
			ret = dir_full_path(db, loc, path, PATH_MAX);
			if (ret)
				return ret;
		}
		if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path,
			      RENAME_NOREPLACE) == 0)
			return 0;
		if (errno == EEXIST)
			continue;
		if (errno != EINVAL && errno != ENOSYS)
			return dir_errno(db, -errno, "rename into place", path);
		if (link(tmp, path) == 0) {
			unlink(tmp);
			return 0;
		}
		if (errno == EEXIST)
			continue;
		if (errno != EPERM && errno != EOPNOTSUPP)
			return dir_errno(db, -errno, "link into place", path);
		if (rename(tmp, path))
			return dir_errno(db, -errno, "rename into place", path);
		return 0;
	}
	return dir_errno(db, -EEXIST, "rename into place", path);
}

static int dir_put(struct hsm_backend *be, const struct hsm_object_info *info,
		   hsm_read_fn reader, void *reader_arg,
		   struct hsm_put_result *res)
{
	struct dir_backend *db = to_dir(be);
	char loc[HSM_LOCATION_MAX];
	char path[PATH_MAX];
	char dir1[PATH_MAX];
	char dir2[PATH_MAX];
	char tmp[PATH_MAX];
	char *trailer = NULL;
	size_t trailer_len = 0;
	uint64_t bytes = 0;
	struct hsm_checksum sum;
	uint64_t token;
	int fd = -1;
	int ret;

	be->error[0] = '\0';
	if (!dir_is_hex(info->fsid, strnlen(info->fsid, sizeof(info->fsid))) ||
	    strnlen(info->fsid, sizeof(info->fsid)) >= sizeof(info->fsid))
		return hsm_backend_set_error(be, -EINVAL,
					     "dir: put ino %" PRIu64 ": fsid '%.32s' is not hex",
					     info->ino, info->fsid);
	ret = dir_put_token(&token);
	if (ret)
		return hsm_backend_set_error(be, ret,
					     "dir: put ino %" PRIu64 ": no random name: %s",
					     info->ino, strerror(-ret));
	dir_location(info, token, loc, sizeof(loc));
	ret = dir_full_path(db, loc, path, sizeof(path));
	if (ret)
		return ret;
	/* path is "<root>/hh/hh/name": cut it back to the two directories */
	memcpy(dir2, path, sizeof(dir2));
	*strrchr(dir2, '/') = '\0';
	memcpy(dir1, dir2, sizeof(dir1));
	*strrchr(dir1, '/') = '\0';
	if (snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir2, loc + 6) >=
	    (int)sizeof(tmp))
		return dir_errno(db, -ENAMETOOLONG, "temporary for", path);

	ret = dir_mkdir_durable(db, db->root, dir1);
	if (!ret)
		ret = dir_mkdir_durable(db, dir1, dir2);
	if (ret)
		return ret;

	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return dir_errno(db, -errno, "create", tmp);

	ret = dir_put_stream(db, fd, tmp, reader, reader_arg, &bytes, &sum);
	if (ret)
		goto fail;
	if (bytes != info->size) {
		ret = hsm_backend_set_error(be, -EIO,
					    "dir: %s: source gave %" PRIu64 " bytes, expected %" PRIu64 " (file changed?)",
					    path, bytes, info->size);
		goto fail;
	}

	trailer = malloc(DIR_TRAILER_MAX);
	if (!trailer) {
		ret = dir_errno(db, -ENOMEM, "trailer for", path);
		goto fail;
	}
	ret = dir_format_trailer(info, bytes, &sum, trailer, DIR_TRAILER_MAX,
				 &trailer_len);
	if (ret) {
		dir_errno(db, ret, "trailer (path too long) for", path);
		goto fail;
	}
	/* the trailer also sets the size after a sparse tail of zeros */
	ret = dir_write_all(fd, trailer, trailer_len, (off_t)bytes);
	if (ret) {
		dir_errno(db, ret, "write", tmp);
		goto fail;
	}
	if (fchmod(fd, DIR_FILE_MODE) || fsync(fd)) {
		ret = dir_errno(db, -errno, "fsync", tmp);
		goto fail;
	}
	if (close(fd)) {
		fd = -1;
		ret = dir_errno(db, -errno, "close", tmp);
		goto fail;
	}
	fd = -1;
	ret = dir_place(db, info, tmp, loc, path);
	if (ret)
		goto fail;
	/* only now is the new name durable; an error here is an error */
	ret = dir_fsync_path(dir2);
	if (ret) {
		dir_errno(db, ret, "fsync", dir2);
		free(trailer);
		return ret;
	}

	memset(res, 0, sizeof(*res));
	snprintf(res->location, sizeof(res->location), "%s", loc);
	res->checksum = sum;
	res->bytes = bytes;
	free(trailer);
	return 0;

fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(trailer);
	return ret;
}

static int dir_get(struct hsm_backend *be, const char *location,
		   uint64_t offset, uint64_t length, hsm_write_fn writer,
		   void *writer_arg)
{
	struct dir_backend *db = to_dir(be);
	struct hsm_checksum_ctx *ctx = NULL;
	struct dir_trailer tr;
	struct hsm_checksum sum;
	char path[PATH_MAX];
	uint8_t *buf = NULL;
	bool is_whole;
	uint64_t end;
	uint64_t pos;
	int fd = -1;
	int ret;

	be->error[0] = '\0';
	ret = dir_open_copy(db, location, path, sizeof(path), &fd);
	if (ret)
		return ret;
	ret = dir_read_trailer(db, fd, path, &tr);
	if (ret)
		goto out;
	if (offset > tr.info.size) {
		ret = hsm_backend_set_error(be, -EINVAL,
					    "dir: %s: read at %" PRIu64 " is past the end (%" PRIu64 " bytes)",
					    path, offset, tr.info.size);
		goto out;
	}
	end = (length > tr.info.size - offset) ? tr.info.size : offset + length;
	is_whole = offset == 0 && end == tr.info.size;

	buf = malloc(DIR_IO_BYTES);
	if (is_whole)
		ctx = hsm_checksum_begin();
	if (!buf || (is_whole && !ctx)) {
		ret = dir_errno(db, -ENOMEM, "buffer for", path);
		goto out;
	}

	for (pos = offset; pos < end;) {
		size_t want = DIR_IO_BYTES;
		ssize_t n;

		if (end - pos < want)
			want = (size_t)(end - pos);
		n = pread(fd, buf, want, (off_t)pos);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = dir_errno(db, n < 0 ? -errno : -EIO, "read", path);
			goto out;
		}
		if (ctx)
			hsm_checksum_update(ctx, buf, (size_t)n);
		ret = writer(writer_arg, buf, (size_t)n);
		if (ret) {
			hsm_backend_set_error(be, ret,
					      "dir: %s: writer failed at byte %" PRIu64 ": %s",
					      path, pos, strerror(-ret));
			goto out;
		}
		pos += (uint64_t)n;
	}

	if (ctx) {
		hsm_checksum_end(ctx, &sum);
		ctx = NULL;
		if (!hsm_checksum_equal(&sum, &tr.checksum)) {
			char want_text[HSM_CHECKSUM_TEXT_MAX];
			char got_text[HSM_CHECKSUM_TEXT_MAX];

			hsm_checksum_to_text(&tr.checksum, want_text);
			hsm_checksum_to_text(&sum, got_text);
			ret = hsm_backend_set_error(be, -EBADMSG,
						    "dir: %s: checksum mismatch: stored %s, read %s",
						    path, want_text, got_text);
		}
	}
out:
	hsm_checksum_abort(ctx);
	free(buf);
	if (fd >= 0)
		close(fd);
	return ret;
}

static int dir_discard(void *arg, const void *buf, size_t len)
{
	(void)arg;
	(void)buf;
	(void)len;
	return 0;
}

static int dir_verify(struct hsm_backend *be, const char *location)
{
	return dir_get(be, location, 0, UINT64_MAX, dir_discard, NULL);
}

static int dir_stat(struct hsm_backend *be, const char *location,
		    struct hsm_stat_result *res)
{
	struct dir_backend *db = to_dir(be);
	struct dir_trailer tr;
	char path[PATH_MAX];
	int fd;
	int ret;

	be->error[0] = '\0';
	ret = dir_open_copy(db, location, path, sizeof(path), &fd);
	if (ret)
		return ret;
	ret = dir_read_trailer(db, fd, path, &tr);
	close(fd);
	if (ret)
		return ret;
	memset(res, 0, sizeof(*res));
	res->bytes = tr.info.size;
	res->checksum = tr.checksum;
	res->info = tr.info;
	res->info.path = NULL;
	return 0;
}

static int dir_del(struct hsm_backend *be, const char *location)
{
	struct dir_backend *db = to_dir(be);
	char path[PATH_MAX];
	char *slash;
	int ret;

	be->error[0] = '\0';
	if (!location || !dir_location_is_valid(location))
		return hsm_backend_set_error(be, -EINVAL,
					     "dir: invalid location '%s'",
					     location ? location : "(null)");
	ret = dir_full_path(db, location, path, sizeof(path));
	if (ret)
		return ret;
	if (unlink(path))
		return dir_errno(db, -errno, "unlink", path);
	/* make the removal durable before the catalog forgets the copy */
	slash = strrchr(path, '/');
	*slash = '\0';
	ret = dir_fsync_path(path);
	if (ret)
		return dir_errno(db, ret, "fsync", path);
	return 0;
}

static bool dir_is_fan_name(const char *name)
{
	return strlen(name) == 2 && dir_is_hex(name, 2);
}

/* Data bytes of the copy at path; its file size when it is damaged. */
static uint64_t dir_list_bytes(struct dir_backend *db, const char *path,
			       const struct stat *st)
{
	struct dir_trailer tr;
	uint64_t bytes = (uint64_t)st->st_size;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return bytes;
	if (dir_read_trailer(db, fd, path, &tr) == 0)
		bytes = tr.info.size;
	else
		db->be.error[0] = '\0';	/* listed anyway: not our failure */
	close(fd);
	return bytes;
}

/* The copies in one "<root>/hh/hh" directory. */
static int dir_list_leaf(struct dir_backend *db, const char *rel,
			 const char *prefix, hsm_list_fn fn, void *arg)
{
	char loc[HSM_LOCATION_MAX];
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int ret = 0;

	if (dir_full_path(db, rel, path, sizeof(path)))
		return -ENAMETOOLONG;
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : dir_errno(db, -errno, "list", path);
	while (!ret && (errno = 0, de = readdir(d))) {
		int n = snprintf(loc, sizeof(loc), "%s/%s", rel, de->d_name);

		/* dot-files are unfinished puts, never copies */
		if (n < 0 || (size_t)n >= sizeof(loc) ||
		    !dir_location_is_valid(loc) ||
		    strncmp(loc, prefix, strlen(prefix)) != 0)
			continue;
		if (dir_full_path(db, loc, path, sizeof(path)) ||
		    lstat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		ret = fn(arg, loc, dir_list_bytes(db, path, &st));
	}
	if (!ret && errno)
		ret = dir_errno(db, -errno, "list", rel);
	closedir(d);
	return ret;
}

/*
 * Every final name below the root, whoever points at it: walk the two
 * fan-out levels.  Order is the directories' order, not sorted.
 */
static int dir_list(struct hsm_backend *be, const char *prefix,
		    hsm_list_fn fn, void *arg)
{
	struct dir_backend *db = to_dir(be);
	char rel[8];
	char path[PATH_MAX];
	struct dirent *top;
	struct dirent *mid;
	DIR *d1;
	DIR *d2;
	int ret = 0;

	be->error[0] = '\0';
	if (!prefix)
		prefix = "";
	d1 = opendir(db->root);
	if (!d1)
		return dir_errno(db, -errno, "list", db->root);
	while (!ret && (top = readdir(d1))) {
		if (!dir_is_fan_name(top->d_name) ||
		    strncmp(top->d_name, prefix,
			    strlen(prefix) < 2 ? strlen(prefix) : 2) != 0)
			continue;
		if (dir_full_path(db, top->d_name, path, sizeof(path)))
			continue;
		d2 = opendir(path);
		if (!d2)
			continue;
		while (!ret && (mid = readdir(d2))) {
			if (!dir_is_fan_name(mid->d_name))
				continue;
			snprintf(rel, sizeof(rel), "%s/%s", top->d_name,
				 mid->d_name);
			if (strncmp(rel, prefix, strlen(prefix) < 5 ?
				    strlen(prefix) : 5) != 0)
				continue;
			ret = dir_list_leaf(db, rel, prefix, fn, arg);
		}
		closedir(d2);
	}
	closedir(d1);
	return ret;
}

static void dir_destroy(struct hsm_backend *be)
{
	free(to_dir(be));
}

static const struct hsm_backend_ops dir_ops = {
	.name = HSM_BACKEND_DIR_NAME,
	.put = dir_put,
	.get = dir_get,
	.del = dir_del,
	.stat = dir_stat,
	.verify = dir_verify,
	.list = dir_list,
	.destroy = dir_destroy,
};

static int dir_open_error(char *err, size_t errlen, int ret, const char *fmt,
			  ...) __attribute__((format(printf, 4, 5)));

static int dir_open_error(char *err, size_t errlen, int ret, const char *fmt,
			  ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

int hsm_backend_dir_open(const char *root, struct hsm_backend **out,
			 char *err, size_t errlen)
{
	struct dir_backend *db;
	struct stat st;
	size_t len;

	*out = NULL;
	if (!root || !*root)
		return dir_open_error(err, errlen, -EINVAL,
				      "dir: no root directory given");
	len = strlen(root);
	while (len > 1 && root[len - 1] == '/')
		len--;
	/* room for "/hh/hh/.<name>.XXXXXX" below the root */
	if (len + 128 >= PATH_MAX)
		return dir_open_error(err, errlen, -ENAMETOOLONG,
				      "dir: %s: root path too long", root);
	if (stat(root, &st))
		return dir_open_error(err, errlen, -errno, "dir: %s: %s", root,
				      strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return dir_open_error(err, errlen, -ENOTDIR,
				      "dir: %s: not a directory", root);
	if (access(root, W_OK | X_OK))
		return dir_open_error(err, errlen, -errno,
				      "dir: %s: not writable: %s", root,
				      strerror(errno));

	db = calloc(1, sizeof(*db));
	if (!db)
		return dir_open_error(err, errlen, -ENOMEM,
				      "dir: %s: out of memory", root);
	db->be.ops = &dir_ops;
	memcpy(db->root, root, len);
	db->root[len] = '\0';
	*out = &db->be;
	if (err && errlen)
		err[0] = '\0';
	return 0;
}
