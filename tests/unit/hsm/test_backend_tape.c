// SPDX-License-Identifier: GPL-2.0
/*
 * test_backend_tape.c: the tape backend on file-backed volumes keeps the
 * promises of backend.h and backend_tape.h: round trips of awkward sizes,
 * range reads, thousands of small files aggregated into segments and
 * recalled in position order, moving on to the next volume when one is
 * full, reading a volume back with no catalog, and catching a corrupted
 * byte.  The same code drives a real st(4) drive; only the changer
 * invocation can be checked here, with a fake mtx.  Each test gets its
 * own temporary volume directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "backend_tape.h"
#include "hsm_test_util.h"
#include "tape_format.h"

#define TEST_FSID "0123456789abcdef0123456789abcdef"
#define TEST_KIB 1024ULL
#define TEST_MIB (1024ULL * 1024ULL)
#define TEST_LARGE_BYTES (64 * TEST_MIB)
/* past 4 GiB, so 32-bit truncation anywhere shows */
#define TEST_HUGE_BYTES (4 * 1024 * TEST_MIB + 12345)
#define TEST_SMALL_FILES 10000
#define TEST_SMALL_MAX_BYTES 2000
#define TEST_SMALL_SEGMENT_BYTES (1 * TEST_MIB)

struct tape_fixture {
	struct hsm_test_dir dir;
	struct hsm_backend *be;
	struct hsm_tape_volume_config vols[4];
	struct hsm_tape_config cfg;
};

static int fixture_setup(void **state)
{
	struct tape_fixture *fx = calloc(1, sizeof(*fx));
	static const char *const labels[] = { "VOL001", "VOL002", "VOL003",
					      "VOL004" };
	size_t i;

	if (!fx || hsm_test_mkdtemp("hsm-tape", fx->dir.path,
				    sizeof(fx->dir.path))) {
		free(fx);
		return -1;
	}
	for (i = 0; i < 4; i++)
		fx->vols[i].label = labels[i];
	fx->cfg.volume_dir = fx->dir.path;
	fx->cfg.volumes = fx->vols;
	fx->cfg.nr_volumes = 1;
	*state = fx;
	return 0;
}

static int fixture_teardown(void **state)
{
	struct tape_fixture *fx = *state;

	hsm_backend_destroy(fx->be);
	hsm_test_rmtree(fx->dir.path);
	free(fx);
	return 0;
}

/* (Re)create the backend from fx->cfg. */
static void fixture_open(struct tape_fixture *fx)
{
	char err[HSM_ERROR_MAX] = "";

	hsm_backend_destroy(fx->be);
	fx->be = NULL;
	if (hsm_tape_create(&fx->cfg, &fx->be, err, sizeof(err)))
		fail_msg("hsm_tape_create: %s", err);
}

