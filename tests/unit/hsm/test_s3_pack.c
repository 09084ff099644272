// SPDX-License-Identifier: GPL-2.0
/*
 * test_s3_pack.c: packs of small copies (pack.c) on the S3 backend,
 * against moto_server on loopback with SigV4 checked (tests/s3/moto-start),
 * and their catalog rows.
 *
 * What is asserted is what a site depends on: many small files cost one
 * PUT (the backend's own request counters), each member reads back alone
 * with its bytes (one ranged GET), a member whose bytes in the object are
 * not the ones checksummed fails with -EBADMSG both when the pack is read
 * back before commit and when it is staged, a member whose file changed
 * is not committed while the others are, and a pack object is deleted
 * only once none of its members is live.  The tests skip when moto is not
 * installed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "backend.h"
#include "backend_s3.h"
#include "catalog.h"
#include "hsm_test_s3.h"
#include "hsm_test_util.h"
#include "pack.h"

#define NR_SMALL 40
#define SMALL_SIZE 4096
#define SEED(i) (5000 + (i))

static struct hsm_test_s3_server moto = { .script = "moto-start" };

static int group_setup(void **state)
{
	(void)state;
	return hsm_test_s3_group_start(&moto, "the pack tests");
}

static int group_teardown(void **state)
{
	(void)state;
	hsm_test_s3_stop(&moto, "");
	return 0;
}

#define REQUIRE_MOTO()				\
	do {					\
		if (!moto.is_available)		\
			skip();			\
	} while (0)

static struct hsm_backend *moto_backend(void)
{
	struct hsm_s3_config cfg;

	hsm_test_s3_config(&moto, &cfg);
	cfg.multipart_threshold = 5 * HSM_TEST_MiB;
	cfg.part_size = 5 * HSM_TEST_MiB;
	return hsm_test_s3_create(&cfg);
}

/* Member i: inode 100 + i, SMALL_SIZE bytes (the last one empty). */
static uint64_t member_size(size_t i)
{
	return i == NR_SMALL - 1 ? 0 : SMALL_SIZE + i;
}

static void fill_pack(struct hsm_pack *p, const int64_t *copy_ids)
{
	struct hsm_object_info info;
	struct hsm_test_reader rd;
	size_t i;

	hsm_pack_init(p, HSM_TEST_S3_FSID);
	for (i = 0; i < NR_SMALL; i++) {
		hsm_test_s3_info(&info, 100 + i, member_size(i));
		info.copy_num = 1;
		hsm_test_reader_init(&rd, SEED(i), HSM_TEST_PATTERN_RANDOM,
				     member_size(i));
		rd.max_chunk = 1000;
		assert_int_equal(hsm_pack_add(p, &info, hsm_test_read, &rd,
					      copy_ids ? copy_ids[i] : 0,
					      NULL), 0);
	}
	assert_int_equal(hsm_pack_nr(p), NR_SMALL);
}

/* Read member location loc alone; 0 with every byte as written, or -errno. */
static int read_member(struct hsm_backend *be, const char *loc, size_t i)
{
	struct hsm_test_writer wr;
	int ret;

	assert_int_equal(hsm_test_writer_init(&wr, SEED(i),
					      HSM_TEST_PATTERN_RANDOM, 0), 0);
	ret = be->ops->get(be, loc, 0, UINT64_MAX, hsm_test_write, &wr);
	if (!ret) {
		assert_int_equal(wr.bytes, member_size(i));
		assert_int_equal(wr.mismatches, 0);
	}
	hsm_test_writer_release(&wr);
	return ret;
}

