// SPDX-License-Identifier: GPL-2.0
/*
 * pack.c: building, storing, checking and reading packs of small copies
 * (the format and the member locations are described in pack.h).
 *
 * A pack lives in memory while it fills: the caller bounds it by count
 * and bytes (the agent's pack_max_files and pack_max_bytes), so holding
 * it whole costs at most that, and sealing it is appending the index and
 * the footer to the same buffer.  hsm_pack_put() hands that buffer to the
 * backend's put_pack() through a reader, so the backend sees a stream
 * like any other put, then reads the stored object back in one whole
 * get(): the backend compares the object's checksum, and a writer here
 * runs each member's bytes through a checksum of its own as they pass,
 * so one GET verifies every member.  A pack that cannot be read back is
 * deleted again; the caller commits only verified members, in one
 * catalog batch with the pack's row, so the catalog never points to an
 * object that is not there (a crash between the put and that batch
 * leaves an object no row names: an orphan for the listing to find).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pack.h"

void hsm_pack_init(struct hsm_pack *p, const char *fsid)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->fsid, sizeof(p->fsid), "%s", fsid);
}

void hsm_pack_reset(struct hsm_pack *p)
{
	free(p->buf);
	free(p->members);
	p->buf = NULL;
	p->members = NULL;
	p->len = p->cap = 0;
	p->nr = p->max = 0;
}

static int pack_reserve(struct hsm_pack *p, size_t more)
{
	size_t cap = p->cap ? p->cap : 64 * 1024;
	char *n;

	if (p->len + more <= p->cap)
		return 0;
	while (cap < p->len + more)
		cap *= 2;
	n = realloc(p->buf, cap);
	if (!n)
		return -ENOMEM;
	p->buf = n;
	p->cap = cap;
	return 0;
}

int hsm_pack_add(struct hsm_pack *p, const struct hsm_object_info *info,
		 hsm_read_fn reader, void *reader_arg, int64_t copy_id,
		 void *cookie)
{
	struct hsm_pack_member *m;
	size_t done = 0;
	char extra;
	ssize_t n;
	int ret;

	if (strcmp(info->fsid, p->fsid) || info->size > SIZE_MAX / 2)
		return -EINVAL;
	if (p->nr == p->max) {
		size_t max = p->max ? p->max * 2 : 64;
		struct hsm_pack_member *nm = realloc(p->members,
						     max * sizeof(*nm));

		if (!nm)
			return -ENOMEM;
		p->members = nm;
		p->max = max;
	}
	ret = pack_reserve(p, (size_t)info->size);
	if (ret)
		return ret;
	while (done < info->size) {
		n = reader(reader_arg, p->buf + p->len + done,
			   (size_t)info->size - done);
		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EIO;	/* shorter than the file's size */
		done += (size_t)n;
	}
	n = reader(reader_arg, &extra, 1);
	if (n != 0)
		return n < 0 ? (int)n : -EIO;	/* longer: it is changing */
	m = &p->members[p->nr++];
	memset(m, 0, sizeof(*m));
	m->ino = info->ino;
	m->data_version = info->data_version;
	m->offset = p->len;
	m->length = info->size;
	m->mtime_sec = info->mtime_sec;
	m->copy_num = info->copy_num;
	m->copy_id = copy_id;
	m->cookie = cookie;
	hsm_checksum_buf(p->buf + p->len, (size_t)info->size, &m->checksum);
	p->len += (size_t)info->size;
	return 0;
}

void hsm_pack_drop(struct hsm_pack *p, size_t i)
{
	uint64_t off, len;
	size_t j;

	if (i >= p->nr)
		return;
	off = p->members[i].offset;
	len = p->members[i].length;
	memmove(p->buf + off, p->buf + off + len, p->len - off - len);
	p->len -= len;
	memmove(&p->members[i], &p->members[i + 1],
		(p->nr - i - 1) * sizeof(p->members[0]));
	p->nr--;
	for (j = i; j < p->nr; j++)
		p->members[j].offset -= len;
}

/* ---- the index ---- */

static void put_le(unsigned char *b, uint64_t v, int bytes)
{
	int i;

	for (i = 0; i < bytes; i++, v >>= 8)
		b[i] = (unsigned char)v;
}

