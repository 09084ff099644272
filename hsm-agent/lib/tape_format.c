// SPDX-License-Identifier: GPL-2.0
/*
 * tape_format.c: the on-volume format of the tape backend.
 *
 * A volume is a sequence of segments separated by file marks (on a real
 * tape a segment is one tape file; tape_volume.c models the same thing
 * with files for file-backed volumes).  Every segment is a complete,
 * standard pax archive that GNU tar or bsdtar can list:
 *
 *   segment 0   the LABEL entry: ".scoutfs-volume-label", names the volume
 *   segment 1.. for each archived file, in write order:
 *                 a DATA entry: the file's bytes, pathname = its path
 *                 a SEAL entry: zero-length, carries the DATA's checksum
 *               then the two zero blocks that end a tar archive
 *
 * Our metadata travels in pax extended header records.  libarchive has no
 * API for arbitrary pax keywords, but it writes an entry's extended
 * attributes as the pax records "SCHILY.xattr.<name>" (raw value) and
 * "LIBARCHIVE.xattr.<name>" (base64), and parses both back into xattrs.
 * So every field is an xattr named "scoutfs.<field>" with a decimal or
 * text value:
 *
 *   scoutfs.version       TAPE_FORMAT_VERSION of the writer   (all kinds)
 *   scoutfs.kind          "label" | "data" | "seal"           (all kinds)
 *   scoutfs.label         volume label                        (label)
 *   scoutfs.fsid, scoutfs.ino, scoutfs.data_version           (data, seal)
 *   scoutfs.path          path at archive time, exact bytes   (data)
 *   scoutfs.size          bytes of file data                  (seal)
 *   scoutfs.data_offset   segment offset of the DATA entry    (seal)
 *   scoutfs.checksum      "sha256:<hex>" of the file data     (seal)
 *
 * Why a separate SEAL entry instead of a checksum record in the DATA
 * header: tar puts every header before its data, but the checksum is only
 * known once the data has streamed through.  Putting it in the DATA header
 * would mean reading every file twice or spooling multi-GiB files to disk
 * first.  The SEAL entry right after the data costs two header blocks and
 * doubles as a commit record: a DATA entry that is not followed by its
 * SEAL (a crash or end of medium part way through) is an incomplete copy
 * and never valid, whatever its header says.
 *
 * The DATA entry's pathname is the path without leading '/' (so that an
 * emergency `tar x` never writes outside its directory), or
 * "scoutfs/<fsid>/<ino>.<data_version>" when the path is unknown; the exact
 * path is in scoutfs.path.
 *
 * Location strings, stored verbatim by the catalog:
 *
 *   tape:<label>:<segment>:<offset>:<length>:<block>:<skip>
 *
 * all numbers decimal; segment = file mark number on the volume (data
 * segments start at 1); offset = byte offset of the DATA entry's first
 * header byte from the start of the segment, where a tar reader can start
 * reading; length = bytes of file data; block = the block address (as
 * MTIOCPOS reports it, and MTSEEK takes it) of the tape block holding the
 * DATA entry's first byte, and skip = that byte's offset inside the block,
 * so a reader locates straight to the copy instead of reading its segment
 * from the start.  Locations written before block addresses were recorded
 * have only the first four fields and are read by spacing over file marks
 * and reading through.  Labels never contain ':'.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAPE_LOCATION_FIELDS_MAX 6

#include "tape_format.h"

#define TAPE_LOCATION_PREFIX "tape:"
#define TAPE_XATTR_PREFIX "scoutfs."
#define TAPE_LABEL_PATHNAME ".scoutfs-volume-label"
#define TAPE_SEAL_PATHNAME_DIR ".scoutfs-seal"
/* Decimal text of a uint64_t plus NUL. */
#define TAPE_U64_TEXT_MAX 21
/*
 * Bound of the pax records of one DATA or SEAL entry apart from those that
 * hold the path: each record is "<len> <key>=<value>\n" and is written
 * twice (raw and base64); ten records of < 100 bytes fit with room to spare.
 */
#define TAPE_FIXED_RECORDS_BYTES 4096

static const char *const tape_kind_names[] = {
	[TAPE_ENTRY_LABEL] = "label",
	[TAPE_ENTRY_DATA] = "data",
	[TAPE_ENTRY_SEAL] = "seal",
};

