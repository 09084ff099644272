/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tape_volume.h: positioning and raw I/O of one tape volume, a real
 * st(4) device or a file-backed volume.  See tape_volume.c.
 */
#ifndef SCOUTFS_HSM_TAPE_VOLUME_H
#define SCOUTFS_HSM_TAPE_VOLUME_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "backend.h"
#include "tape_format.h"

struct tape_volume {
	bool is_device;
	char label[TAPE_LABEL_MAX + 1];
	char path[PATH_MAX];	/* VOLDIR/<label>, or the device node */
	uint64_t capacity;	/* bytes, 0: until the medium says ENOSPC */
	uint64_t used;		/* bytes in all segments (file-backed) */
	uint64_t nr_segments;	/* segments on the volume, incl. one open */
	size_t block_size;	/* bytes per read() / full write() */
	int fd;			/* segment file or device, -1 when closed */
	uint64_t fd_segment;	/* segment the fd is in */
	bool is_writing;	/* fd is a segment being appended */
	uint64_t discard;	/* device: bytes to drop from the next reads */
	struct hsm_backend *be;	/* where errors are reported */
};

/*
 * Open a file-backed volume VOLDIR/<label>, creating the directory when
 * may_create.  Counts its segments and bytes.  Does not read the label.
 */
int tape_volume_open_dir(struct tape_volume *vol, struct hsm_backend *be,
			 const char *volume_dir, const char *label,
			 uint64_t capacity, size_t block_size,
			 bool may_create);
/*
 * Open the volume loaded in a st(4) device (a no-rewind node, /dev/nst*),
 * rewound, expected to be <label>.  nr_segments is found at first write.
 */
int tape_volume_open_device(struct tape_volume *vol, struct hsm_backend *be,
			    const char *device, const char *label,
			    uint64_t capacity, size_t block_size);
void tape_volume_close(struct tape_volume *vol);

/* Start segment vol->nr_segments at the end of the volume; returns it. */
int tape_volume_begin_segment(struct tape_volume *vol, uint64_t *segment);
/* Append all of buf to the open segment; -ENOSPC at capacity/EOM. */
int tape_volume_write(struct tape_volume *vol, const void *buf, size_t len);
/* Make everything written so far to the open segment durable. */
int tape_volume_sync(struct tape_volume *vol);
/*
 * Finish the open segment durably (fsync / file mark).  keep_bytes, when
 * not UINT64_MAX, first cuts a file-backed segment back to that length,
 * dropping a torn entry; a device cannot cut and keeps the torn tail.
 */
int tape_volume_end_segment(struct tape_volume *vol, uint64_t keep_bytes);

/*
 * Position at byte offset of a segment for reading: -ENOENT when the
 * segment does not exist.
 */
int tape_volume_seek(struct tape_volume *vol, uint64_t segment,
		     uint64_t offset);
/* read() one block of at most len bytes: bytes, 0 at segment end, -errno. */
ssize_t tape_volume_read(struct tape_volume *vol, void *buf, size_t len);
/*
 * Skip up to len bytes forward cheaply; returns the bytes skipped, which
 * is 0 on a device (the caller reads through instead).
 */
int64_t tape_volume_skip(struct tape_volume *vol, uint64_t len);

/* Path of a file-backed volume's segment file. */
int tape_volume_segment_path(const struct tape_volume *vol, uint64_t segment,
			     char *out, size_t out_len);

#endif