/* snprintf into a PATH_MAX buffer, failing the test when it does not fit */
static void test_pathf(char *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void test_pathf(char *out, const char *fmt, ...)
{
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(out, PATH_MAX, fmt, ap);
	va_end(ap);
	if (len < 0 || len >= PATH_MAX)
		fail_msg("path too long: %s", fmt);
}

static void test_info(struct hsm_object_info *info, uint64_t ino,
		      uint64_t data_version, uint64_t size, const char *path)
{
	memset(info, 0, sizeof(*info));
	strcpy(info->fsid, TEST_FSID);
	info->ino = ino;
	info->data_version = data_version;
	info->size = size;
	info->mtime_sec = 1700000000;
	info->path = path;
}

static int put_pattern(struct hsm_backend *be, uint64_t ino, uint64_t seed,
		       uint64_t size, const char *path,
		       struct hsm_put_result *res)
{
	struct hsm_object_info info;
	struct hsm_test_reader rd;

	test_info(&info, ino, 7, size, path);
	hsm_test_reader_init(&rd, seed, HSM_TEST_PATTERN_RANDOM, size);
	return be->ops->put(be, &info, hsm_test_read, &rd, res);
}

static void put_ok(struct hsm_backend *be, uint64_t ino, uint64_t seed,
		   uint64_t size, struct hsm_put_result *res)
{
	int ret = put_pattern(be, ino, seed, size, "archive/file", res);

	if (ret)
		fail_msg("put of %" PRIu64 " bytes: %d %s", size, ret,
			 hsm_backend_error(be));
}

/* get [offset, offset + length) and check it against the pattern */
static int get_check(struct hsm_backend *be, const char *location,
		     uint64_t seed, uint64_t offset, uint64_t length,
		     uint64_t *bytes, struct hsm_checksum *sum)
{
	struct hsm_test_writer wr;
	struct hsm_checksum got;
	int ret;

	assert_int_equal(hsm_test_writer_init(&wr, seed,
					      HSM_TEST_PATTERN_RANDOM, offset), 0);
	ret = be->ops->get(be, location, offset, length, hsm_test_write, &wr);
	assert_int_equal(wr.mismatches, 0);
	hsm_test_writer_checksum(&wr, &got);
	if (sum)
		*sum = got;
	*bytes = wr.bytes;
	hsm_test_writer_release(&wr);
	return ret;
}

static void round_trip(struct tape_fixture *fx, uint64_t size)
{
	struct hsm_test_pattern pat = { .seed = size + 1 };
	struct hsm_put_result res;
	struct hsm_stat_result st;
	struct hsm_checksum want;
	struct hsm_checksum got;
	struct tape_location loc;
	uint64_t bytes = 0;

	put_ok(fx->be, 100 + size, size + 1, size, &res);
	hsm_test_pattern_checksum(&pat, size, &want);
	assert_true(hsm_checksum_equal(&res.checksum, &want));
	assert_int_equal(res.bytes, size);
	assert_int_equal(tape_location_parse(res.location, &loc), 0);
	assert_string_equal(loc.label, "VOL001");
	assert_true(loc.segment >= TAPE_FIRST_DATA_SEGMENT);
	assert_int_equal(loc.length, size);

	assert_int_equal(get_check(fx->be, res.location, size + 1, 0,
				   UINT64_MAX, &bytes, &got), 0);
	assert_int_equal(bytes, size);
	assert_true(hsm_checksum_equal(&got, &want));

	assert_int_equal(fx->be->ops->stat(fx->be, res.location, &st), 0);
	assert_int_equal(st.bytes, size);
	assert_true(hsm_checksum_equal(&st.checksum, &want));
	assert_int_equal(st.info.ino, 100 + size);
	assert_int_equal(st.info.data_version, 7);
	assert_string_equal(st.info.fsid, TEST_FSID);
	assert_int_equal(fx->be->ops->verify(fx->be, res.location), 0);
}

static void round_trip_of_awkward_sizes_returns_same_bytes(void **state)
{
	struct tape_fixture *fx = *state;
	static const uint64_t sizes[] = { 0, 1, 4096, 12345,
					  TEST_LARGE_BYTES };
	size_t i;

	fx->cfg.segment_bytes = 8 * TEST_MIB;
	fixture_open(fx);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		round_trip(fx, sizes[i]);
	if (hsm_test_large_enabled())
		round_trip(fx, TEST_HUGE_BYTES);
}

static void range_reads_return_exactly_the_range(void **state)
{
	struct tape_fixture *fx = *state;
	static const struct { uint64_t offset, length, expect; } ranges[] = {
		{ 0, 100, 100 },
		{ 100, 1000, 1000 },
		{ 262143, 2, 2 },		/* across a tape block */
		{ 300000, UINT64_MAX, 1048576 + 12345 - 300000 },
		{ 1048576 + 12000, 1000, 345 },	/* clipped at the end */
		{ 1048576 + 12345, 10, 0 },	/* at the end: nothing */
	};
	struct hsm_put_result res;
	uint64_t bytes;
	size_t i;

	fixture_open(fx);
	put_ok(fx->be, 1, 42, TEST_MIB + 12345, &res);
	for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		assert_int_equal(get_check(fx->be, res.location, 42,
					   ranges[i].offset, ranges[i].length,
					   &bytes, NULL), 0);
		assert_int_equal(bytes, ranges[i].expect);
	}
	assert_int_equal(get_check(fx->be, res.location, 42,
				   TEST_MIB + 12346, 1, &bytes, NULL),
			 -EINVAL);
}

