// SPDX-License-Identifier: GPL-2.0
/*
 * test_catalog.c: the catalog's promises: schema creation and migration,
 * refusal of files it must not touch, state that survives a process
 * killed at any step and resumes, readers running beside a writer, and
 * a release safety check that says yes only when it must.
 *
 * Tests that fork never use cmocka assertions in the child: a child
 * reports through its exit status and the parent asserts on that.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "backend_dir.h"
#include "catalog.h"
#include "hsm_test_util.h"

#define FSID "00112233445566778899aabbccddeeff"

/*
 * For tests that look at the rows themselves: schema 6 stores states as
 * the enums' values, checked against the enums in main().
 */
#define SQL_COPY_WRITING "0"
#define SQL_COPY_VALID "1"
#define SQL_REQ_RUNNING "1"
#define SQL_REQ_DONE "2"
#define MNT "/mnt/scoutfs"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ---- */

static void catalog_path(void **state, const char *name, char *out)
{
	struct hsm_test_dir *dir = *state;

	hsm_test_path(out, PATH_MAX, dir->path, name);
}

static struct hsm_catalog *open_catalog(const char *path)
{
	struct hsm_catalog *cat = NULL;
	char err[HSM_ERROR_MAX];
	int ret;

	ret = hsm_catalog_open(path, HSM_CATALOG_CREATE, &cat, err,
			       sizeof(err));
	if (ret)
		fail_msg("open %s: %d %s", path, ret, err);
	return cat;
}

/* open must fail with want; returns the message for further checks */
static void expect_open_fails(const char *path, int want, const char *needle)
{
	struct hsm_catalog *cat = NULL;
	char err[HSM_ERROR_MAX] = "";

	assert_int_equal(hsm_catalog_open(path, HSM_CATALOG_CREATE, &cat, err,
					  sizeof(err)), want);
	assert_null(cat);
	if (!strstr(err, needle))
		fail_msg("error '%s' lacks '%s'", err, needle);
	/* the message names the file */
	assert_non_null(strstr(err, path));
}

/* Damage is refused at open (header) or found by the on-demand check. */
static void expect_open_or_check_fails(const char *path)
{
	struct hsm_catalog *cat = NULL;
	char err[HSM_ERROR_MAX] = "";
	int ret;

	ret = hsm_catalog_open(path, HSM_CATALOG_CREATE, &cat, err,
			       sizeof(err));
	if (ret == 0) {
		ret = hsm_catalog_check(cat);
		snprintf(err, sizeof(err), "%s", hsm_catalog_error(cat));
		hsm_catalog_close(cat);
	}
	assert_int_equal(ret, -EUCLEAN);
	if (!strstr(err, "corrupt") && !strstr(err, "not a catalog"))
		fail_msg("error '%s' does not say corrupt", err);
	assert_non_null(strstr(err, path));
}

static void checksum_of(const char *text, struct hsm_checksum *sum)
{
	hsm_checksum_buf(text, strlen(text), sum);
}

static int64_t record_file(struct hsm_catalog *cat, uint64_t ino,
			   uint64_t data_version)
{
	struct hsm_catalog_file file = { 0 };

	strcpy(file.fsid, FSID);
	file.ino = ino;
	file.data_version = data_version;
	file.size = 4096 * ino;
	file.mtime_sec = 1700000000 + (int64_t)ino;
	snprintf(file.path, sizeof(file.path), "dir/file-%" PRIu64, ino);
	assert_int_equal(hsm_catalog_file_record(cat, &file), 0);
	assert_true(file.id > 0);
	return file.id;
}

/* begin, write and verify copy copy_num of file_id; returns its id */
static int64_t add_valid_copy(struct hsm_catalog *cat, int64_t file_id,
			      unsigned int copy_num, const char *content)
{
	struct hsm_checksum sum;
	char loc[64];
	int64_t id;

	checksum_of(content, &sum);
	snprintf(loc, sizeof(loc), "loc/%" PRId64 "/%u", file_id, copy_num);
	assert_int_equal(hsm_catalog_copy_begin(cat, file_id, copy_num,
						"directory", &id), 0);
	assert_int_equal(hsm_catalog_copy_written(cat, id, loc, &sum), 0);
	assert_int_equal(hsm_catalog_copy_verified(cat, id), 0);
	return id;
}

static void exec_sql(const char *path, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
}

static int64_t query_int(const char *path, const char *sql)
{
	sqlite3_stmt *stmt;
	sqlite3 *db;
	int64_t v;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return v;
}

/*
 * Read exactly len bytes from a pipe: 1 when done, 0 at end of file
 * (nothing or a torn record read).  Retries interrupted reads, which
 * valgrind in particular produces when children exit.
 */
static int read_record(int fd, void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		done += (size_t)n;
	}
	return 1;
}

static void wait_child(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0)
		assert_int_equal(errno, EINTR);
}

/*
 * Run fn in a child that reports fn's result over a pipe and then waits
 * for the parent's SIGKILL: it dies holding whatever it holds (open
 * catalog, transaction) with no cleanup, the way a crash does.  Being
 * killed from outside also keeps valgrind from leak-checking the corpse.
 * Returns fn's result.
 */
static int run_child_until_killed(int (*fn)(void *arg), void *arg)
{
	unsigned char result = 255;
	int fds[2];
	int status;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		result = (unsigned char)fn(arg);
		if (write(fds[1], &result, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(fds[1]);
	assert_int_equal(read_record(fds[0], &result, 1), 1);
	close(fds[0]);
	assert_int_equal(kill(pid, SIGKILL), 0);
	wait_child(pid, &status);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	return result;
}

/* ---- schema ---- */

static void open_creates_current_schema_in_wal_mode(void **state)
{
	struct hsm_catalog *cat;
	char path[PATH_MAX];
	int version = 0;

	catalog_path(state, "catalog.db", path);
	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_schema_version(cat, &version), 0);
	assert_int_equal(version, HSM_CATALOG_SCHEMA_VERSION);
	assert_int_equal(query_int(path,
		"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND"
		" name IN ('filesystems', 'files', 'copies', 'requests',"
		" 'volumes')"), 5);
	assert_int_equal(query_int(path, "SELECT journal_mode = 'wal'"
				   " FROM pragma_journal_mode"), 1);
	hsm_catalog_close(cat);

	/* opening again changes nothing */
	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_schema_version(cat, &version), 0);
	assert_int_equal(version, HSM_CATALOG_SCHEMA_VERSION);
	hsm_catalog_close(cat);
}

static void open_without_create_of_missing_file_is_enoent(void **state)
{
	struct hsm_catalog *cat = NULL;
	char path[PATH_MAX];
	char err[HSM_ERROR_MAX];

	catalog_path(state, "missing.db", path);
	assert_int_equal(hsm_catalog_open(path, 0, &cat, err, sizeof(err)),
			 -ENOENT);
	assert_null(cat);
	assert_non_null(strstr(err, path));
	assert_int_equal(hsm_test_file_size(path), -ENOENT);
}

static void migrates_version_1_to_current_keeping_data(void **state)
{
	struct hsm_catalog_request req;
	struct hsm_catalog_volume vol;
	struct hsm_catalog_file file;
	struct hsm_catalog_copy copies[2];
	struct hsm_catalog *cat;
	char path[PATH_MAX];
	char sql[1024];
	size_t n = 0;
	bool is_safe;
	int version = 0;

	catalog_path(state, "v1.db", path);
	/* a catalog exactly as version-1 code left it */
	exec_sql(path, hsm_catalog_migration_sql(1));
	snprintf(sql, sizeof(sql),
		 "PRAGMA user_version = 1;"
		 "INSERT INTO filesystems VALUES ('%s', '%s', 10, 20);"
		 "INSERT INTO files VALUES (1, '%s', 42, 7, 100, 5, NULL, 'a');"
		 "INSERT INTO copies VALUES (1, 1, 1, 'directory', 'aa/bb/x',"
		 " 'valid', 1, 2);"
		 "INSERT INTO requests VALUES (1, 'release', 1, 100, 'queued',"
		 " 0, NULL, 1, 1);", FSID, MNT, FSID);
	exec_sql(path, sql);
	assert_int_equal(query_int(path, "PRAGMA user_version"), 1);
	assert_int_equal(query_int(path, "SELECT count(*) FROM sqlite_master"
				   " WHERE name = 'volumes'"), 0);

	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_schema_version(cat, &version), 0);
	assert_int_equal(version, HSM_CATALOG_SCHEMA_VERSION);

	assert_int_equal(hsm_catalog_file_find(cat, FSID, 42, 7, &file), 0);
	assert_int_equal(file.id, 1);
	assert_int_equal(file.size, 100);
	assert_string_equal(file.path, "a");
	assert_int_equal(hsm_catalog_copy_list_valid(cat, FSID, 42, 7, copies,
						     2, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(copies[0].location, "aa/bb/x");
	assert_int_equal(hsm_catalog_request_get(cat, 1, &req), 0);
	assert_int_equal(req.kind, HSM_REQ_RELEASE);
	assert_int_equal(req.state, HSM_REQ_QUEUED);
	/* v1 data without a file checksum is not trusted for release */
	assert_int_equal(hsm_catalog_release_is_safe(cat, FSID, 42, 7, 1,
						     &is_safe), 0);
	assert_false(is_safe);

	/* what version 2 added works */
	assert_int_equal(hsm_catalog_volume_add(cat, "VOL001", 1000), 0);
	assert_int_equal(hsm_catalog_volume_get(cat, "VOL001", &vol), 0);
	assert_int_equal(vol.capacity, 1000);
	hsm_catalog_close(cat);
	assert_int_equal(query_int(path, "PRAGMA user_version"),
			 HSM_CATALOG_SCHEMA_VERSION);
}

static void refuses_catalog_from_newer_version(void **state)
{
	char path[PATH_MAX];
	char sql[64];

	catalog_path(state, "newer.db", path);
	hsm_catalog_close(open_catalog(path));
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		 HSM_CATALOG_SCHEMA_VERSION + 1);
	exec_sql(path, sql);
	expect_open_fails(path, -ENOTSUP, "newer");
	/* and leaves it alone */
	assert_int_equal(query_int(path, "PRAGMA user_version"),
			 HSM_CATALOG_SCHEMA_VERSION + 1);
}

static void refuses_garbage_and_foreign_files(void **state)
{
	struct hsm_test_pattern pat = { .seed = 1 };
	uint8_t garbage[8192];
	char path[PATH_MAX];

	catalog_path(state, "garbage.db", path);
	hsm_test_pattern_fill(&pat, 0, garbage, sizeof(garbage));
	assert_int_equal(hsm_test_write_file(path, garbage, sizeof(garbage)), 0);
	expect_open_fails(path, -EUCLEAN, "not a catalog");
	/* untouched: nothing was "created" over it */
	assert_int_equal(hsm_test_file_size(path), sizeof(garbage));

	catalog_path(state, "text.db", path);
	assert_int_equal(hsm_test_write_file(path, "hello\n", 6), 0);
	expect_open_fails(path, -EUCLEAN, "not a catalog");

	/* a real sqlite database of some other program */
	catalog_path(state, "other.db", path);
	exec_sql(path, "CREATE TABLE t (x); INSERT INTO t VALUES (1);");
	expect_open_fails(path, -EUCLEAN, "another program");
}

static void refuses_truncated_catalog(void **state)
{
	struct hsm_catalog *cat;
	char path[PATH_MAX];
	char cut[PATH_MAX];
	char name[32];
	int64_t size;
	int64_t sizes[4];
	int i;

	catalog_path(state, "full.db", path);
	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_fs_upsert(cat, FSID, MNT), 0);
	for (i = 1; i <= 2000; i++)
		record_file(cat, (uint64_t)i, 1);
	hsm_catalog_close(cat);
	size = hsm_test_file_size(path);
	assert_true(size > 64 * 1024);

	sizes[0] = 50;			/* inside the header */
	sizes[1] = 4096 + 100;		/* mid second page */
	sizes[2] = size / 2;		/* half the btree gone */
	sizes[3] = size - 4096;		/* the last page gone */
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "cut%d.db", i);
		catalog_path(state, name, cut);
		assert_int_equal(hsm_test_copy_file(path, cut), 0);
		assert_int_equal(truncate(cut, sizes[i]), 0);
		expect_open_or_check_fails(cut);
	}
}

static void corrupt_page_is_reported(void **state)
{
	struct hsm_catalog *cat;
	char path[PATH_MAX];
	int64_t size;
	int64_t off;
	int i;

	catalog_path(state, "corrupt.db", path);
	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_fs_upsert(cat, FSID, MNT), 0);
	for (i = 1; i <= 500; i++)
		record_file(cat, (uint64_t)i, 1);
	hsm_catalog_close(cat);
	size = hsm_test_file_size(path);
	/* scribble over the page headers of every page but the first */
	for (off = 4096; off < size; off += 4096)
		for (i = 0; i < 8; i++)
			assert_int_equal(hsm_test_flip_byte(path, off + i, 0xa5),
					 0);
	expect_open_or_check_fails(path);
}

/*
 * Open is O(1): damage deep inside the file is not looked for at open
 * (that read every page, hours at 10^9 files) but found by the on-demand
 * check, and by whatever call reads the damaged page.
 */
static void open_skips_full_check_which_runs_on_demand(void **state)
{
	struct hsm_catalog *cat;
	char path[PATH_MAX];
	int64_t size;
	int i;

	catalog_path(state, "late.db", path);
	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_fs_upsert(cat, FSID, MNT), 0);
	for (i = 1; i <= 3000; i++)
		record_file(cat, (uint64_t)i, 1);
	assert_int_equal(hsm_catalog_check(cat), 0);
	hsm_catalog_close(cat);
	size = hsm_test_file_size(path);
	/* a leaf page of the files table near the end */
	for (i = 0; i < 8; i++)
		assert_int_equal(hsm_test_flip_byte(path, size - 2 * 4096 + i,
						    0xa5), 0);

	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_check(cat), -EUCLEAN);
	assert_non_null(strstr(hsm_catalog_error(cat), "corrupt"));
	assert_non_null(strstr(hsm_catalog_error(cat), path));
	hsm_catalog_close(cat);
}

/* ---- backup ---- */

