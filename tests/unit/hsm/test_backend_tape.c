// SPDX-License-Identifier: GPL-2.0
/*
 * test_backend_tape.c: the tape backend on file-backed volumes keeps the
 * promises of backend.h and backend_tape.h: round trips of awkward sizes,
 * range reads, thousands of small files aggregated into segments and
 * recalled in position order, moving on to the next volume when one is
 * full, reading a volume back with no catalog, catching a corrupted
 * byte, copies committable only after their segment's file mark, copies
 * located by block address, an injected drive error while spacing being
 * an I/O error, the position-ordering helper loading each volume once on
 * a simulated drive, and the changer: `mtx status` parsing and loads by
 * barcode against a changer emulation (a stateful fake mtx on PATH).  The
 * same code drives a real st(4) drive; its ioctls (MTSEEK, MTIOCPOS,
 * MTSETBLK, MTOFFL, the ready wait) cannot run here.  Each test gets its
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
	fx->cfg.durability = HSM_TAPE_SYNC_EACH_PUT;
	fixture_open(fx);
	put_ok(fx->be, 1, 1, 3000, &res[0]);
	put_ok(fx->be, 2, 2, 300 * TEST_KIB, &res[1]);
	assert_int_equal(hsm_backend_committed(fx->be, res[0].location), 1);
	assert_int_equal(hsm_backend_committed(fx->be, res[1].location), 1);

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

struct commit_log {
	size_t nr;
	char locations[16][HSM_LOCATION_MAX];
	int results[16];
};

static void commit_record(void *arg, const char *location, int result)
{
	struct commit_log *log = arg;

	assert_true(log->nr < 16);
	snprintf(log->locations[log->nr], HSM_LOCATION_MAX, "%s", location);
	log->results[log->nr++] = result;
}

/*
 * The default: no flush per file.  Copies of a segment without its file
 * mark are not committable (not even on the volume yet: another instance
 * sees none of them); they are reported, in put order, once the segment
 * ends, and a segment whose file mark fails reports them lost.
 */
static void copies_commit_only_after_their_file_mark(void **state)
{
	struct tape_fixture *fx = *state;
	struct commit_log *log = calloc(1, sizeof(*log));
	struct scan_result *sr = calloc(1, sizeof(*sr));
	struct hsm_backend *other = NULL;
	struct hsm_put_result res[4];
	struct hsm_tape_stats st;
	char err[HSM_ERROR_MAX];
	size_t i;

	assert_non_null(log);
	assert_non_null(sr);
	fx->cfg.segment_bytes = 64 * TEST_KIB;
	fixture_open(fx);
	hsm_tape_set_commit_fn(fx->be, commit_record, log);
	for (i = 0; i < 3; i++) {
		put_ok(fx->be, i + 1, i + 1, 10 * TEST_KIB, &res[i]);
		assert_int_equal(hsm_backend_committed(fx->be,
						       res[i].location), 0);
	}
	assert_int_equal(log->nr, 0);
	hsm_tape_get_stats(fx->be, &st);
	assert_int_equal(st.syncs, 0);
	assert_int_equal(st.file_marks, 1);	/* the label segment's */
	assert_int_equal(hsm_tape_create(&fx->cfg, &other, err, sizeof(err)),
			 0);
	assert_int_equal(hsm_tape_scan_volume(other, "VOL001", scan_collect,
					      sr), 0);
	assert_int_equal(sr->nr, 0);

	/* this one does not fit the segment: the first three commit */
	put_ok(fx->be, 4, 4, 40 * TEST_KIB, &res[3]);
	assert_int_equal(log->nr, 3);
	for (i = 0; i < 3; i++) {
		assert_string_equal(log->locations[i], res[i].location);
		assert_int_equal(log->results[i], 0);
		assert_int_equal(hsm_backend_committed(fx->be,
						       res[i].location), 1);
		assert_int_equal(other->ops->verify(other, res[i].location), 0);
	}
	assert_int_equal(hsm_backend_committed(fx->be, res[3].location), 0);
	assert_int_equal(hsm_tape_flush(fx->be), 0);
	assert_int_equal(log->nr, 4);
	assert_string_equal(log->locations[3], res[3].location);
	assert_int_equal(log->results[3], 0);
	assert_int_equal(hsm_backend_committed(fx->be, res[3].location), 1);
	hsm_tape_get_stats(fx->be, &st);
	assert_int_equal(st.syncs, 0);
	assert_int_equal(st.file_marks, 3);

	/* a file mark that cannot be written: both copies are void */
	fx->cfg.sim.mark_error = -EIO;
	fixture_open(fx);
	memset(log, 0, sizeof(*log));
	hsm_tape_set_commit_fn(fx->be, commit_record, log);
	put_ok(fx->be, 5, 5, 1000, &res[0]);
	put_ok(fx->be, 6, 6, 1000, &res[1]);
	assert_int_equal(hsm_tape_flush(fx->be), -EIO);
	assert_int_equal(log->nr, 2);
	assert_int_equal(log->results[0], -EIO);
	assert_int_equal(log->results[1], -EIO);
	assert_int_equal(hsm_backend_committed(fx->be, res[0].location), -EIO);
	assert_int_equal(hsm_backend_committed(fx->be, res[1].location), -EIO);
	hsm_backend_destroy(other);
	free(sr);
	free(log);
}