struct recall_state {
	struct hsm_test_writer *writers;
	struct tape_location *locs;
	size_t *order;		/* item index, in the order done() ran */
	size_t nr_done;
	struct hsm_tape_recall *items;
};

struct recall_arg {
	struct recall_state *rs;
	size_t index;
};

static int recall_write(struct hsm_tape_recall *item, const void *buf,
			size_t len)
{
	struct recall_arg *ra = item->arg;

	return hsm_test_write(&ra->rs->writers[ra->index], buf, len);
}

static void recall_done(struct hsm_tape_recall *item)
{
	struct recall_arg *ra = item->arg;

	ra->rs->order[ra->rs->nr_done++] = ra->index;
}

static const struct hsm_tape_recall_ops recall_ops = {
	.write = recall_write,
	.done = recall_done,
};

static int location_cmp(const struct tape_location *a,
			const struct tape_location *b)
{
	int ret = strcmp(a->label, b->label);

	if (ret)
		return ret;
	if (a->segment != b->segment)
		return a->segment < b->segment ? -1 : 1;
	if (a->offset != b->offset)
		return a->offset < b->offset ? -1 : 1;
	return 0;
}

static uint64_t small_size(size_t i)
{
	return (i * 7919) % TEST_SMALL_MAX_BYTES;
}

static void small_files_recall_in_position_order_whatever_the_request(
	void **state)
{
	struct tape_fixture *fx = *state;
	struct hsm_put_result *res = calloc(TEST_SMALL_FILES, sizeof(*res));
	struct recall_state rs = { 0 };
	struct recall_arg *args = calloc(TEST_SMALL_FILES, sizeof(*args));
	uint64_t max_segment = 0;
	uint64_t seed = 12345;
	size_t i;

	rs.writers = calloc(TEST_SMALL_FILES, sizeof(*rs.writers));
	rs.locs = calloc(TEST_SMALL_FILES, sizeof(*rs.locs));
	rs.order = calloc(TEST_SMALL_FILES, sizeof(*rs.order));
	rs.items = calloc(TEST_SMALL_FILES, sizeof(*rs.items));
	assert_non_null(res);
	assert_non_null(args);
	assert_non_null(rs.writers);
	assert_non_null(rs.locs);
	assert_non_null(rs.order);
	assert_non_null(rs.items);

	fx->cfg.segment_bytes = TEST_SMALL_SEGMENT_BYTES;
	fx->cfg.durability = HSM_TAPE_SYNC_ON_FLUSH;
	fixture_open(fx);
	for (i = 0; i < TEST_SMALL_FILES; i++) {
		assert_int_equal(put_pattern(fx->be, i + 1, i + 1,
					     small_size(i), "small", &res[i]),
				 0);
		assert_int_equal(tape_location_parse(res[i].location,
						     &rs.locs[i]), 0);
		if (rs.locs[i].segment > max_segment)
			max_segment = rs.locs[i].segment;
	}
	assert_int_equal(hsm_tape_flush(fx->be), 0);
	/* aggregated: many files per segment, but more than one segment */
	assert_true(max_segment > TAPE_FIRST_DATA_SEGMENT + 5);
	assert_true(max_segment < TEST_SMALL_FILES / 100);

	/* ask in a shuffled order */
	for (i = 0; i < TEST_SMALL_FILES; i++) {
		args[i].rs = &rs;
		args[i].index = i;
		assert_int_equal(hsm_test_writer_init(&rs.writers[i], i + 1,
				 HSM_TEST_PATTERN_RANDOM, 0), 0);
	}
	for (i = 0; i < TEST_SMALL_FILES; i++) {
		size_t j;
		size_t k = i;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		j = (size_t)(seed >> 33) % (i + 1);
		/* inside-out Fisher-Yates of the item indexes */
		rs.items[k] = rs.items[j];
		rs.items[j].location = res[i].location;
		rs.items[j].arg = &args[i];
	}
	assert_int_equal(hsm_tape_recall_batch(fx->be, rs.items,
					       TEST_SMALL_FILES, &recall_ops),
			 0);

	assert_int_equal(rs.nr_done, TEST_SMALL_FILES);
	for (i = 1; i < TEST_SMALL_FILES; i++)
		assert_true(location_cmp(&rs.locs[rs.order[i - 1]],
					 &rs.locs[rs.order[i]]) < 0);
	for (i = 0; i < TEST_SMALL_FILES; i++) {
		struct hsm_checksum sum;

		assert_int_equal(rs.items[i].result, 0);
		assert_int_equal(rs.writers[i].bytes, small_size(i));
		assert_int_equal(rs.writers[i].mismatches, 0);
		hsm_test_writer_checksum(&rs.writers[i], &sum);
		assert_true(hsm_checksum_equal(&sum, &res[i].checksum));
		hsm_test_writer_release(&rs.writers[i]);
	}
	free(rs.writers);
	free(rs.locs);
	free(rs.order);
	free(rs.items);
	free(args);
	free(res);
}