static void backup_is_a_consistent_catalog_while_open(void **state)
{
	struct hsm_catalog_file file;
	struct hsm_catalog *cat;
	struct hsm_catalog *other;
	struct hsm_catalog *copy;
	char path[PATH_MAX];
	char dest[PATH_MAX];
	int i;

	catalog_path(state, "live.db", path);
	catalog_path(state, "backup.db", dest);
	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_fs_upsert(cat, FSID, MNT), 0);
	for (i = 1; i <= 1000; i++)
		record_file(cat, (uint64_t)i, 1);
	/* another connection holds a read snapshot open meanwhile */
	other = open_catalog(path);
	assert_int_equal(hsm_catalog_file_find(other, FSID, 5, 1, &file), 0);
	assert_int_equal(hsm_catalog_backup(cat, dest), 0);
	/* writing goes on after the backup; the copy keeps its snapshot */
	record_file(cat, 5000, 1);
	hsm_catalog_close(other);

	copy = open_catalog(dest);
	assert_int_equal(hsm_catalog_check(copy), 0);
	assert_int_equal(hsm_catalog_file_find(copy, FSID, 1000, 1, &file), 0);
	assert_string_equal(file.path, "dir/file-1000");
	assert_int_equal(hsm_catalog_file_find(copy, FSID, 5000, 1, &file),
			 -ENOENT);
	hsm_catalog_close(copy);
	/* a second backup replaces the first */
	assert_int_equal(hsm_catalog_backup(cat, dest), 0);
	copy = open_catalog(dest);
	assert_int_equal(hsm_catalog_file_find(copy, FSID, 5000, 1, &file), 0);
	hsm_catalog_close(copy);
	hsm_catalog_close(cat);
	/* no temporary left behind */
	snprintf(dest + strlen(dest), sizeof(dest) - strlen(dest), ".tmp");
	assert_int_equal(access(dest, F_OK), -1);
}

/* ---- batches ---- */

static void batch_commits_many_calls_at_once_or_none(void **state)
{
	struct hsm_catalog_file file = { 0 };
	struct hsm_catalog *cat;
	struct hsm_catalog *reader;
	char path[PATH_MAX];
	int i;

	catalog_path(state, "batch.db", path);
	cat = open_catalog(path);
	reader = open_catalog(path);
	assert_int_equal(hsm_catalog_fs_upsert(cat, FSID, MNT), 0);

	assert_int_equal(hsm_catalog_batch_begin(cat), 0);
	assert_int_equal(hsm_catalog_batch_begin(cat), -EINVAL);
	for (i = 1; i <= 100; i++)
		record_file(cat, (uint64_t)i, 1);
	/* a failing call inside the batch undoes only itself */
	strcpy(file.fsid, "nosuchfs");
	file.ino = 1;
	assert_int_equal(hsm_catalog_file_record(cat, &file), -ENOENT);
	/* nothing is visible to others before the commit */
	assert_int_equal(hsm_catalog_file_find(reader, FSID, 1, 1, &file),
			 -ENOENT);
	assert_int_equal(hsm_catalog_batch_end(cat, true), 0);
	assert_int_equal(hsm_catalog_file_find(reader, FSID, 100, 1, &file), 0);
	assert_int_equal(query_int(path, "SELECT count(*) FROM files"), 100);

	/* an abandoned batch leaves nothing */
	assert_int_equal(hsm_catalog_batch_begin(cat), 0);
	for (i = 101; i <= 200; i++)
		record_file(cat, (uint64_t)i, 1);
	assert_int_equal(hsm_catalog_batch_end(cat, false), -ECANCELED);
	assert_int_equal(hsm_catalog_batch_end(cat, true), -EINVAL);
	assert_int_equal(query_int(path, "SELECT count(*) FROM files"), 100);
	hsm_catalog_close(reader);
	hsm_catalog_close(cat);
}

#define BATCH_KILL_ROUNDS 8
#define BATCH_KILL_FILES 400

struct batch_child {
	const char *path;
	uint64_t first_ino;
};

/* Batches of BATCH_KILL_FILES files, forever, until killed. */
static void batch_child_loop(const struct batch_child *bc, int ready_fd)
{
	struct hsm_catalog_file file = { 0 };
	struct hsm_catalog *cat = NULL;
	uint64_t ino = bc->first_ino;
	unsigned char ok = 0;
	int i;

	if (hsm_catalog_open(bc->path, HSM_CATALOG_CREATE, &cat, NULL, 0))
		_exit(10);
	if (write(ready_fd, &ok, 1) != 1)
		_exit(11);
	strcpy(file.fsid, FSID);
	for (;;) {
		if (hsm_catalog_batch_begin(cat))
			_exit(12);
		for (i = 0; i < BATCH_KILL_FILES; i++, ino++) {
			file.ino = ino;
			file.data_version = 1;
			if (hsm_catalog_file_record(cat, &file))
				_exit(13);
		}
		if (hsm_catalog_batch_end(cat, true))
			_exit(14);
	}
}

/*
 * A batch killed at any moment is all there or all gone: the files
 * committed are always whole batches, in order.
 */
static void batch_killed_at_random_points_is_all_or_nothing(void **state)
{
	struct hsm_catalog *cat;
	char path[PATH_MAX];
	int64_t count = 0;
	int64_t max_ino;
	unsigned char ok;
	int round;
	int status;
	int fds[2];
	pid_t pid;

	catalog_path(state, "batchkill.db", path);
	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_fs_upsert(cat, FSID, MNT), 0);
	hsm_catalog_close(cat);
	srandom((unsigned int)getpid());

	for (round = 0; round < BATCH_KILL_ROUNDS; round++) {
		struct batch_child bc = { path, (uint64_t)count + 1 };

		assert_int_equal(pipe(fds), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			batch_child_loop(&bc, fds[1]);
		}
		close(fds[1]);
		assert_int_equal(read_record(fds[0], &ok, 1), 1);
		close(fds[0]);
		usleep((useconds_t)(random() % 300000));
		assert_int_equal(kill(pid, SIGKILL), 0);
		wait_child(pid, &status);
		assert_true(WIFSIGNALED(status));

		count = query_int(path, "SELECT count(*) FROM files");
		max_ino = query_int(path, "SELECT coalesce(max(ino), 0) FROM files");
		assert_int_equal(count % BATCH_KILL_FILES, 0);
		assert_int_equal(max_ino, count);
	}
	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_check(cat), 0);
	hsm_catalog_close(cat);
}

/* ---- state and transitions ---- */

static void filesystem_seqs_only_move_forward(void **state)
{
	struct hsm_catalog_fs fs;
	struct hsm_catalog *cat;
	char path[PATH_MAX];

	catalog_path(state, "fs.db", path);
	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_fs_upsert(cat, FSID, MNT), 0);
	assert_int_equal(hsm_catalog_fs_set_seqs(cat, FSID, 10, 20), 0);
	assert_int_equal(hsm_catalog_fs_set_seqs(cat, FSID, 11, 20), 0);
	assert_int_equal(hsm_catalog_fs_set_seqs(cat, FSID, 9, 30), -EINVAL);
	assert_non_null(strstr(hsm_catalog_error(cat), "backwards"));
	assert_int_equal(hsm_catalog_fs_set_seqs(cat, "ffff", 1, 1), -ENOENT);
	/* upsert moves the mount and keeps the seqs */
	assert_int_equal(hsm_catalog_fs_upsert(cat, FSID, "/mnt/other"), 0);
	assert_int_equal(hsm_catalog_fs_get(cat, FSID, &fs), 0);
	assert_string_equal(fs.mount_path, "/mnt/other");
	assert_int_equal(fs.meta_seq, 11);
	assert_int_equal(fs.data_seq, 20);
	/* full 64-bit range round trips */
	assert_int_equal(hsm_catalog_fs_set_seqs(cat, FSID, UINT64_MAX / 2,
						 UINT64_MAX / 2), 0);
	assert_int_equal(hsm_catalog_fs_get(cat, FSID, &fs), 0);
	assert_int_equal(fs.meta_seq, UINT64_MAX / 2);
	hsm_catalog_close(cat);
}

static void file_versions_need_their_filesystem(void **state)
{
	struct hsm_catalog_file file = { 0 };
	struct hsm_catalog_file got;
	struct hsm_catalog *cat;
	char path[PATH_MAX];
	int64_t id;

	catalog_path(state, "files.db", path);
	cat = open_catalog(path);
	strcpy(file.fsid, FSID);
	file.ino = 1;
	file.data_version = 1;
	assert_int_equal(hsm_catalog_file_record(cat, &file), -ENOENT);
	assert_non_null(strstr(hsm_catalog_error(cat), "no filesystem"));

	assert_int_equal(hsm_catalog_fs_upsert(cat, FSID, MNT), 0);
	id = record_file(cat, UINT64_MAX, 3);
	/* recording again updates in place, same id */
	file.ino = UINT64_MAX;
	file.data_version = 3;
	file.size = 5;
	strcpy(file.path, "renamed");
	assert_int_equal(hsm_catalog_file_record(cat, &file), 0);
	assert_int_equal(file.id, id);
	assert_int_equal(hsm_catalog_file_get(cat, id, &got), 0);
	assert_int_equal(got.ino, UINT64_MAX);
	assert_int_equal(got.size, 5);
	assert_string_equal(got.path, "renamed");
	assert_string_equal(got.checksum, "");
	assert_int_equal(hsm_catalog_file_get(cat, id + 100, &got), -ENOENT);
	assert_int_equal(hsm_catalog_file_find(cat, FSID, UINT64_MAX, 4, &got),
			 -ENOENT);
	hsm_catalog_close(cat);
}

static void copy_states_follow_write_then_verify(void **state)
{
	struct hsm_catalog_copy copy;
	struct hsm_catalog_file file;
	struct hsm_catalog *cat;
	struct hsm_checksum sum;
	struct hsm_checksum other;
	char path[PATH_MAX];
	int64_t file_id;
	int64_t id;
	int64_t id2;

	catalog_path(state, "copies.db", path);
	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_fs_upsert(cat, FSID, MNT), 0);
	file_id = record_file(cat, 5, 1);
	checksum_of("data", &sum);
	checksum_of("other data", &other);

	assert_int_equal(hsm_catalog_copy_begin(cat, file_id + 50, 1, "s3",
						&id), -ENOENT);
	assert_int_equal(hsm_catalog_copy_begin(cat, file_id, 0, "s3", &id),
			 -EINVAL);
	assert_int_equal(hsm_catalog_copy_begin(cat, file_id, 1, "directory",
						&id), 0);
	assert_int_equal(hsm_catalog_copy_get(cat, id, &copy), 0);
	assert_int_equal(copy.state, HSM_COPY_WRITING);
	assert_string_equal(copy.location, "");
	/* one live copy per number */
	assert_int_equal(hsm_catalog_copy_begin(cat, file_id, 1, "directory",
						&id2), -EEXIST);
	/* verified before written */
	assert_int_equal(hsm_catalog_copy_verified(cat, id), -EINVAL);
	assert_non_null(strstr(hsm_catalog_error(cat), "not yet written"));

	assert_int_equal(hsm_catalog_copy_written(cat, id, "aa/bb/c", &sum), 0);
	assert_int_equal(hsm_catalog_copy_written(cat, id, "aa/bb/d", &sum),
			 -EINVAL);
	assert_int_equal(hsm_catalog_file_get(cat, file_id, &file), 0);
	assert_true(strncmp(file.checksum, "sha256:", 7) == 0);
	assert_int_equal(hsm_catalog_copy_verified(cat, id), 0);
	assert_int_equal(hsm_catalog_copy_get(cat, id, &copy), 0);
	assert_int_equal(copy.state, HSM_COPY_VALID);
	assert_string_equal(copy.location, "aa/bb/c");
	assert_true(copy.verified > 0);
	/* re-verifying a valid copy is fine */
	assert_int_equal(hsm_catalog_copy_verified(cat, id), 0);

	/* a second copy with different data is refused and marked bad */
	assert_int_equal(hsm_catalog_copy_begin(cat, file_id, 2, "s3", &id2), 0);
	assert_int_equal(hsm_catalog_copy_written(cat, id2, "bucket/k", &other),
			 -EBADMSG);
	assert_non_null(strstr(hsm_catalog_error(cat), "differs"));
	assert_int_equal(hsm_catalog_copy_get(cat, id2, &copy), 0);
	assert_int_equal(copy.state, HSM_COPY_BAD);
	assert_string_equal(copy.location, "bucket/k");
	assert_int_equal(hsm_catalog_copy_verified(cat, id2), -EINVAL);
	/* the bad one frees its number for a retry */
	assert_int_equal(hsm_catalog_copy_begin(cat, file_id, 2, "s3", &id2), 0);

	assert_int_equal(hsm_catalog_copy_mark_bad(cat, id), 0);
	assert_int_equal(hsm_catalog_copy_mark_deleted(cat, id), 0);
	assert_int_equal(hsm_catalog_copy_mark_deleted(cat, id), -EINVAL);
	assert_int_equal(hsm_catalog_copy_mark_bad(cat, id), -EINVAL);
	assert_int_equal(hsm_catalog_copy_mark_bad(cat, id + 100), -ENOENT);
	hsm_catalog_close(cat);
}

