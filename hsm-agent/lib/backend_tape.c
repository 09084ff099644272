// SPDX-License-Identifier: GPL-2.0
/*
 * backend_tape.c: the tape backend: archived files aggregated into pax
 * archive segments on tape volumes, recalled in position order.
 *
 * What it owns: the volume being appended to and its open segment, the
 * choice of the next volume, and reading copies back.  The on-volume
 * format (label segment, DATA + SEAL entries, location strings) is in
 * tape_format.c; positioning a real drive or a file-backed volume is in
 * tape_volume.c; loading volumes with mtx is in tape_changer.c.  The
 * same code here drives both kinds of volume: libarchive writes and
 * reads a segment through callbacks (tape_segment_write_cb,
 * tape_reader_read_cb) over tape_volume_write()/tape_volume_read().
 *
 * Writing.  put() appends one file to the open segment of the current
 * volume: a DATA entry streamed from the reader while its SHA-256 is
 * computed, then a SEAL entry with the checksum.  Before reading any data
 * it bounds the bytes the file will take (tape_entry_bytes_bound()):
 *   - if the open segment would pass segment_bytes, the segment is closed
 *     first (end of archive + file mark), so segments stay near the limit
 *     and only a single big file makes a bigger one;
 *   - if the volume's capacity would be passed, the segment and volume
 *     are closed and the next volume in the list (or a new auto-created
 *     one) is used: a file never spans volumes;
 *   - a file that would not fit even an empty volume fails with -EFBIG
 *     before anything is written.
 * A real device's capacity is normally unknown: end of medium shows up as
 * ENOSPC part way through a file.  Then the partial entry is left behind
 * unsealed (a file-backed segment is cut back to the entry's start), the
 * segment and volume are closed, put() fails with -ENOSPC, and the
 * caller's retry lands on the next volume.  The reader stream cannot be
 * rewound, which is why the retry is the caller's.
 *
 * libarchive runs unblocked (bytes_per_block 0): it hands every byte to
 * tape_segment_write_cb at once, which counts them (that count is the
 * byte offset recorded in locations) and collects them into tape blocks
 * of block_size, so a device sees full blocks except at sync points and
 * segment ends (variable block mode).
 *
 * Durability rule (data safety: nothing is released until a verified
 * copy exists, so nothing may be counted before its bytes are durable):
 *   HSM_TAPE_SYNC_ON_SEGMENT (default): nothing is flushed per file, so
 *     an LTO drive keeps streaming instead of stopping to empty its
 *     buffer after every small file (shoe-shining).  put() returns a
 *     pending location, kept on the segment's pending list.  When the
 *     segment ends (its end-of-archive blocks and file mark written, the
 *     file fsynced) every pending copy is reported committed through the
 *     commit callback, and committed() says 1; if ending it failed they
 *     are reported with the error, the segment is remembered as lost and
 *     committed() returns that error for its copies.  A segment is ended
 *     when the next put would take it past segment_bytes (never inside
 *     the put that returned the location, so the callback always comes
 *     after the caller knows the location), by hsm_tape_flush(), by a
 *     volume change, by a read on the single drive, and by destroy.
 *   HSM_TAPE_SYNC_EACH_PUT: before put() returns 0 its DATA and SEAL
 *     entries are written out and synced (fdatasync, or MTWEOF 0 which
 *     makes a drive write its buffer to the medium).  Slow on tape.
 * committed() only knows what this instance wrote: a location of another
 * (an agent before a restart) is not pending here and gets 1; the
 * catalog verifies such copies by reading them at start-up.  A crash
 * leaves the open segment without its end-of-archive blocks; it stays
 * readable up to its last complete entry, and the next writer starts a
 * new segment after it.  A DATA entry without its SEAL is never a valid
 * copy.
 *
 * Positions.  put() records in each location the block address of the
 * tape block its DATA entry starts in and the bytes before it there
 * (tape_volume_write_position(): MTIOCPOS once per segment plus the
 * blocks written since; file-backed volumes emulate the addresses).
 *
 * Reading.  get()/stat()/verify() locate the copy by that address
 * (MTSEEK), or for locations without one (older agents) space to the
 * segment and read through to the offset, and let libarchive read from
 * the DATA entry's header; a whole read is checked against the SEAL's
 * checksum (-EBADMSG after the writer has seen the bytes, as backend.h
 * requires).  A range read streams through the data before the range.
 * hsm_tape_recall_batch() sorts its locations by (volume, segment,
 * offset) and reads each segment once, front to back, skipping the
 * entries nobody asked for (lseek on files, read-through on tape) and
 * locating again past gaps bigger than TAPE_READ_THROUGH_MAX.
 * hsm_tape_order() gives the same order to callers that recall one copy
 * at a time, the volume in the drive first.  Before using a volume its
 * label segment is read and compared, so a wrong volume in the drive or
 * a renamed directory is refused: on a device after every load, on a
 * file-backed volume when it was not the last one read or its directory
 * changed (another inode).  Reading the file-backed volume being appended
 * to ends its open segment first, as the single drive must.
 *
 * Changer.  With one configured, the volume is got into the drive by
 * barcode from the library's inventory (tape_changer.c), the tape in the
 * drive rewound and ejected (MTOFFL) before it is unloaded.  File-backed
 * volumes can sit behind a changer too (an emulated library for tests):
 * the changer moves, the files are the media.
 *
 * del() cannot free space on tape: it only checks that the copy exists.
 * Space comes back when every copy on a volume is deleted in the catalog
 * and the volume is recycled as a whole.
 *
 * Not thread-safe: one backend instance drives one drive (or one set of
 * file-backed volumes); callers serialise calls on an instance.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include "backend_tape.h"
#include "tape_volume.h"

#define TAPE_AUTO_LABEL_DIGITS 6
/* batch recall: gaps in a segment up to this are read through */
#define TAPE_READ_THROUGH_MAX (64ULL * 1024 * 1024)

/* A volume this backend may append to, from the configuration. */
struct tape_volume_slot {
	char label[TAPE_LABEL_MAX + 1];
	uint64_t capacity;
	unsigned int changer_slot;
	bool is_full;
};

struct hsm_tape {
	struct hsm_backend be;		/* first, see backend.h */

	/* configuration, copied */
	bool is_device;
	char device[PATH_MAX];
	char volume_dir[PATH_MAX];
	char auto_prefix[TAPE_LABEL_MAX + 1];
	uint64_t default_capacity;
	uint64_t segment_bytes;
	size_t block_size;
	enum hsm_tape_durability durability;
	bool has_changer;
	char mtx_path[PATH_MAX];
	char changer_device[PATH_MAX];
	struct hsm_tape_changer_config changer;
	struct hsm_tape_sim sim;
	struct tape_sim_drive sim_drive;	/* file-backed with sim timing */
	unsigned int ready_timeout_ms;

	/* file-backed: the last volume whose label a read checked */
	char checked_label[TAPE_LABEL_MAX + 1];
	dev_t checked_dev;
	ino_t checked_ino;

	struct tape_volume_slot *slots;
	size_t nr_slots;
	size_t cur_slot;		/* slot being appended to */

	/* the volume being appended (file-backed) or the drive (device) */
	struct tape_volume vol;
	bool is_vol_open;
	char loaded_label[TAPE_LABEL_MAX + 1];	/* device: "" unknown */
	char mounted_label[TAPE_LABEL_MAX + 1];	/* changer put it in the drive */

	/* the open segment, when ar != NULL */
	struct archive *ar;
	uint64_t seg;
	uint64_t seg_pos;		/* bytes libarchive produced */
	uint64_t seg_written;		/* of those, handed to the volume */
	unsigned int seg_entries;	/* files in the segment */
	int seg_error;			/* first volume error, libarchive
					   only sees -1 */
	char *wbuf;			/* bytes [seg_written, seg_pos) */
	size_t wbuf_len;

	uint64_t seg_durable;		/* open segment bytes synced (EACH_PUT) */

	/* puts of the open segment not durable yet, in put order */
	struct tape_location *pending;
	size_t nr_pending;
	size_t pending_cap;
	int pending_error;		/* some pending put was lost */
	hsm_tape_commit_fn commit_fn;
	void *commit_arg;

	/* segments that could not be ended: copies from offset on are void */
	struct tape_lost_segment {
		char label[TAPE_LABEL_MAX + 1];
		uint64_t segment;
		uint64_t from_offset;
		int error;
	} *lost;
	size_t nr_lost;

	struct hsm_tape_stats stats;

	char *iobuf;			/* block_size: put's reader */
};

static struct hsm_tape *tape_from_be(struct hsm_backend *be)
{
	return (struct hsm_tape *)((char *)be - offsetof(struct hsm_tape, be));
}

static const char *tape_vol_label(const struct hsm_tape *tape)
{
	return tape->is_vol_open ? tape->vol.label : "-";
}