static void full_volume_moves_on_to_the_next_volume(void **state)
{
	struct tape_fixture *fx = *state;
	struct hsm_put_result res[12];
	struct tape_location loc;
	char path[PATH_MAX];
	uint64_t bytes;
	int64_t total;
	unsigned int seg;
	int on_vol[3] = { 0 };
	size_t i;

	fx->cfg.nr_volumes = 3;
	fx->cfg.default_capacity = 256 * TEST_KIB;
	fx->cfg.segment_bytes = 64 * TEST_KIB;
	fixture_open(fx);

	/* 12 x 40 KiB: 5 or so fit a 256 KiB volume with headers */
	for (i = 0; i < 12; i++) {
		put_ok(fx->be, i + 1, i + 1, 40 * TEST_KIB, &res[i]);
		assert_int_equal(tape_location_parse(res[i].location, &loc), 0);
		on_vol[loc.label[5] - '1']++;
	}
	assert_true(on_vol[0] > 0 && on_vol[1] > 0 && on_vol[2] > 0);
	assert_int_equal(on_vol[0] + on_vol[1] + on_vol[2], 12);

	/* no volume holds more than its capacity */
	for (i = 0; i < 3; i++) {
		total = 0;
		for (seg = 0;; seg++) {
			int64_t size;

			test_pathf(path, "%s/%s/%u.pax",
				 fx->dir.path, fx->vols[i].label, seg);
			size = hsm_test_file_size(path);
			if (size < 0)
				break;
			total += size;
		}
		assert_true(total <= (int64_t)(256 * TEST_KIB));
	}
	for (i = 0; i < 12; i++)
		assert_int_equal(get_check(fx->be, res[i].location, i + 1, 0,
					   UINT64_MAX, &bytes, NULL), 0);

	/* bigger than a whole volume: a clear error, nothing written */
	assert_int_equal(put_pattern(fx->be, 99, 99, 300 * TEST_KIB, "big",
				     &res[0]), -EFBIG);
	assert_non_null(strstr(hsm_backend_error(fx->be), "never fit"));

	/* filling the last volume: no more room anywhere */
	for (i = 0; i < 12; i++) {
		int ret = put_pattern(fx->be, 200 + i, 1, 40 * TEST_KIB,
				      "more", &res[0]);

		if (ret) {
			assert_int_equal(ret, -ENOSPC);
			assert_non_null(strstr(hsm_backend_error(fx->be),
					       "full"));
			break;
		}
	}
	assert_true(i < 12);
}

static void auto_created_volumes_follow_the_list(void **state)
{
	struct tape_fixture *fx = *state;
	struct hsm_put_result res;
	struct tape_location loc;
	size_t i;

	fx->cfg.nr_volumes = 1;
	fx->cfg.default_capacity = 64 * TEST_KIB;
	fx->cfg.auto_label_prefix = "AUTO";
	fixture_open(fx);
	for (i = 0; i < 6; i++)
		put_ok(fx->be, i + 1, i + 1, 30 * TEST_KIB, &res);
	assert_int_equal(tape_location_parse(res.location, &loc), 0);
	assert_memory_equal(loc.label, "AUTO00000", 9);
}

struct scan_result {
	size_t nr;
	size_t nr_unsealed;
	struct hsm_tape_scan_entry entries[64];
	char paths[64][64];
};