static void release_is_safe_only_with_every_copy_verified_at_current_version(
	void **state)
{
	struct hsm_catalog_copy copies[4];
	struct hsm_catalog *cat;
	struct hsm_checksum sum;
	char path[PATH_MAX];
	int64_t v1;
	int64_t v2;
	int64_t id;
	size_t n;
	bool is_safe;

	catalog_path(state, "release.db", path);
	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_fs_upsert(cat, FSID, MNT), 0);
	v1 = record_file(cat, 9, 1);
	v2 = record_file(cat, 9, 2);

	/* nothing yet */
	assert_int_equal(hsm_catalog_release_is_safe(cat, FSID, 9, 1, 1,
						     &is_safe), 0);
	assert_false(is_safe);
	assert_int_equal(hsm_catalog_release_is_safe(cat, FSID, 9, 1, 0,
						     &is_safe), -EINVAL);

	add_valid_copy(cat, v1, 1, "v1");
	assert_int_equal(hsm_catalog_release_is_safe(cat, FSID, 9, 1, 1,
						     &is_safe), 0);
	assert_true(is_safe);
	assert_int_equal(hsm_catalog_release_is_safe(cat, FSID, 9, 1, 2,
						     &is_safe), 0);
	assert_false(is_safe);

	/* copy 2 written, not verified: not enough */
	checksum_of("v1", &sum);
	assert_int_equal(hsm_catalog_copy_begin(cat, v1, 2, "s3", &id), 0);
	assert_int_equal(hsm_catalog_copy_written(cat, id, "b/k", &sum), 0);
	assert_int_equal(hsm_catalog_release_is_safe(cat, FSID, 9, 1, 2,
						     &is_safe), 0);
	assert_false(is_safe);
	assert_int_equal(hsm_catalog_copy_verified(cat, id), 0);
	assert_int_equal(hsm_catalog_release_is_safe(cat, FSID, 9, 1, 2,
						     &is_safe), 0);
	assert_true(is_safe);

	/* the file changed: version 1 copies say nothing about version 2 */
	assert_int_equal(hsm_catalog_release_is_safe(cat, FSID, 9, 2, 1,
						     &is_safe), 0);
	assert_false(is_safe);
	add_valid_copy(cat, v2, 2, "v2");
	/* copy 2 alone does not make copies 1..2 */
	assert_int_equal(hsm_catalog_release_is_safe(cat, FSID, 9, 2, 2,
						     &is_safe), 0);
	assert_false(is_safe);
	assert_int_equal(hsm_catalog_release_is_safe(cat, FSID, 9, 2, 1,
						     &is_safe), 0);
	assert_false(is_safe);

	/* a copy found bad stops being counted */
	assert_int_equal(hsm_catalog_copy_mark_bad(cat, id), 0);
	assert_int_equal(hsm_catalog_release_is_safe(cat, FSID, 9, 1, 2,
						     &is_safe), 0);
	assert_false(is_safe);

	/* the list agrees */
	assert_int_equal(hsm_catalog_copy_list_valid(cat, FSID, 9, 1, copies,
						     4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(copies[0].copy_num, 1);
	assert_int_equal(copies[0].state, HSM_COPY_VALID);
	assert_int_equal(hsm_catalog_copy_list_valid(cat, FSID, 9, 2, copies,
						     0, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(hsm_catalog_copy_list_valid(cat, FSID, 8, 1, copies,
						     4, &n), 0);
	assert_int_equal(n, 0);
	hsm_catalog_close(cat);
}

static void requests_run_stage_first_then_by_priority(void **state)
{
	struct hsm_catalog_request req;
	struct hsm_catalog *cat;
	char path[PATH_MAX];
	int64_t f;
	int64_t ids[6];
	int64_t again;
	uint64_t count;

	catalog_path(state, "queue.db", path);
	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_fs_upsert(cat, FSID, MNT), 0);
	f = record_file(cat, 1, 1);

	assert_int_equal(hsm_catalog_request_enqueue(cat, HSM_REQ_RECYCLE, f,
			 HSM_REQ_PRIORITY_DEFAULT, &ids[0]), 0);
	assert_int_equal(hsm_catalog_request_enqueue(cat, HSM_REQ_RELEASE, f,
			 HSM_REQ_PRIORITY_DEFAULT, &ids[1]), 0);
	assert_int_equal(hsm_catalog_request_enqueue(cat, HSM_REQ_ARCHIVE, f,
			 HSM_REQ_PRIORITY_DEFAULT, &ids[2]), 0);
	assert_int_equal(hsm_catalog_request_enqueue(cat, HSM_REQ_STAGE, f,
			 HSM_REQ_PRIORITY_DEFAULT, &ids[3]), 0);
	/* same kind and file while queued: the same request */
	assert_int_equal(hsm_catalog_request_enqueue(cat, HSM_REQ_STAGE, f,
			 HSM_REQ_PRIORITY_DEFAULT, &again), 0);
	assert_int_equal(again, ids[3]);
	assert_int_equal(hsm_catalog_request_enqueue(cat, HSM_REQ_STAGE,
			 f + 99, HSM_REQ_PRIORITY_DEFAULT, &again), -ENOENT);
	assert_int_equal(hsm_catalog_request_count(cat, HSM_REQ_ANY,
						   HSM_REQ_QUEUED, &count), 0);
	assert_int_equal(count, 4);

	assert_int_equal(hsm_catalog_request_claim(cat, HSM_REQ_ANY, &req), 0);
	assert_int_equal(req.id, ids[3]);
	assert_int_equal(req.kind, HSM_REQ_STAGE);
	assert_int_equal(req.state, HSM_REQ_RUNNING);
	assert_int_equal(req.attempts, 1);
	/* a queue per kind */
	assert_int_equal(hsm_catalog_request_claim(cat, HSM_REQ_RECYCLE, &req),
			 0);
	assert_int_equal(req.id, ids[0]);
	assert_int_equal(hsm_catalog_request_claim(cat, HSM_REQ_ANY, &req), 0);
	assert_int_equal(req.id, ids[2]);
	assert_int_equal(hsm_catalog_request_claim(cat, HSM_REQ_ANY, &req), 0);
	assert_int_equal(req.id, ids[1]);
	assert_int_equal(hsm_catalog_request_claim(cat, HSM_REQ_ANY, &req),
			 -ENOENT);
	assert_int_equal(hsm_catalog_request_count(cat, HSM_REQ_ANY,
						   HSM_REQ_RUNNING, &count), 0);
	assert_int_equal(count, 4);

	/* an explicit priority beats the kind's default */
	f = record_file(cat, 2, 1);
	assert_int_equal(hsm_catalog_request_enqueue(cat, HSM_REQ_STAGE, f,
			 HSM_REQ_PRIORITY_DEFAULT, &ids[4]), 0);
	assert_int_equal(hsm_catalog_request_enqueue(cat, HSM_REQ_ARCHIVE, f,
			 10, &ids[5]), 0);
	assert_int_equal(hsm_catalog_request_enqueue(cat, HSM_REQ_ARCHIVE, f,
			 1000, &again), 0);
	assert_int_equal(again, ids[5]);
	assert_int_equal(hsm_catalog_request_claim(cat, HSM_REQ_ANY, &req), 0);
	assert_int_equal(req.id, ids[5]);
	assert_int_equal(req.priority, 1000);
	hsm_catalog_close(cat);
}

static void failed_requests_retry_until_attempts_run_out(void **state)
{
	struct hsm_catalog_request req;
	struct hsm_catalog *cat;
	char path[PATH_MAX];
	int64_t id;
	int64_t f;

	catalog_path(state, "retry.db", path);
	cat = open_catalog(path);
	hsm_catalog_set_max_attempts(cat, 2);
	assert_int_equal(hsm_catalog_fs_upsert(cat, FSID, MNT), 0);
	f = record_file(cat, 1, 1);
	assert_int_equal(hsm_catalog_request_enqueue(cat, HSM_REQ_ARCHIVE, f,
			 HSM_REQ_PRIORITY_DEFAULT, &id), 0);
	/* finishing what is not running is refused */
	assert_int_equal(hsm_catalog_request_complete(cat, id), -EINVAL);
	assert_non_null(strstr(hsm_catalog_error(cat), "queued"));

	assert_int_equal(hsm_catalog_request_claim(cat, HSM_REQ_ARCHIVE, &req),
			 0);
	assert_int_equal(hsm_catalog_request_fail(cat, id, "s3: 503", true), 0);
	assert_int_equal(hsm_catalog_request_get(cat, id, &req), 0);
	assert_int_equal(req.state, HSM_REQ_QUEUED);
	assert_string_equal(req.last_error, "s3: 503");

	assert_int_equal(hsm_catalog_request_claim(cat, HSM_REQ_ARCHIVE, &req),
			 0);
	assert_int_equal(req.attempts, 2);
	assert_int_equal(hsm_catalog_request_fail(cat, id, "s3: 503 again",
						  true), 0);
	assert_int_equal(hsm_catalog_request_get(cat, id, &req), 0);
	assert_int_equal(req.state, HSM_REQ_FAILED);
	assert_string_equal(req.last_error, "s3: 503 again");

	/* a permanent failure is final at once; success is done */
	f = record_file(cat, 2, 1);
	assert_int_equal(hsm_catalog_request_enqueue(cat, HSM_REQ_STAGE, f,
			 HSM_REQ_PRIORITY_DEFAULT, &id), 0);
	assert_int_equal(hsm_catalog_request_claim(cat, HSM_REQ_STAGE, &req), 0);
	assert_int_equal(hsm_catalog_request_fail(cat, id, "ESTALE", false), 0);
	assert_int_equal(hsm_catalog_request_get(cat, id, &req), 0);
	assert_int_equal(req.state, HSM_REQ_FAILED);
	f = record_file(cat, 3, 1);
	assert_int_equal(hsm_catalog_request_enqueue(cat, HSM_REQ_STAGE, f,
			 HSM_REQ_PRIORITY_DEFAULT, &id), 0);
	assert_int_equal(hsm_catalog_request_claim(cat, HSM_REQ_STAGE, &req), 0);
	assert_int_equal(hsm_catalog_request_complete(cat, id), 0);
	assert_int_equal(hsm_catalog_request_get(cat, id, &req), 0);
	assert_int_equal(req.state, HSM_REQ_DONE);
	assert_int_equal(hsm_catalog_request_complete(cat, id), -EINVAL);
	assert_int_equal(hsm_catalog_request_get(cat, id + 100, &req), -ENOENT);
	hsm_catalog_close(cat);
}

static void volumes_add_update_delete(void **state)
{
	struct hsm_catalog_volume vol;
	struct hsm_catalog *cat;
	char path[PATH_MAX];

	catalog_path(state, "volumes.db", path);
	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_volume_add(cat, "A00001", 1ULL << 40), 0);
	assert_int_equal(hsm_catalog_volume_add(cat, "A00001", 1), -EEXIST);
	assert_non_null(strstr(hsm_catalog_error(cat), "A00001"));
	assert_int_equal(hsm_catalog_volume_get(cat, "A00001", &vol), 0);
	assert_int_equal(vol.capacity, 1ULL << 40);
	assert_int_equal(vol.used, 0);
	assert_int_equal(vol.state, HSM_VOL_EMPTY);

	assert_int_equal(hsm_catalog_volume_update(cat, "A00001", 1ULL << 30,
						   HSM_VOL_ACTIVE), 0);
	assert_int_equal(hsm_catalog_volume_get(cat, "A00001", &vol), 0);
	assert_int_equal(vol.used, 1ULL << 30);
	assert_int_equal(vol.state, HSM_VOL_ACTIVE);
	assert_string_equal(hsm_volume_state_name(vol.state), "active");
	assert_int_equal(hsm_catalog_volume_update(cat, "A00001",
						   (1ULL << 40) + 1,
						   HSM_VOL_FULL), -EINVAL);
	assert_int_equal(hsm_catalog_volume_update(cat, "B00001", 0,
						   HSM_VOL_FULL), -ENOENT);
	assert_int_equal(hsm_catalog_volume_delete(cat, "A00001"), 0);
	assert_int_equal(hsm_catalog_volume_get(cat, "A00001", &vol), -ENOENT);
	assert_int_equal(hsm_catalog_volume_delete(cat, "A00001"), -ENOENT);
	hsm_catalog_close(cat);
}

static void readonly_open_reads_and_refuses_writes(void **state)
{
	struct hsm_catalog_fs fs;
	struct hsm_catalog *cat;
	char path[PATH_MAX];
	char err[HSM_ERROR_MAX];

	catalog_path(state, "ro.db", path);
	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_fs_upsert(cat, FSID, MNT), 0);
	hsm_catalog_close(cat);

	assert_int_equal(hsm_catalog_open(path, HSM_CATALOG_READONLY, &cat,
					  err, sizeof(err)), 0);
	assert_int_equal(hsm_catalog_fs_get(cat, FSID, &fs), 0);
	assert_int_equal(hsm_catalog_fs_upsert(cat, FSID, "/x"), -EROFS);
	hsm_catalog_close(cat);
}

/* ---- crashes ---- */

/*
 * The archive of one file, one catalog call per step, as the agent does
 * it.  A child runs the first `steps` of them and dies.
 */
enum archive_step {
	STEP_FS_UPSERT = 1,
	STEP_FILE_RECORD,
	STEP_ENQUEUE,
	STEP_CLAIM,
	STEP_COPY_BEGIN,
	STEP_COPY_WRITTEN,
	STEP_COPY_VERIFIED,
	STEP_COMPLETE,
	STEP_COUNT = STEP_COMPLETE,
};

/* Returns 0 or the failing step; no cmocka here, it runs in children. */
static int run_archive_steps(struct hsm_catalog *cat, uint64_t ino,
			     int steps)
{
	struct hsm_catalog_file file = { 0 };
	struct hsm_catalog_request req;
	struct hsm_checksum sum;
	int64_t copy_id = 0;
	int64_t req_id = 0;
	int step;

	strcpy(file.fsid, FSID);
	file.ino = ino;
	file.data_version = 1;
	file.size = 10;
	hsm_checksum_buf("content", 7, &sum);
	for (step = 1; step <= steps; step++) {
		int ret = 0;

		switch (step) {
		case STEP_FS_UPSERT:
			ret = hsm_catalog_fs_upsert(cat, FSID, MNT);
			break;
		case STEP_FILE_RECORD:
			ret = hsm_catalog_file_record(cat, &file);
			break;
		case STEP_ENQUEUE:
			ret = hsm_catalog_request_enqueue(cat, HSM_REQ_ARCHIVE,
					file.id, HSM_REQ_PRIORITY_DEFAULT,
					&req_id);
			break;
		case STEP_CLAIM:
			ret = hsm_catalog_request_claim(cat, HSM_REQ_ARCHIVE,
							&req);
			if (!ret && req.id != req_id)
				ret = -EINVAL;
			break;
		case STEP_COPY_BEGIN:
			ret = hsm_catalog_copy_begin(cat, file.id, 1,
						     "directory", &copy_id);
			break;
		case STEP_COPY_WRITTEN:
			ret = hsm_catalog_copy_written(cat, copy_id, "aa/bb/x",
						       &sum);
			break;
		case STEP_COPY_VERIFIED:
			ret = hsm_catalog_copy_verified(cat, copy_id);
			break;
		case STEP_COMPLETE:
			ret = hsm_catalog_request_complete(cat, req_id);
			break;
		}
		if (ret)
			return step;
	}
	return 0;
}

/*
 * After recovery, whatever the crash point: nothing is left running or
 * writing, done implies a valid copy, and release is safe exactly when a
 * verified copy exists.  Returns 0 or a code naming the broken rule.
 */
