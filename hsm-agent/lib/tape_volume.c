// SPDX-License-Identifier: GPL-2.0
/*
 * tape_volume.c: where the bytes of a tape volume live and how to move
 * around in them, for both kinds of volume the tape backend supports.
 *
 * A volume is a sequence of segments, numbered from 0, each ended by a
 * file mark.  Above this file everything is the same for both kinds:
 * backend_tape.c streams a segment through libarchive with
 * tape_volume_write() / tape_volume_read() and only asks this file to
 * begin, sync, end and seek segments.
 *
 * Real device (st(4), a no-rewind node such as /dev/nst0): a segment is a
 * tape file.  begin = MTEOM (the first segment number is the file number
 * there, from MTIOCGET); write = one write(2) per tape block (variable
 * block mode, every block at most block_size); sync = MTWEOF with a count
 * of 0, which makes the drive write its buffer to the medium; end = MTWEOF
 * 1 (a file mark); seek = MTREW / MTFSF / MTBSF to the start of the
 * segment, then read through to the byte offset (a tape cannot seek by
 * bytes); end of medium shows up as ENOSPC from write(2).
 *
 * File-backed volume: the directory VOLDIR/<label>/ holds one file per
 * segment, "<segment>.pax", numbered without gaps from 0; a file ending is
 * a file mark.  begin = create the next number with O_EXCL (and fsync the
 * directory so the name is durable), sync = fdatasync, end = fsync and
 * close, seek = open + lseek.  The volume's capacity is configured; a
 * write that would take the segments' total past it fails with ENOSPC
 * exactly as end of medium does on a tape.  A directory of files rather
 * than one volume file with an offset index: there is no index that could
 * disagree with the data, and the segment files are plain pax archives an
 * operator can inspect with tar.
 *
 * Invariants: at most one segment is being written per volume, always the
 * last one; the fd is either writing that segment or reading, never both
 * (a device must end the written segment before it can seek).  A
 * file-backed segment cut short by a crash is still a valid, readable
 * archive up to its last complete entry; the next writer starts a new
 * segment after it and never appends to it.
 *
 * Not thread-safe: the caller serialises use of a volume.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mtio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tape_volume.h"

#define TAPE_SEGMENT_SUFFIX ".pax"

static int tape_volume_error(struct tape_volume *vol, int err,
			     const char *what)
{
	return hsm_backend_set_error(vol->be, err, "tape: volume %s (%s): %s: %s",
				     vol->label, vol->path, what,
				     strerror(-err));
}

int tape_volume_segment_path(const struct tape_volume *vol, uint64_t segment,
			     char *out, size_t out_len)
{
	int len = snprintf(out, out_len, "%s/%" PRIu64 TAPE_SEGMENT_SUFFIX,
			   vol->path, segment);

	return len < 0 || (size_t)len >= out_len ? -ENAMETOOLONG : 0;
}

static void tape_volume_init(struct tape_volume *vol, struct hsm_backend *be,
			     const char *label, uint64_t capacity,
			     size_t block_size)
{
	memset(vol, 0, sizeof(*vol));
	vol->be = be;
	vol->fd = -1;
	vol->capacity = capacity;
	vol->block_size = block_size;
	snprintf(vol->label, sizeof(vol->label), "%s", label);
}

/* fsync a directory so that names created in it survive a crash. */
static int tape_volume_sync_dir(struct tape_volume *vol, const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0 || fsync(fd) < 0)
		ret = tape_volume_error(vol, -errno, "fsync of directory");
	if (fd >= 0)
		close(fd);
	return ret;
}

int tape_volume_open_dir(struct tape_volume *vol, struct hsm_backend *be,
			 const char *volume_dir, const char *label,
			 uint64_t capacity, size_t block_size,
			 bool may_create)
{
	char seg_path[PATH_MAX];
	struct stat st;
	int len;
	int ret;

	tape_volume_init(vol, be, label, capacity, block_size);
	if (!tape_label_is_valid(label))
		return hsm_backend_set_error(be, -EINVAL,
					     "tape: invalid volume label '%s'",
					     label);
	len = snprintf(vol->path, sizeof(vol->path), "%s/%s", volume_dir,
		       label);
	if (len < 0 || (size_t)len >= sizeof(vol->path))
		return tape_volume_error(vol, -ENAMETOOLONG, "volume path");

	if (!may_create) {
		if (stat(vol->path, &st) < 0 || !S_ISDIR(st.st_mode))
			return tape_volume_error(vol, -ENOENT, "no such volume");
	} else if (mkdir(vol->path, 0700) == 0) {
		ret = tape_volume_sync_dir(vol, volume_dir);
		if (ret)
			return ret;
	} else if (errno != EEXIST) {
		return tape_volume_error(vol, -errno, "create volume directory");
	}

	for (;;) {
		ret = tape_volume_segment_path(vol, vol->nr_segments, seg_path,
					       sizeof(seg_path));
		if (ret)
			return tape_volume_error(vol, ret, "segment path");
		if (stat(seg_path, &st) < 0) {
			if (errno == ENOENT)
				break;
			return tape_volume_error(vol, -errno, seg_path);
		}
		vol->used += (uint64_t)st.st_size;
		vol->nr_segments++;
	}
	return 0;
}