static int scan_collect(void *arg, const struct hsm_tape_scan_entry *ent)
{
	struct scan_result *sr = arg;

	if (!ent->is_sealed) {
		sr->nr_unsealed++;
		return 0;
	}
	if (sr->nr == 64)
		return -E2BIG;
	sr->entries[sr->nr] = *ent;
	snprintf(sr->paths[sr->nr], sizeof(sr->paths[0]), "%s",
		 ent->info.path ? ent->info.path : "");
	sr->entries[sr->nr].info.path = sr->paths[sr->nr];
	sr->nr++;
	return 0;
}

static void scan_lists_every_copy_without_the_catalog(void **state)
{
	struct tape_fixture *fx = *state;
	struct hsm_put_result res[40];
	struct scan_result *sr = calloc(1, sizeof(*sr));
	char path[64];
	size_t i;

	assert_non_null(sr);
	fx->cfg.segment_bytes = 16 * TEST_KIB;
	fixture_open(fx);
	for (i = 0; i < 40; i++) {
		struct hsm_object_info info;
		struct hsm_test_reader rd;

		snprintf(path, sizeof(path), "/mnt/scoutfs/dir %zu/file:%zu",
			 i % 3, i);
		test_info(&info, 1000 + i, 50 + i, i * 311, path);
		hsm_test_reader_init(&rd, i, HSM_TEST_PATTERN_RANDOM, i * 311);
		assert_int_equal(fx->be->ops->put(fx->be, &info, hsm_test_read,
						  &rd, &res[i]), 0);
	}
	/* a fresh backend that knows nothing of what was written */
	fixture_open(fx);
	assert_int_equal(hsm_tape_scan_volume(fx->be, "VOL001", scan_collect,
					      sr), 0);
	assert_int_equal(sr->nr, 40);
	assert_int_equal(sr->nr_unsealed, 0);
	for (i = 0; i < 40; i++) {
		const struct hsm_tape_scan_entry *ent = &sr->entries[i];

		snprintf(path, sizeof(path), "/mnt/scoutfs/dir %zu/file:%zu",
			 i % 3, i);
		assert_string_equal(ent->location, res[i].location);
		assert_string_equal(ent->info.fsid, TEST_FSID);
		assert_int_equal(ent->info.ino, 1000 + i);
		assert_int_equal(ent->info.data_version, 50 + i);
		assert_int_equal(ent->info.size, i * 311);
		assert_int_equal(ent->info.mtime_sec, 1700000000);
		assert_string_equal(ent->info.path, path);
		assert_true(hsm_checksum_equal(&ent->checksum,
					       &res[i].checksum));
	}
	free(sr);
}

/* The metadata is in real pax records that any pax reader sees. */
static void entries_carry_metadata_in_pax_records(void **state)
{
	struct tape_fixture *fx = *state;
	struct hsm_put_result res;
	struct tape_location loc;
	char sum_text[HSM_CHECKSUM_TEXT_MAX];
	char record[128];
	char path[PATH_MAX];
	char *buf;
	int64_t size;
	int fd;

	fixture_open(fx);
	put_ok(fx->be, 77, 5, 3000, &res);
	assert_int_equal(hsm_tape_flush(fx->be), 0);
	assert_int_equal(tape_location_parse(res.location, &loc), 0);
	test_pathf(path, "%s/VOL001/%" PRIu64 ".pax",
		 fx->dir.path, loc.segment);
	size = hsm_test_file_size(path);
	assert_true(size > 0);
	buf = malloc((size_t)size);
	assert_non_null(buf);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, (size_t)size), size);
	close(fd);

	hsm_checksum_to_text(&res.checksum, sum_text);
	snprintf(record, sizeof(record), "SCHILY.xattr.scoutfs.checksum=%s",
		 sum_text);
	assert_non_null(memmem(buf, (size_t)size, record, strlen(record)));
	snprintf(record, sizeof(record), "SCHILY.xattr.scoutfs.fsid=%s",
		 TEST_FSID);
	assert_non_null(memmem(buf, (size_t)size, record, strlen(record)));
	snprintf(record, sizeof(record), "SCHILY.xattr.scoutfs.ino=77\n");
	assert_non_null(memmem(buf, (size_t)size, record, strlen(record)));
	snprintf(record, sizeof(record),
		 "SCHILY.xattr.scoutfs.data_version=7\n");
	assert_non_null(memmem(buf, (size_t)size, record, strlen(record)));
	free(buf);
}