static int check_recovered_invariants(const char *path, uint64_t *done)
{
	/* states are stored as the enums' values (SQL_* above) */
	int64_t running = query_int(path, "SELECT count(*) FROM requests"
				    " WHERE state = " SQL_REQ_RUNNING);
	int64_t writing = query_int(path, "SELECT count(*) FROM copies"
				    " WHERE state = " SQL_COPY_WRITING);
	int64_t done_without_copy = query_int(path,
		"SELECT count(*) FROM requests r WHERE r.state = " SQL_REQ_DONE
		" AND NOT EXISTS (SELECT 1 FROM copies c WHERE c.id >> 16 ="
		" r.file_id AND c.state = " SQL_COPY_VALID
		" AND c.verified IS NOT NULL)");
	int64_t valid_unverified = query_int(path,
		"SELECT count(*) FROM copies WHERE state = " SQL_COPY_VALID
		" AND (verified IS NULL OR location IS NULL)");

	*done = (uint64_t)query_int(path, "SELECT count(*) FROM requests"
				    " WHERE state = " SQL_REQ_DONE);
	if (running)
		return 1;
	if (writing)
		return 2;
	if (done_without_copy)
		return 3;
	if (valid_unverified)
		return 4;
	return 0;
}

/* Finish the archive of ino from wherever a crash left it. */
static void resume_archive(struct hsm_catalog *cat, uint64_t ino)
{
	struct hsm_catalog_request req;
	struct hsm_catalog_file file = { 0 };
	struct hsm_checksum sum;
	int64_t req_id;
	int64_t copy_id;
	bool is_safe;

	assert_int_equal(hsm_catalog_fs_upsert(cat, FSID, MNT), 0);
	strcpy(file.fsid, FSID);
	file.ino = ino;
	file.data_version = 1;
	file.size = 10;
	assert_int_equal(hsm_catalog_file_record(cat, &file), 0);
	assert_int_equal(hsm_catalog_release_is_safe(cat, FSID, ino, 1, 1,
						     &is_safe), 0);
	if (is_safe) {
		/* the copy is there: an interrupted request only needs closing */
		if (hsm_catalog_request_claim(cat, HSM_REQ_ARCHIVE, &req) == 0)
			assert_int_equal(hsm_catalog_request_complete(cat,
								      req.id), 0);
		return;
	}
	assert_int_equal(hsm_catalog_request_enqueue(cat, HSM_REQ_ARCHIVE,
			 file.id, HSM_REQ_PRIORITY_DEFAULT, &req_id), 0);
	assert_int_equal(hsm_catalog_request_claim(cat, HSM_REQ_ARCHIVE, &req),
			 0);
	assert_int_equal(req.id, req_id);
	hsm_checksum_buf("content", 7, &sum);
	assert_int_equal(hsm_catalog_copy_begin(cat, file.id, 1, "directory",
						&copy_id), 0);
	assert_int_equal(hsm_catalog_copy_written(cat, copy_id, "aa/bb/y",
						  &sum), 0);
	assert_int_equal(hsm_catalog_copy_verified(cat, copy_id), 0);
	assert_int_equal(hsm_catalog_request_complete(cat, req_id), 0);
	assert_int_equal(hsm_catalog_release_is_safe(cat, FSID, ino, 1, 1,
						     &is_safe), 0);
	assert_true(is_safe);
}

struct steps_child {
	const char *path;
	int steps;
};

static int steps_child_run(void *arg)
{
	struct steps_child *sc = arg;
	struct hsm_catalog *cat = NULL;

	if (hsm_catalog_open(sc->path, HSM_CATALOG_CREATE, &cat, NULL, 0))
		return 100;
	return run_archive_steps(cat, 7, sc->steps);
}

static void killed_after_each_step_resumes_consistently(void **state)
{
	int steps;

	for (steps = 0; steps <= STEP_COUNT; steps++) {
		struct steps_child sc = { .steps = steps };
		struct hsm_catalog_recovery rec;
		struct hsm_catalog_request req;
		struct hsm_catalog *cat;
		char path[PATH_MAX];
		char name[32];
		uint64_t done;
		bool is_safe;

		snprintf(name, sizeof(name), "kill-%d.db", steps);
		catalog_path(state, name, path);
		sc.path = path;
		assert_int_equal(run_child_until_killed(steps_child_run, &sc),
				 0);

		cat = open_catalog(path);
		assert_int_equal(hsm_catalog_recover(cat, &rec), 0);
		assert_int_equal(check_recovered_invariants(path, &done), 0);
		assert_int_equal(rec.requests_requeued,
				 steps >= STEP_CLAIM && steps < STEP_COMPLETE);
		assert_int_equal(rec.copies_abandoned,
				 steps >= STEP_COPY_BEGIN &&
				 steps < STEP_COPY_VERIFIED);
		assert_int_equal(done, steps >= STEP_COMPLETE);
		if (steps >= STEP_CLAIM && steps < STEP_COMPLETE) {
			assert_int_equal(hsm_catalog_request_get(cat, 1, &req),
					 0);
			assert_int_equal(req.state, HSM_REQ_QUEUED);
			assert_int_equal(req.attempts, 1);
			assert_non_null(strstr(req.last_error, "interrupted"));
		}
		if (steps >= STEP_FS_UPSERT) {
			assert_int_equal(hsm_catalog_release_is_safe(cat, FSID,
					 7, 1, 1, &is_safe), 0);
			assert_int_equal(is_safe, steps >= STEP_COPY_VERIFIED);
		}
		/* a second recovery finds nothing more to do */
		assert_int_equal(hsm_catalog_recover(cat, &rec), 0);
		assert_int_equal(rec.requests_requeued + rec.copies_abandoned +
				 rec.requests_failed, 0);

		resume_archive(cat, 7);
		hsm_catalog_close(cat);
		assert_int_equal(check_recovered_invariants(path, &done), 0);
		assert_true(done >= 1);
	}
}

/* Change everything inside a transaction, push it to the WAL, no commit. */
static int txn_child_run(void *arg)
{
	sqlite3 *db;

	if (sqlite3_open(arg, &db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA synchronous = FULL;"
			 "BEGIN IMMEDIATE;"
			 "UPDATE requests SET state = " SQL_REQ_DONE ";"
			 "DELETE FROM files;", NULL, NULL, NULL) != SQLITE_OK)
		return 1;
	return sqlite3_db_cacheflush(db) == SQLITE_OK ? 0 : 2;
}

static void killed_inside_a_transaction_leaves_the_state_before(void **state)
{
	struct hsm_catalog_request req;
	struct hsm_catalog *cat;
	char path[PATH_MAX];
	int64_t f;
	int64_t id;

	catalog_path(state, "txn.db", path);
	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_fs_upsert(cat, FSID, MNT), 0);
	f = record_file(cat, 1, 1);
	assert_int_equal(hsm_catalog_request_enqueue(cat, HSM_REQ_ARCHIVE, f,
			 HSM_REQ_PRIORITY_DEFAULT, &id), 0);
	hsm_catalog_close(cat);

	assert_int_equal(run_child_until_killed(txn_child_run, path), 0);

	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_request_get(cat, id, &req), 0);
	assert_int_equal(req.state, HSM_REQ_QUEUED);
	assert_int_equal(query_int(path, "SELECT count(*) FROM files"), 1);
	hsm_catalog_close(cat);
}

#define STRESS_KILLS 6

static void killed_at_random_moments_stays_recoverable(void **state)
{
	struct hsm_catalog *cat;
	char path[PATH_MAX];
	uint64_t done = 0;
	uint64_t last_done = 0;
	int round;

	catalog_path(state, "stress.db", path);
	hsm_catalog_close(open_catalog(path));
	srand(12345);
	for (round = 0; round < STRESS_KILLS; round++) {
		struct timespec delay = { 0, (20 + rand() % 60) * 1000000L };
		struct hsm_catalog_recovery rec;
		int ready[2];
		char byte;
		int status;
		pid_t pid;

		assert_int_equal(pipe(ready), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct hsm_catalog *child = NULL;
			struct hsm_catalog_request req;
			uint64_t ino;

			close(ready[0]);

			if (hsm_catalog_open(path, 0, &child, NULL, 0))
				_exit(100);
			/* the agent's first act after a restart */
			if (hsm_catalog_recover(child, NULL))
				_exit(101);
			/* work a killed round left queued is given up */
			while (hsm_catalog_request_claim(child, HSM_REQ_ARCHIVE,
							 &req) == 0)
				if (hsm_catalog_request_fail(child, req.id,
							     "superseded", false))
					_exit(103);
			/* start the clock: the kill comes during the work */
			if (write(ready[1], "r", 1) != 1)
				_exit(104);
			for (ino = 1000 * (uint64_t)(round + 1);; ino++)
				if (run_archive_steps(child, ino, STEP_COUNT))
					_exit(102);
		}
		close(ready[1]);
		assert_int_equal(read(ready[0], &byte, 1), 1);
		close(ready[0]);
		nanosleep(&delay, NULL);
		assert_int_equal(kill(pid, SIGKILL), 0);
		wait_child(pid, &status);
		/* killed, never a failure of its own */
		assert_true(WIFSIGNALED(status));

		cat = open_catalog(path);
		assert_int_equal(hsm_catalog_recover(cat, &rec), 0);
		hsm_catalog_close(cat);
		assert_int_equal(check_recovered_invariants(path, &done), 0);
		assert_true(done >= last_done);
		last_done = done;
	}
	/* the kills landed in the middle of real work */
	assert_true(query_int(path, "SELECT count(*) FROM files") > 0);
}

/* ---- concurrency ---- */

#define CONCURRENT_FILES 150
#define CONCURRENT_READERS 3
#define CONCURRENT_TIMEOUT_SEC 60

/* A reader process: counts never go down and no call ever fails. */
static int reader_loop(const char *path)
{
	struct hsm_catalog *cat = NULL;
	struct hsm_catalog_file file;
	time_t deadline = time(NULL) + CONCURRENT_TIMEOUT_SEC;
	uint64_t last = 0;
	uint64_t count;
	unsigned int reads = 0;
	bool is_safe;

	if (hsm_catalog_open(path, 0, &cat, NULL, 0))
		return 10;
	do {
		if (hsm_catalog_request_count(cat, HSM_REQ_ARCHIVE,
					      HSM_REQ_STATE_ANY, &count))
			return 11;
		if (count < last)
			return 12;
		last = count;
		if (count && hsm_catalog_file_find(cat, FSID, count, 1, &file))
			return 13;
		if (hsm_catalog_release_is_safe(cat, FSID, 1, 1, 1, &is_safe))
			return 14;
		reads++;
	} while (count < CONCURRENT_FILES && time(NULL) < deadline);
	hsm_catalog_close(cat);
	/* the writer finished while we were reading, and we did read */
	return count == CONCURRENT_FILES && reads > 0 ? 0 : 15;
}

static int writer_loop(const char *path)
{
	struct hsm_catalog *cat = NULL;
	uint64_t ino;

	if (hsm_catalog_open(path, 0, &cat, NULL, 0))
		return 20;
	for (ino = 1; ino <= CONCURRENT_FILES; ino++) {
		struct hsm_catalog_file file = { 0 };
		int64_t id;

		strcpy(file.fsid, FSID);
		file.ino = ino;
		file.data_version = 1;
		if (hsm_catalog_file_record(cat, &file) ||
		    hsm_catalog_request_enqueue(cat, HSM_REQ_ARCHIVE, file.id,
						HSM_REQ_PRIORITY_DEFAULT, &id))
			return 21;
	}
	hsm_catalog_close(cat);
	return 0;
}

static void readers_run_beside_a_writer(void **state)
{
	pid_t pids[CONCURRENT_READERS + 1];
	struct hsm_catalog *cat;
	char path[PATH_MAX];
	uint64_t count;
	int status;
	int i;

	catalog_path(state, "concurrent.db", path);
	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_fs_upsert(cat, FSID, MNT), 0);
	hsm_catalog_close(cat);

	for (i = 0; i <= CONCURRENT_READERS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			_exit(i == 0 ? writer_loop(path) : reader_loop(path));
	}
	for (i = 0; i <= CONCURRENT_READERS; i++) {
		wait_child(pids[i], &status);
		assert_true(WIFEXITED(status));
		if (WEXITSTATUS(status))
			fail_msg("%s %d exited %d", i ? "reader" : "writer", i,
				 WEXITSTATUS(status));
	}
	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_request_count(cat, HSM_REQ_ARCHIVE,
						   HSM_REQ_QUEUED, &count), 0);
	assert_int_equal(count, CONCURRENT_FILES);
	hsm_catalog_close(cat);
}

/* ---- owners, leases, counters, purge (schema 3) ---- */