static uint64_t get_le(const unsigned char *b, int bytes)
{
	uint64_t v = 0;
	int i;

	for (i = bytes - 1; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

static void entry_encode(unsigned char *e, const struct hsm_pack_member *m)
{
	memset(e, 0, HSM_PACK_ENTRY_BYTES);
	put_le(e, m->ino, 8);
	put_le(e + 8, m->data_version, 8);
	put_le(e + 16, m->offset, 8);
	put_le(e + 24, m->length, 8);
	put_le(e + 32, (uint64_t)m->mtime_sec, 8);
	put_le(e + 40, m->copy_num, 4);
	memcpy(e + 48, m->checksum.bytes, HSM_CHECKSUM_BYTES);
}

static void entry_decode(const unsigned char *e, struct hsm_pack_member *m)
{
	memset(m, 0, sizeof(*m));
	m->ino = get_le(e, 8);
	m->data_version = get_le(e + 8, 8);
	m->offset = get_le(e + 16, 8);
	m->length = get_le(e + 24, 8);
	m->mtime_sec = (int64_t)get_le(e + 32, 8);
	m->copy_num = (unsigned int)get_le(e + 40, 4);
	memcpy(m->checksum.bytes, e + 48, HSM_CHECKSUM_BYTES);
}

/* Append index and footer; the data stays p->len bytes. */
static int pack_seal(struct hsm_pack *p, size_t *total)
{
	size_t index_len = p->nr * HSM_PACK_ENTRY_BYTES;
	struct hsm_checksum sum;
	unsigned char *b;
	size_t i;
	int ret;

	ret = pack_reserve(p, index_len + HSM_PACK_FOOTER_BYTES);
	if (ret)
		return ret;
	b = (unsigned char *)p->buf + p->len;
	for (i = 0; i < p->nr; i++)
		entry_encode(b + i * HSM_PACK_ENTRY_BYTES, &p->members[i]);
	hsm_checksum_buf(b, index_len, &sum);
	b += index_len;
	memset(b, 0, HSM_PACK_FOOTER_BYTES);
	memcpy(b, HSM_PACK_MAGIC, 8);
	put_le(b + 8, HSM_PACK_VERSION, 4);
	put_le(b + 12, p->nr, 4);
	put_le(b + 16, p->len, 8);
	memcpy(b + 24, p->fsid, strnlen(p->fsid, 32));
	memcpy(b + 56, sum.bytes, 8);
	*total = p->len + index_len + HSM_PACK_FOOTER_BYTES;
	return 0;
}

struct pack_stream {
	const char *buf;
	size_t len, pos;
};

static ssize_t pack_stream_read(void *arg, void *buf, size_t len)
{
	struct pack_stream *s = arg;

	if (len > s->len - s->pos)
		len = s->len - s->pos;
	memcpy(buf, s->buf + s->pos, len);
	s->pos += len;
	return (ssize_t)len;
}

/* Reading the stored pack back: every member's bytes through its checksum. */
struct pack_check {
	struct hsm_pack *p;
	uint64_t pos;		/* of the next byte in the object */
	size_t member;		/* the member pos is in (or past) */
	struct hsm_checksum_ctx *ctx;
	int err;
};

/* Member c->member is complete: compare what went by with its checksum. */
static void pack_check_close(struct pack_check *c)
{
	struct hsm_pack_member *m = &c->p->members[c->member];
	struct hsm_checksum sum;

	if (c->ctx)
		hsm_checksum_end(c->ctx, &sum);
	else
		hsm_checksum_buf("", 0, &sum);	/* an empty member */
	c->ctx = NULL;
	m->is_verified = hsm_checksum_equal(&sum, &m->checksum);
	c->member++;
}

/* Members are contiguous from offset 0, in order (hsm_pack_add/drop). */
static int pack_check_write(void *arg, const void *buf, size_t len)
{
	struct pack_check *c = arg;
	const char *b = buf;

	while (c->member < c->p->nr) {
		struct hsm_pack_member *m = &c->p->members[c->member];
		uint64_t end = m->offset + m->length;
		size_t n;

		if (c->pos >= end) {
			pack_check_close(c);
			continue;
		}
		if (!len)
			break;
		if (!c->ctx) {
			c->ctx = hsm_checksum_begin();
			if (!c->ctx)
				return -ENOMEM;
		}
		n = end - c->pos < len ? (size_t)(end - c->pos) : len;
		hsm_checksum_update(c->ctx, b, n);
		b += n;
		len -= n;
		c->pos += n;
	}
	c->pos += len;	/* the index and the footer */
	return 0;
}

/* After the whole object went by; a member cut short stays unverified. */
static void pack_check_finish(struct pack_check *c)
{
	pack_check_write(c, NULL, 0);
	hsm_checksum_abort(c->ctx);
	c->ctx = NULL;
}

int hsm_pack_put(struct hsm_pack *p, struct hsm_backend *be,
		 struct hsm_put_result *res)
{
	struct pack_stream s = { .buf = NULL };
	struct pack_check c = { .p = p };
	size_t total, i;
	int ret;

	if (!hsm_backend_can_pack(be))
		return hsm_backend_set_error(be, -EOPNOTSUPP,
					     "%s: the backend does not pack small files",
					     be->ops->name);
	for (i = 0; i < p->nr; i++)
		p->members[i].is_verified = false;
	ret = pack_seal(p, &total);
	if (ret)
		return hsm_backend_set_error(be, ret, "pack of %zu files: %s",
					     p->nr, strerror(-ret));
	s.buf = p->buf;
	s.len = total;
	memset(res, 0, sizeof(*res));
	ret = be->ops->put_pack(be, p->fsid, total, pack_stream_read, &s, res);
	if (ret)
		return ret;
	ret = be->ops->get(be, res->location, 0, UINT64_MAX, pack_check_write,
			   &c);
	pack_check_finish(&c);
	if (ret) {
		/* not readable as stored: nobody may point to it */
		for (i = 0; i < p->nr; i++)
			p->members[i].is_verified = false;
		if (ret != -EBADMSG) {
			char why[HSM_ERROR_MAX];

			snprintf(why, sizeof(why), "%s", hsm_backend_error(be));
			be->ops->del(be, res->location);
			return hsm_backend_set_error(be, ret, "%s", why);
		}
		be->ops->del(be, res->location);
	}
	return 0;
}

/* ---- committing a stored pack ---- */

static int pack_commit_member(struct hsm_catalog *cat, int64_t pack_id,
			      const char *pack_location,
			      struct hsm_pack_member *m)
{
	char loc[HSM_LOCATION_MAX];
	int ret;

	ret = hsm_pack_member_location(pack_location, m, loc, sizeof(loc));
	if (!ret)
		ret = hsm_catalog_copy_written_packed(cat, m->copy_id, pack_id,
						      loc, &m->checksum);
	if (ret == -EBADMSG) {
		/* another copy of this version has other bytes: marked bad */
		m->outcome = HSM_PACK_BAD;
		return 0;
	}
	if (!ret)
		ret = hsm_catalog_copy_verified(cat, m->copy_id);
	if (!ret)
		m->outcome = HSM_PACK_COMMITTED;
	return ret;
}

int hsm_pack_commit(struct hsm_catalog *cat, const char *backend,
		    struct hsm_pack *p, const struct hsm_put_result *res,
		    hsm_pack_same_fn same, void *same_arg, int64_t *pack_id)
{
	size_t i, nr_ok = 0;
	int ret;

	*pack_id = 0;
	for (i = 0; i < p->nr; i++) {
		struct hsm_pack_member *m = &p->members[i];

		if (!m->is_verified)
			m->outcome = HSM_PACK_BAD;
		else if (same && !same(same_arg, m))
			m->outcome = HSM_PACK_CHANGED;
		else
			m->outcome = HSM_PACK_PENDING;
		nr_ok += m->outcome == HSM_PACK_PENDING;
	}
	ret = hsm_catalog_batch_begin(cat);
	if (ret)
		return ret;
	if (nr_ok)
		ret = hsm_catalog_pack_add(cat, backend, res->location,
					   res->bytes, pack_id);
	for (i = 0; !ret && i < p->nr; i++) {
		struct hsm_pack_member *m = &p->members[i];

		if (m->outcome == HSM_PACK_PENDING)
			ret = pack_commit_member(cat, *pack_id, res->location,
						 m);
		else if (m->outcome == HSM_PACK_CHANGED)
			ret = hsm_catalog_copy_mark_deleted(cat, m->copy_id);
		else
			ret = hsm_catalog_copy_mark_bad(cat, m->copy_id);
	}
	if (ret) {
		hsm_catalog_batch_end(cat, false);
		*pack_id = 0;
		for (i = 0; i < p->nr; i++)
			p->members[i].outcome = HSM_PACK_PENDING;
		return ret;
	}
	ret = hsm_catalog_batch_end(cat, true);
	if (ret) {
		*pack_id = 0;
		for (i = 0; i < p->nr; i++)
			p->members[i].outcome = HSM_PACK_PENDING;
	}
	return ret;
}

/* ---- member locations ---- */

int hsm_pack_member_location(const char *pack_location,
			     const struct hsm_pack_member *m,
			     char *out, size_t out_len)
{
	char sum[HSM_CHECKSUM_TEXT_MAX];
	int n;

	hsm_checksum_to_text(&m->checksum, sum);
	n = snprintf(out, out_len, "%s%c%" PRIu64 "+%" PRIu64 ":%s",
		     pack_location, HSM_PACK_MEMBER_SEP, m->offset, m->length,
		     sum);
	return n < 0 || (size_t)n >= out_len ? -ENAMETOOLONG : 0;
}

static int parse_u64(const char **s, char end, uint64_t *v)
{
	char *e;

	if (**s < '0' || **s > '9')
		return -EINVAL;
	errno = 0;
	*v = strtoull(*s, &e, 10);
	if (errno || *e != end)
		return -EINVAL;
	*s = e + 1;
	return 0;
}

int hsm_pack_parse_location(const char *location, struct hsm_pack_ref *ref)
{
	const char *sep = strrchr(location, HSM_PACK_MEMBER_SEP);
	const char *s;
	size_t n;

	if (!sep)
		return 0;
	n = (size_t)(sep - location);
	if (!n || n >= sizeof(ref->pack))
		return -EINVAL;
	memcpy(ref->pack, location, n);
	ref->pack[n] = '\0';
	s = sep + 1;
	if (parse_u64(&s, '+', &ref->offset) ||
	    parse_u64(&s, ':', &ref->length) ||
	    hsm_checksum_from_text(s, &ref->checksum) ||
	    ref->offset > UINT64_MAX - ref->length)
		return -EINVAL;
	return 1;
}

/* ---- reading an index back ---- */

struct pack_buf_sink {
	unsigned char *buf;
	size_t len, got;
};

static int pack_buf_write(void *arg, const void *buf, size_t len)
{
	struct pack_buf_sink *s = arg;

	if (len > s->len - s->got)
		return -EIO;
	memcpy(s->buf + s->got, buf, len);
	s->got += len;
	return 0;
}

int hsm_pack_read_index(struct hsm_backend *be, const char *location,
			uint64_t size, char *fsid_out,
			struct hsm_pack_member **members, size_t *nr)
{
	unsigned char foot[HSM_PACK_FOOTER_BYTES];
	struct pack_buf_sink s = { .buf = foot, .len = sizeof(foot) };
	struct hsm_checksum sum;
	struct hsm_pack_member *m = NULL;
	unsigned char *index = NULL;
	uint64_t index_off, count, index_len;
	size_t i;
	int ret;

	*members = NULL;
	*nr = 0;
	if (size < HSM_PACK_FOOTER_BYTES)
		return hsm_backend_set_error(be, -EUCLEAN,
					     "%s: %" PRIu64 " bytes is too short for a pack",
					     location, size);
	ret = be->ops->get(be, location, size - HSM_PACK_FOOTER_BYTES,
			   HSM_PACK_FOOTER_BYTES, pack_buf_write, &s);
	if (ret)
		return ret;
	count = get_le(foot + 12, 4);
	index_off = get_le(foot + 16, 8);
	index_len = count * HSM_PACK_ENTRY_BYTES;
	if (s.got != sizeof(foot) || memcmp(foot, HSM_PACK_MAGIC, 8) ||
	    get_le(foot + 8, 4) != HSM_PACK_VERSION ||
	    index_off > size - HSM_PACK_FOOTER_BYTES ||
	    index_off + index_len != size - HSM_PACK_FOOTER_BYTES)
		return hsm_backend_set_error(be, -EUCLEAN,
					     "%s: no pack footer", location);
	index = malloc(index_len ? index_len : 1);
	m = calloc(count ? count : 1, sizeof(*m));
	if (!index || !m) {
		ret = hsm_backend_set_error(be, -ENOMEM, "out of memory");
		goto out;
	}
	if (index_len) {
		s.buf = index;
		s.len = index_len;
		s.got = 0;
		ret = be->ops->get(be, location, index_off, index_len,
				   pack_buf_write, &s);
		if (ret)
			goto out;
	}
	hsm_checksum_buf(index, index_len, &sum);
	if (memcmp(sum.bytes, foot + 56, 8)) {
		ret = hsm_backend_set_error(be, -EBADMSG,
					    "%s: the pack's index fails its checksum",
					    location);
		goto out;
	}
	for (i = 0; i < count; i++) {
		entry_decode(index + i * HSM_PACK_ENTRY_BYTES, &m[i]);
		if (m[i].offset > index_off ||
		    m[i].length > index_off - m[i].offset) {
			ret = hsm_backend_set_error(be, -EUCLEAN,
						    "%s: index entry %zu is outside the data",
						    location, i);
			goto out;
		}
	}
	if (fsid_out) {
		memcpy(fsid_out, foot + 24, 32);
		fsid_out[32] = '\0';
	}
	*members = m;
	*nr = count;
	m = NULL;
out:
	free(index);
	free(m);
	return ret;
}