static void small_files_cost_one_put_and_read_back_alone(void **state)
{
	struct hsm_s3_counters before, after;
	struct hsm_pack_member *idx;
	struct hsm_put_result res;
	struct hsm_stat_result st;
	char loc[HSM_LOCATION_MAX];
	char fsid[33];
	struct hsm_backend *be;
	struct hsm_pack p;
	size_t i, nr;

	(void)state;
	REQUIRE_MOTO();
	be = moto_backend();
	fill_pack(&p, NULL);
	hsm_s3_counters(be, &before);
	assert_int_equal(hsm_pack_put(&p, be, &res), 0);
	hsm_s3_counters(be, &after);
	/* 40 files: one PUT, and one GET to verify them all */
	assert_int_equal(after.put - before.put, 1);
	assert_int_equal(after.get - before.get, 1);
	assert_non_null(strstr(res.location, "/pack/"));
	for (i = 0; i < NR_SMALL; i++)
		assert_true(p.members[i].is_verified);

	/* each member alone, in a different order: one ranged GET each */
	for (i = NR_SMALL; i-- > 0;) {
		assert_int_equal(hsm_pack_member_location(res.location,
							  &p.members[i], loc,
							  sizeof(loc)), 0);
		hsm_s3_counters(be, &before);
		assert_int_equal(read_member(be, loc, i), 0);
		hsm_s3_counters(be, &after);
		assert_int_equal(after.get - before.get,
				 member_size(i) ? 1 : 0);
		assert_int_equal(be->ops->verify(be, loc), 0);
		assert_int_equal(be->ops->stat(be, loc, &st), 0);
		assert_int_equal(st.bytes, member_size(i));
		assert_true(hsm_checksum_equal(&st.checksum,
					       &p.members[i].checksum));
	}

	/* the pack says what it holds without the catalog */
	assert_int_equal(hsm_pack_read_index(be, res.location, res.bytes, fsid,
					     &idx, &nr), 0);
	assert_string_equal(fsid, HSM_TEST_S3_FSID);
	assert_int_equal(nr, NR_SMALL);
	for (i = 0; i < nr; i++) {
		assert_int_equal(idx[i].ino, 100 + i);
		assert_int_equal(idx[i].data_version, 7);
		assert_int_equal(idx[i].offset, p.members[i].offset);
		assert_int_equal(idx[i].length, member_size(i));
		assert_true(hsm_checksum_equal(&idx[i].checksum,
					       &p.members[i].checksum));
	}
	free(idx);

	/* deleting a member never deletes the object the others share */
	assert_int_equal(hsm_pack_member_location(res.location, &p.members[0],
						  loc, sizeof(loc)), 0);
	assert_int_equal(be->ops->del(be, loc), 0);
	assert_int_equal(read_member(be, loc, 0), 0);
	assert_int_equal(be->ops->del(be, res.location), 0);
	assert_int_equal(be->ops->get(be, loc, 0, UINT64_MAX, NULL, NULL),
			 -ENOENT);
	hsm_pack_reset(&p);
	hsm_backend_destroy(be);
}

static void corrupt_member_fails_its_checksum(void **state)
{
	struct hsm_put_result res;
	char loc[HSM_LOCATION_MAX];
	struct hsm_backend *be;
	struct hsm_pack p;
	size_t i;

	(void)state;
	REQUIRE_MOTO();
	be = moto_backend();
	fill_pack(&p, NULL);
	/* member 3's bytes change after they were checksummed */
	p.buf[p.members[3].offset + 17] ^= 0x40;
	assert_int_equal(hsm_pack_put(&p, be, &res), 0);
	for (i = 0; i < NR_SMALL; i++)
		assert_int_equal(p.members[i].is_verified, i != 3);

	/* staging it later: the ranged GET's checksum catches it */
	assert_int_equal(hsm_pack_member_location(res.location, &p.members[3],
						  loc, sizeof(loc)), 0);
	assert_int_equal(read_member(be, loc, 3), -EBADMSG);
	hsm_test_s3_assert_error(be, "checksum mismatch");
	assert_int_equal(be->ops->verify(be, loc), -EBADMSG);
	/* its neighbours are fine */
	assert_int_equal(hsm_pack_member_location(res.location, &p.members[4],
						  loc, sizeof(loc)), 0);
	assert_int_equal(read_member(be, loc, 4), 0);
	/* a part of a member reads without a check */
	assert_int_equal(hsm_pack_member_location(res.location, &p.members[3],
						  loc, sizeof(loc)), 0);
	assert_int_equal(be->ops->get(be, loc, 100, 50, NULL, NULL), 0);
	assert_int_equal(be->ops->del(be, res.location), 0);
	hsm_pack_reset(&p);
	hsm_backend_destroy(be);
}

/*
 * A pack past multipart_threshold goes up in parts with a sidecar, like
 * any large stream; its members still read back alone, one range each.
 */