/* A version 2 catalog with queued, running and done requests. */
static void make_v2_catalog(const char *path)
{
	sqlite3 *db;
	int v;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	for (v = 1; v <= 2; v++)
		assert_int_equal(sqlite3_exec(db, hsm_catalog_migration_sql(v),
					      NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
		"INSERT INTO filesystems VALUES ('" FSID "', '/mnt', 5, 6);"
		"INSERT INTO files (id, fsid, ino, data_version, size, mtime)"
		" VALUES (1, '" FSID "', 1, 1, 10, 0), (2, '" FSID "', 2, 1, 10, 0);"
		"INSERT INTO requests (kind, file_id, priority, state, attempts,"
		" created, updated) VALUES"
		" ('archive', 1, 200, 'queued', 0, 1, 1),"
		" ('archive', 2, 200, 'running', 1, 1, 1),"
		" ('stage', 1, 300, 'done', 1, 1, 1);"
		"PRAGMA user_version = 2;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void migrates_version_2_keeping_requests_and_counts(void **state)
{
	struct hsm_catalog_request req;
	struct hsm_catalog *cat;
	struct hsm_catalog_fs fs;
	char path[PATH_MAX];
	uint64_t count;
	int version;

	catalog_path(state, "v2.db", path);
	make_v2_catalog(path);
	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_schema_version(cat, &version), 0);
	assert_int_equal(version, HSM_CATALOG_SCHEMA_VERSION);
	assert_int_equal(hsm_catalog_fs_get(cat, FSID, &fs), 0);
	assert_int_equal(fs.meta_seq, 5);
	assert_int_equal(hsm_catalog_request_count(cat, HSM_REQ_ARCHIVE,
			 HSM_REQ_STATE_ANY, &count), 0);
	assert_int_equal(count, 2);
	assert_int_equal(hsm_catalog_request_count(cat, HSM_REQ_ANY,
			 HSM_REQ_DONE, &count), 0);
	assert_int_equal(count, 1);
	/* the running request of the old single agent is owner 0's */
	assert_int_equal(hsm_catalog_request_get(cat, 2, &req), 0);
	assert_int_equal(req.owner, 0);
	assert_int_equal(hsm_catalog_recover(cat, NULL), 0);
	assert_int_equal(hsm_catalog_request_count(cat, HSM_REQ_ARCHIVE,
			 HSM_REQ_QUEUED, &count), 0);
	assert_int_equal(count, 2);
	hsm_catalog_close(cat);
}

static void counters_follow_every_change_and_purge(void **state)
{
	struct hsm_catalog_request req;
	struct hsm_catalog *cat;
	char path[PATH_MAX];
	uint64_t count;
	uint64_t purged;
	int64_t id;
	int i;

	catalog_path(state, "purge.db", path);
	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_fs_upsert(cat, FSID, MNT), 0);
	for (i = 1; i <= 25; i++)
		assert_int_equal(hsm_catalog_request_enqueue(cat,
				 HSM_REQ_ARCHIVE, record_file(cat, (uint64_t)i, 1),
				 HSM_REQ_PRIORITY_DEFAULT, &id), 0);
	for (i = 1; i <= 20; i++) {
		assert_int_equal(hsm_catalog_request_claim(cat, HSM_REQ_ARCHIVE,
							   &req), 0);
		if (i <= 15)
			assert_int_equal(hsm_catalog_request_complete(cat,
								      req.id), 0);
	}
	assert_int_equal(hsm_catalog_request_count(cat, HSM_REQ_ARCHIVE,
			 HSM_REQ_DONE, &count), 0);
	assert_int_equal(count, 15);
	assert_int_equal(hsm_catalog_request_count(cat, HSM_REQ_ARCHIVE,
			 HSM_REQ_RUNNING, &count), 0);
	assert_int_equal(count, 5);
	/* kept while younger than the keep time */
	assert_int_equal(hsm_catalog_request_purge(cat, 3600, 4, &purged), 0);
	assert_int_equal(purged, 0);
	/* keep time 0 (and time moved on): purged 4 per transaction */
	sleep(1);
	assert_int_equal(hsm_catalog_request_purge(cat, 0, 4, &purged), 0);
	assert_int_equal(purged, 15);
	assert_int_equal(query_int(path, "SELECT count(*) FROM requests"), 10);
	assert_int_equal(hsm_catalog_request_count(cat, HSM_REQ_ANY,
			 HSM_REQ_STATE_ANY, &count), 0);
	assert_int_equal(count, 10);
	assert_int_equal(hsm_catalog_request_count(cat, HSM_REQ_ANY,
			 HSM_REQ_DONE, &count), 0);
	assert_int_equal(count, 0);
	/* the counters agree with a scan of the table */
	assert_int_equal(query_int(path,
		"SELECT count(*) FROM request_counts c WHERE n != (SELECT"
		" count(*) FROM requests r WHERE r.kind = c.kind AND"
		" r.state = c.state)"), 0);
	hsm_catalog_close(cat);
}

static void expired_lease_is_taken_over_and_old_owner_refused(void **state)
{
	struct hsm_catalog_recovery rec;
	struct hsm_catalog_request req;
	struct hsm_catalog_request req2;
	struct hsm_catalog *node1;
	struct hsm_catalog *node2;
	char path[PATH_MAX];
	int64_t id;

	catalog_path(state, "lease.db", path);
	node1 = open_catalog(path);
	node2 = open_catalog(path);
	hsm_catalog_set_owner(node1, 1, 1);
	hsm_catalog_set_owner(node2, 2, 60);
	assert_int_equal(hsm_catalog_fs_upsert(node1, FSID, MNT), 0);
	assert_int_equal(hsm_catalog_request_enqueue(node1, HSM_REQ_ARCHIVE,
			 record_file(node1, 1, 1), HSM_REQ_PRIORITY_DEFAULT,
			 &id), 0);
	assert_int_equal(hsm_catalog_request_claim(node1, HSM_REQ_ARCHIVE,
						   &req), 0);
	assert_int_equal(req.owner, 1);
	assert_true(req.lease_expires > 0);
	/* live lease: node 2 gets nothing, and its restart leaves it alone */
	assert_int_equal(hsm_catalog_request_claim(node2, HSM_REQ_ARCHIVE,
						   &req2), -ENOENT);
	assert_int_equal(hsm_catalog_recover(node2, &rec), 0);
	assert_int_equal(rec.requests_requeued, 0);
	assert_int_equal(hsm_catalog_request_renew(node1, id), 0);

	sleep(3);
	assert_int_equal(hsm_catalog_request_claim(node2, HSM_REQ_ARCHIVE,
						   &req2), 0);
	assert_int_equal(req2.id, id);
	assert_int_equal(req2.owner, 2);
	assert_int_equal(req2.attempts, 2);
	/* node 1 wakes up: its lease is gone */
	assert_int_equal(hsm_catalog_request_renew(node1, id), -ESTALE);
	assert_int_equal(hsm_catalog_request_complete(node1, id), -ESTALE);
	assert_non_null(strstr(hsm_catalog_error(node1), "lease lost"));
	assert_int_equal(hsm_catalog_request_complete(node2, id), 0);
	hsm_catalog_close(node1);
	hsm_catalog_close(node2);
}

#define RACE_REQUESTS 300

/* Claim (and complete) until nothing is left; write each id to fd. */
static void race_claimer(const char *path, int64_t node, int start_fd,
			 int out_fd)
{
	struct hsm_catalog_request req;
	struct hsm_catalog *cat = NULL;
	unsigned char go;
	int ret;

	if (hsm_catalog_open(path, 0, &cat, NULL, 0))
		_exit(10);
	hsm_catalog_set_owner(cat, node, 60);
	if (read_record(start_fd, &go, 1) != 1)
		_exit(11);
	while ((ret = hsm_catalog_request_claim(cat, HSM_REQ_ANY, &req)) == 0) {
		if (req.owner != node)
			_exit(12);
		if (write(out_fd, &req.id, sizeof(req.id)) != sizeof(req.id))
			_exit(13);
		if (hsm_catalog_request_complete(cat, req.id))
			_exit(14);
	}
	hsm_catalog_close(cat);
	_exit(ret == -ENOENT ? 0 : 15);
}

static void two_processes_racing_claims_never_share_a_request(void **state)
{
	static unsigned char seen[RACE_REQUESTS + 1];
	struct hsm_catalog *cat;
	char path[PATH_MAX];
	int start[2];
	int out[2];
	pid_t pids[2];
	int64_t id;
	int status;
	int got = 0;
	int i;

	catalog_path(state, "race.db", path);
	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_fs_upsert(cat, FSID, MNT), 0);
	assert_int_equal(hsm_catalog_batch_begin(cat), 0);
	for (i = 1; i <= RACE_REQUESTS; i++)
		assert_int_equal(hsm_catalog_request_enqueue(cat,
				 HSM_REQ_ARCHIVE, record_file(cat, (uint64_t)i, 1),
				 HSM_REQ_PRIORITY_DEFAULT, &id), 0);
	assert_int_equal(hsm_catalog_batch_end(cat, true), 0);
	/* the children must not inherit (and leak) this connection */
	hsm_catalog_close(cat);

	assert_int_equal(pipe(start), 0);
	assert_int_equal(pipe(out), 0);
	for (i = 0; i < 2; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			close(start[1]);
			close(out[0]);
			race_claimer(path, i + 1, start[0], out[1]);
		}
	}
	close(start[0]);
	close(out[1]);
	/* both start together */
	assert_int_equal(write(start[1], "gg", 2), 2);
	close(start[1]);
	memset(seen, 0, sizeof(seen));
	while (read_record(out[0], &id, sizeof(id))) {
		assert_true(id >= 1 && id <= RACE_REQUESTS);
		assert_int_equal(seen[id], 0);
		seen[id] = 1;
		got++;
	}
	close(out[0]);
	for (i = 0; i < 2; i++) {
		wait_child(pids[i], &status);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(got, RACE_REQUESTS);
	assert_int_equal(query_int(path,
		"SELECT count(*) FROM requests WHERE state = " SQL_REQ_DONE),
		RACE_REQUESTS);
	assert_int_equal(query_int(path,
		"SELECT max(attempts) FROM requests"), 1);
}

/* ---- recovery of copies against their backend ---- */

static struct hsm_backend *lookup_directory(void *arg, const char *name)
{
	return strcmp(name, "directory") == 0 ? arg : NULL;
}

/* put ino's content on be, record it as copy 1 'writing' + written */
static int64_t written_copy(struct hsm_catalog *cat, struct hsm_backend *be,
			    uint64_t ino, struct hsm_put_result *res)
{
	struct hsm_object_info info = { .ino = ino, .data_version = 1 };
	struct hsm_catalog_file file = { 0 };
	struct hsm_test_reader rd;
	int64_t id;

	strcpy(file.fsid, FSID);
	strcpy(info.fsid, FSID);
	file.ino = ino;
	file.data_version = 1;
	file.size = 100000;
	info.size = file.size;
	assert_int_equal(hsm_catalog_file_record(cat, &file), 0);
	hsm_test_reader_init(&rd, ino, HSM_TEST_PATTERN_RANDOM, file.size);
	assert_int_equal(be->ops->put(be, &info, hsm_test_read, &rd, res), 0);
	assert_int_equal(hsm_catalog_copy_begin(cat, file.id, 1, "directory",
						&id), 0);
	assert_int_equal(hsm_catalog_copy_written(cat, id, res->location,
						  &res->checksum), 0);
	return id;
}

static void recovery_commits_whole_copies_and_retries_partial_ones(
	void **state)
{
	struct hsm_catalog_recovery rec = { 0 };
	struct hsm_put_result whole;
	struct hsm_put_result half;
	struct hsm_catalog_copy copy;
	struct hsm_stat_result st;
	struct hsm_backend *be;
	struct hsm_catalog *cat;
	char root[PATH_MAX];
	char path[PATH_MAX];
	char obj[PATH_MAX + HSM_LOCATION_MAX];
	uint64_t count;
	int64_t whole_id;
	int64_t half_id;
	int64_t unknown_id;
	int64_t file_id;
	bool is_safe;

	catalog_path(state, "recover.db", path);
	catalog_path(state, "archive", root);
	assert_int_equal(mkdir(root, 0700), 0);
	assert_int_equal(hsm_backend_dir_open(root, &be, NULL, 0), 0);
	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_fs_upsert(cat, FSID, MNT), 0);

	/* the put finished, the process died before the verify */
	whole_id = written_copy(cat, be, 1, &whole);
	/* the object is cut short (a backend without atomic puts) */
	half_id = written_copy(cat, be, 2, &half);
	snprintf(obj, sizeof(obj), "%s/%s", root, half.location);
	assert_int_equal(truncate(obj, 5000), 0);
	/* a copy on a backend this process has not configured */
	file_id = record_file(cat, 3, 1);
	assert_int_equal(hsm_catalog_copy_begin(cat, file_id, 1, "tape",
						&unknown_id), 0);

	assert_int_equal(hsm_catalog_recover_copies(cat, lookup_directory, be,
						    &rec), 0);
	assert_int_equal(rec.copies_committed, 1);
	assert_int_equal(rec.copies_retried, 1);
	assert_int_equal(hsm_catalog_copy_get(cat, whole_id, &copy), 0);
	assert_int_equal(copy.state, HSM_COPY_VALID);
	assert_true(copy.verified > 0);
	assert_int_equal(hsm_catalog_release_is_safe(cat, FSID, 1, 1, 1,
						     &is_safe), 0);
	assert_true(is_safe);

	assert_int_equal(hsm_catalog_copy_get(cat, half_id, &copy), 0);
	assert_int_equal(copy.state, HSM_COPY_DELETED);
	assert_int_equal(be->ops->stat(be, half.location, &st), -ENOENT);
	assert_int_equal(hsm_catalog_request_count(cat, HSM_REQ_ARCHIVE,
			 HSM_REQ_QUEUED, &count), 0);
	assert_int_equal(count, 1);

	/* the unknown backend's copy is left to recover(): bad */
	assert_int_equal(hsm_catalog_copy_get(cat, unknown_id, &copy), 0);
	assert_int_equal(copy.state, HSM_COPY_WRITING);
	memset(&rec, 0, sizeof(rec));
	assert_int_equal(hsm_catalog_recover(cat, &rec), 0);
	assert_int_equal(rec.copies_abandoned, 1);
	hsm_catalog_close(cat);
	hsm_backend_destroy(be);
}

static void copies_are_found_by_volume_and_by_backend_to_recycle(void **state)
{
	struct hsm_catalog_copy out[4];
	struct hsm_catalog *cat;
	char path[PATH_MAX];
	int64_t ids[10];
	int64_t after = 0;
	size_t n;
	size_t total = 0;
	int i;

	catalog_path(state, "byvol.db", path);
	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_fs_upsert(cat, FSID, MNT), 0);
	for (i = 0; i < 10; i++) {
		ids[i] = add_valid_copy(cat, record_file(cat, (uint64_t)i + 1, 1),
					1, "same");
		assert_int_equal(hsm_catalog_copy_set_volume(cat, ids[i],
					i % 2 ? "VOL001" : "VOL002"), 0);
	}
	assert_int_equal(hsm_catalog_copy_set_volume(cat, 999, "VOL001"),
			 -ENOENT);
	/* paged: 5 copies on VOL001, 4 per page */
	do {
		assert_int_equal(hsm_catalog_copy_list_on_volume(cat, "VOL001",
				 after, out, 4, &n), 0);
		for (size_t j = 0; j < n; j++)
			assert_int_equal(out[j].id, ids[2 * (total + j) + 1]);
		total += n;
		if (n)
			after = out[n - 1].id;
	} while (n == 4);
	assert_int_equal(total, 5);

	assert_int_equal(hsm_catalog_copy_mark_bad(cat, ids[3]), 0);
	assert_int_equal(hsm_catalog_copy_mark_bad(cat, ids[7]), 0);
	assert_int_equal(hsm_catalog_copy_list_to_recycle(cat, "directory", 0,
			 out, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].id, ids[3]);
	assert_int_equal(out[1].id, ids[7]);
	assert_int_equal(hsm_catalog_copy_list_to_recycle(cat, "s3", 0, out, 4,
			 &n), 0);
	assert_int_equal(n, 0);
	/* the questions are answered by their indexes, not a scan */
	assert_int_equal(query_int(path,
		"SELECT count(*) FROM pragma_index_list('copies')"
		" WHERE name IN ('copies_volume', 'copies_recycle')"
		" AND partial = 1"), 2);
	hsm_catalog_close(cat);
}


/*
 * Locations are stored packed against their file (schema 6): every
 * spelling must come back exactly, and the backends' usual ones must
 * shrink to a small part of their text.
 */
