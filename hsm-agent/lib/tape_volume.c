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
 * tape file.  open = wait until MTIOCGET reports the drive online with a
 * tape in (a load takes a while; bounded by a timeout), then MTSETBLK 0
 * (variable block mode, set explicitly rather than trusting whatever the
 * last user left) and MTREW; begin = MTEOM, the segment number from
 * MTIOCGET's file number or, when the driver does not know it after
 * MTEOM (st without fast_mteom can, others cannot), from counting file
 * marks once; write = one write(2) per tape block (every block at most
 * block_size); sync = MTWEOF with a count of 0, which makes the drive
 * write its buffer to the medium; end = MTWEOF 1 (a file mark); end of
 * medium shows up as ENOSPC from write(2); eject = MTREW + MTOFFL, before
 * a changer moves the volume.
 *
 * Positions are block addresses, the numbers MTIOCPOS reports and MTSEEK
 * takes (a SCSI logical object id: blocks and file marks counted from the
 * beginning of the tape).  The writer reads the address once per segment
 * (MTIOCPOS after MTEOM) and counts the blocks it writes, so every copy's
 * location records the address of the block holding its first byte and
 * the bytes before it in that block.  A read locates there directly
 * (tape_volume_locate: MTSEEK, drop the skip bytes): no spacing over file
 * marks and no reading a 1 GiB segment from its start to reach one file.
 * Older locations without an address are read the old way
 * (tape_volume_seek: MTREW / MTFSF / MTBSF to the segment, then read
 * through).  An EIO while spacing is an I/O error, unless MTIOCGET says
 * the drive stopped at end of data, which means there is no such segment
 * (-ENOENT): a copy is never declared gone because a drive failed.
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
 * operator can inspect with tar.  Block addresses are emulated from the
 * segment sizes alone: a 512-byte tar record is one address, each file
 * mark takes one, so the address of byte B of segment S is
 * sum over earlier segments of (records + 1) plus B / 512.  Everything
 * the writer and reader above do is the same for both kinds.
 *
 * Simulated drive (file-backed, struct hsm_tape_sim): a drive shared by
 * all handles of one backend holds one volume and has a head at an
 * address.  Mounting another volume costs load_us, any move of the head
 * locate_us plus locate_us_per_mib per MiB of distance, and reading (or
 * reading through, which is what spacing to a segment and then to a byte
 * offset does) read_mib_per_s.  The time is slept for real, so a
 * benchmark measures it.  Injected faults: space_error fails spacing to a
 * data segment, mark_error fails writing a file mark.

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
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mtio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tape_volume.h"

#define TAPE_SEGMENT_SUFFIX ".pax"
#define TAPE_MIB (1024ULL * 1024ULL)
/* sleep simulated time in pieces of at least this */
#define TAPE_SIM_SLEEP_MIN_NS 200000ULL
#define TAPE_READY_POLL_MS 1000

#define TAPE_STAT(vol, field, n) \
	do { if ((vol)->stats) (vol)->stats->field += (n); } while (0)

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

/*
 * Simulated drive time
 */

static bool tape_sim_on(const struct tape_volume *vol)
{
	const struct hsm_tape_sim *sim = vol->sim;

	return !vol->is_device && sim && vol->drive &&
	       (sim->load_us || sim->locate_us || sim->locate_us_per_mib ||
		sim->read_mib_per_s);
}

