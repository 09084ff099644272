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

/* What the drive (or a file-backed volume) was asked to do, counted. */
struct hsm_tape_stats {
	uint64_t syncs;		/* buffer flushes without a file mark */
	uint64_t file_marks;	/* segments ended */
	uint64_t loads;		/* volumes mounted */
	uint64_t locates;	/* positionings by block address (MTSEEK) */
	uint64_t spaces;	/* positionings by file marks (MTREW/MTFSF/MTBSF) */
	uint64_t bytes_read;
	uint64_t sim_us;	/* time a simulated drive spent (slept) */
};

/*
 * File-backed volumes only: the timing of a drive and injected faults,
 * so benchmarks see what position order gains and tests see what a
 * failing drive does.  All zero: a plain, instant directory of files.
 */
struct hsm_tape_sim {
	uint32_t load_us;		/* mounting a different volume */
	uint32_t locate_us;		/* any repositioning ... */
	uint32_t locate_us_per_mib;	/* ... plus this per MiB of distance */
	uint32_t read_mib_per_s;	/* reading (and reading through); 0: no limit */
	int space_error;	/* -errno: spacing over file marks fails */
	int mark_error;		/* -errno: writing a file mark fails */
};

/* A simulated drive: which volume it holds and where its head is. */
struct tape_sim_drive {
	char label[TAPE_LABEL_MAX + 1];		/* "" when empty */
	uint64_t head;		/* block address */
	uint64_t debt_ns;	/* simulated time not slept yet */
};

/* Blocks read recently on a device: which address held which bytes. */
#define TAPE_VOLUME_RECENT_BLOCKS 16
struct tape_block_seen {
	uint64_t block;
	uint64_t byte;		/* segment offset of its first byte */
	uint64_t len;
};

/* Default wait for a drive to become ready after a load. */
#define TAPE_READY_TIMEOUT_MS (10 * 60 * 1000)

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
	struct hsm_tape_stats *stats;		/* may be NULL */
	const struct hsm_tape_sim *sim;		/* file-backed, may be NULL */
	struct tape_sim_drive *drive;		/* with sim timing */

	/* block addresses (tape_volume.c explains them) */
	uint64_t seg_first_block;	/* device: of the open segment */
	uint64_t seg_blocks;		/* device: blocks written to it */
	uint64_t seg_bytes_written;	/* bytes written to the open one */
	bool is_block_known;		/* device: next_block is valid */
	uint64_t next_block;		/* device: address read() returns next */
	uint64_t next_byte;		/* segment offset read() returns next */
	struct tape_block_seen recent[TAPE_VOLUME_RECENT_BLOCKS];
	unsigned int nr_recent;		/* ring fill, up to the size */
	unsigned int recent_next;	/* ring slot to fill next */
	uint64_t *seg_sizes;		/* file-backed: bytes of each segment */
	size_t seg_sizes_cap;
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
 * expected to be <label>: wait up to ready_timeout_ms (0: the default)
 * for the drive to report ready, set variable block mode (MTSETBLK 0),
 * rewind.  nr_segments is found at first write.
 */
int tape_volume_open_device(struct tape_volume *vol, struct hsm_backend *be,
			    const char *device, const char *label,
			    uint64_t capacity, size_t block_size,
			    unsigned int ready_timeout_ms);
void tape_volume_close(struct tape_volume *vol);
/*
 * Before a changer takes the volume out: rewind and unload (MTOFFL),
 * then close.  A file-backed volume is only closed.
 */
int tape_volume_eject(struct tape_volume *vol);
/* The same for whatever tape is in device, when it is online. */
int tape_volume_eject_device(struct hsm_backend *be, const char *device);

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
 * Position at byte offset of a segment for reading by spacing over file
 * marks and reading through: -ENOENT when the segment does not exist
 * (the drive reports end of data), -EIO (or the drive's errno) when
 * spacing failed otherwise.
 */
int tape_volume_seek(struct tape_volume *vol, uint64_t segment,
		     uint64_t offset);
/*
 * Position at a location's DATA entry by its block address (MTSEEK) and
 * skip: no reading through.  -ENOENT when the address is not on the
 * volume or not in the location's segment.
 */
int tape_volume_locate(struct tape_volume *vol,
		       const struct tape_location *loc);
/*
 * The block address and skip of byte `byte` of the segment being
 * written, which must not have been handed to tape_volume_write() yet
 * except as part of a whole block still to come: the block it will be in
 * is the next one written.
 */
int tape_volume_write_position(struct tape_volume *vol, uint64_t byte,
			       uint64_t *block, uint64_t *skip);
/*
 * The same for a byte of the segment being read, which must be in one of
 * the last blocks read: -ENOENT when that is not known.
 */
int tape_volume_read_position(struct tape_volume *vol, uint64_t byte,
			      uint64_t *block, uint64_t *skip);
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