static void corrupted_byte_is_a_checksum_mismatch(void **state)
{
	struct tape_fixture *fx = *state;
	struct hsm_test_pattern pat = { .seed = 9 };
	struct hsm_put_result res;
	struct tape_location loc;
	uint8_t head[64];
	char path[PATH_MAX];
	uint64_t bytes;
	uint8_t *buf;
	uint8_t *found;
	int64_t size;
	int fd;

	fixture_open(fx);
	put_ok(fx->be, 9, 9, 4096, &res);
	assert_int_equal(hsm_tape_flush(fx->be), 0);
	assert_int_equal(tape_location_parse(res.location, &loc), 0);

	/* find the file's bytes in the segment and flip one of them */
	test_pathf(path, "%s/VOL001/%" PRIu64 ".pax",
		 fx->dir.path, loc.segment);
	size = hsm_test_file_size(path);
	buf = malloc((size_t)size);
	assert_non_null(buf);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, (size_t)size), size);
	close(fd);
	hsm_test_pattern_fill(&pat, 0, head, sizeof(head));
	found = memmem(buf, (size_t)size, head, sizeof(head));
	assert_non_null(found);
	assert_true((uint64_t)(found - buf) > loc.offset);
	assert_int_equal(hsm_test_flip_byte(path, (found - buf) + 2000, 0x10),
			 0);
	free(buf);

	assert_int_equal(fx->be->ops->verify(fx->be, res.location), -EBADMSG);
	assert_non_null(strstr(hsm_backend_error(fx->be), "checksum mismatch"));
	assert_int_equal(fx->be->ops->get(fx->be, res.location, 0, UINT64_MAX,
					  NULL, NULL), -EBADMSG);
	/* a range read is not checked: it returns what is there */
	assert_int_equal(get_check(fx->be, res.location, 9, 0, 1000, &bytes,
				   NULL), 0);
	assert_int_equal(bytes, 1000);
}

/*
 * SYNC_EACH_PUT: once put() returns, the copy is on the volume, complete
 * with its seal, while the segment is still open for more; another
 * instance (a restarted agent) can read and scan it.
 */
static void put_returns_a_readable_copy_before_any_flush(void **state)
{
	struct tape_fixture *fx = *state;
	struct scan_result *sr = calloc(1, sizeof(*sr));
	struct hsm_backend *other = NULL;
	struct hsm_put_result res[2];
	char err[HSM_ERROR_MAX];

	assert_non_null(sr);
	fixture_open(fx);
	put_ok(fx->be, 1, 1, 3000, &res[0]);
	put_ok(fx->be, 2, 2, 300 * TEST_KIB, &res[1]);

	assert_int_equal(hsm_tape_create(&fx->cfg, &other, err, sizeof(err)),
			 0);
	assert_int_equal(other->ops->verify(other, res[0].location), 0);
	assert_int_equal(other->ops->verify(other, res[1].location), 0);
	assert_int_equal(hsm_tape_scan_volume(other, "VOL001", scan_collect,
					      sr), 0);
	assert_int_equal(sr->nr, 2);
	hsm_backend_destroy(other);
	free(sr);
}