/* SYNC_EACH_PUT, asked for: one drive flush per file. */
static void each_put_mode_flushes_every_file(void **state)
{
	struct tape_fixture *fx = *state;
	struct hsm_put_result res;
	struct hsm_tape_stats st;
	size_t i;

	fx->cfg.durability = HSM_TAPE_SYNC_EACH_PUT;
	fixture_open(fx);
	for (i = 0; i < 5; i++) {
		put_ok(fx->be, i + 1, i + 1, 2000, &res);
		assert_int_equal(hsm_backend_committed(fx->be, res.location),
				 1);
	}
	hsm_tape_get_stats(fx->be, &st);
	assert_int_equal(st.syncs, 5);
}

/* The same location without its block address, as older agents wrote. */
static void strip_block(const char *location, char *out)
{
	struct tape_location loc;

	assert_int_equal(tape_location_parse(location, &loc), 0);
	assert_true(loc.has_block);
	loc.has_block = false;
	assert_int_equal(tape_location_format(&loc, out, HSM_LOCATION_MAX), 0);
}

/*
 * A copy is reached by its block address: one locate, and only its own
 * blocks read, where spacing to the segment reads through everything
 * before it.  Block addresses of file-backed volumes count 512-byte
 * records and one per file mark.
 */
static void copies_are_located_by_block_address(void **state)
{
	struct tape_fixture *fx = *state;
	struct hsm_put_result res[10];
	struct hsm_tape_stats st;
	struct tape_location loc;
	char old[HSM_LOCATION_MAX];
	char path[PATH_MAX];
	uint64_t bytes;
	int64_t label_bytes;
	size_t i;

	fx->cfg.segment_bytes = 4 * TEST_MIB;
	fixture_open(fx);
	for (i = 0; i < 10; i++)
		put_ok(fx->be, i + 1, i + 1, 200 * TEST_KIB, &res[i]);
	assert_int_equal(hsm_tape_flush(fx->be), 0);

	test_pathf(path, "%s/VOL001/0.pax", fx->dir.path);
	label_bytes = hsm_test_file_size(path);
	assert_true(label_bytes > 0);
	for (i = 0; i < 10; i++) {
		assert_int_equal(tape_location_parse(res[i].location, &loc), 0);
		assert_true(loc.has_block);
		assert_int_equal(loc.segment, 1);
		assert_int_equal(loc.block_skip, 0);
		assert_int_equal(loc.block, (uint64_t)label_bytes / 512 + 1 +
				 loc.offset / 512);
	}

	fixture_open(fx);	/* nothing cached */
	assert_int_equal(get_check(fx->be, res[8].location, 9, 0, UINT64_MAX,
				   &bytes, NULL), 0);
	assert_int_equal(bytes, 200 * TEST_KIB);
	hsm_tape_get_stats(fx->be, &st);
	assert_int_equal(st.locates, 1);
	assert_int_equal(st.spaces, 1);		/* to the label segment */
	assert_true(st.bytes_read < (uint64_t)label_bytes +
		    200 * TEST_KIB + 2 * HSM_TAPE_DEFAULT_BLOCK_SIZE);

	/* the old way reads the whole segment up to the copy */
	strip_block(res[8].location, old);
	fixture_open(fx);
	assert_int_equal(get_check(fx->be, old, 9, 0, UINT64_MAX, &bytes,
				   NULL), 0);
	hsm_tape_get_stats(fx->be, &st);
	assert_int_equal(st.locates, 0);
	assert_int_equal(st.spaces, 2);
	assert_true(st.bytes_read >= 8 * 200 * TEST_KIB);

	/* an address that is not in the location's segment */
	assert_int_equal(tape_location_parse(res[8].location, &loc), 0);
	loc.block += 1;
	assert_int_equal(tape_location_format(&loc, old, sizeof(old)), 0);
	assert_int_equal(fx->be->ops->verify(fx->be, old), -ENOENT);
}

