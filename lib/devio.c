// SPDX-License-Identifier: GPL-2.0
/*
 * devio.c: the tools' access to the metadata and data devices.
 *
 * A device is a block device or a regular file; its size comes from
 * BLKGETSIZE64 or fstat.  Reads and writes are whole pread/pwrite calls at
 * byte offsets, retried on short transfers; a read past the end of the
 * device is -ERANGE (a truncated image) rather than a short buffer, so no
 * caller ever looks at bytes that were not read.  Functions return 0 or
 * -errno; callers name the device and block in their messages.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devio.h"

int scoutfs_dev_open(struct scoutfs_dev *dev, const char *path,
		     bool writable)
{
	struct stat st;
	uint64_t size;
	int ret;

	dev->fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	dev->path = path;
	dev->size = 0;
	dev->is_blkdev = false;
	if (dev->fd < 0)
		return -errno;
	if (fstat(dev->fd, &st) < 0)
		goto fail;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(dev->fd, BLKGETSIZE64, &size) < 0)
			goto fail;
		dev->size = size;
		dev->is_blkdev = true;
	} else if (S_ISREG(st.st_mode)) {
		dev->size = st.st_size;
	} else {
		errno = ENODEV;
		goto fail;
	}
	return 0;
fail:
	ret = -errno;
	close(dev->fd);
	dev->fd = -1;
	return ret;
}

int scoutfs_dev_read(struct scoutfs_dev *dev, uint64_t off, void *buf,
		     size_t len)
{
	ssize_t ret;
	size_t done = 0;

	if (off > dev->size || len > dev->size - off)
		return -ERANGE;
	while (done < len) {
		ret = pread(dev->fd, (char *)buf + done, len - done,
			    off + done);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0)
			return -errno;
		if (ret == 0)
			return -ERANGE;
		done += ret;
	}
	return 0;
}

int scoutfs_dev_write(struct scoutfs_dev *dev, uint64_t off, const void *buf,
		      size_t len)
{
	ssize_t ret;
	size_t done = 0;

	if (off > dev->size || len > dev->size - off)
		return -ERANGE;
	while (done < len) {
		ret = pwrite(dev->fd, (const char *)buf + done, len - done,
			     off + done);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0)
			return ret < 0 ? -errno : -EIO;
		done += ret;
	}
	return 0;
}

int scoutfs_dev_sync(struct scoutfs_dev *dev)
{
	return fsync(dev->fd) < 0 ? -errno : 0;
}

/* Grows a regular file to size bytes (never shrinks, never a blkdev). */
int scoutfs_dev_extend(struct scoutfs_dev *dev, uint64_t size)
{
	if (dev->is_blkdev || size <= dev->size)
		return 0;
	if (ftruncate(dev->fd, size) < 0)
		return -errno;
	dev->size = size;
	return 0;
}

void scoutfs_dev_close(struct scoutfs_dev *dev)
{
	if (dev->fd >= 0)
		close(dev->fd);
	dev->fd = -1;
}