static void failed_source_leaves_no_copy_behind(void **state)
{
	struct tape_fixture *fx = *state;
	struct hsm_object_info info;
	struct hsm_test_reader rd;
	struct hsm_put_result res[2];
	struct scan_result *sr = calloc(1, sizeof(*sr));
	uint64_t bytes;

	assert_non_null(sr);
	fixture_open(fx);
	put_ok(fx->be, 1, 1, 5000, &res[0]);

	test_info(&info, 2, 1, 600 * TEST_KIB, "broken");
	hsm_test_reader_init(&rd, 2, HSM_TEST_PATTERN_RANDOM, info.size);
	rd.fail_at = 300 * TEST_KIB;
	rd.fail_err = -EIO;
	assert_int_equal(fx->be->ops->put(fx->be, &info, hsm_test_read, &rd,
					  &res[1]), -EIO);
	assert_string_equal(res[1].location, "");

	/* a source shorter than its size is not a copy either */
	hsm_test_reader_init(&rd, 2, HSM_TEST_PATTERN_RANDOM, 100);
	info.size = 200;
	assert_int_equal(fx->be->ops->put(fx->be, &info, hsm_test_read, &rd,
					  &res[1]), -EIO);

	put_ok(fx->be, 3, 3, 7000, &res[1]);
	assert_int_equal(hsm_tape_flush(fx->be), 0);
	assert_int_equal(get_check(fx->be, res[0].location, 1, 0, UINT64_MAX,
				   &bytes, NULL), 0);
	assert_int_equal(get_check(fx->be, res[1].location, 3, 0, UINT64_MAX,
				   &bytes, NULL), 0);
	assert_int_equal(hsm_tape_scan_volume(fx->be, "VOL001", scan_collect,
					      sr), 0);
	assert_int_equal(sr->nr, 2);
	assert_int_equal(sr->nr_unsealed, 0);
	free(sr);
}

static void torn_segment_reports_unsealed_copy(void **state)
{
	struct tape_fixture *fx = *state;
	struct scan_result *sr = calloc(1, sizeof(*sr));
	struct hsm_put_result res[3];
	struct tape_location loc;
	char path[PATH_MAX];
	size_t i;

	assert_non_null(sr);
	fixture_open(fx);
	for (i = 0; i < 3; i++)
		put_ok(fx->be, i + 1, i + 1, 10000, &res[i]);
	assert_int_equal(hsm_tape_flush(fx->be), 0);

	/* cut the last file's data short, as a crash would */
	assert_int_equal(tape_location_parse(res[2].location, &loc), 0);
	test_pathf(path, "%s/VOL001/%" PRIu64 ".pax",
		 fx->dir.path, loc.segment);
	assert_int_equal(truncate(path, (off_t)loc.offset + 5000), 0);

	assert_int_equal(hsm_tape_scan_volume(fx->be, "VOL001", scan_collect,
					      sr), -EIO);
	assert_int_equal(sr->nr, 2);
	assert_int_equal(sr->nr_unsealed, 1);
	assert_int_equal(fx->be->ops->verify(fx->be, res[1].location), 0);
	assert_int_not_equal(fx->be->ops->verify(fx->be, res[2].location), 0);
	free(sr);
}

static void wrong_volume_label_is_refused(void **state)
{
	struct tape_fixture *fx = *state;
	struct hsm_put_result res;
	char from[PATH_MAX];
	char to[PATH_MAX];

	fixture_open(fx);
	put_ok(fx->be, 1, 1, 100, &res);
	assert_int_equal(hsm_tape_flush(fx->be), 0);
	test_pathf(from, "%s/VOL001", fx->dir.path);
	test_pathf(to, "%s/VOL002", fx->dir.path);
	assert_int_equal(rename(from, to), 0);
	res.location[10] = '2';	/* tape:VOL00[1] */
	assert_int_equal(fx->be->ops->verify(fx->be, res.location),
			 -EMEDIUMTYPE);
	assert_non_null(strstr(hsm_backend_error(fx->be), "wrong volume"));
}

static void bad_locations_are_rejected(void **state)
{
	struct tape_fixture *fx = *state;
	static const char *const bad[] = {
		"", "tape:", "tape:VOL001:1:2", "tape:VOL001:1:2:3:4",
		"tape:VOL001:x:2:3", "tape::1:2:3", "dir:VOL001:1:2:3",
		"tape:VOL001:1:-2:3", "tape:VOL001:1:2:99999999999999999999",
		"tape:.hidden:1:2:3",
	};
	struct tape_location loc = { .label = "L-1", .segment = 1,
				     .offset = 2, .length = 3 };
	char text[HSM_LOCATION_MAX];
	size_t i;

	assert_int_equal(tape_location_format(&loc, text, sizeof(text)), 0);
	assert_string_equal(text, "tape:L-1:1:2:3");
	memset(&loc, 0, sizeof(loc));
	assert_int_equal(tape_location_parse(text, &loc), 0);
	assert_string_equal(loc.label, "L-1");
	assert_int_equal(loc.offset, 2);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(tape_location_parse(bad[i], &loc), -EINVAL);

	fixture_open(fx);
	assert_int_equal(fx->be->ops->verify(fx->be, "tape:VOL001:1:0:1"),
			 -ENOENT);
	assert_int_equal(fx->be->ops->verify(fx->be, "bogus"), -EINVAL);
}