/*
 * Writing segments
 */

/* Hand buffered bytes up to segment offset upto to the volume. */
static int tape_segment_drain(struct hsm_tape *tape, uint64_t upto)
{
	size_t len = (size_t)(upto - tape->seg_written);
	int ret;

	if (upto <= tape->seg_written)
		return 0;
	ret = tape_volume_write(&tape->vol, tape->wbuf, len);
	if (ret)
		return ret;
	memmove(tape->wbuf, tape->wbuf + len, tape->wbuf_len - len);
	tape->wbuf_len -= len;
	tape->seg_written += len;
	return 0;
}

static la_ssize_t tape_segment_write_cb(struct archive *ar, void *arg,
					const void *buf, size_t len)
{
	struct hsm_tape *tape = arg;
	const char *p = buf;
	size_t left = len;
	size_t n;
	int ret;

	while (!tape->seg_error && left > 0) {
		n = tape->block_size - tape->wbuf_len;
		if (n > left)
			n = left;
		memcpy(tape->wbuf + tape->wbuf_len, p, n);
		tape->wbuf_len += n;
		tape->seg_pos += n;
		p += n;
		left -= n;
		if (tape->wbuf_len == tape->block_size) {
			ret = tape_segment_drain(tape, tape->seg_pos);
			if (ret)
				tape->seg_error = ret;
		}
	}
	if (tape->seg_error) {
		archive_set_error(ar, -tape->seg_error, "volume write failed");
		return -1;
	}
	return (la_ssize_t)len;
}

/* The errno of a failed libarchive write call, with a message. */
static int tape_segment_error(struct hsm_tape *tape, const char *what)
{
	if (tape->seg_error)
		return tape->seg_error;	/* tape_volume said why */
	return hsm_backend_set_error(&tape->be, -EIO,
				     "tape: volume %s segment %" PRIu64 ": %s: %s",
				     tape_vol_label(tape), tape->seg, what,
				     archive_error_string(tape->ar) ?: "?");
}

static int tape_segment_open(struct hsm_tape *tape)
{
	int ret;

	ret = tape_volume_begin_segment(&tape->vol, &tape->seg);
	if (ret)
		return ret;
	tape->seg_pos = 0;
	tape->seg_written = 0;
	tape->seg_durable = 0;
	tape->seg_entries = 0;
	tape->seg_error = 0;
	tape->wbuf_len = 0;
	tape->ar = archive_write_new();
	if (!tape->ar ||
	    archive_write_set_format_pax(tape->ar) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(tape->ar, 0) != ARCHIVE_OK ||
	    archive_write_open2(tape->ar, tape, NULL, tape_segment_write_cb,
				NULL, NULL) != ARCHIVE_OK) {
		if (tape->ar)
			archive_write_free(tape->ar);
		tape->ar = NULL;
		tape_volume_end_segment(&tape->vol, 0);
		return hsm_backend_set_error(&tape->be, -ENOMEM,
			"tape: volume %s segment %" PRIu64 ": cannot set up pax writer",
			tape->vol.label, tape->seg);
	}
	return 0;
}

static void tape_segment_discard_writer(struct hsm_tape *tape)
{
	/* free would try to finish the archive: refuse its writes */
	if (!tape->seg_error)
		tape->seg_error = -ECANCELED;
	archive_write_free(tape->ar);
	tape->ar = NULL;
	tape->wbuf_len = 0;
}

/*
 * The open segment ended (err 0) or could not be ended: report every
 * pending put of it, and remember a lost segment for committed().
 */
static void tape_pending_settle(struct hsm_tape *tape, int err)
{
	char text[HSM_LOCATION_MAX];
	struct tape_lost_segment *lost;
	size_t i;

	if (err && tape->nr_pending && !tape->pending_error)
		tape->pending_error = err;
	if (err && tape->is_vol_open) {
		lost = realloc(tape->lost, (tape->nr_lost + 1) * sizeof(*lost));
		if (lost) {
			tape->lost = lost;
			lost += tape->nr_lost++;
			snprintf(lost->label, sizeof(lost->label), "%s",
				 tape->vol.label);
			lost->segment = tape->seg;
			lost->from_offset = tape->seg_durable;
			lost->error = err;
		}
	}
	for (i = 0; i < tape->nr_pending; i++) {
		if (!tape->commit_fn ||
		    tape_location_format(&tape->pending[i], text, sizeof(text)))
			continue;
		tape->commit_fn(tape->commit_arg, text, err);
	}
	tape->nr_pending = 0;
}