static void large_pack_goes_up_in_parts(void **state)
{
	struct hsm_s3_counters before, after;
	struct hsm_object_info info;
	struct hsm_test_reader rd;
	struct hsm_test_writer wr;
	struct hsm_put_result res;
	char loc[HSM_LOCATION_MAX];
	struct hsm_backend *be;
	struct hsm_pack p;
	size_t i;

	(void)state;
	REQUIRE_MOTO();
	be = moto_backend();
	hsm_pack_init(&p, HSM_TEST_S3_FSID);
	for (i = 0; i < 3; i++) {
		hsm_test_s3_info(&info, 300 + i, 2 * HSM_TEST_MiB + i);
		hsm_test_reader_init(&rd, 300 + i, HSM_TEST_PATTERN_RANDOM,
				     info.size);
		assert_int_equal(hsm_pack_add(&p, &info, hsm_test_read, &rd, 0,
					      NULL), 0);
	}
	hsm_s3_counters(be, &before);
	assert_int_equal(hsm_pack_put(&p, be, &res), 0);
	hsm_s3_counters(be, &after);
	/* 6 MiB at a 5 MiB threshold: two parts and the sidecar */
	assert_int_equal(after.put - before.put, 3);
	for (i = 0; i < 3; i++) {
		assert_true(p.members[i].is_verified);
		assert_int_equal(hsm_pack_member_location(res.location,
							  &p.members[i], loc,
							  sizeof(loc)), 0);
		assert_int_equal(hsm_test_writer_init(&wr, 300 + i,
						      HSM_TEST_PATTERN_RANDOM,
						      0), 0);
		assert_int_equal(be->ops->get(be, loc, 0, UINT64_MAX,
					      hsm_test_write, &wr), 0);
		assert_int_equal(wr.bytes, 2 * HSM_TEST_MiB + i);
		assert_int_equal(wr.mismatches, 0);
		hsm_test_writer_release(&wr);
	}
	assert_int_equal(be->ops->del(be, res.location), 0);
	hsm_pack_reset(&p);
	hsm_backend_destroy(be);
}

struct pack_fixture {
	struct hsm_test_dir dir;
	struct hsm_catalog *cat;
	int64_t file_ids[NR_SMALL];
	int64_t copy_ids[NR_SMALL];
};

static int pack_setup(void **state)
{
	struct hsm_test_dir *dir;
	struct pack_fixture *fx;
	struct hsm_catalog_file file;
	char path[PATH_MAX], err[256];
	size_t i;

	if (hsm_test_dir_setup(state))
		return -1;
	dir = *state;
	fx = calloc(1, sizeof(*fx));
	if (!fx)
		return -1;
	fx->dir = *dir;
	free(dir);
	*state = fx;
	hsm_test_path(path, sizeof(path), fx->dir.path, "catalog.db");
	if (hsm_catalog_open(path, HSM_CATALOG_CREATE, &fx->cat, err,
			     sizeof(err)))
		return -1;
	if (hsm_catalog_fs_upsert(fx->cat, HSM_TEST_S3_FSID, "/mnt"))
		return -1;
	for (i = 0; i < NR_SMALL; i++) {
		memset(&file, 0, sizeof(file));
		strcpy(file.fsid, HSM_TEST_S3_FSID);
		file.ino = 100 + i;
		file.data_version = 7;
		file.size = member_size(i);
		if (hsm_catalog_file_record(fx->cat, &file) ||
		    hsm_catalog_copy_begin(fx->cat, file.id, 1, "s3",
					   &fx->copy_ids[i]))
			return -1;
		fx->file_ids[i] = file.id;
	}
	return 0;
}

static int pack_teardown(void **state)
{
	struct pack_fixture *fx = *state;

	hsm_catalog_close(fx->cat);
	hsm_test_rmtree(fx->dir.path);
	free(fx);
	return 0;
}

/* the archiver's question, here: inode 105 changed while it was packed */
static bool same_unless_105(void *arg, const struct hsm_pack_member *m)
{
	(void)arg;
	return m->ino != 105;
}

