// SPDX-License-Identifier: GPL-2.0
/*
 * test_store.c: the indexer's catalog adapter (indexers/store_catalog.c)
 * on a real sqlite catalog: rows round-trip field by field, a delete of
 * a missing row succeeds, the rows beneath a directory are told apart
 * from look-alike names ("a/b" is beneath "a", "ab/c" is not), a batch
 * rolled back leaves neither its rows nor its resume seq, and a process
 * killed (SIGKILL) inside a batch of rows and resume seq leaves the
 * catalog exactly as its last committed batch did, at every kill point
 * tried.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "store.h"

#define FSID "00000000c0ffee01"

struct fixture {
	char dir[64];
	char path[128];
	struct idx_store *st;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/idxstore.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/catalog.db", f->dir);
	if (idx_store_open(f->path, true, &f->st, err, sizeof(err))) {
		fprintf(stderr, "open: %s\n", err);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char p[192];
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	size_t i;

	idx_store_close(f->st);
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", f->path, sfx[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static void make_row(struct idx_row *r, uint64_t ino, const char *path,
		     bool is_dir)
{
	memset(r, 0, sizeof(*r));
	r->ino = ino;
	r->kind = is_dir ? IDX_KIND_DIR : IDX_KIND_FILE;
	r->mode = (is_dir ? S_IFDIR : S_IFREG) | 0644;
	r->state = ino % 3 == 0 ? IDX_STATE_OFFLINE :
		   ino % 3 == 1 ? IDX_STATE_ONLINE : IDX_STATE_PARTIAL;
	r->data_version = ino * 7;
	r->size = ino * 1000;
	r->mtime_sec = 1700000000 + (int64_t)ino;
	r->mtime_nsec = 5;
	r->uid = 10;
	r->gid = 20;
	r->meta_seq = ino + 100;
	r->data_seq = ino + 50;
	snprintf(r->path, sizeof(r->path), "%s", path);
}

static void rows_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct idx_row r, got;
	uint64_t ms, ds, count;

	assert_int_equal(idx_store_fs(f->st, FSID, "/mnt/x", &ms, &ds), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(ds, 0);
	assert_int_equal(idx_store_begin(f->st), 0);
	make_row(&r, 5, "a/b", false);
	assert_int_equal(idx_store_upsert(f->st, FSID, &r), 0);
	make_row(&r, 6, "a", true);
	assert_int_equal(idx_store_upsert(f->st, FSID, &r), 0);
	assert_int_equal(idx_store_set_seqs(f->st, FSID, 9, 9), 0);
	assert_int_equal(idx_store_end(f->st, true), 0);

	assert_int_equal(idx_store_get(f->st, FSID, 5, &got), 0);
	make_row(&r, 5, "a/b", false);
	assert_int_equal(got.ino, 5);
	assert_int_equal(got.kind, IDX_KIND_FILE);
	assert_int_equal(got.state, r.state);
	assert_int_equal(got.data_version, r.data_version);
	assert_int_equal(got.size, r.size);
	assert_int_equal(got.mtime_sec, r.mtime_sec);
	assert_int_equal(got.mtime_nsec, r.mtime_nsec);
	assert_int_equal(got.mode, r.mode);
	assert_int_equal(got.uid, 10);
	assert_int_equal(got.gid, 20);
	assert_int_equal(got.meta_seq, r.meta_seq);
	assert_int_equal(got.data_seq, r.data_seq);
	assert_string_equal(got.path, "a/b");
	assert_int_equal(idx_store_get(f->st, FSID, 6, &got), 0);
	assert_int_equal(got.kind, IDX_KIND_DIR);

	/* an upsert replaces */
	make_row(&r, 5, "c", false);
	r.size = 1;
	assert_int_equal(idx_store_upsert(f->st, FSID, &r), 0);
	assert_int_equal(idx_store_get(f->st, FSID, 5, &got), 0);
	assert_int_equal(got.size, 1);
	assert_string_equal(got.path, "c");

	assert_int_equal(idx_store_count(f->st, FSID, &count), 0);
	assert_int_equal(count, 2);
	assert_int_equal(idx_store_delete(f->st, FSID, 5), 0);
	/* deleting again is not an error: the walker may repeat it */
	assert_int_equal(idx_store_delete(f->st, FSID, 5), 0);
	assert_int_equal(idx_store_get(f->st, FSID, 5, &got), -ENOENT);
	assert_int_equal(idx_store_count(f->st, FSID, &count), 0);
	assert_int_equal(count, 1);

	assert_int_equal(idx_store_fs(f->st, FSID, "/mnt/x", &ms, &ds), 0);
	assert_int_equal(ms, 9);
	assert_int_equal(ds, 9);
}

struct seen {
	char paths[16][32];
	size_t nr;
};

static int collect(void *arg, const struct idx_row *row)
{
	struct seen *s = arg;

	assert_true(s->nr < 16);
	assert_true(strlen(row->path) < sizeof(s->paths[0]));
	strcpy(s->paths[s->nr++], row->path);
	return 0;
}

static bool has(const struct seen *s, const char *p)
{
	size_t i;

	for (i = 0; i < s->nr; i++)
		if (!strcmp(s->paths[i], p))
			return true;
	return false;
}