static void locations_round_trip_packed_against_their_file(void **state)
{
	static const char *const locs[] = {
		/* directory, S3 and tape spellings of file ino 0x1234 v 5 */
		"3f/a0/" FSID "-0000000000001234-0000000000000005-00000001"
		"-0123456789abcdef",
		"scoutfs/" FSID "/0000000000001234/5-9f8e7d6c5b4a3928",
		"tape:VOL001:7:123456789:4660:1024:3",
		/* tokens and runs next to each other, odd runs, no tokens */
		FSID FSID "0000000000001234abcdef0123",
		"ABCDEF-not-lowercase-hex-0123456789abcdefabc",
		"4660/4660/x/5",
		"plain",
		"\xc3\xa9t\xc3\xa9/caf\xc3\xa9",
		"a",
		/* bytes a location never holds, but may: escaped */
		"\x01\x02\x10\x11\x1f tab\there",
	};
	struct hsm_catalog_file file = { 0 };
	struct hsm_catalog_copy copy;
	struct hsm_catalog *cat;
	struct hsm_checksum sum;
	char loc[HSM_LOCATION_MAX];
	char path[PATH_MAX];
	int64_t id;
	size_t i;

	catalog_path(state, "locations.db", path);
	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_fs_upsert(cat, FSID, MNT), 0);
	checksum_of("content", &sum);
	strcpy(file.fsid, FSID);
	file.ino = 0x1234;
	file.size = 4660;
	for (i = 0; i < ARRAY_LEN(locs) + 1; i++) {
		file.data_version = 5 + i;
		if (i < ARRAY_LEN(locs)) {
			snprintf(loc, sizeof(loc), "%s", locs[i]);
		} else {
			/* the longest a backend may return, all hex */
			memset(loc, 'a', sizeof(loc) - 1);
			loc[sizeof(loc) - 1] = '\0';
		}
		assert_int_equal(hsm_catalog_file_record(cat, &file), 0);
		assert_int_equal(hsm_catalog_copy_begin(cat, file.id, 1,
							"directory", &id), 0);
		assert_int_equal(hsm_catalog_copy_written(cat, id, loc, &sum),
				 0);
		assert_int_equal(hsm_catalog_copy_get(cat, id, &copy), 0);
		assert_string_equal(copy.location, loc);
		assert_int_equal(hsm_catalog_copy_verified(cat, id), 0);
		assert_int_equal(hsm_catalog_copy_get(cat, id, &copy), 0);
		assert_string_equal(copy.location, loc);
	}
	hsm_catalog_close(cat);
	/*
	 * The backends' spellings are stored packed: the directory's and
	 * S3's (files 1, 2: 98 and 76 bytes of text) in at most 24 bytes,
	 * tape's (file 3), mostly its own numbers, shorter than its text.
	 */
	assert_int_equal(query_int(path, "SELECT count(*) FROM copies"
				   " WHERE id >> 16 <= 2 AND typeof(location) = 'blob'"
				   " AND length(location) <= 24"), 2);
	assert_int_equal(query_int(path, "SELECT typeof(location) = 'blob' AND"
				   " length(location) < 35 FROM copies"
				   " WHERE id >> 16 = 3"), 1);
	/* what packing cannot shorten is kept as text */
	assert_int_equal(query_int(path, "SELECT typeof(location) = 'text'"
				   " FROM copies WHERE id >> 16 = 7"), 1);
}

/* ---- inodes: the indexer's namespace mirror (schema 5) ---- */

static void fill_inode(struct hsm_catalog_inode *in, uint64_t ino,
		       uint64_t version)
{
	memset(in, 0, sizeof(*in));
	in->ino = ino;
	in->data_version = version;
	in->size = ino * 1000 + version;
	in->mtime_sec = 1700000000 + (int64_t)ino;
	in->mtime_nsec = (uint32_t)(ino % 1000000000);
	in->mode = 0100644;
	in->uid = 1000 + (uint32_t)ino;
	in->gid = 100;
	in->meta_seq = ino * 3 + version;
	in->data_seq = ino * 2 + version;
	in->state = (enum hsm_inode_state)(ino % 3);
	snprintf(in->path, sizeof(in->path), "d%" PRIu64 "/f%" PRIu64,
		 ino % 7, ino);
}

static void assert_inode_equal(const struct hsm_catalog_inode *a,
			       const struct hsm_catalog_inode *b)
{
	assert_int_equal(a->ino, b->ino);
	assert_int_equal(a->data_version, b->data_version);
	assert_int_equal(a->size, b->size);
	assert_int_equal(a->mtime_sec, b->mtime_sec);
	assert_int_equal(a->mtime_nsec, b->mtime_nsec);
	assert_int_equal(a->mode, b->mode);
	assert_int_equal(a->uid, b->uid);
	assert_int_equal(a->gid, b->gid);
	assert_int_equal(a->meta_seq, b->meta_seq);
	assert_int_equal(a->data_seq, b->data_seq);
	assert_int_equal(a->state, b->state);
	assert_string_equal(a->path, b->path);
}

struct inode_walk {
	uint64_t inos[64];
	unsigned int nr;
	unsigned int stop_after;	/* 0: never */
};

static int collect_inode(void *arg, const struct hsm_catalog_inode *in)
{
	struct inode_walk *w = arg;

	if (w->nr >= 64)
		return -E2BIG;
	w->inos[w->nr++] = in->ino;
	return (w->stop_after && w->nr == w->stop_after) ? 77 : 0;
}

static void inode_rows_upsert_get_delete_walk_and_count(void **state)
{
	static const uint64_t inos[] = { 40, 3, 1000000007, 12, 5, 2 };
	struct hsm_catalog_inode in;
	struct hsm_catalog_inode got;
	struct inode_walk walk = { 0 };
	struct hsm_catalog *cat;
	char path[PATH_MAX];
	uint64_t count = 99;
	size_t i;

	catalog_path(state, "inodes.db", path);
	cat = open_catalog(path);
	fill_inode(&in, 1, 1);
	/* the filesystem must exist */
	assert_int_equal(hsm_catalog_inode_upsert(cat, FSID, &in), -ENOENT);
	assert_non_null(strstr(hsm_catalog_error(cat), FSID));
	assert_int_equal(hsm_catalog_inode_count(cat, FSID, &count), -ENOENT);
	assert_int_equal(hsm_catalog_fs_upsert(cat, FSID, MNT), 0);
	assert_int_equal(hsm_catalog_fs_upsert(cat, "other", "/mnt/o"), 0);
	assert_int_equal(hsm_catalog_inode_count(cat, FSID, &count), 0);
	assert_int_equal(count, 0);

	for (i = 0; i < ARRAY_LEN(inos); i++) {
		fill_inode(&in, inos[i], 1);
		assert_int_equal(hsm_catalog_inode_upsert(cat, FSID, &in), 0);
	}
	/* same ino in another filesystem is another row */
	fill_inode(&in, 3, 9);
	assert_int_equal(hsm_catalog_inode_upsert(cat, "other", &in), 0);
	assert_int_equal(hsm_catalog_inode_count(cat, FSID, &count), 0);
	assert_int_equal(count, ARRAY_LEN(inos));
	assert_int_equal(hsm_catalog_inode_count(cat, "other", &count), 0);
	assert_int_equal(count, 1);

	/* every field round trips; an upsert replaces the row */
	fill_inode(&in, 12, 1);
	assert_int_equal(hsm_catalog_inode_get(cat, FSID, 12, &got), 0);
	assert_inode_equal(&got, &in);
	fill_inode(&in, 12, 2);
	in.state = HSM_INODE_OFFLINE;
	in.size = UINT64_MAX / 2;
	in.meta_seq = UINT64_MAX - 1;	/* stored signed, read back whole */
	in.uid = UINT32_MAX;
	in.path[0] = '\0';		/* unknown path */
	assert_int_equal(hsm_catalog_inode_upsert(cat, FSID, &in), 0);
	assert_int_equal(hsm_catalog_inode_get(cat, FSID, 12, &got), 0);
	assert_inode_equal(&got, &in);
	assert_int_equal(hsm_catalog_inode_count(cat, FSID, &count), 0);
	assert_int_equal(count, ARRAY_LEN(inos));
	assert_int_equal(hsm_catalog_inode_get(cat, "other", 3, &got), 0);
	assert_int_equal(got.data_version, 9);

	/* walks are in ino order, from a start, and stop when asked */
	assert_int_equal(hsm_catalog_inode_foreach(cat, FSID, collect_inode,
						   &walk), 0);
	assert_int_equal(walk.nr, ARRAY_LEN(inos));
	assert_int_equal(walk.inos[0], 2);
	assert_int_equal(walk.inos[1], 3);
	assert_int_equal(walk.inos[2], 5);
	assert_int_equal(walk.inos[3], 12);
	assert_int_equal(walk.inos[4], 40);
	assert_int_equal(walk.inos[5], 1000000007);
	memset(&walk, 0, sizeof(walk));
	assert_int_equal(hsm_catalog_inode_foreach_from(cat, FSID, 5,
							collect_inode, &walk), 0);
	assert_int_equal(walk.nr, 4);
	assert_int_equal(walk.inos[0], 5);
	memset(&walk, 0, sizeof(walk));
	walk.stop_after = 2;
	assert_int_equal(hsm_catalog_inode_foreach(cat, FSID, collect_inode,
						   &walk), 77);
	assert_int_equal(walk.nr, 2);
	memset(&walk, 0, sizeof(walk));
	assert_int_equal(hsm_catalog_inode_foreach(cat, "other", collect_inode,
						   &walk), 0);
	assert_int_equal(walk.nr, 1);
	assert_int_equal(hsm_catalog_inode_foreach(cat, "nosuch",
						   collect_inode, &walk),
			 -ENOENT);

	/* delete */
	assert_int_equal(hsm_catalog_inode_delete(cat, FSID, 12), 0);
	assert_int_equal(hsm_catalog_inode_get(cat, FSID, 12, &got), -ENOENT);
	assert_int_equal(hsm_catalog_inode_delete(cat, FSID, 12), -ENOENT);
	assert_non_null(strstr(hsm_catalog_error(cat), "12"));
	assert_int_equal(hsm_catalog_inode_count(cat, FSID, &count), 0);
	assert_int_equal(count, ARRAY_LEN(inos) - 1);
	assert_int_equal(hsm_catalog_inode_get(cat, "other", 3, &got), 0);

	/* a state the enum does not have is refused */
	fill_inode(&in, 77, 1);
	in.state = (enum hsm_inode_state)7;
	assert_int_equal(hsm_catalog_inode_upsert(cat, FSID, &in), -EINVAL);
	assert_int_equal(hsm_catalog_inode_get(cat, FSID, 77, &got), -ENOENT);
	assert_string_equal(hsm_inode_state_name(HSM_INODE_PARTIAL), "partial");

	/* the counter agrees with the rows */
	hsm_catalog_close(cat);
	assert_int_equal(query_int(path,
		"SELECT count(*) FROM inodes i JOIN filesystems f ON f.id = i.fs"
		" WHERE f.fsid = '" FSID "'"), ARRAY_LEN(inos) - 1);
	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_check(cat), 0);
	hsm_catalog_close(cat);
}

/*
 * The indexer's unit of progress: many inode rows and the seqs walked
 * to, committed together or not at all.
 */
static void inode_rows_and_seqs_commit_together_in_a_batch(void **state)
{
	struct hsm_catalog_inode in;
	struct hsm_catalog *cat;
	struct hsm_catalog *reader;
	struct hsm_catalog_fs fs;
	char path[PATH_MAX];
	uint64_t count;
	uint64_t ino;

	catalog_path(state, "inodebatch.db", path);
	cat = open_catalog(path);
	reader = open_catalog(path);
	assert_int_equal(hsm_catalog_fs_upsert(cat, FSID, MNT), 0);

	/* rolled back: neither rows nor seqs */
	assert_int_equal(hsm_catalog_batch_begin(cat), 0);
	for (ino = 1; ino <= 500; ino++) {
		fill_inode(&in, ino, 1);
		assert_int_equal(hsm_catalog_inode_upsert(cat, FSID, &in), 0);
	}
	assert_int_equal(hsm_catalog_fs_set_seqs(cat, FSID, 500, 400), 0);
	assert_int_equal(hsm_catalog_batch_end(cat, false), -ECANCELED);
	assert_int_equal(hsm_catalog_inode_count(cat, FSID, &count), 0);
	assert_int_equal(count, 0);
	assert_int_equal(hsm_catalog_fs_get(cat, FSID, &fs), 0);
	assert_int_equal(fs.meta_seq, 0);

	/* committed: both, and only at the commit */
	assert_int_equal(hsm_catalog_batch_begin(cat), 0);
	for (ino = 1; ino <= 500; ino++) {
		fill_inode(&in, ino, 1);
		assert_int_equal(hsm_catalog_inode_upsert(cat, FSID, &in), 0);
	}
	/* deleting a row upserted in the same batch */
	assert_int_equal(hsm_catalog_inode_delete(cat, FSID, 250), 0);
	/* a failing call inside the batch undoes only itself */
	assert_int_equal(hsm_catalog_inode_upsert(cat, "nosuch", &in), -ENOENT);
	assert_int_equal(hsm_catalog_fs_set_seqs(cat, FSID, 500, 400), 0);
	assert_int_equal(hsm_catalog_inode_count(reader, FSID, &count), 0);
	assert_int_equal(count, 0);
	assert_int_equal(hsm_catalog_fs_get(reader, FSID, &fs), 0);
	assert_int_equal(fs.meta_seq, 0);
	assert_int_equal(hsm_catalog_batch_end(cat, true), 0);
	assert_int_equal(hsm_catalog_inode_count(reader, FSID, &count), 0);
	assert_int_equal(count, 499);
	assert_int_equal(hsm_catalog_fs_get(reader, FSID, &fs), 0);
	assert_int_equal(fs.meta_seq, 500);
	assert_int_equal(fs.data_seq, 400);
	hsm_catalog_close(reader);
	hsm_catalog_close(cat);
}