static void tape_sim_spend(struct tape_volume *vol, uint64_t ns)
{
	struct tape_sim_drive *drive = vol->drive;
	struct timespec ts;

	TAPE_STAT(vol, sim_us, ns / 1000);
	drive->debt_ns += ns;
	if (drive->debt_ns < TAPE_SIM_SLEEP_MIN_NS)
		return;
	ts.tv_sec = (time_t)(drive->debt_ns / 1000000000ULL);
	ts.tv_nsec = (long)(drive->debt_ns % 1000000000ULL);
	drive->debt_ns = 0;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void tape_sim_mount(struct tape_volume *vol)
{
	struct tape_sim_drive *drive = vol->drive;

	if (!tape_sim_on(vol) || !strcmp(drive->label, vol->label))
		return;
	TAPE_STAT(vol, loads, 1);
	tape_sim_spend(vol, (uint64_t)vol->sim->load_us * 1000);
	snprintf(drive->label, sizeof(drive->label), "%s", vol->label);
	drive->head = 0;
}

static void tape_sim_move(struct tape_volume *vol, uint64_t block)
{
	struct tape_sim_drive *drive = vol->drive;
	uint64_t dist;

	if (!tape_sim_on(vol))
		return;
	tape_sim_mount(vol);
	if (block == drive->head)
		return;
	dist = (block > drive->head ? block - drive->head :
		drive->head - block) * TAPE_TAR_BLOCK_BYTES;
	tape_sim_spend(vol, (uint64_t)vol->sim->locate_us * 1000 +
		       dist * vol->sim->locate_us_per_mib * 1000 / TAPE_MIB);
	drive->head = block;
}

static void tape_sim_read(struct tape_volume *vol, uint64_t bytes)
{
	if (!tape_sim_on(vol) || !vol->sim->read_mib_per_s)
		return;
	tape_sim_spend(vol, bytes * 1000000000ULL /
		       ((uint64_t)vol->sim->read_mib_per_s * TAPE_MIB));
}

/*
 * File-backed block addresses
 */

static uint64_t tape_records(uint64_t bytes)
{
	return (bytes + TAPE_TAR_BLOCK_BYTES - 1) / TAPE_TAR_BLOCK_BYTES;
}

/* Address of the first record of segment (file-backed). */
static uint64_t tape_file_segment_base(const struct tape_volume *vol,
				       uint64_t segment)
{
	uint64_t base = 0;
	uint64_t i;

	for (i = 0; i < segment && i < vol->nr_segments; i++)
		base += tape_records(vol->seg_sizes[i]) + 1;
	return base;
}

static int tape_file_add_segment(struct tape_volume *vol, uint64_t bytes)
{
	uint64_t *sizes;
	size_t cap;

	if (vol->nr_segments == vol->seg_sizes_cap) {
		cap = vol->seg_sizes_cap ? vol->seg_sizes_cap * 2 : 16;
		sizes = realloc(vol->seg_sizes, cap * sizeof(*sizes));
		if (!sizes)
			return tape_volume_error(vol, -ENOMEM, "segment table");
		vol->seg_sizes = sizes;
		vol->seg_sizes_cap = cap;
	}
	vol->seg_sizes[vol->nr_segments++] = bytes;
	return 0;
}

/*
 * The sim's head goes to the fd's file position (file-backed): with
 * is_move a locate is charged when it was elsewhere; without, the head
 * got there by reading.
 */
static void tape_file_sim_at(struct tape_volume *vol, bool is_move)
{
	uint64_t block;
	off_t pos;

	if (!tape_sim_on(vol) || vol->fd < 0)
		return;
	pos = lseek(vol->fd, 0, SEEK_CUR);
	if (pos < 0)
		return;
	block = tape_file_segment_base(vol, vol->fd_segment) +
		tape_records((uint64_t)pos);
	if (is_move)
		tape_sim_move(vol, block);
	else
		vol->drive->head = block;
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
		ret = tape_file_add_segment(vol, (uint64_t)st.st_size);
		if (ret)
			return ret;
		vol->used += (uint64_t)st.st_size;
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

static int tape_mtpos(struct tape_volume *vol, uint64_t *block)
{
	struct mtpos pos;

	if (ioctl(vol->fd, MTIOCPOS, &pos) < 0)
		return tape_volume_error(vol, -errno, "read position (MTIOCPOS)");
	if (pos.mt_blkno < 0)
		return tape_volume_error(vol, -EIO, "position unknown (MTIOCPOS)");
	*block = (uint64_t)pos.mt_blkno;
	return 0;
}

static void tape_sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static uint64_t tape_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * After a load the drive threads the tape and calibrates for a minute
 * or more, and open() without O_NONBLOCK fails meanwhile: poll with
 * O_NONBLOCK until MTIOCGET says online with the door closed.
 */
static int tape_wait_ready(struct tape_volume *vol, unsigned int timeout_ms)
{
	uint64_t deadline = tape_now_ms() + timeout_ms;
	struct mtget status;
	int err = -ENOMEDIUM;
	int fd;

	for (;;) {
		fd = open(vol->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0) {
			if (ioctl(fd, MTIOCGET, &status) < 0)
				err = -errno;
			else if (GMT_ONLINE(status.mt_gstat) &&
				 !GMT_DR_OPEN(status.mt_gstat))
				err = 0;
			else
				err = -ENOMEDIUM;
			close(fd);
		} else if (errno != ENOMEDIUM && errno != EIO &&
			   errno != EBUSY && errno != EAGAIN) {
			return tape_volume_error(vol, -errno, "open device");
		} else {
			err = -errno;
		}
		if (!err)
			return 0;
		if (tape_now_ms() >= deadline)
			return hsm_backend_set_error(vol->be, -ETIMEDOUT,
				"tape: volume %s (%s): drive not ready after %u s (%s)",
				vol->label, vol->path, timeout_ms / 1000,
				strerror(-err));
		tape_sleep_ms(TAPE_READY_POLL_MS);
	}
}

int tape_volume_open_device(struct tape_volume *vol, struct hsm_backend *be,
			    const char *device, const char *label,
			    uint64_t capacity, size_t block_size,
			    unsigned int ready_timeout_ms)
{
	int ret;

	tape_volume_init(vol, be, label, capacity, block_size);
	vol->is_device = true;
	snprintf(vol->path, sizeof(vol->path), "%s", device);
	ret = tape_wait_ready(vol, ready_timeout_ms ? ready_timeout_ms :
			      TAPE_READY_TIMEOUT_MS);
	if (ret)
		return ret;
	vol->fd = open(device, O_RDWR | O_CLOEXEC);
	if (vol->fd < 0)
		return tape_volume_error(vol, -errno, "open device");
	/* variable block mode: every write(2) is one block of its size */
	ret = tape_mtop(vol, MTSETBLK, 0, "variable block mode (MTSETBLK 0)");
	if (!ret)
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
	vol->is_block_known = false;
	free(vol->seg_sizes);
	vol->seg_sizes = NULL;
	vol->seg_sizes_cap = 0;
}

int tape_volume_eject(struct tape_volume *vol)
{
	int ret = 0;

	if (vol->is_device && vol->fd >= 0) {
		ret = tape_mtop(vol, MTREW, 1, "rewind before unload (MTREW)");
		if (!ret)
			ret = tape_mtop(vol, MTOFFL, 1, "unload (MTOFFL)");
	}
	tape_volume_close(vol);
	return ret;
}

int tape_volume_eject_device(struct hsm_backend *be, const char *device)
{
	struct tape_volume vol;
	struct mtget status;
	int ret = 0;

	tape_volume_init(&vol, be, "-", 0, 0);
	vol.is_device = true;
	snprintf(vol.path, sizeof(vol.path), "%s", device);
	vol.fd = open(device, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (vol.fd < 0)
		return errno == ENOMEDIUM ? 0 :
		       tape_volume_error(&vol, -errno, "open device");
	/* offline already (or empty): nothing to do */
	if (ioctl(vol.fd, MTIOCGET, &status) == 0 &&
	    GMT_ONLINE(status.mt_gstat))
		ret = tape_volume_eject(&vol);
	tape_volume_close(&vol);
	return ret;
}

/*
 * The device is at end of data and MTIOCGET has no file number: count
 * the file marks from the beginning once (slow, but only when the driver
 * cannot say), and go back to the end.
 */
static int tape_device_count_segments(struct tape_volume *vol,
				      uint64_t *count)
{
	struct mtget status;
	uint64_t n = 0;
	int ret;

	ret = tape_mtop(vol, MTREW, 1, "rewind (MTREW)");
	while (!ret) {
		struct mtop mt = { .mt_op = MTFSF, .mt_count = 1 };

		if (ioctl(vol->fd, MTIOCTOP, &mt) == 0) {
			n++;
			continue;
		}
		if (errno != EIO)
			return tape_volume_error(vol, -errno, "count file marks (MTFSF)");
		if (ioctl(vol->fd, MTIOCGET, &status) < 0 ||
		    !GMT_EOD(status.mt_gstat))
			return tape_volume_error(vol, -EIO, "count file marks (MTFSF)");
		break;
	}
	if (!ret)
		ret = tape_mtop(vol, MTEOM, 1, "space to end of data (MTEOM)");
	*count = n;
	return ret;
}

int tape_volume_begin_segment(struct tape_volume *vol, uint64_t *segment)
{
	char seg_path[PATH_MAX];
	struct mtget status;
	int ret;

	if (vol->is_writing)
		return tape_volume_error(vol, -EBUSY, "segment already open");

	if (vol->is_device) {
		vol->is_block_known = false;
		ret = tape_mtop(vol, MTEOM, 1, "space to end of data (MTEOM)");
		if (ret)
			return ret;
		if (ioctl(vol->fd, MTIOCGET, &status) < 0)
			return tape_volume_error(vol, -errno, "MTIOCGET");
		if (status.mt_fileno >= 0)
			vol->nr_segments = (uint64_t)status.mt_fileno;
		else if (!vol->nr_segments)
			ret = tape_device_count_segments(vol, &vol->nr_segments);
		if (!ret)
			ret = tape_mtpos(vol, &vol->seg_first_block);
		if (ret)
			return ret;
		vol->seg_blocks = 0;
	} else {
		if (vol->fd >= 0) {
			close(vol->fd);
			vol->fd = -1;
		}
		ret = tape_volume_segment_path(vol, vol->nr_segments, seg_path,
					       sizeof(seg_path));
		if (ret)
			return tape_volume_error(vol, ret, "segment path");
		vol->fd = open(seg_path, O_WRONLY | O_CREAT | O_EXCL |
			       O_CLOEXEC, 0600);
		if (vol->fd < 0)
			return tape_volume_error(vol, -errno, seg_path);
		ret = tape_volume_sync_dir(vol, vol->path);
		if (!ret)
			ret = tape_file_add_segment(vol, 0);
		if (ret) {
			close(vol->fd);
			vol->fd = -1;
			unlink(seg_path);
			return ret;
		}
		vol->nr_segments--;	/* counted again below */
	}
	vol->seg_bytes_written = 0;
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
		if (vol->is_device)
			vol->seg_blocks++;
		else
			vol->seg_sizes[vol->fd_segment] += (uint64_t)ret;
		vol->used += (uint64_t)ret;
		vol->seg_bytes_written += (uint64_t)ret;
		p += ret;
		len -= (size_t)ret;
	}
	return 0;
}

int tape_volume_write_position(struct tape_volume *vol, uint64_t byte,
			       uint64_t *block, uint64_t *skip)
{
	if (!vol->is_writing || byte < vol->seg_bytes_written)
		return -EINVAL;
	if (vol->is_device) {
		*block = vol->seg_first_block + vol->seg_blocks;
		*skip = byte - vol->seg_bytes_written;
	} else {
		*block = tape_file_segment_base(vol, vol->fd_segment) +
			 byte / TAPE_TAR_BLOCK_BYTES;
		*skip = byte % TAPE_TAR_BLOCK_BYTES;
	}
	return 0;
}

int tape_volume_read_position(struct tape_volume *vol, uint64_t byte,
			      uint64_t *block, uint64_t *skip)
{
	const struct tape_block_seen *b;
	unsigned int i;

	if (!vol->is_device) {
		if (vol->fd_segment >= vol->nr_segments)
			return -ENOENT;
		*block = tape_file_segment_base(vol, vol->fd_segment) +
			 byte / TAPE_TAR_BLOCK_BYTES;
		*skip = byte % TAPE_TAR_BLOCK_BYTES;
		return 0;
	}
	for (i = 0; i < vol->nr_recent; i++) {
		b = &vol->recent[i];
		if (byte >= b->byte && byte < b->byte + b->len) {
			*block = b->block;
			*skip = byte - b->byte;
			return 0;
		}
	}
	return -ENOENT;
}

int tape_volume_sync(struct tape_volume *vol)
{
	if (!vol->is_writing)
		return 0;
	TAPE_STAT(vol, syncs, 1);
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
	TAPE_STAT(vol, file_marks, 1);

	if (vol->is_device)
		return tape_mtop(vol, MTWEOF, 1, "write file mark (MTWEOF)");
	if (vol->sim && vol->sim->mark_error) {
		ret = tape_volume_error(vol, vol->sim->mark_error,
					"write file mark (injected)");
		close(vol->fd);
		vol->fd = -1;
		return ret;
	}

	if (keep_bytes != UINT64_MAX) {
		if (fstat(vol->fd, &st) < 0 ||
		    ftruncate(vol->fd, (off_t)keep_bytes) < 0) {
			ret = tape_volume_error(vol, -errno,
						"cut torn entry (ftruncate)");
		} else if ((uint64_t)st.st_size > keep_bytes) {
			vol->used -= (uint64_t)st.st_size - keep_bytes;
			vol->seg_sizes[vol->fd_segment] = keep_bytes;
		}
	}
	if (!ret && fsync(vol->fd) < 0)
		ret = tape_volume_error(vol, -errno, "fsync of segment");
	if (close(vol->fd) < 0 && !ret)
		ret = tape_volume_error(vol, -errno, "close of segment");
	vol->fd = -1;
	return ret;
}

/*
 * Spacing failed with EIO: at end of data that means "no such segment",
 * anything else is the drive failing, which must not be mistaken for a
 * missing copy.
 */
static int tape_device_space_error(struct tape_volume *vol, int ret)
{
	struct mtget status;

	if (ret != -EIO)
		return ret;
	if (ioctl(vol->fd, MTIOCGET, &status) == 0 && GMT_EOD(status.mt_gstat))
		return -ENOENT;
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
	return tape_device_space_error(vol, ret);
}

static void tape_reset_recent(struct tape_volume *vol)
{
	vol->nr_recent = 0;
	vol->recent_next = 0;
}

/* Open segment's file for reading at offset (file-backed). */
static int tape_file_open_at(struct tape_volume *vol, uint64_t segment,
			     uint64_t offset)
{
	char seg_path[PATH_MAX];
	int ret;

	if (vol->fd >= 0 && vol->fd_segment != segment) {
		close(vol->fd);
		vol->fd = -1;
	}
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

int tape_volume_seek(struct tape_volume *vol, uint64_t segment,
		     uint64_t offset)
{
	int ret;

	if (vol->is_writing)
		return tape_volume_error(vol, -EBUSY,
					 "seek while a segment is written");
	TAPE_STAT(vol, spaces, 1);
	tape_reset_recent(vol);

	if (vol->is_device) {
		vol->is_block_known = false;
		ret = tape_device_seek_segment(vol, segment);
		if (ret)
			return ret;
		vol->fd_segment = segment;
		ret = tape_mtpos(vol, &vol->next_block);
		vol->is_block_known = ret == 0;
		vol->next_byte = 0;
		/*
		 * A tape cannot seek by bytes, and a read shorter than the
		 * block on tape loses the rest of the block: read through
		 * in whole blocks and drop the first offset bytes there.
		 */
		vol->discard = offset;
		return 0;
	}

	/* what a drive does: space to the segment, then read through */
	if (segment > 0 && vol->sim && vol->sim->space_error)
		return tape_volume_error(vol, vol->sim->space_error,
					 "space forward file marks (injected)");
	if (segment >= vol->nr_segments)
		return tape_volume_error(vol, -ENOENT, "no such segment");
	tape_sim_move(vol, tape_file_segment_base(vol, segment));
	/* a drive reads through to the offset: count and time it */
	TAPE_STAT(vol, bytes_read, offset);
	tape_sim_read(vol, offset);
	ret = tape_file_open_at(vol, segment, offset);
	tape_file_sim_at(vol, false);
	return ret;
}

int tape_volume_locate(struct tape_volume *vol,
		       const struct tape_location *loc)
{
	uint64_t base;
	uint64_t byte;
	int ret;

	if (vol->is_writing)
		return tape_volume_error(vol, -EBUSY,
					 "locate while a segment is written");
	if (!loc->has_block || loc->block_skip > loc->offset)
		return tape_volume_error(vol, -EINVAL, "no block address");
	TAPE_STAT(vol, locates, 1);
	tape_reset_recent(vol);

	if (vol->is_device) {
		vol->is_block_known = false;
		if (loc->block > (uint64_t)INT32_MAX)
			return tape_volume_error(vol, -EINVAL,
						 "block address too large for MTSEEK");
		ret = tape_mtop(vol, MTSEEK, (int)loc->block,
				"locate (MTSEEK)");
		if (ret)
			return ret;
		vol->fd_segment = loc->segment;
		vol->is_block_known = true;
		vol->next_block = loc->block;
		vol->next_byte = loc->offset - loc->block_skip;
		vol->discard = loc->block_skip;
		return 0;
	}

	/* the address must be inside the location's segment */
	if (loc->segment >= vol->nr_segments)
		return tape_volume_error(vol, -ENOENT, "no such segment");
	base = tape_file_segment_base(vol, loc->segment);
	byte = (loc->block - base) * TAPE_TAR_BLOCK_BYTES;
	if (loc->block < base || byte + loc->block_skip != loc->offset ||
	    loc->offset > vol->seg_sizes[loc->segment])
		return tape_volume_error(vol, -ENOENT,
					 "block address not in the segment");
	tape_sim_move(vol, loc->block);
	return tape_file_open_at(vol, loc->segment, loc->offset);
}

static void tape_device_saw_block(struct tape_volume *vol, uint64_t len)
{
	struct tape_block_seen *b;

	if (!vol->is_block_known)
		return;
	b = &vol->recent[vol->recent_next];
	b->block = vol->next_block;
	b->byte = vol->next_byte;
	b->len = len;
	vol->recent_next = (vol->recent_next + 1) % TAPE_VOLUME_RECENT_BLOCKS;
	if (vol->nr_recent < TAPE_VOLUME_RECENT_BLOCKS)
		vol->nr_recent++;
	vol->next_block++;
	vol->next_byte += len;
}

ssize_t tape_volume_read(struct tape_volume *vol, void *buf, size_t len)
{
	ssize_t ret;

	tape_file_sim_at(vol, true);
	for (;;) {
		ret = read(vol->fd, buf, len);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0)
			return tape_volume_error(vol, -errno,
				errno == ENOMEM ?
				"read (tape block larger than block size)" :
				"read");
		TAPE_STAT(vol, bytes_read, (uint64_t)ret);
		if (vol->is_device)
			tape_device_saw_block(vol, (uint64_t)ret);
		else
			tape_sim_read(vol, (uint64_t)ret);
		if (vol->discard == 0 || ret == 0)
			break;
		if ((uint64_t)ret <= vol->discard) {
			vol->discard -= (uint64_t)ret;
			continue;
		}
		memmove(buf, (char *)buf + vol->discard,
			(size_t)ret - vol->discard);
		ret -= (ssize_t)vol->discard;
		vol->discard = 0;
		break;
	}
	tape_file_sim_at(vol, false);
	return ret;
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
	/* a drive reads through what is skipped */
	TAPE_STAT(vol, bytes_read, len);
	tape_sim_read(vol, len);
	tape_file_sim_at(vol, false);
	return (int64_t)len;
}