static int tape_mtop(struct tape_volume *vol, short op, int count,
		     const char *what)
{
	struct mtop mt = { .mt_op = op, .mt_count = count };

	if (ioctl(vol->fd, MTIOCTOP, &mt) < 0)
		return tape_volume_error(vol, -errno, what);
	return 0;
}

int tape_volume_open_device(struct tape_volume *vol, struct hsm_backend *be,
			    const char *device, const char *label,
			    uint64_t capacity, size_t block_size)
{
	int ret;

	tape_volume_init(vol, be, label, capacity, block_size);
	vol->is_device = true;
	snprintf(vol->path, sizeof(vol->path), "%s", device);
	vol->fd = open(device, O_RDWR | O_CLOEXEC);
	if (vol->fd < 0)
		return tape_volume_error(vol, -errno, "open device");
	ret = tape_mtop(vol, MTREW, 1, "rewind (MTREW)");
	if (ret) {
		close(vol->fd);
		vol->fd = -1;
	}
	return ret;
}

void tape_volume_close(struct tape_volume *vol)
{
	if (vol->fd >= 0) {
		/* the st driver writes a file mark itself if one is due */
		close(vol->fd);
		vol->fd = -1;
	}
	vol->is_writing = false;
}

int tape_volume_begin_segment(struct tape_volume *vol, uint64_t *segment)
{
	char seg_path[PATH_MAX];
	struct mtget status;
	int ret;

	if (vol->is_writing)
		return tape_volume_error(vol, -EBUSY, "segment already open");

	if (vol->is_device) {
		ret = tape_mtop(vol, MTEOM, 1, "space to end of data (MTEOM)");
		if (ret)
			return ret;
		if (ioctl(vol->fd, MTIOCGET, &status) < 0)
			return tape_volume_error(vol, -errno, "MTIOCGET");
		if (status.mt_fileno < 0)
			return tape_volume_error(vol, -EIO,
						 "file number unknown at EOM");
		vol->nr_segments = (uint64_t)status.mt_fileno;
	} else {
		if (vol->fd >= 0)
			tape_volume_close(vol);
		ret = tape_volume_segment_path(vol, vol->nr_segments, seg_path,
					       sizeof(seg_path));
		if (ret)
			return tape_volume_error(vol, ret, "segment path");
		vol->fd = open(seg_path, O_WRONLY | O_CREAT | O_EXCL |
			       O_CLOEXEC, 0600);
		if (vol->fd < 0)
			return tape_volume_error(vol, -errno, seg_path);
		ret = tape_volume_sync_dir(vol, vol->path);
		if (ret) {
			tape_volume_close(vol);
			unlink(seg_path);
			return ret;
		}
	}
	vol->fd_segment = vol->nr_segments++;
	vol->is_writing = true;
	*segment = vol->fd_segment;
	return 0;
}

int tape_volume_write(struct tape_volume *vol, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t ret;

	if (!vol->is_writing)
		return tape_volume_error(vol, -EBADF, "write without segment");
	if (vol->capacity && vol->used + len > vol->capacity)
		return tape_volume_error(vol, -ENOSPC, "volume full");

	while (len > 0) {
		ret = write(vol->fd, p, len);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0)
			return tape_volume_error(vol, -errno, "write");
		/* a short write to tape is end of medium: the block is cut */
		if (vol->is_device && (size_t)ret != len)
			return tape_volume_error(vol, -ENOSPC,
						 "short write (end of medium)");
		vol->used += (uint64_t)ret;
		p += ret;
		len -= (size_t)ret;
	}
	return 0;
}

int tape_volume_sync(struct tape_volume *vol)
{
	if (!vol->is_writing)
		return 0;
	if (vol->is_device)
		return tape_mtop(vol, MTWEOF, 0, "flush drive buffer (MTWEOF 0)");
	if (fdatasync(vol->fd) < 0)
		return tape_volume_error(vol, -errno, "fdatasync");
	return 0;
}