static void changer_command_is_mtx_load_slot_drive(void **state)
{
	struct tape_fixture *fx = *state;
	struct hsm_tape_changer_config cfg = {
		.mtx_path = "/usr/sbin/mtx", .device = "/dev/sg3", .drive = 1,
	};
	struct hsm_tape_changer_cmd cmd;
	struct hsm_backend be = { 0 };
	char script[PATH_MAX];
	char out[PATH_MAX];
	char text[256] = "";
	FILE *f;

	assert_int_equal(hsm_tape_changer_build(&cfg, HSM_TAPE_CHANGER_LOAD,
						12, &cmd), 0);
	assert_string_equal(cmd.argv[0], "/usr/sbin/mtx");
	assert_string_equal(cmd.argv[1], "-f");
	assert_string_equal(cmd.argv[2], "/dev/sg3");
	assert_string_equal(cmd.argv[3], "load");
	assert_string_equal(cmd.argv[4], "12");
	assert_string_equal(cmd.argv[5], "1");
	assert_null(cmd.argv[6]);
	assert_int_equal(hsm_tape_changer_build(&cfg, HSM_TAPE_CHANGER_UNLOAD,
						3, &cmd), 0);
	assert_string_equal(cmd.argv[3], "unload");
	cfg.device = NULL;
	assert_int_equal(hsm_tape_changer_build(&cfg, HSM_TAPE_CHANGER_LOAD,
						1, &cmd), -EINVAL);

	/* run it: a fake mtx records its arguments */
	test_pathf(script, "%s/mtx", fx->dir.path);
	test_pathf(out, "%s/args", fx->dir.path);
	f = fopen(script, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\necho \"$@\" > '%s'\n", out);
	fclose(f);
	assert_int_equal(chmod(script, 0700), 0);
	cfg.mtx_path = script;
	cfg.device = "/dev/sg3";
	assert_int_equal(hsm_tape_changer_build(&cfg, HSM_TAPE_CHANGER_LOAD,
						4, &cmd), 0);
	assert_int_equal(hsm_tape_changer_run(&be, &cmd), 0);
	f = fopen(out, "r");
	assert_non_null(f);
	assert_non_null(fgets(text, sizeof(text), f));
	fclose(f);
	assert_string_equal(text, "-f /dev/sg3 load 4 1\n");

	/* a failing changer is an error naming the command */
	cfg.mtx_path = "/bin/false";
	assert_int_equal(hsm_tape_changer_build(&cfg, HSM_TAPE_CHANGER_LOAD,
						4, &cmd), 0);
	assert_int_equal(hsm_tape_changer_run(&be, &cmd), -EIO);
	assert_non_null(strstr(hsm_backend_error(&be), "/bin/false"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define TAPE_TEST(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, \
						      fixture_teardown)
		TAPE_TEST(round_trip_of_awkward_sizes_returns_same_bytes),
		TAPE_TEST(range_reads_return_exactly_the_range),
		TAPE_TEST(small_files_recall_in_position_order_whatever_the_request),
		TAPE_TEST(full_volume_moves_on_to_the_next_volume),
		TAPE_TEST(auto_created_volumes_follow_the_list),
		TAPE_TEST(scan_lists_every_copy_without_the_catalog),
		TAPE_TEST(entries_carry_metadata_in_pax_records),
		TAPE_TEST(corrupted_byte_is_a_checksum_mismatch),
		TAPE_TEST(put_returns_a_readable_copy_before_any_flush),
		TAPE_TEST(failed_source_leaves_no_copy_behind),
		TAPE_TEST(torn_segment_reports_unsealed_copy),
		TAPE_TEST(wrong_volume_label_is_refused),
		TAPE_TEST(bad_locations_are_rejected),
		TAPE_TEST(changer_command_is_mtx_load_slot_drive),
#undef TAPE_TEST
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