bool tape_label_is_valid(const char *label)
{
	size_t len = label ? strlen(label) : 0;
	size_t i;

	if (len == 0 || len > TAPE_LABEL_MAX || label[0] == '.')
		return false;
	for (i = 0; i < len; i++) {
		char c = label[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-'))
			return false;
	}
	return true;
}

int tape_location_format(const struct tape_location *loc, char *out,
			 size_t out_len)
{
	int len;

	if (!tape_label_is_valid(loc->label))
		return -EINVAL;
	if (loc->has_block)
		len = snprintf(out, out_len, TAPE_LOCATION_PREFIX "%s:%" PRIu64
			       ":%" PRIu64 ":%" PRIu64 ":%" PRIu64 ":%" PRIu64,
			       loc->label, loc->segment, loc->offset,
			       loc->length, loc->block, loc->block_skip);
	else
		len = snprintf(out, out_len, TAPE_LOCATION_PREFIX "%s:%" PRIu64
			       ":%" PRIu64 ":%" PRIu64, loc->label,
			       loc->segment, loc->offset, loc->length);
	if (len < 0 || (size_t)len >= out_len)
		return -ENAMETOOLONG;
	return 0;
}

/* Strict decimal: digits only, no sign or spaces, no overflow. */
static int tape_parse_u64(const char *text, size_t len, uint64_t *val)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len >= TAPE_U64_TEXT_MAX)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		unsigned int d;

		if (text[i] < '0' || text[i] > '9')
			return -EINVAL;
		d = (unsigned int)(text[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*val = v;
	return 0;
}

int tape_location_parse(const char *text, struct tape_location *loc)
{
	const char *fields[TAPE_LOCATION_FIELDS_MAX];
	size_t lens[TAPE_LOCATION_FIELDS_MAX];
	const char *p;
	const char *end;
	size_t nr = 0;

	if (!text || strncmp(text, TAPE_LOCATION_PREFIX,
			     strlen(TAPE_LOCATION_PREFIX)) != 0)
		return -EINVAL;
	p = text + strlen(TAPE_LOCATION_PREFIX);
	for (;;) {
		if (nr == TAPE_LOCATION_FIELDS_MAX)
			return -EINVAL;
		end = strchr(p, ':');
		fields[nr] = p;
		lens[nr++] = end ? (size_t)(end - p) : strlen(p);
		if (!end)
			break;
		p = end + 1;
	}
	/* label, segment, offset, length [, block, skip] */
	if ((nr != 4 && nr != 6) || lens[0] > TAPE_LABEL_MAX)
		return -EINVAL;
	memset(loc, 0, sizeof(*loc));
	memcpy(loc->label, fields[0], lens[0]);
	loc->label[lens[0]] = '\0';
	if (!tape_label_is_valid(loc->label) ||
	    tape_parse_u64(fields[1], lens[1], &loc->segment) ||
	    tape_parse_u64(fields[2], lens[2], &loc->offset) ||
	    tape_parse_u64(fields[3], lens[3], &loc->length))
		return -EINVAL;
	if (nr == 6) {
		if (tape_parse_u64(fields[4], lens[4], &loc->block) ||
		    tape_parse_u64(fields[5], lens[5], &loc->block_skip) ||
		    loc->block_skip > loc->offset)
			return -EINVAL;
		loc->has_block = true;
	}
	return 0;
}

static int tape_xattr_add_text(struct archive_entry *entry, const char *field,
			       const char *value)
{
	char name[64];

	snprintf(name, sizeof(name), TAPE_XATTR_PREFIX "%s", field);
	archive_entry_xattr_add_entry(entry, name, value, strlen(value));
	return 0;
}

static int tape_xattr_add_u64(struct archive_entry *entry, const char *field,
			      uint64_t value)
{
	char text[TAPE_U64_TEXT_MAX];

	snprintf(text, sizeof(text), "%" PRIu64, value);
	return tape_xattr_add_text(entry, field, text);
}

int tape_entry_meta_to_entry(const struct tape_entry_meta *meta,
			     struct archive_entry *entry)
{
	char pathname[PATH_MAX + 64];
	char sum_text[HSM_CHECKSUM_TEXT_MAX];
	uint64_t size = 0;

	switch (meta->kind) {
	case TAPE_ENTRY_LABEL:
		snprintf(pathname, sizeof(pathname), "%s", TAPE_LABEL_PATHNAME);
		break;
	case TAPE_ENTRY_DATA: {
		const char *rel = meta->path;

		while (*rel == '/')
			rel++;
		if (*rel)
			snprintf(pathname, sizeof(pathname), "%s", rel);
		else
			snprintf(pathname, sizeof(pathname),
				 "scoutfs/%s/%" PRIu64 ".%" PRIu64, meta->fsid,
				 meta->ino, meta->data_version);
		size = meta->size;
		break;
	}
	case TAPE_ENTRY_SEAL:
		snprintf(pathname, sizeof(pathname),
			 TAPE_SEAL_PATHNAME_DIR "/%s/%" PRIu64 ".%" PRIu64,
			 meta->fsid, meta->ino, meta->data_version);
		break;
	default:
		return -EINVAL;
	}

	archive_entry_set_pathname(entry, pathname);
	archive_entry_set_filetype(entry, AE_IFREG);
	archive_entry_set_perm(entry, 0600);
	archive_entry_set_size(entry, (la_int64_t)size);
	archive_entry_set_mtime(entry, meta->kind == TAPE_ENTRY_DATA ?
				meta->mtime_sec : 0, 0);

	tape_xattr_add_u64(entry, "version", TAPE_FORMAT_VERSION);
	tape_xattr_add_text(entry, "kind", tape_kind_names[meta->kind]);
	if (meta->kind == TAPE_ENTRY_LABEL)
		return tape_xattr_add_text(entry, "label", meta->label);

	tape_xattr_add_text(entry, "fsid", meta->fsid);
	tape_xattr_add_u64(entry, "ino", meta->ino);
	tape_xattr_add_u64(entry, "data_version", meta->data_version);
	if (meta->kind == TAPE_ENTRY_DATA) {
		if (meta->path[0])
			tape_xattr_add_text(entry, "path", meta->path);
		return 0;
	}
	tape_xattr_add_u64(entry, "size", meta->size);
	tape_xattr_add_u64(entry, "data_offset", meta->data_offset);
	hsm_checksum_to_text(&meta->checksum, sum_text);
	return tape_xattr_add_text(entry, "checksum", sum_text);
}

/* Copy a record's value as a NUL-terminated string of at most max - 1. */
static int tape_value_text(const void *value, size_t len, char *out,
			   size_t max)
{
	if (len >= max || memchr(value, '\0', len))
		return -EINVAL;
	memcpy(out, value, len);
	out[len] = '\0';
	return 0;
}

static int tape_value_u64(const void *value, size_t len, uint64_t *out)
{
	return tape_parse_u64(value, len, out);
}

static int tape_meta_set_field(struct tape_entry_meta *meta,
			       const char *field, const void *value,
			       size_t len)
{
	char text[HSM_CHECKSUM_TEXT_MAX + 1];
	uint64_t v = 0;
	size_t i;
	int ret;

	if (strcmp(field, "version") == 0) {
		ret = tape_value_u64(value, len, &v);
		if (!ret && (v == 0 || v > TAPE_FORMAT_VERSION))
			ret = -EINVAL;
		meta->version = (unsigned int)v;
		return ret;
	}
	if (strcmp(field, "kind") == 0) {
		for (i = 1; i < sizeof(tape_kind_names) /
			    sizeof(tape_kind_names[0]); i++) {
			if (len == strlen(tape_kind_names[i]) &&
			    memcmp(value, tape_kind_names[i], len) == 0) {
				meta->kind = (enum tape_entry_kind)i;
				return 0;
			}
		}
		return -EINVAL;
	}
	if (strcmp(field, "label") == 0)
		return tape_value_text(value, len, meta->label,
				       sizeof(meta->label));
	if (strcmp(field, "fsid") == 0)
		return tape_value_text(value, len, meta->fsid,
				       sizeof(meta->fsid));
	if (strcmp(field, "path") == 0)
		return tape_value_text(value, len, meta->path,
				       sizeof(meta->path));
	if (strcmp(field, "ino") == 0)
		return tape_value_u64(value, len, &meta->ino);
	if (strcmp(field, "data_version") == 0)
		return tape_value_u64(value, len, &meta->data_version);
	if (strcmp(field, "size") == 0)
		return tape_value_u64(value, len, &meta->size);
	if (strcmp(field, "data_offset") == 0)
		return tape_value_u64(value, len, &meta->data_offset);
	if (strcmp(field, "checksum") == 0) {
		ret = tape_value_text(value, len, text, sizeof(text));
		return ret ? ret : hsm_checksum_from_text(text,
							  &meta->checksum);
	}
	/* A field from a newer writer that this version can ignore. */
	return 0;
}

int tape_entry_meta_from_entry(struct archive_entry *entry,
			       struct tape_entry_meta *meta)
{
	const char *name;
	const void *value;
	size_t len;
	int ret;

	memset(meta, 0, sizeof(*meta));
	archive_entry_xattr_reset(entry);
	/* libarchive returns each field twice (raw and base64): same value */
	while (archive_entry_xattr_next(entry, &name, &value, &len) ==
	       ARCHIVE_OK) {
		if (strncmp(name, TAPE_XATTR_PREFIX,
			    strlen(TAPE_XATTR_PREFIX)) != 0)
			continue;
		ret = tape_meta_set_field(meta,
					  name + strlen(TAPE_XATTR_PREFIX),
					  value, len);
		if (ret)
			return ret;
	}
	if (meta->kind == TAPE_ENTRY_UNKNOWN)
		return 0;
	if (meta->version == 0)
		return -EINVAL;
	if (meta->kind == TAPE_ENTRY_DATA) {
		if (archive_entry_size(entry) < 0)
			return -EINVAL;
		meta->size = (uint64_t)archive_entry_size(entry);
		meta->mtime_sec = archive_entry_mtime(entry);
	}
	return 0;
}

static void tape_meta_identity(const struct hsm_object_info *info,
			       enum tape_entry_kind kind,
			       struct tape_entry_meta *meta)
{
	memset(meta, 0, sizeof(*meta));
	meta->kind = kind;
	meta->version = TAPE_FORMAT_VERSION;
	snprintf(meta->fsid, sizeof(meta->fsid), "%s", info->fsid);
	meta->ino = info->ino;
	meta->data_version = info->data_version;
	meta->size = info->size;
}

void tape_entry_meta_data(const struct hsm_object_info *info,
			  struct tape_entry_meta *meta)
{
	tape_meta_identity(info, TAPE_ENTRY_DATA, meta);
	meta->mtime_sec = info->mtime_sec;
	if (info->path)
		snprintf(meta->path, sizeof(meta->path), "%s", info->path);
}

void tape_entry_meta_seal(const struct hsm_object_info *info,
			  uint64_t data_offset,
			  const struct hsm_checksum *checksum,
			  struct tape_entry_meta *meta)
{
	tape_meta_identity(info, TAPE_ENTRY_SEAL, meta);
	meta->data_offset = data_offset;
	meta->checksum = *checksum;
}

static uint64_t tape_round_up_block(uint64_t bytes)
{
	return (bytes + TAPE_TAR_BLOCK_BYTES - 1) /
	       TAPE_TAR_BLOCK_BYTES * TAPE_TAR_BLOCK_BYTES;
}

uint64_t tape_entry_bytes_bound(const struct hsm_object_info *info)
{
	uint64_t path_len = info->path ? strlen(info->path) : 0;
	/*
	 * Per entry: the pax 'x' header block, its records, the ustar block.
	 * The path is in the DATA records up to three times: "path=" (when
	 * longer than ustar's name field), raw and base64 (4/3) xattrs.
	 */
	uint64_t data_hdr = 2 * TAPE_TAR_BLOCK_BYTES +
		tape_round_up_block(TAPE_FIXED_RECORDS_BYTES + 4 * path_len);
	uint64_t seal_hdr = 2 * TAPE_TAR_BLOCK_BYTES +
		tape_round_up_block(TAPE_FIXED_RECORDS_BYTES);

	return data_hdr + tape_round_up_block(info->size) + seal_hdr +
	       TAPE_END_OF_ARCHIVE_BYTES;
}