/* A filesystem added inside a rolled-back batch is gone for inodes too. */
static void inode_rows_of_a_rolled_back_filesystem_are_refused(void **state)
{
	struct hsm_catalog_inode in;
	struct hsm_catalog *cat;
	char path[PATH_MAX];

	catalog_path(state, "inodefs.db", path);
	cat = open_catalog(path);
	fill_inode(&in, 1, 1);
	assert_int_equal(hsm_catalog_batch_begin(cat), 0);
	assert_int_equal(hsm_catalog_fs_upsert(cat, FSID, MNT), 0);
	assert_int_equal(hsm_catalog_inode_upsert(cat, FSID, &in), 0);
	assert_int_equal(hsm_catalog_batch_end(cat, false), -ECANCELED);
	assert_int_equal(hsm_catalog_inode_upsert(cat, FSID, &in), -ENOENT);
	/* another filesystem now gets the id: rows go to the right one */
	assert_int_equal(hsm_catalog_fs_upsert(cat, "second", MNT), 0);
	assert_int_equal(hsm_catalog_fs_upsert(cat, FSID, MNT), 0);
	assert_int_equal(hsm_catalog_inode_upsert(cat, FSID, &in), 0);
	hsm_catalog_close(cat);
	assert_int_equal(query_int(path,
		"SELECT f.fsid = '" FSID "' FROM inodes i"
		" JOIN filesystems f ON f.id = i.fs"), 1);
}


/*
 * A version 4 catalog as that code left it: two filesystems, file
 * versions with valid copies (one on a tape volume), a bad copy to
 * recycle, requests in every state and a volume.
 */
static void make_v4_catalog(const char *path, const char *checksum)
{
	char sql[4096];
	sqlite3 *db;
	int v;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	for (v = 1; v <= 4; v++)
		assert_int_equal(sqlite3_exec(db, hsm_catalog_migration_sql(v),
					      NULL, NULL, NULL), SQLITE_OK);
	snprintf(sql, sizeof(sql),
		"INSERT INTO filesystems VALUES ('" FSID "', '/mnt/a', 50, 60),"
		" ('ffff', '/mnt/b', 1, 2);"
		"INSERT INTO files VALUES"
		" (7, '" FSID "', 42, 3, 1000, 1700000000, '%s', 'dir/a'),"
		" (8, 'ffff', 42, 1, 10, 5, NULL, NULL),"
		" (9, '" FSID "', 43, 1, 20, 6, '%s', 'dir/b');"
		"INSERT INTO copies (id, file_id, copy_num, backend, location,"
		" state, created, verified, volume) VALUES"
		" (11, 7, 1, 'directory', 'aa/bb/x', 'valid', 100, 101, NULL),"
		" (12, 7, 2, 'tape', 'VOL001:5', 'valid', 102, 103, 'VOL001'),"
		" (13, 9, 1, 's3', 'key/9', 'bad', 104, NULL, NULL),"
		" (14, 9, 1, 'directory', NULL, 'writing', 105, NULL, NULL);"
		"INSERT INTO requests (id, kind, file_id, priority, state, attempts,"
		" last_error, created, updated, owner, lease_expires) VALUES"
		" (21, 'archive', 9, 200, 'queued', 0, NULL, 1, 1, NULL, NULL),"
		" (22, 'release', 7, 100, 'running', 1, NULL, 1, 2, 0, NULL),"
		" (23, 'stage', 7, 300, 'done', 1, NULL, 1, 3, NULL, NULL),"
		" (24, 'recycle', 9, 0, 'failed', 5, 'no such key', 1, 4, NULL,"
		" NULL);"
		"INSERT INTO volumes VALUES ('VOL001', 1000000, 5000, 'active');"
		"PRAGMA user_version = 4;", checksum, checksum);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("v4 data: %s", sqlite3_errmsg(db));
	sqlite3_close(db);
}

static void migrates_version_4_keeping_data(void **state)
{
	struct hsm_catalog_recovery rec;
	struct hsm_catalog_copy copies[4];
	struct hsm_catalog_request req;
	struct hsm_catalog_volume vol;
	struct hsm_catalog_file file;
	struct hsm_catalog_inode in;
	struct hsm_catalog_fs fs;
	struct hsm_catalog *cat;
	struct hsm_checksum sum;
	char text[HSM_CHECKSUM_TEXT_MAX];
	char path[PATH_MAX];
	uint64_t count;
	bool is_safe;
	int64_t id;
	size_t n;
	int version;

	checksum_of("v4 content", &sum);
	hsm_checksum_to_text(&sum, text);
	catalog_path(state, "v4.db", path);
	make_v4_catalog(path, text);
	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_schema_version(cat, &version), 0);
	assert_int_equal(version, HSM_CATALOG_SCHEMA_VERSION);

	assert_int_equal(hsm_catalog_fs_get(cat, FSID, &fs), 0);
	assert_string_equal(fs.mount_path, "/mnt/a");
	assert_int_equal(fs.meta_seq, 50);
	assert_int_equal(fs.data_seq, 60);
	assert_int_equal(hsm_catalog_fs_get(cat, "ffff", &fs), 0);
	assert_int_equal(fs.data_seq, 2);

	assert_int_equal(hsm_catalog_file_find(cat, FSID, 42, 3, &file), 0);
	assert_int_equal(file.id, 7);
	assert_int_equal(file.size, 1000);
	assert_int_equal(file.mtime_sec, 1700000000);
	assert_string_equal(file.checksum, text);
	assert_string_equal(file.path, "dir/a");
	assert_int_equal(hsm_catalog_file_find(cat, "ffff", 42, 1, &file), 0);
	assert_int_equal(file.id, 8);
	assert_string_equal(file.checksum, "");
	assert_string_equal(file.path, "");
	assert_int_equal(hsm_catalog_file_get(cat, 9, &file), 0);
	assert_string_equal(file.fsid, FSID);
	assert_int_equal(file.ino, 43);

	assert_int_equal(hsm_catalog_copy_list_valid(cat, FSID, 42, 3, copies,
						     4, &n), 0);
	/* copy ids are renumbered (file_id << 16 | seq), the rest kept */
	assert_int_equal(n, 2);
	assert_int_equal(copies[0].file_id, 7);
	assert_int_equal(copies[0].copy_num, 1);
	assert_string_equal(copies[0].backend, "directory");
	assert_string_equal(copies[0].location, "aa/bb/x");
	assert_int_equal(copies[0].state, HSM_COPY_VALID);
	assert_int_equal(copies[0].created, 100);
	assert_int_equal(copies[0].verified, 101);
	assert_int_equal(copies[1].copy_num, 2);
	assert_string_equal(copies[1].backend, "tape");
	assert_string_equal(copies[1].location, "VOL001:5");
	id = copies[1].id;
	assert_true(id != copies[0].id);
	assert_int_equal(hsm_catalog_copy_get(cat, id, &copies[2]), 0);
	assert_int_equal(copies[2].verified, 103);
	assert_int_equal(hsm_catalog_release_is_safe(cat, FSID, 42, 3, 2,
						     &is_safe), 0);
	assert_true(is_safe);
	assert_int_equal(hsm_catalog_copy_list_on_volume(cat, "VOL001", 0,
			 copies, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(copies[0].id, id);
	assert_int_equal(hsm_catalog_copy_list_to_recycle(cat, "s3", 0, copies,
			 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(copies[0].file_id, 9);
	assert_int_equal(copies[0].state, HSM_COPY_BAD);
	assert_string_equal(copies[0].location, "key/9");
	assert_int_equal(copies[0].verified, 0);
	assert_int_equal(hsm_catalog_copy_list_to_recycle(cat, "directory", 0,
			 copies, 4, &n), 0);
	assert_int_equal(n, 0);
	/* the copy left writing is found by recovery */
	assert_int_equal(hsm_catalog_recover(cat, &rec), 0);
	assert_int_equal(rec.copies_abandoned, 1);
	assert_int_equal(rec.requests_requeued, 1);
	assert_int_equal(hsm_catalog_copy_list_to_recycle(cat, "directory", 0,
			 copies, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(copies[0].file_id, 9);
	assert_string_equal(copies[0].location, "");

	assert_int_equal(hsm_catalog_request_get(cat, 24, &req), 0);
	assert_int_equal(req.kind, HSM_REQ_RECYCLE);
	assert_int_equal(req.state, HSM_REQ_FAILED);
	assert_int_equal(req.attempts, 5);
	assert_string_equal(req.last_error, "no such key");
	assert_int_equal(req.updated, 4);
	assert_int_equal(hsm_catalog_request_count(cat, HSM_REQ_ANY,
			 HSM_REQ_STATE_ANY, &count), 0);
	assert_int_equal(count, 4);
	assert_int_equal(hsm_catalog_request_count(cat, HSM_REQ_RELEASE,
			 HSM_REQ_QUEUED, &count), 0);
	assert_int_equal(count, 1);
	assert_int_equal(hsm_catalog_volume_get(cat, "VOL001", &vol), 0);
	assert_int_equal(vol.capacity, 1000000);
	assert_int_equal(vol.used, 5000);
	assert_int_equal(vol.state, HSM_VOL_ACTIVE);

	/* the migrated catalog keeps working: new rows, new ids after old */
	assert_int_equal(hsm_catalog_copy_begin(cat, 9, 1, "s3", &id), 0);
	assert_int_equal(hsm_catalog_copy_get(cat, id, &copies[0]), 0);
	assert_int_equal(copies[0].file_id, 9);
	assert_int_equal(copies[0].state, HSM_COPY_WRITING);
	assert_int_equal(hsm_catalog_request_claim(cat, HSM_REQ_ARCHIVE, &req),
			 0);
	assert_int_equal(req.id, 21);
	fill_inode(&in, 42, 3);
	assert_int_equal(hsm_catalog_inode_upsert(cat, FSID, &in), 0);
	assert_int_equal(hsm_catalog_inode_upsert(cat, "ffff", &in), 0);
	assert_int_equal(hsm_catalog_inode_count(cat, FSID, &count), 0);
	assert_int_equal(count, 1);
	assert_int_equal(hsm_catalog_check(cat), 0);
	hsm_catalog_close(cat);
	assert_int_equal(query_int(path, "SELECT count(*) FROM"
				   " pragma_foreign_key_check"), 0);
}

/* ---- batches killed, lease races, purge (the list) ---- */

#define INODE_KILL_ROUNDS 6
#define INODE_KILL_BATCH 300

/*
 * The indexer's loop: batch k upserts inodes k*B+1 .. (k+1)*B, deletes
 * the previous batch's first inode, records seqs (k+1)*B, commits, then
 * reports k+1 over out_fd; forever, until killed.
 */
static void inode_batch_child(const char *path, int out_fd)
{
	struct hsm_catalog_inode in;
	struct hsm_catalog *cat = NULL;
	struct hsm_catalog_fs fs;
	uint64_t batch;
	uint64_t ino;

	if (hsm_catalog_open(path, 0, &cat, NULL, 0) ||
	    hsm_catalog_fs_get(cat, FSID, &fs))
		_exit(10);
	/* resume where the committed seqs say, as the indexer does */
	batch = fs.meta_seq / INODE_KILL_BATCH;
	for (;; batch++) {
		if (hsm_catalog_batch_begin(cat))
			_exit(11);
		for (ino = batch * INODE_KILL_BATCH + 1;
		     ino <= (batch + 1) * INODE_KILL_BATCH; ino++) {
			fill_inode(&in, ino, batch + 1);
			if (hsm_catalog_inode_upsert(cat, FSID, &in))
				_exit(12);
		}
		if (batch && hsm_catalog_inode_delete(cat, FSID,
				(batch - 1) * INODE_KILL_BATCH + 1))
			_exit(13);
		if (hsm_catalog_fs_set_seqs(cat, FSID,
					    (batch + 1) * INODE_KILL_BATCH,
					    (batch + 1) * INODE_KILL_BATCH))
			_exit(14);
		if (hsm_catalog_batch_end(cat, true))
			_exit(15);
		ino = batch + 1;
		if (write(out_fd, &ino, sizeof(ino)) != sizeof(ino))
			_exit(16);
	}
}

struct inode_check {
	uint64_t next;		/* the ino expected next */
	uint64_t batches;
	int bad;
};

/* every batch's first inode is deleted by the next batch */
static bool inode_is_deleted(const struct inode_check *c, uint64_t ino)
{
	return ino % INODE_KILL_BATCH == 1 &&
	       (ino - 1) / INODE_KILL_BATCH + 1 < c->batches;
}

static int check_inode_row(void *arg, const struct hsm_catalog_inode *in)
{
	struct inode_check *c = arg;
	uint64_t batch = (in->ino - 1) / INODE_KILL_BATCH;

	while (inode_is_deleted(c, c->next))
		c->next++;
	if (in->ino != c->next || in->data_version != batch + 1 ||
	    in->path[0] != 'd')
		c->bad++;
	c->next = in->ino + 1;
	return 0;
}

/*
 * SIGKILL at random moments of the indexer's batches: the catalog then
 * holds exactly the batches whose commit returned (or, killed between
 * the commit and its report, one more), every row of them and none of
 * the next, with the seqs of the last one, and a restart resumes there.
 */
static void inode_batches_killed_at_random_points_keep_exactly_the_committed(
	void **state)
{
	struct inode_check check;
	struct hsm_catalog *cat;
	struct hsm_catalog_fs fs;
	char path[PATH_MAX];
	uint64_t reported = 0;
	uint64_t committed = 0;
	uint64_t count;
	uint64_t v;
	int round;
	int status;
	int fds[2];
	pid_t pid;

	catalog_path(state, "inodekill.db", path);
	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_fs_upsert(cat, FSID, MNT), 0);
	hsm_catalog_close(cat);
	srandom((unsigned int)getpid());

	for (round = 0; round < INODE_KILL_ROUNDS; round++) {
		assert_int_equal(pipe(fds), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			inode_batch_child(path, fds[1]);
		}
		close(fds[1]);
		/* let it commit at least one batch, then kill it anywhere */
		assert_int_equal(read_record(fds[0], &v, sizeof(v)), 1);
		reported = v;
		usleep((useconds_t)(random() % 200000));
		assert_int_equal(kill(pid, SIGKILL), 0);
		wait_child(pid, &status);
		assert_true(WIFSIGNALED(status));
		while (read_record(fds[0], &v, sizeof(v)))
			reported = v;
		close(fds[0]);

		cat = open_catalog(path);
		assert_int_equal(hsm_catalog_fs_get(cat, FSID, &fs), 0);
		assert_int_equal(fs.meta_seq % INODE_KILL_BATCH, 0);
		committed = fs.meta_seq / INODE_KILL_BATCH;
		assert_true(committed == reported || committed == reported + 1);
		assert_int_equal(fs.data_seq, fs.meta_seq);
		/* all rows of the committed batches, none after */
		assert_int_equal(hsm_catalog_inode_count(cat, FSID, &count), 0);
		assert_int_equal(count, committed * INODE_KILL_BATCH -
				 (committed - 1));
		memset(&check, 0, sizeof(check));
		check.next = 1;
		check.batches = committed;
		assert_int_equal(hsm_catalog_inode_foreach(cat, FSID,
				 check_inode_row, &check), 0);
		assert_int_equal(check.bad, 0);
		assert_int_equal(check.next, committed * INODE_KILL_BATCH + 1);
		hsm_catalog_close(cat);
		assert_int_equal(query_int(path, "SELECT count(*) FROM inodes"),
				 (int64_t)count);
	}
	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_check(cat), 0);
	hsm_catalog_close(cat);
}

#define TAKEOVER_REQUESTS 200

/*
 * A node died holding many running requests; two live nodes race to
 * take over its expired leases.  Each request goes to exactly one of
 * them, and the dead node's completion is refused.
 */
static void two_processes_racing_over_expired_leases_never_share(void **state)
{
	static unsigned char seen[TAKEOVER_REQUESTS + 1];
	struct hsm_catalog_request req;
	struct hsm_catalog *cat;
	char path[PATH_MAX];
	int start[2];
	int out[2];
	pid_t pids[2];
	int64_t id;
	int status;
	int got = 0;
	int i;

	catalog_path(state, "takeover.db", path);
	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_fs_upsert(cat, FSID, MNT), 0);
	assert_int_equal(hsm_catalog_batch_begin(cat), 0);
	for (i = 1; i <= TAKEOVER_REQUESTS; i++)
		assert_int_equal(hsm_catalog_request_enqueue(cat,
				 HSM_REQ_ARCHIVE, record_file(cat, (uint64_t)i, 1),
				 HSM_REQ_PRIORITY_DEFAULT, &id), 0);
	assert_int_equal(hsm_catalog_batch_end(cat, true), 0);
	/*
	 * Node 9 claims them all and dies.  Its leases are then made to
	 * have run out, as they would have by now; waiting for a short
	 * lease instead would race with the claim loop itself (under
	 * valgrind it outlasts a lease, and node 9 re-claims its own).
	 */
	hsm_catalog_set_owner(cat, 9, 60);
	assert_int_equal(hsm_catalog_batch_begin(cat), 0);
	for (i = 1; i <= TAKEOVER_REQUESTS; i++) {
		assert_int_equal(hsm_catalog_request_claim(cat, HSM_REQ_ANY,
							   &req), 0);
		assert_int_equal(req.owner, 9);
		assert_int_equal(req.attempts, 1);
	}
	assert_int_equal(hsm_catalog_batch_end(cat, true), 0);
	/* live leases: nobody else can take them */
	hsm_catalog_set_owner(cat, 1, 60);
	assert_int_equal(hsm_catalog_request_claim(cat, HSM_REQ_ANY, &req),
			 -ENOENT);
	hsm_catalog_close(cat);
	exec_sql(path, "UPDATE requests SET lease_expires = unixepoch() - 1");

	assert_int_equal(pipe(start), 0);
	assert_int_equal(pipe(out), 0);
	for (i = 0; i < 2; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			close(start[1]);
			close(out[0]);
			race_claimer(path, i + 1, start[0], out[1]);
		}
	}
	close(start[0]);
	close(out[1]);
	assert_int_equal(write(start[1], "gg", 2), 2);
	close(start[1]);
	memset(seen, 0, sizeof(seen));
	while (read_record(out[0], &id, sizeof(id))) {
		assert_true(id >= 1 && id <= TAKEOVER_REQUESTS);
		assert_int_equal(seen[id], 0);
		seen[id] = 1;
		got++;
	}
	close(out[0]);
	for (i = 0; i < 2; i++) {
		wait_child(pids[i], &status);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	if (got != TAKEOVER_REQUESTS)
		fail_msg("took over %d of %d; %" PRId64 " queued, %" PRId64
			 " running, %" PRId64 " running expired", got,
			 TAKEOVER_REQUESTS,
			 query_int(path, "SELECT count(*) FROM requests WHERE state = 0"),
			 query_int(path, "SELECT count(*) FROM requests WHERE state = 1"),
			 query_int(path, "SELECT count(*) FROM requests WHERE state = 1"
				   " AND lease_expires < unixepoch()"));
	/* each taken over once: two claims, the dead node's and one more */
	assert_int_equal(query_int(path,
		"SELECT count(*) FROM requests WHERE state = " SQL_REQ_DONE
		" AND attempts = 2 AND owner IS NULL"), TAKEOVER_REQUESTS);
	cat = open_catalog(path);
	hsm_catalog_set_owner(cat, 9, 1);
	assert_int_equal(hsm_catalog_request_complete(cat, 1), -EINVAL);
	hsm_catalog_close(cat);
}

/*
 * Purge takes done and failed requests older than the keep time, in
 * transactions of the batch size, and nothing else: live requests and
 * young history stay, and the counters follow.
 */
static void purge_takes_only_old_finished_requests(void **state)
{
	struct hsm_catalog_request req;
	struct hsm_catalog *cat;
	char path[PATH_MAX];
	uint64_t purged;
	uint64_t count;
	int64_t id;
	int i;

	catalog_path(state, "purge2.db", path);
	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_fs_upsert(cat, FSID, MNT), 0);
	hsm_catalog_set_max_attempts(cat, 1);
	/* 40 files: archive done, release failed, stage queued, recycle running */
	assert_int_equal(hsm_catalog_batch_begin(cat), 0);
	for (i = 1; i <= 40; i++) {
		int64_t f = record_file(cat, (uint64_t)i, 1);

		assert_int_equal(hsm_catalog_request_enqueue(cat,
				 HSM_REQ_ARCHIVE, f, 0, &id), 0);
		assert_int_equal(hsm_catalog_request_claim(cat,
				 HSM_REQ_ARCHIVE, &req), 0);
		assert_int_equal(hsm_catalog_request_complete(cat, req.id), 0);
		assert_int_equal(hsm_catalog_request_enqueue(cat,
				 HSM_REQ_RELEASE, f, 0, &id), 0);
		assert_int_equal(hsm_catalog_request_claim(cat,
				 HSM_REQ_RELEASE, &req), 0);
		assert_int_equal(hsm_catalog_request_fail(cat, req.id, "no",
							  true), 0);
		assert_int_equal(hsm_catalog_request_enqueue(cat,
				 HSM_REQ_STAGE, f, 0, &id), 0);
		assert_int_equal(hsm_catalog_request_enqueue(cat,
				 HSM_REQ_RECYCLE, f, 0, &id), 0);
		assert_int_equal(hsm_catalog_request_claim(cat,
				 HSM_REQ_RECYCLE, &req), 0);
	}
	assert_int_equal(hsm_catalog_batch_end(cat, true), 0);
	assert_int_equal(hsm_catalog_request_count(cat, HSM_REQ_RELEASE,
			 HSM_REQ_FAILED, &count), 0);
	assert_int_equal(count, 40);
	hsm_catalog_close(cat);
	/* half of the history is a day old, of every state */
	exec_sql(path, "UPDATE requests SET updated = updated - 86400"
		 " WHERE file_id % 2 = 0");

	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_request_purge(cat, 3600, 7, &purged), 0);
	/* 20 done + 20 failed, old; the old queued/running stay */
	assert_int_equal(purged, 40);
	assert_int_equal(hsm_catalog_request_count(cat, HSM_REQ_ANY,
			 HSM_REQ_STATE_ANY, &count), 0);
	assert_int_equal(count, 120);
	assert_int_equal(hsm_catalog_request_count(cat, HSM_REQ_STAGE,
			 HSM_REQ_QUEUED, &count), 0);
	assert_int_equal(count, 40);
	assert_int_equal(hsm_catalog_request_count(cat, HSM_REQ_RECYCLE,
			 HSM_REQ_RUNNING, &count), 0);
	assert_int_equal(count, 40);
	assert_int_equal(hsm_catalog_request_count(cat, HSM_REQ_ARCHIVE,
			 HSM_REQ_DONE, &count), 0);
	assert_int_equal(count, 20);
	/* again: nothing more is old enough */
	assert_int_equal(hsm_catalog_request_purge(cat, 3600, 0, &purged), 0);
	assert_int_equal(purged, 0);
	/* inside a batch, rolled back: nothing purged after all */
	assert_int_equal(hsm_catalog_batch_begin(cat), 0);
	assert_int_equal(hsm_catalog_request_purge(cat, -86400, 5, &purged), 0);
	assert_int_equal(purged, 40);
	assert_int_equal(hsm_catalog_batch_end(cat, false), -ECANCELED);
	assert_int_equal(hsm_catalog_request_count(cat, HSM_REQ_ANY,
			 HSM_REQ_STATE_ANY, &count), 0);
	assert_int_equal(count, 120);
	hsm_catalog_close(cat);
	assert_int_equal(query_int(path,
		"SELECT count(*) FROM requests r WHERE r.state IN (2, 3)"
		" AND r.file_id % 2 = 0"), 0);
	assert_int_equal(query_int(path,
		"SELECT count(*) FROM request_counts c WHERE n != (SELECT"
		" count(*) FROM requests r WHERE r.kind = c.kind AND"
		" r.state = c.state)"), 0);
}

