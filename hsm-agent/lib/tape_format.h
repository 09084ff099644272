/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tape_format.h: what the tape backend puts on a volume, entry by entry,
 * and how a copy's location string is spelled.  backend_tape.c decides
 * when to write; this file alone decides what the bytes mean, so that a
 * volume can be read back (hsm_tape_scan_volume()) with no catalog.
 * The layout is described at the top of tape_format.c.
 */
#ifndef SCOUTFS_HSM_TAPE_FORMAT_H
#define SCOUTFS_HSM_TAPE_FORMAT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include <archive.h>
#include <archive_entry.h>

#include "backend.h"
#include "checksum.h"

/* Volume labels: 1..32 of [A-Za-z0-9_.-], not starting with '.'. */
#define TAPE_LABEL_MAX 32
/* Bump when the meaning of an entry changes; readers refuse newer. */
#define TAPE_FORMAT_VERSION 1
/* Tar's unit: headers are blocks of this size, data is padded to it. */
#define TAPE_TAR_BLOCK_BYTES 512
/* Two zero blocks end a tar archive (one segment). */
#define TAPE_END_OF_ARCHIVE_BYTES (2 * TAPE_TAR_BLOCK_BYTES)
/* Segment 0 of every volume holds only its label entry. */
#define TAPE_LABEL_SEGMENT 0
#define TAPE_FIRST_DATA_SEGMENT 1

enum tape_entry_kind {
	TAPE_ENTRY_UNKNOWN = 0,	/* not written by us: skipped by readers */
	TAPE_ENTRY_LABEL,	/* segment 0: names the volume */
	TAPE_ENTRY_DATA,	/* one archived file's bytes */
	TAPE_ENTRY_SEAL,	/* follows a DATA entry: its checksum */
};

/*
 * Everything a tape entry says about itself, parsed from (or written to)
 * its pax extended header.  Which fields are meaningful depends on kind.
 */
struct tape_entry_meta {
	enum tape_entry_kind kind;
	unsigned int version;
	char label[TAPE_LABEL_MAX + 1];		/* LABEL */
	char fsid[33];				/* DATA, SEAL */
	uint64_t ino;				/* DATA, SEAL */
	uint64_t data_version;			/* DATA, SEAL */
	uint64_t size;				/* DATA: entry size; SEAL: of its DATA */
	int64_t mtime_sec;			/* DATA */
	char path[PATH_MAX];			/* DATA, "" when not given */
	uint64_t data_offset;			/* SEAL: its DATA entry's offset */
	struct hsm_checksum checksum;		/* SEAL */
};

/* A parsed "tape:LABEL:SEGMENT:OFFSET:LENGTH[:BLOCK:SKIP]" location. */
struct tape_location {
	char label[TAPE_LABEL_MAX + 1];
	uint64_t segment;
	uint64_t offset;	/* of the DATA entry's first header byte */
	uint64_t length;	/* bytes of file data */
	bool has_block;		/* block and block_skip are known */
	uint64_t block;		/* block address of the block holding offset */
	uint64_t block_skip;	/* bytes in that block before offset */
};

bool tape_label_is_valid(const char *label);

/* 0, or -ENAMETOOLONG when out (HSM_LOCATION_MAX bytes) is too small. */
int tape_location_format(const struct tape_location *loc, char *out,
			 size_t out_len);
/* 0 or -EINVAL for anything but a well-formed tape location. */
int tape_location_parse(const char *text, struct tape_location *loc);

/* Fill an archive_entry for writing; 0 or -ENOMEM / -EINVAL. */
int tape_entry_meta_to_entry(const struct tape_entry_meta *meta,
			     struct archive_entry *entry);
/*
 * Parse an entry read back.  Entries without our records come back as
 * TAPE_ENTRY_UNKNOWN (0); malformed records or a newer format version
 * return -EINVAL.
 */
int tape_entry_meta_from_entry(struct archive_entry *entry,
			       struct tape_entry_meta *meta);

/* Build the DATA / SEAL metadata of one archived file. */
void tape_entry_meta_data(const struct hsm_object_info *info,
			  struct tape_entry_meta *meta);
void tape_entry_meta_seal(const struct hsm_object_info *info,
			  uint64_t data_offset,
			  const struct hsm_checksum *checksum,
			  struct tape_entry_meta *meta);

/*
 * An upper bound of the bytes one archived file adds to a segment (DATA
 * and SEAL entries) plus the end-of-archive marker that closes the
 * segment, so a writer can decide before reading any data whether the
 * file fits the segment and the volume.
 */
uint64_t tape_entry_bytes_bound(const struct hsm_object_info *info);

#endif