/*
 * A drive failing while spacing over file marks is an I/O error, never
 * "no copy there" (which would let the catalog forget a good copy).
 */
static void eio_while_spacing_is_an_io_error_not_a_missing_copy(void **state)
{
	struct tape_fixture *fx = *state;
	struct scan_result *sr = calloc(1, sizeof(*sr));
	struct hsm_tape_recall items[2];
	struct hsm_put_result res[2];
	struct hsm_test_writer wr[2];
	struct recall_arg args[2];
	struct recall_state rs = { 0 };
	size_t order[2];
	char old[2][HSM_LOCATION_MAX];
	size_t i;

	assert_non_null(sr);
	fixture_open(fx);
	put_ok(fx->be, 1, 1, 3000, &res[0]);
	put_ok(fx->be, 2, 2, 4000, &res[1]);
	assert_int_equal(hsm_tape_flush(fx->be), 0);
	strip_block(res[0].location, old[0]);
	strip_block(res[1].location, old[1]);

	fx->cfg.sim.space_error = -EIO;
	fixture_open(fx);
	assert_int_equal(fx->be->ops->verify(fx->be, old[0]), -EIO);
	assert_null(strstr(hsm_backend_error(fx->be), "no segment"));
	assert_int_equal(hsm_tape_scan_volume(fx->be, "VOL001", scan_collect,
					      sr), -EIO);
	rs.writers = wr;
	rs.order = order;
	for (i = 0; i < 2; i++) {
		assert_int_equal(hsm_test_writer_init(&wr[i], i + 1,
				 HSM_TEST_PATTERN_RANDOM, 0), 0);
		args[i].rs = &rs;
		args[i].index = i;
		items[i].location = old[i];
		items[i].arg = &args[i];
	}
	assert_int_equal(hsm_tape_recall_batch(fx->be, items, 2, &recall_ops),
			 -EIO);
	assert_int_equal(items[0].result, -EIO);
	assert_int_equal(items[1].result, -EIO);
	for (i = 0; i < 2; i++)
		hsm_test_writer_release(&wr[i]);

	/* a locate does not space: the copies are still readable */
	assert_int_equal(fx->be->ops->verify(fx->be, res[0].location), 0);
	assert_int_equal(fx->be->ops->verify(fx->be, res[1].location), 0);
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
	loc.has_block = true;
	loc.block = 40;
	loc.block_skip = 2;
	assert_int_equal(tape_location_format(&loc, text, sizeof(text)), 0);
	assert_string_equal(text, "tape:L-1:1:2:3:40:2");
	memset(&loc, 0, sizeof(loc));
	assert_int_equal(tape_location_parse(text, &loc), 0);
	assert_true(loc.has_block);
	assert_int_equal(loc.block, 40);
	assert_int_equal(loc.block_skip, 2);
	/* the skip is inside the entry's offset, never past it */
	assert_int_equal(tape_location_parse("tape:L-1:1:2:3:40:3", &loc),
			 -EINVAL);
	assert_int_equal(tape_location_parse("tape:L-1:1:2:3:40", &loc),
			 -EINVAL);
	loc.has_block = false;
	strcpy(text, "tape:L-1:1:2:3");
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

/*
 * A changer emulation for tests: a shell script named mtx that keeps the
 * library's state in a file, one line per element ("D <drive> <tag> <src>",
 * "S <slot> <tag> [IE]", tag "-" for empty, "?" for a volume without a
 * barcode), prints `mtx status` in mtx's format, refuses impossible moves
 * as mtx does, and logs every invocation.
 */
static const char fake_mtx[] =
	"#!/bin/sh\n"
	"state='%s/mtx.state'; log='%s/mtx.log'\n"
	"echo \"$*\" >> \"$log\"\n"
	"[ \"$1\" = -f ] || exit 2\n"
	"dev=$2; op=$3; slot=$4; drive=$5\n"
	"case \"$op\" in\n"
	"status)\n"
	"  awk -v dev=\"$dev\" '\n"
	"    { l[NR] = $0 } $1 == \"D\" { nd++ } $1 == \"S\" { ns++ }\n"
	"    END {\n"
	"      printf \"  Storage Changer %%s:%%d Drives, %%d Slots ( 1 Import/Export )\\n\", dev, nd, ns\n"
	"      for (i = 1; i <= NR; i++) {\n"
	"        split(l[i], f, \" \")\n"
	"        if (f[1] == \"D\") {\n"
	"          if (f[3] == \"-\") printf \"Data Transfer Element %%s:Empty\\n\", f[2]\n"
	"          else if (f[3] == \"?\") printf \"Data Transfer Element %%s:Full (Storage Element %%s Loaded)\\n\", f[2], f[4]\n"
	"          else printf \"Data Transfer Element %%s:Full (Storage Element %%s Loaded):VolumeTag = %%s                \\n\", f[2], f[4], f[3]\n"
	"        } else {\n"
	"          ie = f[4] == \"IE\" ? \" IMPORT/EXPORT\" : \"\"\n"
	"          if (f[3] == \"-\") printf \"      Storage Element %%s%%s:Empty\\n\", f[2], ie\n"
	"          else if (f[3] == \"?\") printf \"      Storage Element %%s%%s:Full \\n\", f[2], ie\n"
	"          else printf \"      Storage Element %%s%%s:Full :VolumeTag=%%s          \\n\", f[2], ie, f[3]\n"
	"        }\n"
	"      }\n"
	"    }' \"$state\" ;;\n"
	"load)\n"
	"  t=$(awk -v s=\"$slot\" '$1 == \"S\" && $2 == s { print $3 }' \"$state\")\n"
	"  d=$(awk -v d=\"$drive\" '$1 == \"D\" && $2 == d { print $3 }' \"$state\")\n"
	"  [ -n \"$t\" ] && [ \"$t\" != - ] || { echo \"slot $slot empty\" >&2; exit 1; }\n"
	"  [ \"$d\" = - ] || { echo \"drive $drive full\" >&2; exit 1; }\n"
	"  awk -v s=\"$slot\" -v d=\"$drive\" -v t=\"$t\" '\n"
	"    $1 == \"S\" && $2 == s { $3 = \"-\" } $1 == \"D\" && $2 == d { $3 = t; $4 = s } { print }' \\\n"
	"    \"$state\" > \"$state.new\" && mv \"$state.new\" \"$state\" ;;\n"
	"unload)\n"
	"  t=$(awk -v s=\"$slot\" '$1 == \"S\" && $2 == s { print $3 }' \"$state\")\n"
	"  d=$(awk -v d=\"$drive\" '$1 == \"D\" && $2 == d { print $3 }' \"$state\")\n"
	"  [ \"$t\" = - ] || { echo \"slot $slot full\" >&2; exit 1; }\n"
	"  [ -n \"$d\" ] && [ \"$d\" != - ] || { echo \"drive $drive empty\" >&2; exit 1; }\n"
	"  awk -v s=\"$slot\" -v d=\"$drive\" -v t=\"$d\" '\n"
	"    $1 == \"S\" && $2 == s { $3 = t } $1 == \"D\" && $2 == d { $3 = \"-\"; $4 = 0 } { print }' \\\n"
	"    \"$state\" > \"$state.new\" && mv \"$state.new\" \"$state\" ;;\n"
	"*) exit 2 ;;\n"
	"esac\n";

/* Install the fake mtx in dir, first on PATH, with this library state. */
static void fake_mtx_install(const char *dir, const char *state)
{
	char path[PATH_MAX];
	char newpath[8192];
	const char *old = getenv("PATH");
	FILE *f;

	test_pathf(path, "%s/mtx", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, fake_mtx, dir, dir);
	fclose(f);
	assert_int_equal(chmod(path, 0700), 0);
	test_pathf(path, "%s/mtx.state", dir);
	assert_int_equal(hsm_test_write_file(path, state, strlen(state)), 0);
	test_pathf(path, "%s/mtx.log", dir);
	unlink(path);
	if (!strstr(old ? old : "", dir)) {
		snprintf(newpath, sizeof(newpath), "%s:%s", dir,
			 old ? old : "/usr/bin:/bin");
		assert_int_equal(setenv("PATH", newpath, 1), 0);
	}
}

/* The fake's invocations so far, one per line. */
static void fake_mtx_log(const char *dir, char *out, size_t len)
{
	char path[PATH_MAX];
	FILE *f;
	size_t n = 0;

	out[0] = '\0';
	test_pathf(path, "%s/mtx.log", dir);
	f = fopen(path, "r");
	if (!f)
		return;
	n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	fclose(f);
}

static void inventory_is_parsed_from_mtx_status(void **state)
{
	static const char text[] =
		"  Storage Changer /dev/sg3:2 Drives, 5 Slots ( 1 Import/Export )\n"
		"Data Transfer Element 0:Full (Storage Element 3 Loaded):VolumeTag = VOL003L8                          \n"
		"Data Transfer Element 1:Empty\n"
		"      Storage Element 1:Full :VolumeTag=VOL001L8                            \n"
		"      Storage Element 2:Full \n"
		"      Storage Element 3:Empty\n"
		"      Storage Element 4:Full :VolumeTag=CLN001CU\n"
		"      Storage Element 5 IMPORT/EXPORT:Empty\n";
	struct hsm_tape_inventory inv;

	(void)state;
	assert_int_equal(hsm_tape_inventory_parse(text, &inv), 0);
	assert_int_equal(inv.nr_drives, 2);
	assert_int_equal(inv.nr_slots, 5);
	assert_int_equal(inv.drives[0].number, 0);
	assert_true(inv.drives[0].is_full);
	assert_int_equal(inv.drives[0].source_slot, 3);
	assert_string_equal(inv.drives[0].barcode, "VOL003L8");
	assert_false(inv.drives[1].is_full);
	assert_string_equal(inv.slots[0].barcode, "VOL001L8");
	assert_true(inv.slots[1].is_full);
	assert_string_equal(inv.slots[1].barcode, "");
	assert_false(inv.slots[2].is_full);
	assert_true(inv.slots[4].is_import_export);
	assert_int_equal(inv.slots[4].number, 5);
	hsm_tape_inventory_free(&inv);
	assert_int_equal(hsm_tape_inventory_parse("mtx: no changer\n", &inv),
			 -EINVAL);

	assert_true(hsm_tape_barcode_matches("VOL001L8", "VOL001"));
	assert_true(hsm_tape_barcode_matches("VOL001", "VOL001"));
	assert_true(hsm_tape_barcode_matches("VOL001LW", "VOL001"));
	assert_false(hsm_tape_barcode_matches("VOL0011", "VOL001"));
	assert_false(hsm_tape_barcode_matches("VOL001L8X", "VOL001"));
	assert_false(hsm_tape_barcode_matches("VOL00", "VOL001"));
	assert_false(hsm_tape_barcode_matches("", "VOL001"));
}

static int count_unloads(void *arg)
{
	(*(int *)arg)++;
	return 0;
}

/*
 * Against the emulated two-drive library: load by barcode into our drive,
 * nothing moves when the volume is there, the previous volume goes back
 * to its own slot (after the drive is readied for it), a volume in the
 * other drive is refused, an unknown one is not found.
 */
static void changer_loads_and_unloads_by_barcode(void **state)
{
	struct tape_fixture *fx = *state;
	struct hsm_tape_changer_config cfg = {
		.mtx_path = "mtx", .device = "/dev/sg7", .drive = 0,
	};
	struct hsm_backend be = { 0 };
	struct hsm_tape_inventory inv;
	char log[4096];
	int unloads = 0;
	bool moved;

	fake_mtx_install(fx->dir.path,
			 "D 0 - 0\nD 1 VOL009L8 9\nS 1 VOL001L8\nS 2 VOL002L8\n"
			 "S 3 -\nS 9 -\nS 10 - IE\n");
	assert_int_equal(hsm_tape_changer_load_label(&be, &cfg, "VOL002", 0,
			 count_unloads, &unloads, &moved), 0);
	assert_true(moved);
	fake_mtx_log(fx->dir.path, log, sizeof(log));
	assert_string_equal(log, "-f /dev/sg7 status\n-f /dev/sg7 load 2 0\n");

	assert_int_equal(hsm_tape_changer_load_label(&be, &cfg, "VOL002", 0,
			 count_unloads, &unloads, &moved), 0);
	assert_false(moved);
	assert_int_equal(unloads, 0);

	assert_int_equal(hsm_tape_changer_load_label(&be, &cfg, "VOL001", 0,
			 count_unloads, &unloads, &moved), 0);
	assert_true(moved);
	assert_int_equal(unloads, 1);
	fake_mtx_log(fx->dir.path, log, sizeof(log));
	assert_non_null(strstr(log, "status\n-f /dev/sg7 unload 2 0\n"
				    "-f /dev/sg7 load 1 0\n"));

	assert_int_equal(hsm_tape_changer_status(&be, &cfg, &inv), 0);
	assert_string_equal(inv.drives[0].barcode, "VOL001L8");
	assert_int_equal(inv.drives[0].source_slot, 1);
	assert_string_equal(inv.slots[1].barcode, "VOL002L8");
	hsm_tape_inventory_free(&inv);

	assert_int_equal(hsm_tape_changer_load_label(&be, &cfg, "VOL009", 0,
			 NULL, NULL, &moved), -EBUSY);
	assert_non_null(strstr(hsm_backend_error(&be), "drive 1"));
	assert_int_equal(hsm_tape_changer_load_label(&be, &cfg, "VOL404", 0,
			 NULL, NULL, &moved), -ENOENT);

	/* the other drive's agent */
	cfg.drive = 1;
	assert_int_equal(hsm_tape_changer_unload_drive(&be, &cfg, NULL, NULL),
			 0);
	fake_mtx_log(fx->dir.path, log, sizeof(log));
	assert_non_null(strstr(log, "-f /dev/sg7 unload 9 1\n"));
	assert_int_equal(hsm_tape_changer_load_label(&be, &cfg, "VOL009", 0,
			 NULL, NULL, &moved), 0);
	assert_true(moved);
}

/*
 * The backend behind the emulated library (file-backed volumes as the
 * media): each volume is loaded by its barcode before use, and reading
 * the volumes in turn swaps them in the one drive.
 */
static void backend_loads_volumes_by_barcode_through_the_changer(void **state)
{
	struct tape_fixture *fx = *state;
	struct hsm_put_result res[2];
	struct hsm_tape_stats st;
	char log[8192];

	fake_mtx_install(fx->dir.path,
			 "D 0 - 0\nS 1 VOL002L8\nS 2 VOL001L8\nS 3 -\n");
	fx->cfg.nr_volumes = 2;
	fx->cfg.changer.mtx_path = "mtx";
	fx->cfg.changer.device = "/dev/sg5";
	fixture_open(fx);
	put_ok(fx->be, 1, 1, 1000, &res[0]);	/* VOL001, slot 2 */
	assert_int_equal(hsm_tape_flush(fx->be), 0);
	assert_memory_equal(res[0].location, "tape:VOL001:", 12);

	/* a copy on VOL002, written by another instance of the library */
	fx->vols[0].label = "VOL002";
	fx->cfg.nr_volumes = 1;
	fixture_open(fx);
	put_ok(fx->be, 2, 2, 1000, &res[1]);
	assert_int_equal(hsm_tape_flush(fx->be), 0);
	fake_mtx_log(fx->dir.path, log, sizeof(log));
	assert_non_null(strstr(log, "-f /dev/sg5 load 2 0\n"));
	assert_non_null(strstr(log, "-f /dev/sg5 unload 2 0\n"
				    "-f /dev/sg5 load 1 0\n"));

	fixture_open(fx);
	assert_int_equal(fx->be->ops->verify(fx->be, res[0].location), 0);
	assert_int_equal(fx->be->ops->verify(fx->be, res[1].location), 0);
	assert_int_equal(fx->be->ops->verify(fx->be, res[1].location), 0);
	hsm_tape_get_stats(fx->be, &st);
	assert_int_equal(st.loads, 2);	/* VOL001 in, then VOL002 back */
}

#define TEST_ORDER_FILES 40

static void get_all(struct hsm_backend *be, struct hsm_put_result *res,
		    const size_t *order, size_t nr)
{
	uint64_t bytes;
	size_t i;

	for (i = 0; i < nr; i++)
		assert_int_equal(get_check(be, res[order[i]].location,
					   order[i] + 1, 0, UINT64_MAX, &bytes,
					   NULL), 0);
}

/*
 * The simulated drive (tiny times, so nothing here measures speed):
 * copies spread over four volumes and read in request order load a
 * volume again and again; in the order hsm_tape_order() gives, each
 * volume is loaded once, the one in the drive first.
 */
static void position_order_loads_each_volume_once(void **state)
{
	struct tape_fixture *fx = *state;
	struct hsm_put_result res[TEST_ORDER_FILES];
	const char *locs[TEST_ORDER_FILES];
	size_t order[TEST_ORDER_FILES];
	struct tape_location a;
	struct tape_location b;
	struct hsm_tape_stats req;
	struct hsm_tape_stats ord;
	size_t i;

	fx->cfg.nr_volumes = 4;
	fx->cfg.default_capacity = 256 * TEST_KIB;
	fx->cfg.segment_bytes = 64 * TEST_KIB;
	fixture_open(fx);
	for (i = 0; i < TEST_ORDER_FILES; i++)
		put_ok(fx->be, i + 1, i + 1, 20 * TEST_KIB, &res[i]);
	assert_int_equal(hsm_tape_flush(fx->be), 0);
	assert_int_equal(tape_location_parse(res[TEST_ORDER_FILES - 1].location,
					     &a), 0);
	assert_string_equal(a.label, "VOL004");

	fx->cfg.sim.load_us = 10;
	fx->cfg.sim.locate_us = 1;
	fx->cfg.sim.locate_us_per_mib = 1;
	fx->cfg.sim.read_mib_per_s = 100000;
	/* request order: the volumes interleaved */
	for (i = 0; i < TEST_ORDER_FILES; i++)
		order[i] = (i % 4) * (TEST_ORDER_FILES / 4) + i / 4;
	fixture_open(fx);
	get_all(fx->be, res, order, TEST_ORDER_FILES);
	hsm_tape_get_stats(fx->be, &req);
	assert_true(req.loads > TEST_ORDER_FILES / 2);
	assert_true(req.sim_us > 0);

	fixture_open(fx);
	for (i = 0; i < TEST_ORDER_FILES; i++)
		locs[order[i]] = res[order[i]].location;
	/* VOL003 is in the drive: it comes first */
	assert_int_equal(fx->be->ops->verify(fx->be, res[25].location), 0);
	assert_int_equal(hsm_tape_order(fx->be, locs, TEST_ORDER_FILES, order),
			 0);
	assert_int_equal(tape_location_parse(locs[order[0]], &a), 0);
	assert_string_equal(a.label, "VOL003");
	for (i = 1; i < TEST_ORDER_FILES; i++) {
		assert_int_equal(tape_location_parse(locs[order[i - 1]], &a), 0);
		assert_int_equal(tape_location_parse(locs[order[i]], &b), 0);
		if (!strcmp(a.label, b.label))
			assert_true(a.segment < b.segment ||
				    (a.segment == b.segment &&
				     a.offset < b.offset));
	}
	fixture_open(fx);
	get_all(fx->be, res, order, TEST_ORDER_FILES);
	hsm_tape_get_stats(fx->be, &ord);
	assert_int_equal(ord.loads, 4);
	assert_true(ord.locates == TEST_ORDER_FILES);
	assert_true(ord.sim_us < req.sim_us);
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
		TAPE_TEST(copies_commit_only_after_their_file_mark),
		TAPE_TEST(each_put_mode_flushes_every_file),
		TAPE_TEST(copies_are_located_by_block_address),
		TAPE_TEST(eio_while_spacing_is_an_io_error_not_a_missing_copy),
		TAPE_TEST(failed_source_leaves_no_copy_behind),
		TAPE_TEST(torn_segment_reports_unsealed_copy),
		TAPE_TEST(wrong_volume_label_is_refused),
		TAPE_TEST(bad_locations_are_rejected),
		TAPE_TEST(changer_command_is_mtx_load_slot_drive),
		TAPE_TEST(inventory_is_parsed_from_mtx_status),
		TAPE_TEST(changer_loads_and_unloads_by_barcode),
		TAPE_TEST(backend_loads_volumes_by_barcode_through_the_changer),
		TAPE_TEST(position_order_loads_each_volume_once),
#undef TAPE_TEST
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
