/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SCOUTFS_LIB_DEVIO_H
#define SCOUTFS_LIB_DEVIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct scoutfs_dev {
	int fd;
	const char *path;
	uint64_t size;		/* bytes */
	bool is_blkdev;
};

int scoutfs_dev_open(struct scoutfs_dev *dev, const char *path,
		     bool writable);
int scoutfs_dev_read(struct scoutfs_dev *dev, uint64_t off, void *buf,
		     size_t len);
int scoutfs_dev_write(struct scoutfs_dev *dev, uint64_t off, const void *buf,
		      size_t len);
int scoutfs_dev_sync(struct scoutfs_dev *dev);
int scoutfs_dev_extend(struct scoutfs_dev *dev, uint64_t size);
void scoutfs_dev_close(struct scoutfs_dev *dev);

#endif