/*
 * Calls in a batch that fail after a first write (a new backend name,
 * then a copy of a missing file) leave nothing of themselves behind.
 */
static void batch_calls_failing_after_a_write_leave_nothing(void **state)
{
	struct hsm_catalog *cat;
	char path[PATH_MAX];
	int64_t f;
	int64_t id;

	catalog_path(state, "batchfail.db", path);
	cat = open_catalog(path);
	assert_int_equal(hsm_catalog_fs_upsert(cat, FSID, MNT), 0);
	assert_int_equal(hsm_catalog_batch_begin(cat), 0);
	f = record_file(cat, 1, 1);
	assert_int_equal(hsm_catalog_copy_begin(cat, f + 100, 1, "newbackend",
						&id), -ENOENT);
	assert_int_equal(hsm_catalog_copy_set_volume(cat, 12345, "NEWVOL"),
			 -ENOENT);
	assert_int_equal(hsm_catalog_copy_begin(cat, f, 1, "directory", &id),
			 0);
	assert_int_equal(hsm_catalog_copy_begin(cat, f, 1, "directory", &id),
			 -EEXIST);
	assert_int_equal(hsm_catalog_copy_verified(cat, id), -EINVAL);
	assert_int_equal(hsm_catalog_batch_end(cat, true), 0);
	hsm_catalog_close(cat);
	assert_int_equal(query_int(path, "SELECT count(*) FROM backends"
				   " WHERE name = 'newbackend'"), 0);
	assert_int_equal(query_int(path, "SELECT count(*) FROM labels"), 0);
	assert_int_equal(query_int(path, "SELECT count(*) FROM copies"), 1);
	assert_int_equal(query_int(path, "SELECT count(*) FROM copies"
				   " WHERE state = " SQL_COPY_WRITING), 1);
}

#define CATALOG_TEST(fn) \
	cmocka_unit_test_setup_teardown(fn, hsm_test_dir_setup, \
					hsm_test_dir_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		CATALOG_TEST(open_creates_current_schema_in_wal_mode),
		CATALOG_TEST(open_without_create_of_missing_file_is_enoent),
		CATALOG_TEST(migrates_version_1_to_current_keeping_data),
		CATALOG_TEST(refuses_catalog_from_newer_version),
		CATALOG_TEST(refuses_garbage_and_foreign_files),
		CATALOG_TEST(refuses_truncated_catalog),
		CATALOG_TEST(corrupt_page_is_reported),
		CATALOG_TEST(open_skips_full_check_which_runs_on_demand),
		CATALOG_TEST(backup_is_a_consistent_catalog_while_open),
		CATALOG_TEST(batch_commits_many_calls_at_once_or_none),
		CATALOG_TEST(batch_killed_at_random_points_is_all_or_nothing),
		CATALOG_TEST(filesystem_seqs_only_move_forward),
		CATALOG_TEST(file_versions_need_their_filesystem),
		CATALOG_TEST(copy_states_follow_write_then_verify),
		CATALOG_TEST(release_is_safe_only_with_every_copy_verified_at_current_version),
		CATALOG_TEST(requests_run_stage_first_then_by_priority),
		CATALOG_TEST(failed_requests_retry_until_attempts_run_out),
		CATALOG_TEST(volumes_add_update_delete),
		CATALOG_TEST(readonly_open_reads_and_refuses_writes),
		CATALOG_TEST(killed_after_each_step_resumes_consistently),
		CATALOG_TEST(killed_inside_a_transaction_leaves_the_state_before),
		CATALOG_TEST(killed_at_random_moments_stays_recoverable),
		CATALOG_TEST(readers_run_beside_a_writer),
		CATALOG_TEST(migrates_version_2_keeping_requests_and_counts),
		CATALOG_TEST(counters_follow_every_change_and_purge),
		CATALOG_TEST(expired_lease_is_taken_over_and_old_owner_refused),
		CATALOG_TEST(two_processes_racing_claims_never_share_a_request),
		CATALOG_TEST(recovery_commits_whole_copies_and_retries_partial_ones),
		CATALOG_TEST(copies_are_found_by_volume_and_by_backend_to_recycle),
		CATALOG_TEST(migrates_version_4_keeping_data),
		CATALOG_TEST(locations_round_trip_packed_against_their_file),
		CATALOG_TEST(inode_rows_upsert_get_delete_walk_and_count),
		CATALOG_TEST(inode_rows_and_seqs_commit_together_in_a_batch),
		CATALOG_TEST(inode_rows_of_a_rolled_back_filesystem_are_refused),
		CATALOG_TEST(inode_batches_killed_at_random_points_keep_exactly_the_committed),
		CATALOG_TEST(two_processes_racing_over_expired_leases_never_share),
		CATALOG_TEST(purge_takes_only_old_finished_requests),
		CATALOG_TEST(batch_calls_failing_after_a_write_leave_nothing),
	};

	_Static_assert(HSM_COPY_WRITING == 0 && HSM_COPY_VALID == 1 &&
		       HSM_REQ_RUNNING == 1 && HSM_REQ_DONE == 2,
		       "SQL_* values are the enums'");
	/* CATALOG_TEST_FILTER=pattern runs only the matching tests */
	if (getenv("CATALOG_TEST_FILTER"))
		cmocka_set_test_filter(getenv("CATALOG_TEST_FILTER"));
	return cmocka_run_group_tests_name("catalog", tests, NULL, NULL);
}