static void changed_member_is_dropped_and_the_rest_commit(void **state)
{
	struct pack_fixture *fx = *state;
	struct hsm_catalog_copy copy, valid[4];
	struct hsm_catalog_pack pack, dead[4];
	struct hsm_put_result res;
	struct hsm_backend *be;
	struct hsm_pack p;
	int64_t pack_id;
	size_t i, nr;
	bool is_safe;

	REQUIRE_MOTO();
	be = moto_backend();
	fill_pack(&p, fx->copy_ids);
	assert_int_equal(hsm_pack_put(&p, be, &res), 0);
	assert_int_equal(hsm_pack_commit(fx->cat, "s3", &p, &res,
					 same_unless_105, NULL, &pack_id), 0);
	assert_true(pack_id > 0);
	for (i = 0; i < NR_SMALL; i++) {
		assert_int_equal(p.members[i].outcome, i == 5 ?
				 HSM_PACK_CHANGED : HSM_PACK_COMMITTED);
		assert_int_equal(hsm_catalog_copy_get(fx->cat, fx->copy_ids[i],
						      &copy), 0);
		assert_int_equal(copy.state, i == 5 ? HSM_COPY_DELETED :
				 HSM_COPY_VALID);
		assert_int_equal(hsm_catalog_release_is_safe(fx->cat,
				 HSM_TEST_S3_FSID, 100 + i, 7, 1, &is_safe), 0);
		assert_int_equal(is_safe, i != 5);
		if (i == 5)
			continue;
		/* what the stager gets from the catalog reads the member */
		assert_int_equal(hsm_catalog_copy_list_valid(fx->cat,
				 HSM_TEST_S3_FSID, 100 + i, 7, valid, 4, &nr),
				 0);
		assert_int_equal(nr, 1);
		assert_int_equal(valid[0].pack_id, pack_id);
		assert_non_null(strstr(valid[0].location, res.location));
		assert_int_equal(read_member(be, valid[0].location, i), 0);
	}
	/*
	 * A member's row holds its place in the pack, packed against its
	 * file (the checksum it repeats is the file's): a few bytes, not the
	 * ~170 of its whole location.
	 */
	{
		char path[PATH_MAX];
		sqlite3_stmt *stmt;
		sqlite3 *db;

		hsm_test_path(path, sizeof(path), fx->dir.path, "catalog.db");
		assert_int_equal(sqlite3_open_v2(path, &db,
						 SQLITE_OPEN_READONLY, NULL),
				 SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(db,
			"SELECT max(length(location)), count(*) FROM copies"
			" WHERE pack IS NOT NULL", -1, &stmt, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
		print_message("# packed copies: %d, the longest stored location %d bytes\n",
			      sqlite3_column_int(stmt, 1),
			      sqlite3_column_int(stmt, 0));
		assert_int_equal(sqlite3_column_int(stmt, 1), NR_SMALL - 1);
		assert_true(sqlite3_column_int(stmt, 0) <= 24);
		sqlite3_finalize(stmt);
		sqlite3_close(db);
	}
	assert_int_equal(hsm_catalog_pack_get(fx->cat, pack_id, &pack), 0);
	assert_string_equal(pack.location, res.location);
	assert_int_equal(pack.members, NR_SMALL - 1);
	assert_int_equal(pack.live, NR_SMALL - 1);

	/* the recycler: a pack with live members is not dead */
	for (i = 0; i < NR_SMALL - 1; i++)
		if (i != 5)
			assert_int_equal(hsm_catalog_copy_mark_bad(fx->cat,
						fx->copy_ids[i]), 0);
	assert_int_equal(hsm_catalog_pack_list_dead(fx->cat, "s3", 0, dead, 4,
						    &nr), 0);
	assert_int_equal(nr, 0);
	assert_int_equal(hsm_catalog_pack_mark_deleted(fx->cat, pack_id),
			 -EBUSY);
	assert_int_equal(hsm_catalog_pack_get(fx->cat, pack_id, &pack), 0);
	assert_int_equal(pack.live, 1);
	/* the last member dies: now, and only now, the object may go */
	assert_int_equal(hsm_catalog_copy_mark_deleted(fx->cat,
			 fx->copy_ids[NR_SMALL - 1]), 0);
	assert_int_equal(hsm_catalog_pack_list_dead(fx->cat, "s3", 0, dead, 4,
						    &nr), 0);
	assert_int_equal(nr, 1);
	assert_int_equal(dead[0].id, pack_id);
	assert_int_equal(be->ops->del(be, dead[0].location), 0);
	assert_int_equal(hsm_catalog_pack_mark_deleted(fx->cat, pack_id), 0);
	assert_int_equal(hsm_catalog_pack_list_dead(fx->cat, "s3", 0, dead, 4,
						    &nr), 0);
	assert_int_equal(nr, 0);
	hsm_pack_reset(&p);
	hsm_backend_destroy(be);
}

static void bad_member_is_not_committed(void **state)
{
	struct pack_fixture *fx = *state;
	struct hsm_catalog_copy copy;
	struct hsm_put_result res;
	struct hsm_backend *be;
	struct hsm_pack p;
	int64_t pack_id;
	size_t i;

	REQUIRE_MOTO();
	be = moto_backend();
	fill_pack(&p, fx->copy_ids);
	p.buf[p.members[8].offset] ^= 1;
	assert_int_equal(hsm_pack_put(&p, be, &res), 0);
	assert_int_equal(hsm_pack_commit(fx->cat, "s3", &p, &res, NULL, NULL,
					 &pack_id), 0);
	for (i = 0; i < NR_SMALL; i++) {
		assert_int_equal(hsm_catalog_copy_get(fx->cat, fx->copy_ids[i],
						      &copy), 0);
		assert_int_equal(copy.state, i == 8 ? HSM_COPY_BAD :
				 HSM_COPY_VALID);
	}
	hsm_pack_reset(&p);
	hsm_backend_destroy(be);
}

/*
 * A kill between the PUT and the commit: the catalog rolls back to the
 * copies being written with no location (recovery writes them again),
 * and the object is referenced by no row but is found by listing.
 */
static int list_find(void *arg, const char *location, uint64_t bytes)
{
	const char *want = arg;

	(void)bytes;
	return strcmp(location, want) == 0 ? 1 : 0;
}

static void crash_before_commit_leaves_an_orphan_only(void **state)
{
	struct pack_fixture *fx = *state;
	struct hsm_catalog_copy copy;
	struct hsm_catalog_pack dead[4];
	struct hsm_put_result res;
	struct hsm_backend *be;
	struct hsm_pack p;
	size_t i, nr;

	REQUIRE_MOTO();
	be = moto_backend();
	fill_pack(&p, fx->copy_ids);
	assert_int_equal(hsm_pack_put(&p, be, &res), 0);
	/* no commit: the agent died here */
	for (i = 0; i < NR_SMALL; i++) {
		assert_int_equal(hsm_catalog_copy_get(fx->cat, fx->copy_ids[i],
						      &copy), 0);
		assert_int_equal(copy.state, HSM_COPY_WRITING);
		assert_string_equal(copy.location, "");
		assert_int_equal(copy.pack_id, 0);
	}
	assert_int_equal(hsm_catalog_pack_list_dead(fx->cat, "s3", 0, dead, 4,
						    &nr), 0);
	assert_int_equal(nr, 0);
	/* moto checks listings under a prefix with '/' wrongly: use "t" */
	assert_int_equal(hsm_backend_list(be, "t", list_find,
					  (void *)res.location), 1);
	if (be->ops->del(be, res.location))
		fail_msg("%s", hsm_backend_error(be));
	hsm_pack_reset(&p);
	hsm_backend_destroy(be);
}

static void member_locations_parse(void **state)
{
	struct hsm_pack_member m = { .offset = 12, .length = 34 };
	struct hsm_pack_ref ref;
	char loc[HSM_LOCATION_MAX];

	(void)state;
	hsm_checksum_buf("x", 1, &m.checksum);
	assert_int_equal(hsm_pack_member_location("a/b/pack/1-2", &m, loc,
						  sizeof(loc)), 0);
	assert_int_equal(hsm_pack_parse_location(loc, &ref), 1);
	assert_string_equal(ref.pack, "a/b/pack/1-2");
	assert_int_equal(ref.offset, 12);
	assert_int_equal(ref.length, 34);
	assert_true(hsm_checksum_equal(&ref.checksum, &m.checksum));
	assert_int_equal(hsm_pack_parse_location("a/b/0001/7-abc", &ref), 0);
	assert_int_equal(hsm_pack_parse_location("a#1+2:sha256:zz", &ref),
			 -EINVAL);
	assert_int_equal(hsm_pack_parse_location("a#x+2:", &ref), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(member_locations_parse),
		cmocka_unit_test(small_files_cost_one_put_and_read_back_alone),
		cmocka_unit_test(corrupt_member_fails_its_checksum),
		cmocka_unit_test(large_pack_goes_up_in_parts),
		cmocka_unit_test_setup_teardown(changed_member_is_dropped_and_the_rest_commit,
						pack_setup, pack_teardown),
		cmocka_unit_test_setup_teardown(bad_member_is_not_committed,
						pack_setup, pack_teardown),
		cmocka_unit_test_setup_teardown(crash_before_commit_leaves_an_orphan_only,
						pack_setup, pack_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