static int tape_pending_add(struct hsm_tape *tape,
			    const struct tape_location *loc)
{
	struct tape_location *p;
	size_t cap;

	if (tape->nr_pending == tape->pending_cap) {
		cap = tape->pending_cap ? tape->pending_cap * 2 : 64;
		p = realloc(tape->pending, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		tape->pending = p;
		tape->pending_cap = cap;
	}
	tape->pending[tape->nr_pending++] = *loc;
	return 0;
}

/* Finish the open segment durably: end-of-archive blocks and a file mark. */
static int tape_segment_close(struct hsm_tape *tape)
{
	int ret = 0;

	if (!tape->ar)
		return 0;
	if (archive_write_close(tape->ar) != ARCHIVE_OK)
		ret = tape_segment_error(tape, "finish archive");
	if (!ret)
		ret = tape_segment_drain(tape, tape->seg_pos);
	tape_segment_discard_writer(tape);
	if (!ret)
		ret = tape_volume_end_segment(&tape->vol, UINT64_MAX);
	else
		tape_volume_end_segment(&tape->vol, UINT64_MAX);
	tape_pending_settle(tape, ret);
	return ret;
}

/* Make every entry written so far durable without closing the segment. */
static int tape_segment_sync(struct hsm_tape *tape)
{
	int ret;

	ret = tape_segment_drain(tape, tape->seg_pos);
	if (!ret)
		ret = tape_volume_sync(&tape->vol);
	if (!ret)
		tape->seg_durable = tape->seg_pos;
	return ret;
}

static void tape_close_write_volume(struct hsm_tape *tape)
{
	tape_segment_close(tape);
	if (!tape->is_device && tape->is_vol_open) {
		tape_volume_close(&tape->vol);
		tape->is_vol_open = false;
	}
}

/*
 * A put failed part way through its entries, which start at segment
 * offset entry_start.  Keep everything before them (earlier puts), drop
 * the rest where the medium allows, and close the segment.  On end of
 * medium the volume is full: close it so the next put moves on.
 */
static void tape_segment_tear(struct hsm_tape *tape, uint64_t entry_start,
			      int err)
{
	int ret = 0;

	/* earlier puts' bytes may still be buffered: they must go out */
	if (tape->seg_written < entry_start) {
		tape->seg_error = 0;
		ret = tape_segment_drain(tape, entry_start);
	}
	tape_segment_discard_writer(tape);
	if (ret) {
		tape_volume_end_segment(&tape->vol, UINT64_MAX);
	} else {
		/* a file is cut back to entry_start; a tape keeps the tail */
		ret = tape_volume_end_segment(&tape->vol, entry_start);
	}
	tape_pending_settle(tape, ret);

	if (err == -ENOSPC && tape->is_vol_open) {
		tape->slots[tape->cur_slot].is_full = true;
		tape_close_write_volume(tape);
	}
}

/*
 * Volumes and labels
 */

struct tape_reader {
	struct hsm_tape *tape;
	struct tape_volume *vol;
	struct archive *ar;
	uint64_t base;		/* segment offset where libarchive started */
	uint64_t segment;
	int error;		/* from the volume; libarchive sees -1 */
	char *buf;
	/* a header read ahead but not consumed (see tape_reader_next) */
	bool has_peek;
	struct archive_entry *peek_entry;
	uint64_t peek_pos;
};

static int tape_reader_open(struct tape_reader *rd, struct hsm_tape *tape,
			    struct tape_volume *vol, uint64_t segment,
			    uint64_t offset);
static int tape_reader_open_at(struct tape_reader *rd, struct hsm_tape *tape,
			       struct tape_volume *vol,
			       const struct tape_location *loc);
static void tape_reader_close(struct tape_reader *rd);
static int tape_reader_next(struct tape_reader *rd,
			    struct tape_entry_meta *meta, uint64_t *pos);

/*
 * Read the label segment of vol.  -ENODATA when the volume is blank (no
 * label segment at all), -EMEDIUMTYPE when it is not one of ours.
 */
static int tape_read_label(struct hsm_tape *tape, struct tape_volume *vol,
			   char *label)
{
	struct tape_entry_meta *meta;
	struct tape_reader rd;
	uint64_t pos;
	int ret;

	meta = malloc(sizeof(*meta));
	if (!meta)
		return -ENOMEM;
	ret = tape_reader_open(&rd, tape, vol, TAPE_LABEL_SEGMENT, 0);
	if (ret == -ENOENT) {
		free(meta);
		return -ENODATA;
	}
	if (!ret) {
		ret = tape_reader_next(&rd, meta, &pos);
		if (ret == 1)
			ret = -ENODATA;
		else if (!ret && meta->kind != TAPE_ENTRY_LABEL)
			ret = hsm_backend_set_error(&tape->be, -EMEDIUMTYPE,
				"tape: volume %s: segment 0 holds no volume label",
				vol->label);
		else if (!ret)
			snprintf(label, TAPE_LABEL_MAX + 1, "%s", meta->label);
		tape_reader_close(&rd);
	}
	free(meta);
	return ret;
}

static int tape_write_label(struct hsm_tape *tape)
{
	struct tape_entry_meta *meta;
	struct archive_entry *entry;
	int ret;

	meta = calloc(1, sizeof(*meta));
	entry = archive_entry_new();
	if (!meta || !entry) {
		ret = -ENOMEM;
		goto out;
	}
	ret = tape_segment_open(tape);
	if (ret)
		goto out;
	if (tape->seg != TAPE_LABEL_SEGMENT) {
		ret = hsm_backend_set_error(&tape->be, -EMEDIUMTYPE,
			"tape: volume %s: has data but no label", tape->vol.label);
		tape_close_write_volume(tape);
		goto out;
	}
	meta->kind = TAPE_ENTRY_LABEL;
	meta->version = TAPE_FORMAT_VERSION;
	snprintf(meta->label, sizeof(meta->label), "%s", tape->vol.label);
	ret = tape_entry_meta_to_entry(meta, entry);
	if (!ret && archive_write_header(tape->ar, entry) != ARCHIVE_OK)
		ret = tape_segment_error(tape, "write volume label");
	if (ret)
		tape_segment_tear(tape, 0, ret);
	else
		ret = tape_segment_close(tape);
out:
	archive_entry_free(entry);
	free(meta);
	return ret;
}

/* The volume's label segment must name it; a blank one is labelled. */
static int tape_check_label(struct hsm_tape *tape, struct tape_volume *vol,
			    bool may_label)
{
	char found[TAPE_LABEL_MAX + 1];
	int ret;

	ret = tape_read_label(tape, vol, found);
	if (ret == -ENODATA && may_label)
		return tape_write_label(tape);
	if (ret == -ENODATA)
		return hsm_backend_set_error(&tape->be, -ENOENT,
			"tape: volume %s (%s): blank, no label", vol->label,
			vol->path);
	if (ret)
		return ret;
	if (strcmp(found, vol->label) != 0)
		return hsm_backend_set_error(&tape->be, -EMEDIUMTYPE,
			"tape: wrong volume: expected %s, %s is labelled %s",
			vol->label, vol->path, found);
	return 0;
}

static const struct tape_volume_slot *tape_find_slot(struct hsm_tape *tape,
						     const char *label)
{
	size_t i;

	for (i = 0; i < tape->nr_slots; i++)
		if (strcmp(tape->slots[i].label, label) == 0)
			return &tape->slots[i];
	return NULL;
}

/* Before the changer takes the tape out of our drive: rewind, eject. */
static int tape_before_unload(void *arg)
{
	struct hsm_tape *tape = arg;

	if (!tape->is_device)
		return 0;
	if (tape->is_vol_open) {
		tape->is_vol_open = false;
		return tape_volume_eject(&tape->vol);
	}
	/* a tape we did not open (left from before, or refused) */
	return tape_volume_eject_device(&tape->be, tape->device);
}

/*
 * Get the volume into the drive with the changer, found by barcode in
 * the library's inventory; nothing moves when it is there already.
 */
static int tape_changer_mount(struct hsm_tape *tape, const char *label)
{
	const struct tape_volume_slot *slot = tape_find_slot(tape, label);
	bool moved = false;
	int ret;

	ret = hsm_tape_changer_load_label(&tape->be, &tape->changer, label,
					  slot ? slot->changer_slot : 0,
					  tape_before_unload, tape, &moved);
	if (moved)
		tape->stats.loads++;
	if (!ret)
		snprintf(tape->mounted_label, sizeof(tape->mounted_label),
			 "%s", label);
	else
		tape->mounted_label[0] = '\0';
	return ret;
}

/*
 * Get volume label into the drive (device only) and open it.  The open
 * segment must have been closed: it lives on the loaded volume.
 */
static int tape_load_device_volume(struct hsm_tape *tape, const char *label,
				   bool may_label)
{
	int ret;

	if (tape->is_vol_open && strcmp(tape->vol.label, label) == 0)
		return 0;
	tape_segment_close(tape);

	if (tape->has_changer) {
		/* the inventory says what is in the drive, not our memory */
		ret = tape_changer_mount(tape, label);
		if (ret)
			return ret;
		if (tape->is_vol_open) {	/* not moved: the same tape */
			tape_volume_close(&tape->vol);
			tape->is_vol_open = false;
		}
	} else {
		if (tape->is_vol_open) {
			tape_volume_close(&tape->vol);
			tape->is_vol_open = false;
		}
		if (tape->loaded_label[0] &&
		    strcmp(tape->loaded_label, label) != 0)
			return hsm_backend_set_error(&tape->be, -ENOMEDIUM,
				"tape: volume %s needed but %s is in %s and no changer is configured",
				label, tape->loaded_label, tape->device);
	}

	ret = tape_volume_open_device(&tape->vol, &tape->be, tape->device,
				      label, 0, tape->block_size,
				      tape->ready_timeout_ms);
	tape->vol.stats = &tape->stats;
	if (ret)
		return ret;
	tape->is_vol_open = true;
	/* the label after every load: a wrong barcode never gets written */
	ret = tape_check_label(tape, &tape->vol, may_label);
	if (ret) {
		tape_volume_close(&tape->vol);
		tape->is_vol_open = false;
		return ret;
	}
	snprintf(tape->loaded_label, sizeof(tape->loaded_label), "%s", label);
	return 0;
}

static int tape_open_append_volume(struct hsm_tape *tape,
				   const struct tape_volume_slot *slot)
{
	int ret;

	if (tape->is_device)
		return tape_load_device_volume(tape, slot->label, true);
	/* file-backed behind a changer (an emulated library): mount it */
	if (tape->has_changer && strcmp(tape->mounted_label, slot->label)) {
		ret = tape_changer_mount(tape, slot->label);
		if (ret)
			return ret;
	}

	ret = tape_volume_open_dir(&tape->vol, &tape->be, tape->volume_dir,
				   slot->label, slot->capacity,
				   tape->block_size, true);
	tape->vol.stats = &tape->stats;
	tape->vol.sim = &tape->sim;
	tape->vol.drive = &tape->sim_drive;
	if (ret)
		return ret;
	tape->is_vol_open = true;
	ret = tape_check_label(tape, &tape->vol, true);
	if (ret) {
		tape_volume_close(&tape->vol);
		tape->is_vol_open = false;
	}
	return ret;
}

static int tape_add_auto_slot(struct hsm_tape *tape)
{
	struct tape_volume_slot *slots;
	struct tape_volume_slot *slot;
	unsigned long number;
	char label[TAPE_LABEL_MAX + 8];

	for (number = 1;; number++) {
		snprintf(label, sizeof(label), "%s%0*lu", tape->auto_prefix,
			 TAPE_AUTO_LABEL_DIGITS, number);
		if (!tape_label_is_valid(label))
			return hsm_backend_set_error(&tape->be, -ENOSPC,
				"tape: no more volume labels with prefix %s",
				tape->auto_prefix);
		if (!tape_find_slot(tape, label))
			break;
	}
	slots = realloc(tape->slots, (tape->nr_slots + 1) * sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	tape->slots = slots;
	slot = &slots[tape->nr_slots++];
	memset(slot, 0, sizeof(*slot));
	memcpy(slot->label, label, strlen(label) + 1);	/* valid: fits */
	slot->capacity = tape->default_capacity;
	return 0;
}

/* Open the first volume at or after cur_slot that is not known full. */
static int tape_open_next_volume(struct hsm_tape *tape)
{
	size_t i;
	int ret;

	for (i = tape->cur_slot;; i++) {
		if (i == tape->nr_slots) {
			if (!tape->auto_prefix[0])
				return hsm_backend_set_error(&tape->be, -ENOSPC,
					"tape: all %zu volumes are full",
					tape->nr_slots);
			ret = tape_add_auto_slot(tape);
			if (ret)
				return ret;
		}
		if (tape->slots[i].is_full)
			continue;
		ret = tape_open_append_volume(tape, &tape->slots[i]);
		if (ret)
			return ret;
		tape->cur_slot = i;
		return 0;
	}
}

/* Bytes of a volume's label segment, bounded. */
static uint64_t tape_label_bytes_bound(void)
{
	static const struct hsm_object_info no_file;

	return tape_entry_bytes_bound(&no_file);
}

/*
 * Make sure the current volume can take bytes more (moving on to the next
 * volume if not) and a segment is open on it with room for them.
 */
static int tape_prepare_segment(struct hsm_tape *tape,
				const struct hsm_object_info *info,
				uint64_t bytes)
{
	int ret;

	if (tape->ar && tape->seg_entries &&
	    tape->seg_pos + bytes > tape->segment_bytes) {
		ret = tape_segment_close(tape);
		if (ret)
			return ret;
	}

	for (;;) {
		if (!tape->is_vol_open || tape->slots[tape->cur_slot].is_full ||
		    strcmp(tape->vol.label,
			   tape->slots[tape->cur_slot].label) != 0) {
			ret = tape_open_next_volume(tape);
			if (ret)
				return ret;
		}
		/* bytes still buffered for the open segment count too */
		if (!tape->vol.capacity ||
		    tape->vol.used + bytes + (tape->ar ? tape->seg_pos -
					      tape->seg_written : 0) <=
		    tape->vol.capacity)
			break;
		if (bytes + tape_label_bytes_bound() > tape->vol.capacity)
			return hsm_backend_set_error(&tape->be, -EFBIG,
				"tape: ino %" PRIu64 ": %" PRIu64
				" bytes can never fit on volume %s of %" PRIu64
				" bytes", info->ino, info->size,
				tape->vol.label, tape->vol.capacity);
		tape->slots[tape->cur_slot].is_full = true;
		tape_close_write_volume(tape);
	}

	if (!tape->ar)
		return tape_segment_open(tape);
	return 0;
}

static int tape_write_entry_header(struct hsm_tape *tape,
				   const struct tape_entry_meta *meta,
				   const char *what)
{
	struct archive_entry *entry = archive_entry_new();
	int ret;

	if (!entry)
		return -ENOMEM;
	ret = tape_entry_meta_to_entry(meta, entry);
	if (!ret && archive_write_header(tape->ar, entry) != ARCHIVE_OK)
		ret = tape_segment_error(tape, what);
	archive_entry_free(entry);
	return ret;
}

/* Stream the reader into the DATA entry already started. */
static int tape_write_data(struct hsm_tape *tape,
			   const struct hsm_object_info *info,
			   hsm_read_fn reader, void *reader_arg,
			   struct hsm_checksum *sum)
{
	struct hsm_checksum_ctx *ctx = hsm_checksum_begin();
	uint64_t total = 0;
	ssize_t got;
	int ret = 0;

	if (!ctx)
		return -ENOMEM;
	for (;;) {
		got = reader(reader_arg, tape->iobuf, tape->block_size);
		if (got < 0) {
			ret = hsm_backend_set_error(&tape->be, (int)got,
				"tape: ino %" PRIu64 ": reading source: %s",
				info->ino, strerror((int)-got));
			break;
		}
		if (got == 0)
			break;
		if ((uint64_t)got > info->size - total) {
			ret = hsm_backend_set_error(&tape->be, -EIO,
				"tape: ino %" PRIu64 ": source has more than its size %"
				PRIu64 " bytes", info->ino, info->size);
			break;
		}
		hsm_checksum_update(ctx, tape->iobuf, (size_t)got);
		if (archive_write_data(tape->ar, tape->iobuf, (size_t)got) !=
		    got) {
			ret = tape_segment_error(tape, "write file data");
			break;
		}
		total += (uint64_t)got;
	}
	if (!ret && total != info->size)
		ret = hsm_backend_set_error(&tape->be, -EIO,
			"tape: ino %" PRIu64 ": source ended after %" PRIu64
			" of %" PRIu64 " bytes", info->ino, total, info->size);
	if (ret) {
		hsm_checksum_abort(ctx);
		return ret;
	}
	hsm_checksum_end(ctx, sum);
	if (archive_write_finish_entry(tape->ar) != ARCHIVE_OK)
		return tape_segment_error(tape, "finish file data");
	return 0;
}

static int tape_write_file(struct hsm_tape *tape,
			   const struct hsm_object_info *info,
			   hsm_read_fn reader, void *reader_arg,
			   uint64_t entry_start, struct hsm_checksum *sum)
{
	struct tape_entry_meta *meta = malloc(sizeof(*meta));
	int ret;

	if (!meta)
		return -ENOMEM;
	tape_entry_meta_data(info, meta);
	ret = tape_write_entry_header(tape, meta, "write file header");
	if (!ret)
		ret = tape_write_data(tape, info, reader, reader_arg, sum);
	if (!ret) {
		tape_entry_meta_seal(info, entry_start, sum, meta);
		ret = tape_write_entry_header(tape, meta, "write seal");
	}
	if (!ret && archive_write_finish_entry(tape->ar) != ARCHIVE_OK)
		ret = tape_segment_error(tape, "finish seal");
	free(meta);
	return ret;
}

static int tape_put(struct hsm_backend *be, const struct hsm_object_info *info,
		    hsm_read_fn reader, void *reader_arg,
		    struct hsm_put_result *res)
{
	struct hsm_tape *tape = tape_from_be(be);
	struct tape_location loc;
	uint64_t entry_start;
	int ret;

	memset(res, 0, sizeof(*res));
	if (info->path && strlen(info->path) >= PATH_MAX)
		return hsm_backend_set_error(be, -ENAMETOOLONG,
			"tape: ino %" PRIu64 ": path too long", info->ino);

	ret = tape_prepare_segment(tape, info, tape_entry_bytes_bound(info));
	if (ret)
		return ret;

	entry_start = tape->seg_pos;
	memset(&loc, 0, sizeof(loc));
	/* the block the entry starts in is the next one the volume gets */
	loc.has_block = tape_volume_write_position(&tape->vol, entry_start,
						   &loc.block,
						   &loc.block_skip) == 0;
	ret = tape_write_file(tape, info, reader, reader_arg, entry_start,
			      &res->checksum);
	if (ret) {
		tape_segment_tear(tape, entry_start, ret);
		if (ret == -ENOSPC)
			hsm_backend_set_error(be, ret,
				"tape: ino %" PRIu64 ": end of volume %s while writing; nothing recorded, retry on the next volume",
				info->ino, tape_vol_label(tape));
		memset(res, 0, sizeof(*res));
		return ret;
	}

	snprintf(loc.label, sizeof(loc.label), "%s", tape->vol.label);
	loc.segment = tape->seg;
	loc.offset = entry_start;
	loc.length = info->size;
	ret = tape_location_format(&loc, res->location,
				   sizeof(res->location));
	if (ret)
		return hsm_backend_set_error(be, ret, "tape: format location");
	res->bytes = info->size;
	tape->seg_entries++;

	/*
	 * A full segment is ended by the next put or a flush, not here: the
	 * commit callback must come after the caller has the location.
	 */
	if (tape->durability == HSM_TAPE_SYNC_EACH_PUT)
		ret = tape_segment_sync(tape);
	else
		ret = tape_pending_add(tape, &loc);
	/* not durable: the caller must not record this copy */
	if (ret)
		memset(res, 0, sizeof(*res));
	return ret;
}

static const struct hsm_backend_ops tape_ops;

/* The tape-only calls take any backend: refuse the others. */
static int tape_check_be(struct hsm_backend *be)
{
	if (!be || be->ops != &tape_ops)
		return -EINVAL;
	return 0;
}

int hsm_tape_flush(struct hsm_backend *be)
{
	struct hsm_tape *tape = tape_from_be(be);
	int ret;

	if (tape_check_be(be))
		return -EINVAL;

	ret = tape_segment_close(tape);
	if (!ret && tape->pending_error)
		ret = hsm_backend_set_error(be, tape->pending_error,
			"tape: puts since the last flush were not made durable (%s); redo them",
			strerror(-tape->pending_error));
	tape->pending_error = 0;
	tape->nr_pending = 0;
	return ret;
}

void hsm_tape_set_commit_fn(struct hsm_backend *be, hsm_tape_commit_fn fn,
			    void *arg)
{
	struct hsm_tape *tape = tape_from_be(be);

	if (tape_check_be(be))
		return;
	tape->commit_fn = fn;
	tape->commit_arg = arg;
}

void hsm_tape_get_stats(struct hsm_backend *be, struct hsm_tape_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!tape_check_be(be))
		*out = tape_from_be(be)->stats;
}

static int tape_committed(struct hsm_backend *be, const char *location)
{
	struct hsm_tape *tape = tape_from_be(be);
	struct tape_location loc;
	size_t i;

	if (tape_location_parse(location, &loc))
		return hsm_backend_set_error(be, -EINVAL,
			"tape: not a tape location: '%s'", location);
	for (i = 0; i < tape->nr_lost; i++)
		if (!strcmp(tape->lost[i].label, loc.label) &&
		    tape->lost[i].segment == loc.segment &&
		    loc.offset >= tape->lost[i].from_offset)
			return hsm_backend_set_error(be, tape->lost[i].error,
				"tape: %s: its segment could not be ended (%s); put it again",
				location, strerror(-tape->lost[i].error));
	if (tape->ar && tape->is_vol_open &&
	    !strcmp(tape->vol.label, loc.label) && tape->seg == loc.segment)
		return loc.offset < tape->seg_durable ? 1 : 0;
	return 1;
}

/*
 * Reading segments
 */

static la_ssize_t tape_reader_read_cb(struct archive *ar, void *arg,
				      const void **buf)
{
	struct tape_reader *rd = arg;
	ssize_t got = tape_volume_read(rd->vol, rd->buf,
				       rd->tape->block_size);

	if (got < 0) {
		rd->error = (int)got;
		archive_set_error(ar, (int)-got, "volume read failed");
		return -1;
	}
	*buf = rd->buf;
	return got;
}

static la_int64_t tape_reader_skip_cb(struct archive *ar, void *arg,
				      la_int64_t request)
{
	struct tape_reader *rd = arg;

	(void)ar;
	if (request <= 0)
		return 0;
	return tape_volume_skip(rd->vol, (uint64_t)request);
}

static int tape_reader_error(struct tape_reader *rd, const char *what)
{
	if (rd->error)
		return rd->error;
	rd->error = hsm_backend_set_error(&rd->tape->be, -EIO,
		"tape: volume %s segment %" PRIu64 ": %s: %s", rd->vol->label,
		rd->segment, what, archive_error_string(rd->ar) ?: "?");
	return rd->error;
}

static int tape_reader_start(struct tape_reader *rd, struct hsm_tape *tape,
			     struct tape_volume *vol, uint64_t segment,
			     uint64_t offset, const struct tape_location *loc);

static int tape_reader_open(struct tape_reader *rd, struct hsm_tape *tape,
			    struct tape_volume *vol, uint64_t segment,
			    uint64_t offset)
{
	return tape_reader_start(rd, tape, vol, segment, offset, NULL);
}

/*
 * A reader at a copy: located by its block address when the location has
 * one, else by spacing to its segment and reading through.
 */
static int tape_reader_open_at(struct tape_reader *rd, struct hsm_tape *tape,
			       struct tape_volume *vol,
			       const struct tape_location *loc)
{
	return tape_reader_start(rd, tape, vol, loc->segment, loc->offset,
				 loc->has_block ? loc : NULL);
}

static int tape_reader_start(struct tape_reader *rd, struct hsm_tape *tape,
			     struct tape_volume *vol, uint64_t segment,
			     uint64_t offset, const struct tape_location *loc)
{
	int ret;

	memset(rd, 0, sizeof(*rd));
	rd->tape = tape;
	rd->vol = vol;
	rd->base = offset;
	rd->segment = segment;
	ret = loc ? tape_volume_locate(vol, loc) :
		    tape_volume_seek(vol, segment, offset);
	if (ret == -ENOENT)
		return hsm_backend_set_error(&tape->be, ret,
			"tape: volume %s: no segment %" PRIu64, vol->label,
			segment);
	if (ret)
		return ret;
	rd->buf = malloc(tape->block_size);
	rd->ar = archive_read_new();
	if (!rd->buf || !rd->ar ||
	    archive_read_support_format_tar(rd->ar) != ARCHIVE_OK ||
	    /* a segment cut short right after it was begun is empty */
	    archive_read_support_format_empty(rd->ar) != ARCHIVE_OK) {
		tape_reader_close(rd);
		return -ENOMEM;
	}
	if (archive_read_open2(rd->ar, rd, NULL, tape_reader_read_cb,
			       tape_reader_skip_cb, NULL) != ARCHIVE_OK) {
		ret = tape_reader_error(rd, "open pax reader");
		tape_reader_close(rd);
		return ret;
	}
	return 0;
}

static void tape_reader_close(struct tape_reader *rd)
{
	if (rd->ar)
		archive_read_free(rd->ar);
	rd->ar = NULL;
	free(rd->buf);
	rd->buf = NULL;
}

/*
 * The next entry's metadata and its segment offset: 0, 1 at the end of
 * the segment, or -errno (the segment cannot be read further).  An entry
 * left by tape_reader_unread() comes back first.
 */
static int tape_reader_next(struct tape_reader *rd,
			    struct tape_entry_meta *meta, uint64_t *pos)
{
	struct archive_entry *entry;
	int ret;

	if (rd->error)
		return rd->error;
	if (rd->has_peek) {
		rd->has_peek = false;
		entry = rd->peek_entry;
		*pos = rd->peek_pos;
	} else {
		ret = archive_read_next_header(rd->ar, &entry);
		if (ret == ARCHIVE_EOF)
			return 1;
		if (ret != ARCHIVE_OK && ret != ARCHIVE_WARN)
			return tape_reader_error(rd, "read entry header");
		*pos = rd->base +
		       (uint64_t)archive_read_header_position(rd->ar);
	}
	rd->peek_entry = entry;
	rd->peek_pos = *pos;
	ret = tape_entry_meta_from_entry(entry, meta);
	if (ret)
		return hsm_backend_set_error(&rd->tape->be, ret,
			"tape: volume %s segment %" PRIu64 " offset %" PRIu64
			": malformed scoutfs pax records", rd->vol->label,
			rd->segment, *pos);
	return 0;
}

/* Give back the entry tape_reader_next() just returned. */
static void tape_reader_unread(struct tape_reader *rd)
{
	rd->has_peek = true;
}

/* Where a DATA entry's bytes go: 0 or a negative errno that stops it. */
typedef int (*tape_deliver_fn)(void *arg, const void *buf, size_t len);

struct tape_copy_read {
	const struct tape_location *loc;
	uint64_t offset;		/* range of the data to deliver */
	uint64_t length;		/* UINT64_MAX: to the end */
	bool wants_data;		/* false: headers only (stat) */
	tape_deliver_fn deliver;
	void *deliver_arg;
	struct tape_entry_meta data;	/* out: the DATA entry */
	struct tape_entry_meta seal;	/* out: its SEAL, when read */
};

static int tape_copy_error(struct tape_reader *rd, int err,
			   const struct tape_location *loc, const char *why)
{
	return hsm_backend_set_error(&rd->tape->be, err,
		"tape: tape:%s:%" PRIu64 ":%" PRIu64 ":%" PRIu64 ": %s",
		loc->label, loc->segment, loc->offset, loc->length, why);
}

/* Move to the DATA entry at loc->offset, leaving others unread. */
static int tape_find_data_entry(struct tape_reader *rd,
				struct tape_copy_read *cr)
{
	uint64_t pos;
	int ret;

	for (;;) {
		ret = tape_reader_next(rd, &cr->data, &pos);
		if (ret == 1)
			return tape_copy_error(rd, -ENOENT, cr->loc,
					       "no entry at this offset");
		if (ret)
			return ret;
		if (pos < cr->loc->offset)
			continue;	/* libarchive skips its data */
		if (pos > cr->loc->offset) {
			tape_reader_unread(rd);
			return tape_copy_error(rd, -ENOENT, cr->loc,
					       "no entry at this offset");
		}
		if (cr->data.kind != TAPE_ENTRY_DATA ||
		    cr->data.size != cr->loc->length)
			return tape_copy_error(rd, -ENOENT, cr->loc,
				"the entry at this offset is not this copy");
		return 0;
	}
}

static int tape_stream_data(struct tape_reader *rd, struct tape_copy_read *cr,
			    bool is_whole, struct hsm_checksum *sum)
{
	struct hsm_checksum_ctx *ctx = NULL;
	uint64_t end = cr->length == UINT64_MAX ||
		       cr->length > cr->data.size - cr->offset ?
		       cr->data.size : cr->offset + cr->length;
	uint64_t pos = 0;
	const void *buf;
	size_t len;
	la_int64_t at;
	int ret = 0;

	if (is_whole) {
		ctx = hsm_checksum_begin();
		if (!ctx)
			return -ENOMEM;
	}
	while (pos < end) {
		ret = archive_read_data_block(rd->ar, &buf, &len, &at);
		if (ret == ARCHIVE_EOF) {
			ret = tape_copy_error(rd, -EIO, cr->loc,
					      "data ends early");
			break;
		}
		if (ret != ARCHIVE_OK && ret != ARCHIVE_WARN) {
			ret = tape_reader_error(rd, "read file data");
			break;
		}
		ret = 0;
		if ((uint64_t)at != pos) {
			ret = tape_copy_error(rd, -EIO, cr->loc,
					      "sparse data in entry");
			break;
		}
		if (ctx)
			hsm_checksum_update(ctx, buf, len);
		if (pos + len > cr->offset) {
			uint64_t from = pos < cr->offset ? cr->offset - pos : 0;
			uint64_t to = pos + len > end ? end - pos : len;

			ret = cr->deliver(cr->deliver_arg,
					  (const char *)buf + from,
					  (size_t)(to - from));
			if (ret)
				break;
		}
		pos += len;
	}
	if (ctx && !ret)
		hsm_checksum_end(ctx, sum);
	else
		hsm_checksum_abort(ctx);
	return ret;
}

static int tape_read_seal(struct tape_reader *rd, struct tape_copy_read *cr)
{
	uint64_t pos;
	int ret;

	ret = tape_reader_next(rd, &cr->seal, &pos);
	if (ret < 0)
		return ret;
	if (ret == 1 || cr->seal.kind != TAPE_ENTRY_SEAL ||
	    cr->seal.data_offset != cr->loc->offset ||
	    cr->seal.ino != cr->data.ino ||
	    cr->seal.data_version != cr->data.data_version ||
	    cr->seal.size != cr->data.size ||
	    strcmp(cr->seal.fsid, cr->data.fsid) != 0) {
		if (ret == 0)
			tape_reader_unread(rd);
		return tape_copy_error(rd, -EIO, cr->loc,
			"copy is incomplete: no seal after its data");
	}
	return 0;
}

/*
 * Read the copy at cr->loc from a reader positioned at or before it:
 * deliver the range and, for a whole read, check the checksum.
 */
static int tape_read_copy(struct tape_reader *rd, struct tape_copy_read *cr)
{
	char want[HSM_CHECKSUM_TEXT_MAX];
	char have[HSM_CHECKSUM_TEXT_MAX];
	struct hsm_checksum sum;
	bool is_whole;
	int ret;

	ret = tape_find_data_entry(rd, cr);
	if (ret)
		return ret;
	if (!cr->wants_data)
		return tape_read_seal(rd, cr);

	if (cr->offset > cr->data.size)
		return tape_copy_error(rd, -EINVAL, cr->loc,
				       "read offset past the end");
	is_whole = cr->offset == 0 && (cr->length == UINT64_MAX ||
				       cr->length >= cr->data.size);
	ret = tape_stream_data(rd, cr, is_whole, &sum);
	if (ret || !is_whole)
		return ret;
	ret = tape_read_seal(rd, cr);
	if (ret)
		return ret;
	if (!hsm_checksum_equal(&sum, &cr->seal.checksum)) {
		hsm_checksum_to_text(&cr->seal.checksum, want);
		hsm_checksum_to_text(&sum, have);
		return hsm_backend_set_error(&rd->tape->be, -EBADMSG,
			"tape: tape:%s:%" PRIu64 ":%" PRIu64 ":%" PRIu64
			": checksum mismatch: recorded %s, read %s",
			cr->loc->label, cr->loc->segment, cr->loc->offset,
			cr->loc->length, want, have);
	}
	return 0;
}

/*
 * A volume to read from, label checked.  File-backed: its own handle in
 * *local.  Device: the drive, after closing any segment being written.
 */
static int tape_acquire_read_volume(struct hsm_tape *tape, const char *label,
				    struct tape_volume *local,
				    struct tape_volume **vol)
{
	struct stat st;
	int ret;

	if (tape->is_device) {
		ret = tape_segment_close(tape);
		if (!ret)
			ret = tape_load_device_volume(tape, label, false);
		*vol = &tape->vol;
		return ret;
	}
	/*
	 * Reading the volume being appended: end its segment first, as the
	 * one drive of a real library must, so the reader sees every byte
	 * (a failure is reported to the pending puts, not to this read).
	 */
	if (tape->ar && tape->is_vol_open && !strcmp(tape->vol.label, label))
		tape_segment_close(tape);
	if (tape->has_changer && strcmp(tape->mounted_label, label)) {
		/* the one drive moves to this volume: end any append first */
		if (tape->is_vol_open)
			tape_close_write_volume(tape);
		ret = tape_changer_mount(tape, label);
		if (ret) {
			memset(local, 0, sizeof(*local));
			local->fd = -1;
			*vol = local;
			return ret;
		}
	}
	ret = tape_volume_open_dir(local, &tape->be, tape->volume_dir, label,
				   0, tape->block_size, false);
	local->stats = &tape->stats;
	local->sim = &tape->sim;
	local->drive = &tape->sim_drive;
	/*
	 * The label is read once, not at every read: again only when the
	 * directory was replaced (another inode) or another volume was
	 * read since, as a drive reads it once per load.
	 */
	if (!ret && (stat(local->path, &st) < 0 ||
		     strcmp(tape->checked_label, label) ||
		     st.st_dev != tape->checked_dev ||
		     st.st_ino != tape->checked_ino)) {
		tape->checked_label[0] = '\0';
		ret = tape_check_label(tape, local, false);
		if (!ret && stat(local->path, &st) == 0) {
			snprintf(tape->checked_label,
				 sizeof(tape->checked_label), "%s", label);
			tape->checked_dev = st.st_dev;
			tape->checked_ino = st.st_ino;
		}
	}
	if (ret)
		tape_volume_close(local);
	*vol = local;
	return ret;
}

static void tape_release_read_volume(struct hsm_tape *tape,
				     struct tape_volume *vol)
{
	if (!tape->is_device)
		tape_volume_close(vol);
}

static int tape_parse(struct hsm_tape *tape, const char *location,
		      struct tape_location *loc)
{
	if (tape_location_parse(location, loc))
		return hsm_backend_set_error(&tape->be, -EINVAL,
			"tape: not a tape location: '%s'", location);
	return 0;
}

/* One copy, start to end, for get/stat/verify/del. */
static int tape_read_one(struct hsm_tape *tape, const char *location,
			 struct tape_copy_read *cr)
{
	struct tape_location loc;
	struct tape_volume local;
	struct tape_volume *vol;
	struct tape_reader rd;
	int ret;

	ret = tape_parse(tape, location, &loc);
	if (ret)
		return ret;
	cr->loc = &loc;
	ret = tape_acquire_read_volume(tape, loc.label, &local, &vol);
	if (ret)
		return ret;
	ret = tape_reader_open_at(&rd, tape, vol, &loc);
	if (!ret) {
		ret = tape_read_copy(&rd, cr);
		tape_reader_close(&rd);
	}
	tape_release_read_volume(tape, vol);
	cr->loc = NULL;
	return ret;
}

struct tape_writer_arg {
	hsm_write_fn writer;
	void *arg;
};

static int tape_deliver_writer(void *arg, const void *buf, size_t len)
{
	struct tape_writer_arg *wa = arg;

	return wa->writer ? wa->writer(wa->arg, buf, len) : 0;
}

static struct tape_copy_read *tape_copy_read_alloc(void)
{
	return calloc(1, sizeof(struct tape_copy_read));
}

static int tape_get(struct hsm_backend *be, const char *location,
		    uint64_t offset, uint64_t length, hsm_write_fn writer,
		    void *writer_arg)
{
	struct tape_writer_arg wa = { .writer = writer, .arg = writer_arg };
	struct tape_copy_read *cr = tape_copy_read_alloc();
	int ret;

	if (!cr)
		return -ENOMEM;
	cr->offset = offset;
	cr->length = length;
	cr->wants_data = true;
	cr->deliver = tape_deliver_writer;
	cr->deliver_arg = &wa;
	ret = tape_read_one(tape_from_be(be), location, cr);
	free(cr);
	return ret;
}

static int tape_verify(struct hsm_backend *be, const char *location)
{
	return tape_get(be, location, 0, UINT64_MAX, NULL, NULL);
}

static int tape_stat(struct hsm_backend *be, const char *location,
		     struct hsm_stat_result *res)
{
	struct tape_copy_read *cr = tape_copy_read_alloc();
	int ret;

	memset(res, 0, sizeof(*res));
	if (!cr)
		return -ENOMEM;
	ret = tape_read_one(tape_from_be(be), location, cr);
	if (!ret) {
		res->bytes = cr->data.size;
		res->checksum = cr->seal.checksum;
		snprintf(res->info.fsid, sizeof(res->info.fsid), "%s",
			 cr->data.fsid);
		res->info.ino = cr->data.ino;
		res->info.data_version = cr->data.data_version;
		res->info.size = cr->data.size;
		res->info.mtime_sec = cr->data.mtime_sec;
	}
	free(cr);
	return ret;
}

static int tape_del(struct hsm_backend *be, const char *location)
{
	struct hsm_stat_result res;

	/* tape space comes back by recycling whole volumes */
	return tape_stat(be, location, &res);
}

/*
 * Batch recall
 */

struct tape_recall_slot {
	struct hsm_tape_recall *item;
	struct tape_location loc;
	size_t index;			/* in the caller's array */
};

static int tape_recall_cmp(const void *a, const void *b)
{
	const struct tape_recall_slot *x = a;
	const struct tape_recall_slot *y = b;
	int ret = strcmp(x->loc.label, y->loc.label);

	if (ret)
		return ret;
	if (x->loc.segment != y->loc.segment)
		return x->loc.segment < y->loc.segment ? -1 : 1;
	if (x->loc.offset != y->loc.offset)
		return x->loc.offset < y->loc.offset ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static bool tape_same_location(const struct tape_location *a,
			       const struct tape_location *b)
{
	return strcmp(a->label, b->label) == 0 && a->segment == b->segment &&
	       a->offset == b->offset && a->length == b->length;
}

/* The items of one location: all get the same bytes. */
struct tape_recall_run {
	struct tape_recall_slot *slots;
	size_t nr;
	const struct hsm_tape_recall_ops *ops;
};

static int tape_deliver_run(void *arg, const void *buf, size_t len)
{
	struct tape_recall_run *run = arg;
	int first_err = 0;
	size_t live = 0;
	size_t i;

	for (i = 0; i < run->nr; i++) {
		struct hsm_tape_recall *item = run->slots[i].item;

		if (item->result)
			continue;
		item->result = run->ops->write(item, buf, len);
		if (item->result && !first_err)
			first_err = item->result;
		if (!item->result)
			live++;
	}
	/* stop reading only when no writer wants more */
	return live ? 0 : first_err;
}

static void tape_finish_run(struct tape_recall_run *run, int ret)
{
	size_t i;

	for (i = 0; i < run->nr; i++) {
		struct hsm_tape_recall *item = run->slots[i].item;

		if (!item->result)
			item->result = ret;
		if (run->ops->done)
			run->ops->done(item);
	}
}

/* Read the runs of one segment, [from, to) of the sorted slots. */
static void tape_recall_segment(struct hsm_tape *tape, struct tape_volume *vol,
				struct tape_recall_slot *slots, size_t from,
				size_t to, const struct hsm_tape_recall_ops *ops,
				struct tape_copy_read *cr)
{
	struct tape_recall_run run = { .ops = ops };
	struct tape_reader rd;
	bool is_open;
	size_t i;
	size_t j;
	int ret;

	uint64_t end = 0;

	ret = tape_reader_open_at(&rd, tape, vol, &slots[from].loc);
	is_open = ret == 0;
	for (i = from; i < to; i = j) {
		for (j = i + 1; j < to && tape_same_location(&slots[i].loc,
							     &slots[j].loc); j++)
			;
		run.slots = &slots[i];
		run.nr = j - i;
		/* far ahead: locating is cheaper than reading through */
		if (i > from && slots[i].loc.has_block &&
		    slots[i].loc.offset > end + TAPE_READ_THROUGH_MAX) {
			if (is_open)
				tape_reader_close(&rd);
			ret = tape_reader_open_at(&rd, tape, vol,
						  &slots[i].loc);
			is_open = ret == 0;
		}
		end = slots[i].loc.offset + slots[i].loc.length;
		if (is_open) {
			memset(cr, 0, sizeof(*cr));
			cr->loc = &slots[i].loc;
			cr->length = UINT64_MAX;
			cr->wants_data = true;
			cr->deliver = tape_deliver_run;
			cr->deliver_arg = &run;
			ret = tape_read_copy(&rd, cr);
		}
		tape_finish_run(&run, ret);
	}
	if (is_open)
		tape_reader_close(&rd);
}

int hsm_tape_recall_batch(struct hsm_backend *be,
			  struct hsm_tape_recall *items, size_t nr_items,
			  const struct hsm_tape_recall_ops *ops)
{
	struct hsm_tape *tape = tape_from_be(be);
	struct tape_recall_slot *slots;
	struct tape_copy_read *cr;
	struct tape_volume local;
	struct tape_volume *vol;
	size_t nr = 0;
	size_t i;
	size_t j;
	size_t k;
	int ret;

	if (tape_check_be(be))
		return -EINVAL;
	slots = calloc(nr_items ? nr_items : 1, sizeof(*slots));
	cr = tape_copy_read_alloc();
	if (!slots || !cr) {
		free(slots);
		free(cr);
		return -ENOMEM;
	}

	for (i = 0; i < nr_items; i++) {
		items[i].result = 0;
		if (tape_parse(tape, items[i].location, &slots[nr].loc)) {
			items[i].result = -EINVAL;
			if (ops->done)
				ops->done(&items[i]);
			continue;
		}
		slots[nr].item = &items[i];
		slots[nr].index = i;
		nr++;
	}
	qsort(slots, nr, sizeof(*slots), tape_recall_cmp);

	/* one pass per volume, one reader per segment */
	for (i = 0; i < nr; i = j) {
		for (j = i + 1; j < nr && strcmp(slots[i].loc.label,
						 slots[j].loc.label) == 0; j++)
			;
		ret = tape_acquire_read_volume(tape, slots[i].loc.label,
					       &local, &vol);
		for (k = i; k < j;) {
			size_t end;

			for (end = k + 1; end < j && slots[end].loc.segment ==
			     slots[k].loc.segment; end++)
				;
			if (ret) {
				struct tape_recall_run run = {
					.slots = &slots[k], .nr = end - k,
					.ops = ops,
				};

				tape_finish_run(&run, ret);
			} else {
				tape_recall_segment(tape, vol, slots, k, end,
						    ops, cr);
			}
			k = end;
		}
		if (!ret)
			tape_release_read_volume(tape, vol);
	}

	ret = 0;
	for (i = 0; i < nr && !ret; i++)
		ret = slots[i].item->result;
	for (i = 0; i < nr_items && !ret; i++)
		ret = items[i].result;
	free(slots);
	free(cr);
	return ret;
}

/*
 * Position order for callers that recall one by one
 */

struct tape_order_key {
	struct tape_location loc;
	bool is_valid;
	bool is_mounted;	/* on the volume in the drive now */
	size_t index;
};

static int tape_order_cmp(const void *a, const void *b)
{
	const struct tape_order_key *x = a;
	const struct tape_order_key *y = b;
	uint64_t px;
	uint64_t py;
	int ret;

	if (x->is_valid != y->is_valid)
		return x->is_valid ? -1 : 1;
	if (!x->is_valid)
		goto by_index;
	if (x->is_mounted != y->is_mounted)
		return x->is_mounted ? -1 : 1;
	ret = strcmp(x->loc.label, y->loc.label);
	if (ret)
		return ret;
	if (x->loc.segment != y->loc.segment)
		return x->loc.segment < y->loc.segment ? -1 : 1;
	/* block addresses grow with offsets inside a segment */
	px = x->loc.offset;
	py = y->loc.offset;
	if (px != py)
		return px < py ? -1 : 1;
by_index:
	return x->index < y->index ? -1 : x->index > y->index;
}

int hsm_tape_order(struct hsm_backend *be, const char *const *locations,
		   size_t nr, size_t *order)
{
	struct hsm_tape *tape = tape_from_be(be);
	struct tape_order_key *keys;
	const char *mounted;
	size_t i;

	if (tape_check_be(be))
		return -EINVAL;
	keys = calloc(nr ? nr : 1, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	mounted = tape->is_device ? tape->loaded_label :
		  tape->has_changer ? tape->mounted_label :
		  tape->sim_drive.label;
	for (i = 0; i < nr; i++) {
		keys[i].index = i;
		keys[i].is_valid = locations[i] &&
			tape_location_parse(locations[i], &keys[i].loc) == 0;
		keys[i].is_mounted = keys[i].is_valid && mounted[0] &&
			!strcmp(keys[i].loc.label, mounted);
	}
	qsort(keys, nr, sizeof(*keys), tape_order_cmp);
	for (i = 0; i < nr; i++)
		order[i] = keys[i].index;
	free(keys);
	return 0;
}

/*
 * Scanning a volume without the catalog
 */

static int tape_scan_report(const struct tape_location *where,
			    const struct tape_entry_meta *data,
			    const struct tape_entry_meta *seal,
			    hsm_tape_scan_fn fn, void *arg)
{
	struct hsm_tape_scan_entry ent;
	struct tape_location loc = *where;

	memset(&ent, 0, sizeof(ent));
	loc.length = data->size;
	tape_location_format(&loc, ent.location, sizeof(ent.location));
	snprintf(ent.info.fsid, sizeof(ent.info.fsid), "%s", data->fsid);
	ent.info.ino = data->ino;
	ent.info.data_version = data->data_version;
	ent.info.size = data->size;
	ent.info.mtime_sec = data->mtime_sec;
	ent.info.path = data->path[0] ? data->path : NULL;
	if (seal) {
		ent.is_sealed = true;
		ent.checksum = seal->checksum;
	}
	return fn(arg, &ent);
}

struct tape_scan_state {
	struct tape_entry_meta data;	/* last DATA entry, unsealed */
	struct tape_entry_meta other;
	struct tape_location data_loc;	/* where it is */
	bool has_data;
};

/* 0 at a clean end of segment, 1 when the callback stopped us, -errno. */
static int tape_scan_segment(struct tape_reader *rd,
			     struct tape_scan_state *st, hsm_tape_scan_fn fn,
			     void *arg, int *cb_ret)
{
	struct tape_location *dl = &st->data_loc;
	uint64_t pos;
	int ret;

	st->has_data = false;
	for (;;) {
		ret = tape_reader_next(rd, &st->other, &pos);
		if (ret)
			break;
		if (st->other.kind == TAPE_ENTRY_SEAL && st->has_data &&
		    st->other.data_offset == dl->offset &&
		    st->other.ino == st->data.ino &&
		    st->other.data_version == st->data.data_version) {
			st->has_data = false;
			*cb_ret = tape_scan_report(dl, &st->data, &st->other,
						   fn, arg);
		} else if (st->other.kind == TAPE_ENTRY_DATA) {
			if (st->has_data)
				*cb_ret = tape_scan_report(dl, &st->data, NULL,
							   fn, arg);
			st->data = st->other;
			memset(dl, 0, sizeof(*dl));
			snprintf(dl->label, sizeof(dl->label), "%s",
				 rd->vol->label);
			dl->segment = rd->segment;
			dl->offset = pos;
			/* the block it starts in was read just now */
			dl->has_block = tape_volume_read_position(rd->vol, pos,
					&dl->block, &dl->block_skip) == 0;
			st->has_data = true;
		}
		if (*cb_ret)
			return 1;
	}
	if (st->has_data) {
		*cb_ret = tape_scan_report(dl, &st->data, NULL, fn, arg);
		if (*cb_ret)
			return 1;
	}
	return ret == 1 ? 0 : ret;
}

int hsm_tape_scan_volume(struct hsm_backend *be, const char *label,
			 hsm_tape_scan_fn fn, void *arg)
{
	struct hsm_tape *tape = tape_from_be(be);
	struct tape_scan_state *st;
	struct tape_volume local;
	struct tape_volume *vol;
	struct tape_reader rd;
	uint64_t seg;
	int first_err = 0;
	int cb_ret = 0;
	int ret;

	if (tape_check_be(be))
		return -EINVAL;
	if (!tape_label_is_valid(label))
		return hsm_backend_set_error(be, -EINVAL,
			"tape: invalid volume label '%s'", label);
	st = malloc(sizeof(*st));
	if (!st)
		return -ENOMEM;
	ret = tape_acquire_read_volume(tape, label, &local, &vol);
	if (ret) {
		free(st);
		return ret;
	}
	for (seg = TAPE_FIRST_DATA_SEGMENT;; seg++) {
		ret = tape_reader_open(&rd, tape, vol, seg, 0);
		if (ret == -ENOENT) {
			ret = 0;
			break;
		}
		if (ret)
			break;
		ret = tape_scan_segment(&rd, st, fn, arg, &cb_ret);
		tape_reader_close(&rd);
		if (ret == 1)
			break;
		/* remember the broken segment, keep what the rest holds */
		if (ret < 0 && !first_err)
			first_err = ret;
		ret = 0;
	}
	tape_release_read_volume(tape, vol);
	free(st);
	if (cb_ret)
		return cb_ret;
	if (first_err)
		return hsm_backend_set_error(be, -EIO,
			"tape: volume %s: some segments could not be read to their end (%s)",
			label, strerror(-first_err));
	return ret;
}

/*
 * Setup
 */

static void tape_destroy(struct hsm_backend *be)
{
	struct hsm_tape *tape = tape_from_be(be);

	tape_segment_close(tape);
	if (tape->is_vol_open)
		tape_volume_close(&tape->vol);
	free(tape->slots);
	free(tape->wbuf);
	free(tape->iobuf);
	free(tape->pending);
	free(tape->lost);
	free(tape);
}

static const struct hsm_backend_ops tape_ops = {
	.name = "tape",
	.put = tape_put,
	.get = tape_get,
	.del = tape_del,
	.stat = tape_stat,
	.verify = tape_verify,
	.committed = tape_committed,
	.destroy = tape_destroy,
};

static int tape_copy_string(char *dst, size_t len, const char *src)
{
	int ret = snprintf(dst, len, "%s", src ? src : "");

	return ret < 0 || (size_t)ret >= len ? -ENAMETOOLONG : 0;
}

static int tape_configure(struct hsm_tape *tape,
			  const struct hsm_tape_config *cfg, char *why,
			  size_t why_len)
{
	size_t i;

	tape->is_device = cfg->device != NULL;
	if (tape_copy_string(tape->device, sizeof(tape->device),
			     cfg->device) ||
	    tape_copy_string(tape->volume_dir, sizeof(tape->volume_dir),
			     cfg->volume_dir) ||
	    tape_copy_string(tape->auto_prefix, sizeof(tape->auto_prefix),
			     cfg->auto_label_prefix) ||
	    tape_copy_string(tape->mtx_path, sizeof(tape->mtx_path),
			     cfg->changer.mtx_path) ||
	    tape_copy_string(tape->changer_device,
			     sizeof(tape->changer_device),
			     cfg->changer.device)) {
		snprintf(why, why_len, "a path or prefix is too long");
		return -ENAMETOOLONG;
	}
	if (!tape->is_device && !tape->volume_dir[0]) {
		snprintf(why, why_len, "neither device nor volume_dir given");
		return -EINVAL;
	}
	if (tape->is_device && tape->auto_prefix[0]) {
		snprintf(why, why_len,
			 "auto-created volumes need file-backed volumes");
		return -EINVAL;
	}
	if (!cfg->nr_volumes && !tape->auto_prefix[0]) {
		snprintf(why, why_len, "no volumes configured");
		return -EINVAL;
	}
	tape->has_changer = tape->mtx_path[0] != '\0';
	tape->changer.mtx_path = tape->mtx_path;
	tape->changer.device = tape->changer_device;
	tape->changer.drive = cfg->changer.drive;
	tape->default_capacity = cfg->default_capacity;
	tape->segment_bytes = cfg->segment_bytes ? cfg->segment_bytes :
			      HSM_TAPE_DEFAULT_SEGMENT_BYTES;
	tape->block_size = cfg->block_size ? cfg->block_size :
			   HSM_TAPE_DEFAULT_BLOCK_SIZE;
	if (tape->block_size % TAPE_TAR_BLOCK_BYTES) {
		snprintf(why, why_len, "block_size %zu is not a multiple of %d",
			 tape->block_size, TAPE_TAR_BLOCK_BYTES);
		return -EINVAL;
	}
	if (cfg->durability != HSM_TAPE_SYNC_EACH_PUT &&
	    cfg->durability != HSM_TAPE_SYNC_ON_SEGMENT) {
		snprintf(why, why_len, "unknown durability %d",
			 (int)cfg->durability);
		return -EINVAL;
	}
	tape->durability = cfg->durability;
	tape->sim = cfg->sim;
	tape->ready_timeout_ms = cfg->ready_timeout_ms;

	tape->slots = calloc(cfg->nr_volumes ? cfg->nr_volumes : 1,
			     sizeof(*tape->slots));
	tape->wbuf = malloc(tape->block_size);
	tape->iobuf = malloc(tape->block_size);
	if (!tape->slots || !tape->wbuf || !tape->iobuf) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < cfg->nr_volumes; i++) {
		const struct hsm_tape_volume_config *vc = &cfg->volumes[i];

		if (!tape_label_is_valid(vc->label) ||
		    tape_find_slot(tape, vc->label)) {
			snprintf(why, why_len, "invalid or repeated label '%s'",
				 vc->label ? vc->label : "(null)");
			return -EINVAL;
		}
		snprintf(tape->slots[i].label, sizeof(tape->slots[i].label),
			 "%s", vc->label);
		tape->slots[i].capacity = vc->capacity ? vc->capacity :
					  cfg->default_capacity;
		tape->slots[i].changer_slot = vc->slot;
		tape->nr_slots = i + 1;
	}
	return 0;
}

int hsm_tape_create(const struct hsm_tape_config *cfg,
		    struct hsm_backend **out, char *error, size_t error_len)
{
	struct hsm_tape *tape;
	char why[HSM_ERROR_MAX];
	int ret;

	*out = NULL;
	tape = calloc(1, sizeof(*tape));
	if (!tape)
		return -ENOMEM;
	tape->be.ops = &tape_ops;
	tape->vol.fd = -1;
	ret = tape_configure(tape, cfg, why, sizeof(why));
	if (ret) {
		if (error && error_len)
			snprintf(error, error_len,
				 "tape: bad configuration: %s", why);
		free(tape->slots);
		free(tape->wbuf);
		free(tape->iobuf);
		free(tape);
		return ret;
	}
	*out = &tape->be;
	return 0;
}