int tape_volume_end_segment(struct tape_volume *vol, uint64_t keep_bytes)
{
	struct stat st;
	int ret = 0;

	if (!vol->is_writing)
		return 0;
	vol->is_writing = false;

	if (vol->is_device)
		return tape_mtop(vol, MTWEOF, 1, "write file mark (MTWEOF)");

	if (keep_bytes != UINT64_MAX) {
		if (fstat(vol->fd, &st) < 0 ||
		    ftruncate(vol->fd, (off_t)keep_bytes) < 0)
			ret = tape_volume_error(vol, -errno,
						"cut torn entry (ftruncate)");
		else if ((uint64_t)st.st_size > keep_bytes)
			vol->used -= (uint64_t)st.st_size - keep_bytes;
	}
	if (!ret && fsync(vol->fd) < 0)
		ret = tape_volume_error(vol, -errno, "fsync of segment");
	if (close(vol->fd) < 0 && !ret)
		ret = tape_volume_error(vol, -errno, "close of segment");
	vol->fd = -1;
	return ret;
}

static int tape_device_seek_segment(struct tape_volume *vol, uint64_t segment)
{
	struct mtget status;
	int64_t cur;
	int ret;

	if (ioctl(vol->fd, MTIOCGET, &status) < 0)
		return tape_volume_error(vol, -errno, "MTIOCGET");
	cur = status.mt_fileno;

	if (segment == 0 || cur < 0) {
		ret = tape_mtop(vol, MTREW, 1, "rewind (MTREW)");
		cur = 0;
		if (ret || segment == 0)
			return ret;
	}
	if ((uint64_t)cur == segment && status.mt_blkno == 0)
		return 0;
	if ((uint64_t)cur < segment)
		ret = tape_mtop(vol, MTFSF, (int)(segment - (uint64_t)cur),
				"space forward file marks (MTFSF)");
	else
		ret = tape_mtop(vol, MTBSF, (int)((uint64_t)cur - segment + 1),
				"space back file marks (MTBSF)");
	if (!ret && (uint64_t)cur >= segment)
		ret = tape_mtop(vol, MTFSF, 1,
				"space forward file marks (MTFSF)");
	/* spacing past the end of data: there is no such segment */
	return ret == -EIO ? -ENOENT : ret;
}

int tape_volume_seek(struct tape_volume *vol, uint64_t segment,
		     uint64_t offset)
{
	char seg_path[PATH_MAX];
	int ret;

	if (vol->is_writing)
		return tape_volume_error(vol, -EBUSY,
					 "seek while a segment is written");

	if (vol->is_device) {
		ret = tape_device_seek_segment(vol, segment);
		if (ret)
			return ret;
		vol->fd_segment = segment;
		/*
		 * A tape cannot seek by bytes, and a read shorter than the
		 * block on tape loses the rest of the block: read through
		 * in whole blocks and drop the first offset bytes there.
		 */
		vol->discard = offset;
		return 0;
	}

	if (vol->fd >= 0 && vol->fd_segment != segment)
		tape_volume_close(vol);
	if (vol->fd < 0) {
		ret = tape_volume_segment_path(vol, segment, seg_path,
					       sizeof(seg_path));
		if (ret)
			return tape_volume_error(vol, ret, "segment path");
		vol->fd = open(seg_path, O_RDONLY | O_CLOEXEC);
		if (vol->fd < 0)
			return tape_volume_error(vol, -errno, seg_path);
		vol->fd_segment = segment;
	}
	if (lseek(vol->fd, (off_t)offset, SEEK_SET) < 0)
		return tape_volume_error(vol, -errno, "lseek in segment");
	return 0;
}

ssize_t tape_volume_read(struct tape_volume *vol, void *buf, size_t len)
{
	ssize_t ret;

	for (;;) {
		ret = read(vol->fd, buf, len);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0)
			return tape_volume_error(vol, -errno,
				errno == ENOMEM ?
				"read (tape block larger than block size)" :
				"read");
		if (vol->discard == 0 || ret == 0)
			return ret;
		if ((uint64_t)ret <= vol->discard) {
			vol->discard -= (uint64_t)ret;
			continue;
		}
		memmove(buf, (char *)buf + vol->discard,
			(size_t)ret - vol->discard);
		ret -= (ssize_t)vol->discard;
		vol->discard = 0;
		return ret;
	}
}

int64_t tape_volume_skip(struct tape_volume *vol, uint64_t len)
{
	struct stat st;
	off_t cur;

	if (vol->is_device || len > INT64_MAX)
		return 0;
	/*
	 * Never past the end: lseek would happily go there, and a segment
	 * cut short in the middle of an entry's data would then look like
	 * one that ends cleanly after it.  Stopping at the end makes the
	 * reader find the truncation.
	 */
	cur = lseek(vol->fd, 0, SEEK_CUR);
	if (cur < 0 || fstat(vol->fd, &st) < 0 || st.st_size <= cur)
		return 0;
	if (len > (uint64_t)(st.st_size - cur))
		len = (uint64_t)(st.st_size - cur);
	if (lseek(vol->fd, (off_t)len, SEEK_CUR) < 0)
		return 0;
	return (int64_t)len;
}