static void rows_beneath_a_directory(void **state)
{
	static const char *const paths[] = {
		"a", "a/b", "a/b/c", "a/d", "ab", "ab/c", "b", "x/a/b",
	};
	struct fixture *f = *state;
	struct seen s;
	struct idx_row r;
	uint64_t ms, ds;
	size_t i;

	assert_int_equal(idx_store_fs(f->st, FSID, "/m", &ms, &ds), 0);
	assert_int_equal(idx_store_begin(f->st), 0);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		make_row(&r, 10 + i, paths[i], false);
		assert_int_equal(idx_store_upsert(f->st, FSID, &r), 0);
	}
	assert_int_equal(idx_store_end(f->st, true), 0);

	memset(&s, 0, sizeof(s));
	assert_int_equal(idx_store_foreach_under(f->st, FSID, "a", true,
						 collect, &s), 0);
	assert_int_equal(s.nr, 2);
	assert_true(has(&s, "a/b") && has(&s, "a/d"));

	memset(&s, 0, sizeof(s));
	assert_int_equal(idx_store_foreach_under(f->st, FSID, "a", false,
						 collect, &s), 0);
	assert_int_equal(s.nr, 3);
	assert_true(has(&s, "a/b") && has(&s, "a/b/c") && has(&s, "a/d"));

	/* the root's entries */
	memset(&s, 0, sizeof(s));
	assert_int_equal(idx_store_foreach_under(f->st, FSID, "", true,
						 collect, &s), 0);
	assert_int_equal(s.nr, 3);
	assert_true(has(&s, "a") && has(&s, "ab") && has(&s, "b"));

	memset(&s, 0, sizeof(s));
	assert_int_equal(idx_store_foreach(f->st, FSID, collect, &s), 0);
	assert_int_equal(s.nr, sizeof(paths) / sizeof(paths[0]));
}

static void rollback_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	struct idx_row r;
	uint64_t ms, ds, count;

	assert_int_equal(idx_store_fs(f->st, FSID, "/m", &ms, &ds), 0);
	assert_int_equal(idx_store_begin(f->st), 0);
	make_row(&r, 1, "one", false);
	assert_int_equal(idx_store_upsert(f->st, FSID, &r), 0);
	assert_int_equal(idx_store_set_seqs(f->st, FSID, 5, 5), 0);
	assert_int_equal(idx_store_end(f->st, false), 0);
	assert_int_equal(idx_store_get(f->st, FSID, 1, &r), -ENOENT);
	assert_int_equal(idx_store_count(f->st, FSID, &count), 0);
	assert_int_equal(count, 0);
	assert_int_equal(idx_store_fs(f->st, FSID, "/m", &ms, &ds), 0);
	assert_int_equal(ms, 0);
}

/*
 * Batch b (1-based) holds rows b*100 .. b*100+99 and resume seq b.  The
 * child commits batches until it kills itself after `kill_after` calls
 * of its last batch (an upsert or the set_seqs); the parent then sees
 * exactly the committed batches.  Each round uses its own filesystem, so
 * its seqs start from 0.
 */
static void child_batches(const char *path, const char *fsid, int kill_batch,
			  int kill_after)
{
	struct idx_store *st;
	struct idx_row r;
	char err[256];
	uint64_t ms, ds;
	int b, i, calls;

	if (idx_store_open(path, false, &st, err, sizeof(err)) ||
	    idx_store_fs(st, fsid, "/m", &ms, &ds))
		_exit(3);
	for (b = 1; b <= kill_batch; b++) {
		calls = 0;
		if (idx_store_begin(st))
			_exit(4);
		for (i = 0; i < 100; i++) {
			if (b == kill_batch && calls++ == kill_after)
				kill(getpid(), SIGKILL);
			make_row(&r, b * 100 + i, "p", false);
			if (idx_store_upsert(st, fsid, &r))
				_exit(5);
		}
		if (b == kill_batch && calls++ == kill_after)
			kill(getpid(), SIGKILL);
		if (idx_store_set_seqs(st, fsid, b, b))
			_exit(6);
		if (b == kill_batch)
			kill(getpid(), SIGKILL);	/* before the commit */
		if (idx_store_end(st, true))
			_exit(7);
	}
	_exit(8);
}

static void killed_batch_leaves_last_commit(void **state)
{
	static const int kill_points[] = { 0, 1, 37, 99, 100, 101 };
	struct fixture *f = *state;
	struct idx_row r;
	uint64_t ms, ds, count;
	char fsid[20];
	char err[256];
	size_t k;
	int wstatus;
	int kb;
	pid_t pid;

	for (k = 0; k < sizeof(kill_points) / sizeof(kill_points[0]); k++) {
		kb = (int)k + 1;	/* batches 1..kb-1 commit */
		snprintf(fsid, sizeof(fsid), "00000000c0ffee%02x", (unsigned)k);
		/* the child has the catalog to itself while it writes */
		idx_store_close(f->st);
		f->st = NULL;
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			child_batches(f->path, fsid, kb, kill_points[k]);
		assert_int_equal(waitpid(pid, &wstatus, 0), pid);
		assert_true(WIFSIGNALED(wstatus));
		assert_int_equal(WTERMSIG(wstatus), SIGKILL);
		assert_int_equal(idx_store_open(f->path, false, &f->st, err,
						sizeof(err)), 0);
		assert_int_equal(idx_store_fs(f->st, fsid, "/m", &ms, &ds), 0);
		assert_int_equal(ms, (uint64_t)kb - 1);
		assert_int_equal(ds, (uint64_t)kb - 1);
		assert_int_equal(idx_store_count(f->st, fsid, &count), 0);
		assert_int_equal(count, (uint64_t)(kb - 1) * 100);
		assert_int_equal(idx_store_get(f->st, fsid, kb * 100, &r),
				 -ENOENT);
		if (kb > 1)
			assert_int_equal(idx_store_get(f->st, fsid,
						       (kb - 1) * 100 + 99, &r), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(rows_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(rows_beneath_a_directory, setup,
						teardown),
		cmocka_unit_test_setup_teardown(rollback_leaves_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(killed_batch_leaves_last_commit,
						setup, teardown),
	};

	return cmocka_run_group_tests_name("indexer_store", tests, NULL, NULL);
}
