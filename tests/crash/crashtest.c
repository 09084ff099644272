// SPDX-License-Identifier: GPL-2.0
/*
 * crashtest: the workload and the verifier of the power-cut test
 * (tests/crash/run-cycles drives them; see the comment at its top).
 *
 *   crashtest run    --root DIR --log FILE --seed S --cycle C [--seconds N]
 *                    [--ops N] [--dm-mark NAME]... [--flush-dev DEV]
 *   crashtest verify --root DIR --log FILE [--durable-upto LINE]
 *   crashtest replay --seed S LOG:IMAGE...   (replay.c)
 *
 * THE WORKLOAD (run)
 *
 * Works in DIR/c<C>/d0 and DIR/c<C>/d1 after removing whatever earlier
 * cycles left in DIR (then a sync), and does random operations until it
 * is killed (or --seconds/--ops run out).  With a dozen or so files open
 * (creates come 25% of the time below 12 files, 4% above), each step is
 * one of, on a random file:
 *
 *   40%  write      pwrite of 1 byte .. 8 KiB (mostly), 64 KiB or 256 KiB,
 *                   appending, inside the file or beyond its end (leaving
 *                   a hole); files stay under 1 MiB
 *    8%  truncate   ftruncate, down twice as often as up
 *   18%  fsync      fsync, or fdatasync one time in four
 *   10%  rename     to a random name of either directory, replacing the
 *                   file that is there
 *    6%  unlink     half the time followed by a write to the open,
 *                   unlinked file before it is closed
 *   12%  barrier    fsync of both directories
 *    6%  sync       sync() or syncfs()
 *
 * Besides, 2% of the steps write DIR/deleted-marker (64 KiB to 1 MiB of
 * the MARKER pattern, a text no file of the workload ever holds), fsync
 * it and unlink it, and the setup does the same with 1 MiB before its
 * sync: the blocks of deleted files that later writes get from the
 * allocator hold the marker, so a block shown to anyone before its new
 * data reached it is seen.
 *
 * Every file is a "fid" (a number never reused), and each data change
 * makes a new generation of it, gen 0 being the empty file at create.
 * The bytes a write puts at offset X of gen G of fid F are a function of
 * (seed, F, G, X), so the verifier regenerates any generation from the
 * operations alone.
 *
 * THE LOG
 *
 * One text line per record, each written with one write(2) to FILE,
 * which lives on storage that survives the kill (the VM's 9p results
 * share, whose writes reach the host before write(2) returns).  A record
 * of intent is written BEFORE its operation, a record of durability
 * AFTER the call that made something durable returned:
 *
 *   H crashtest 1 seed=S cycle=C    header
 *   m                  intent: remove old cycles, make c<C>/d0, d1
 *   c FID NAME         intent: create FID at NAME (d0/f7)
 *   i FID INO          FID was created with inode number INO
 *   w FID GEN OFF LEN  intent: gen GEN of FID is a write of LEN at OFF
 *   t FID GEN SIZE     intent: gen GEN of FID is a truncate to SIZE
 *   r FROM TO          intent: rename (a file at TO is replaced)
 *   u NAME             intent: unlink
 *   f FID GEN SIZE CRC durable: fsync/fdatasync of FID returned at GEN
 *   b                  durable: fsync of both directories returned
 *   s                  durable: sync()/syncfs() returned (the setup's
 *                      sync is the first)
 *
 * A final line without its newline (the kill cut the write) is ignored,
 * and so are durability records after line --durable-upto (a replayed
 * write log stopped before their marks, see replay.c).
 *
 * THE VERIFIER (verify): what a crash may and may not leave
 *
 * Names.  A create, rename or unlink is durable once a later barrier or
 * sync returned; one after the last of them may or may not have
 * happened.  The check assumes the filesystem keeps such operations in
 * order, as a journal or scoutfs's whole-filesystem transactions do
 * (kmod/src/trans.c): the names found must be exactly the names after the
 * first k namespace operations of the log, for some k from the last
 * barrier to the end, each name holding the inode number its create
 * logged.  Anything else in c<C>, d0 or d1 is a failure.  (An fsync of
 * the file does not make its name durable: POSIX asks for one of the
 * directory.)  Until the setup's sync returned, c<C> and its directories
 * may be missing; what earlier cycles left is not looked at, their own
 * check did that.
 *
 * Data.  For each file found, let G be the last generation made durable
 * (its last "f", or a later "s"; 0, the empty file, when none) and H the
 * last one started.  When H == G the file must be exactly gen G: size and
 * every byte.  When later generations were started but not synced, none
 * of them is promised, and a write(2) or its writeback is not atomic, so
 * the file passes when
 *
 *   - its size is that of a gen in G..H, or lies inside the range an
 *     extending write of G+1..H was growing the file over, and
 *   - each 4 KiB block equals that block of some gen in G..H (beyond a
 *     gen's size its bytes are zeros).  A block a write of G+1..H newly
 *     allocated may read as zeros (its extent was committed unwritten and
 *     its data never got there), which is what some gen holds there, but
 *     never as anything else: scoutfs records a block as written only
 *     once its data is on disk (kmod/src/data.c, "STALE DATA"; ext4's
 *     data=ordered promise).
 *
 * No block of any file found may hold the MARKER text (a deleted file's
 * bytes); that is reported as such.  A block that was in gen G and that
 * no later operation touched is always checked byte for byte.  Each failure prints the file, its fid
 * and inode, the expected generation(s) and the first differing offset.
 * The verifier also checks its own model: the contents it regenerates
 * for a durable gen must have the checksum the workload logged.
 *
 * With --dm-mark NAME (dm-log-writes devices under the filesystem), each
 * durability record is followed by a "mark N" message to those devices,
 * N the record's line number in the log, so a replay of the write log to
 * a point can tell which durability records precede it (see replay.c).
 *
 * --flush-dev DEV is a diagnostic: after each call that makes something
 * durable returns, and before its record, DEV is fsync'd, which flushes
 * that block device's write cache.  With the data device named, a failure
 * that goes away is one of fsync not flushing the data device.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crashtest.h"

#define NR_DIRS		2
#define NAMES_PER_DIR	32
#define NR_NAMES	(NR_DIRS * NAMES_PER_DIR)
#define MAX_LIVE	24
#define MAX_SIZE	(1U << 20)	/* files stay below this */
#define MAX_WRITE	(256U << 10)
#define BLK		4096U
#define LINE_MAX_LEN	256
/* the bytes of deleted files only (see the top comment) */
#define MARKER		"crashtest:deleted-file-bytes:"
#define MARKER_FILE	"deleted-marker"

static const char *prog = "crashtest";

void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);

	if (!p)
		die("out of memory");
	return p;
}

static void *xrealloc(void *p, size_t sz)
{
	p = realloc(p, sz ? sz : 1);
	if (!p)
		die("out of memory");
	return p;
}

uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

uint64_t rng_next(uint64_t *state)
{
	*state += 0x9e3779b97f4a7c15ULL;
	return mix64(*state);
}

/* uniform in [0, n) (n > 0) */
static uint64_t rnd(uint64_t *st, uint64_t n)
{
	return rng_next(st) % n;
}

/* The bytes gen GEN of FID writes at [off, off + len). */
static void pattern(uint64_t seed, uint64_t fid, uint64_t gen, uint64_t off,
		    size_t len, unsigned char *dst)
{
	uint64_t base = mix64(seed ^ mix64((fid << 24) ^ gen));
	uint64_t word = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		uint64_t x = off + i;

		if (i == 0 || (x & 7) == 0)
			word = mix64(base ^ (x >> 3));
		dst[i] = (unsigned char)(word >> ((x & 7) * 8));
	}
}

/* FNV-1a, 64 bits */
static uint64_t checksum(const unsigned char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* DST = A/B */
static void join(char *dst, size_t sz, const char *a, const char *b)
{
	int n = snprintf(dst, sz, "%s/%s", a, b);

	if (n < 0 || (size_t)n >= sz)
		die("path %s/%s is too long", a, b);
}

static void name_of(int idx, char *buf, size_t sz)
{
	snprintf(buf, sz, "d%d/f%d", idx / NAMES_PER_DIR, idx % NAMES_PER_DIR);
}

/* "d1/f7" -> 39; -1 when it is not one of ours */
static int parse_name(const char *s)
{
	unsigned d, f;
	char tail;

	if (sscanf(s, "d%u/f%u%c", &d, &f, &tail) != 2 || d >= NR_DIRS ||
	    f >= NAMES_PER_DIR)
		return -1;
	return (int)(d * NAMES_PER_DIR + f);
}

/*
 * ---- the workload ----
 */

struct wfile {
	uint64_t fid;
	int fd;
	int name;
	uint64_t gen;
	size_t size;
	unsigned char *buf;	/* MAX_SIZE bytes, zero beyond size */
};

static int log_fd = -1;
static unsigned long log_lines;
static char **dm_marks;
static int nr_dm_marks;
static const char *flush_dev;

static void log_rec(const char *fmt, ...)
{
	char line[LINE_MAX_LEN];
	va_list ap;
	size_t len, done = 0;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 1)
		die("log record too long");
	len = (size_t)n;
	line[len++] = '\n';
	/* one write, so a kill leaves a whole line or a cut last one */
	while (done < len) {
		ssize_t ret = write(log_fd, line + done, len - done);

		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0)
			die("writing the log: %s", strerror(errno));
		done += (size_t)ret;
	}
	log_lines++;
}

/* a durability record, then a mark in the write logs naming its line */
static void log_durable(const char *fmt, ...)
{
	char line[LINE_MAX_LEN];
	va_list ap;
	int i;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (flush_dev) {
		/* fsync of a block device flushes its write cache */
		static int fd = -1;

		if (fd < 0)
			fd = open(flush_dev, O_WRONLY);
		if (fd < 0 || fsync(fd) < 0)
			die("flushing %s: %s", flush_dev, strerror(errno));
	}
	log_rec("%s", line);
	for (i = 0; i < nr_dm_marks; i++)
		dm_mark(dm_marks[i], log_lines);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) < 0)
		die("removing %s: %s", path, strerror(errno));
	return 0;
}

static void xfsync(int fd, const char *what)
{
	if (fsync(fd) < 0)
		die("fsync of %s: %s", what, strerror(errno));
}

/* Write LEN bytes of MARKER to ROOT/MARKER_FILE, fsync, unlink it. */
static void write_deleted_marker(const char *root, size_t len)
{
	static unsigned char blk[BLK];
	char path[4096];
	size_t i, done;
	int fd;

	for (i = 0; i < BLK; i++)
		blk[i] = (unsigned char)MARKER[i % (sizeof(MARKER) - 1)];
	join(path, sizeof(path), root, MARKER_FILE);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die("creating %s: %s", path, strerror(errno));
	for (done = 0; done < len; done += BLK)
		if (write(fd, blk, BLK) != BLK)
			die("writing %s: %s", path, strerror(errno));
	xfsync(fd, "the marker file");
	close(fd);
	if (unlink(path) < 0)
		die("unlink %s: %s", path, strerror(errno));
}

static int cmd_run(const char *root, const char *log_path, uint64_t seed,
		   unsigned cycle, unsigned seconds, unsigned long max_ops)
{
	struct wfile *live[MAX_LIVE];
	int names[NR_NAMES];	/* index in live[], or -1 */
	int nr_live = 0, dirfd[NR_DIRS];
	uint64_t st = seed, next_fid = 1;
	char path[4096], cdir[4096], name[32];
	unsigned long op;
	time_t end = time(NULL) + seconds;
	DIR *dir;
	struct dirent *de;
	int i;

	for (i = 0; i < NR_NAMES; i++)
		names[i] = -1;
	log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (log_fd < 0)
		die("opening %s: %s", log_path, strerror(errno));
	printf("crashtest run: seed %" PRIu64 " cycle %u in %s, log %s\n",
	       seed, cycle, root, log_path);
	fflush(stdout);
	log_rec("H crashtest 1 seed=%" PRIu64 " cycle=%u", seed, cycle);

	/* setup: earlier cycles' files go, this cycle's directories come */
	log_rec("m");
	dir = opendir(root);
	if (!dir)
		die("opening %s: %s", root, strerror(errno));
	while ((de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		join(path, sizeof(path), root, de->d_name);
		if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
			die("removing %s: %s", path, strerror(errno));
	}
	closedir(dir);
	snprintf(cdir, sizeof(cdir), "%s/c%u", root, cycle);
	if (mkdir(cdir, 0755) < 0)
		die("mkdir %s: %s", cdir, strerror(errno));
	for (i = 0; i < NR_DIRS; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		join(path, sizeof(path), cdir, name);
		if (mkdir(path, 0755) < 0)
			die("mkdir %s: %s", path, strerror(errno));
		dirfd[i] = open(path, O_RDONLY | O_DIRECTORY);
		if (dirfd[i] < 0)
			die("opening %s: %s", path, strerror(errno));
	}
	write_deleted_marker(root, 1U << 20);
	sync();
	log_durable("s");

	for (op = 0; op < max_ops && time(NULL) < end; op++) {
		uint64_t r = rnd(&st, 100);
		struct wfile *f = nr_live ? live[rnd(&st, nr_live)] : NULL;

		if (op && op % 2000 == 0) {
			printf("crashtest run: %lu operations\n", op);
			fflush(stdout);
		}
		if (rnd(&st, 100) < 2) {
			write_deleted_marker(root,
					     (1 + rnd(&st, 16)) * (64U << 10));
			continue;
		}
		/* creates keep a dozen or so files alive */
		if (!f || (nr_live < MAX_LIVE &&
			   rnd(&st, 100) < (nr_live < 12 ? 25U : 4U))) {
			/* create */
			int n = (int)rnd(&st, NR_NAMES), tries;
			struct stat sb;

			for (tries = 0; tries < NR_NAMES && names[n] >= 0; tries++)
				n = (n + 1) % NR_NAMES;
			if (names[n] >= 0 || nr_live == MAX_LIVE)
				continue;
			f = xcalloc(1, sizeof(*f));
			f->fid = next_fid++;
			f->name = n;
			f->buf = xcalloc(1, MAX_SIZE);
			name_of(n, name, sizeof(name));
			join(path, sizeof(path), cdir, name);
			log_rec("c %" PRIu64 " %s", f->fid, name);
			f->fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
			if (f->fd < 0 || fstat(f->fd, &sb) < 0)
				die("creating %s: %s", path, strerror(errno));
			log_rec("i %" PRIu64 " %" PRIu64, f->fid,
				(uint64_t)sb.st_ino);
			names[n] = nr_live;
			live[nr_live++] = f;
		} else if (r < 40) {
			/* write */
			uint64_t kind = rnd(&st, 100), off, len, room;
			size_t done = 0;

			if (kind < 70)
				len = 1 + rnd(&st, 8192);
			else if (kind < 95)
				len = 1 + rnd(&st, 65536);
			else
				len = 1 + rnd(&st, MAX_WRITE);
			kind = rnd(&st, 10);
			if (kind < 5)
				off = f->size;
			else if (kind < 8)
				off = rnd(&st, f->size + 1);
			else
				off = rnd(&st, MAX_SIZE);
			if (off >= MAX_SIZE - 1)
				off = MAX_SIZE / 2;
			room = MAX_SIZE - 1 - off;
			if (len > room)
				len = room;
			f->gen++;
			log_rec("w %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64,
				f->fid, f->gen, off, len);
			pattern(seed, f->fid, f->gen, off, len, f->buf + off);
			while (done < len) {
				ssize_t ret = pwrite(f->fd, f->buf + off + done,
						     len - done, off + done);

				if (ret < 0 && errno == EINTR)
					continue;
				if (ret <= 0)
					die("write of fid %" PRIu64 ": %s", f->fid,
					    strerror(errno));
				done += (size_t)ret;
			}
			if (off + len > f->size)
				f->size = off + len;
		} else if (r < 48) {
			/* truncate, more often down than up */
			uint64_t size;

			if (rnd(&st, 3) == 0)
				size = f->size + rnd(&st, 65536);
			else
				size = rnd(&st, f->size + 1);
			if (size >= MAX_SIZE)
				size = MAX_SIZE - 1;
			f->gen++;
			log_rec("t %" PRIu64 " %" PRIu64 " %" PRIu64, f->fid,
				f->gen, size);
			if (ftruncate(f->fd, (off_t)size) < 0)
				die("truncate of fid %" PRIu64 ": %s", f->fid,
				    strerror(errno));
			if (size < f->size)
				memset(f->buf + size, 0, f->size - size);
			f->size = size;
		} else if (r < 66) {
			/* fsync or fdatasync */
			int ret = rnd(&st, 4) ? fsync(f->fd) : fdatasync(f->fd);

			if (ret < 0)
				die("fsync of fid %" PRIu64 ": %s", f->fid,
				    strerror(errno));
			log_durable("f %" PRIu64 " %" PRIu64 " %zu %016" PRIx64,
				    f->fid, f->gen, f->size,
				    checksum(f->buf, f->size));
		} else if (r < 76) {
			/* rename, maybe over another file */
			int to = (int)rnd(&st, NR_NAMES), from = f->name;
			char from_name[32], to_path[4096];

			if (to == from)
				continue;
			name_of(from, name, sizeof(name));
			name_of(to, from_name, sizeof(from_name));
			log_rec("r %s %s", name, from_name);
			join(path, sizeof(path), cdir, name);
			join(to_path, sizeof(to_path), cdir, from_name);
			if (rename(path, to_path) < 0)
				die("rename %s %s: %s", path, to_path,
				    strerror(errno));
			if (names[to] >= 0) {
				struct wfile *v = live[names[to]];
				int vi = names[to];

				close(v->fd);
				free(v->buf);
				free(v);
				live[vi] = live[--nr_live];
				if (vi != nr_live)
					names[live[vi]->name] = vi;
			}
			i = names[from];
			names[from] = -1;
			names[to] = i;
			f->name = to;
		} else if (r < 82) {
			/* unlink; the fd is closed after, so sometimes an open
			 * file is unlinked and lives on as an orphan a moment */
			int fi = names[f->name];

			name_of(f->name, name, sizeof(name));
			join(path, sizeof(path), cdir, name);
			log_rec("u %s", name);
			if (unlink(path) < 0)
				die("unlink %s: %s", path, strerror(errno));
			if (rnd(&st, 2) && f->size < MAX_SIZE - 2) {
				f->gen++;
				log_rec("w %" PRIu64 " %" PRIu64 " %zu 1", f->fid,
					f->gen, f->size);
				pattern(seed, f->fid, f->gen, f->size, 1,
					f->buf + f->size);
				if (pwrite(f->fd, f->buf + f->size, 1,
					   (off_t)f->size) != 1)
					die("write to unlinked fid %" PRIu64 ": %s",
					    f->fid, strerror(errno));
			}
			close(f->fd);
			names[f->name] = -1;
			free(f->buf);
			free(f);
			live[fi] = live[--nr_live];
			if (fi != nr_live)
				names[live[fi]->name] = fi;
		} else if (r < 94) {
			/* barrier: both directories */
			for (i = 0; i < NR_DIRS; i++)
				xfsync(dirfd[i], "a directory");
			log_durable("b");
		} else {
			if (rnd(&st, 2))
				sync();
			else if (syncfs(dirfd[0]) < 0)
				die("syncfs: %s", strerror(errno));
			log_durable("s");
		}
	}
	printf("crashtest run: done after %lu operations\n", op);
	for (i = 0; i < nr_live; i++) {
		close(live[i]->fd);
		free(live[i]->buf);
		free(live[i]);
	}
	return 0;
}

/*
 * ---- the verifier ----
 */

enum { R_C, R_I, R_W, R_T, R_R, R_U, R_F, R_B, R_S, R_M };

struct rec {
	int type;
	unsigned long line;
	uint64_t fid, gen, a, b;	/* w: off len; t: size; f: size crc */
	int n1, n2;			/* names */
};

struct vfile {
	uint64_t ino;		/* 0: not logged */
	bool have_durable;
	uint64_t g;		/* last durable gen (0 when none) */
	uint64_t h;		/* last gen started */
	uint64_t durable_size, durable_crc;
	bool crc_known;
	bool live;		/* in the workload's view at the end */
	uint64_t cur;		/* gen while scanning */
};

static struct rec *recs;
static size_t nr_recs;
static struct vfile *vfiles;
static uint64_t nr_fids;
static uint64_t log_seed;
static unsigned log_cycle;
static bool have_header;
/* durability records after this line are ignored (--durable-upto) */
static unsigned long durable_upto = ~0UL;

static struct vfile *vf(uint64_t fid)
{
	if (fid == 0 || fid > nr_fids)
		die("log names fid %" PRIu64 " before creating it", fid);
	return &vfiles[fid];
}

/* false when there is no log or not one whole line of it */
static bool read_log(const char *path)
{
	FILE *fp = fopen(path, "r");
	char line[LINE_MAX_LEN * 2], n1[64], n2[64];
	unsigned long lineno = 0;
	size_t cap = 0;

	/*
	 * run-cycles makes the file (empty) when the workload never
	 * started, so a missing log is a test setup error (a path the
	 * guest cannot see), never "nothing to check".
	 */
	if (!fp)
		die("opening %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), fp)) {
		struct rec r = { 0 };
		size_t len = strlen(line);
		int ok = 0;

		lineno++;
		if (len == 0 || line[len - 1] != '\n')
			break;	/* cut by the kill */
		r.line = lineno;
		switch (line[0]) {
		case 'H':
			if (sscanf(line, "H crashtest 1 seed=%" SCNu64 " cycle=%u",
				   &log_seed, &log_cycle) != 2)
				die("%s:%lu: bad header", path, lineno);
			have_header = true;
			continue;
		case 'm': r.type = R_M; ok = 1; break;
		case 'b': r.type = R_B; ok = 1; break;
		case 's': r.type = R_S; ok = 1; break;
		case 'c':
			r.type = R_C;
			ok = sscanf(line, "c %" SCNu64 " %63s", &r.fid, n1) == 2 &&
			     (r.n1 = parse_name(n1)) >= 0;
			break;
		case 'i':
			r.type = R_I;
			ok = sscanf(line, "i %" SCNu64 " %" SCNu64, &r.fid,
				    &r.a) == 2;
			break;
		case 'w':
			r.type = R_W;
			ok = sscanf(line, "w %" SCNu64 " %" SCNu64 " %" SCNu64
				    " %" SCNu64, &r.fid, &r.gen, &r.a, &r.b) == 4 &&
			     r.a + r.b < MAX_SIZE;
			break;
		case 't':
			r.type = R_T;
			ok = sscanf(line, "t %" SCNu64 " %" SCNu64 " %" SCNu64,
				    &r.fid, &r.gen, &r.a) == 3 && r.a < MAX_SIZE;
			break;
		case 'f':
			r.type = R_F;
			ok = sscanf(line, "f %" SCNu64 " %" SCNu64 " %" SCNu64
				    " %" SCNx64, &r.fid, &r.gen, &r.a, &r.b) == 4;
			break;
		case 'r':
			r.type = R_R;
			ok = sscanf(line, "r %63s %63s", n1, n2) == 2 &&
			     (r.n1 = parse_name(n1)) >= 0 &&
			     (r.n2 = parse_name(n2)) >= 0;
			break;
		case 'u':
			r.type = R_U;
			ok = sscanf(line, "u %63s", n1) == 1 &&
			     (r.n1 = parse_name(n1)) >= 0;
			break;
		}
		if (!ok)
			die("%s:%lu: bad record: %s", path, lineno, line);
		if ((r.type == R_F || r.type == R_B || r.type == R_S) &&
		    lineno > durable_upto)
			continue;
		if (nr_recs == cap) {
			cap = cap ? cap * 2 : 4096;
			recs = xrealloc(recs, cap * sizeof(*recs));
		}
		recs[nr_recs++] = r;
	}
	fclose(fp);
	return have_header;
}

/*
 * One pass over the records: fids, their last durable and last started
 * generations, and the namespace operations with the index of the last
 * barrier.
 */
struct nsop {
	int type;		/* R_C, R_R, R_U */
	int n1, n2;
	uint64_t fid;
	unsigned long line;
};

static struct nsop *nsops;
static size_t nr_nsops, ns_barrier;
static unsigned long barrier_line;
static bool setup_started, setup_done;

static void scan_log(void)
{
	uint64_t names[NR_NAMES] = { 0 };
	size_t i, j;

	for (i = 0; i < nr_recs; i++)
		if (recs[i].type == R_C && recs[i].fid > nr_fids)
			nr_fids = recs[i].fid;
	vfiles = xcalloc(nr_fids + 1, sizeof(*vfiles));
	nsops = xcalloc(nr_recs, sizeof(*nsops));

	for (i = 0; i < nr_recs; i++) {
		struct rec *r = &recs[i];
		struct nsop *o = &nsops[nr_nsops];
		struct vfile *v;

		switch (r->type) {
		case R_M:
			setup_started = true;
			break;
		case R_C:
			v = vf(r->fid);
			v->live = true;
			names[r->n1] = r->fid;
			o->type = R_C;
			o->n1 = r->n1;
			o->fid = r->fid;
			o->line = r->line;
			nr_nsops++;
			break;
		case R_I:
			vf(r->fid)->ino = r->a;
			break;
		case R_W:
		case R_T:
			v = vf(r->fid);
			if (r->gen != v->h + 1)
				die("log line %lu: fid %" PRIu64 " gen %" PRIu64
				    " follows gen %" PRIu64, r->line, r->fid,
				    r->gen, v->h);
			v->h = r->gen;
			break;
		case R_F:
			v = vf(r->fid);
			if (r->gen != v->h)
				die("log line %lu: fsync of fid %" PRIu64
				    " at gen %" PRIu64 ", last started %" PRIu64,
				    r->line, r->fid, r->gen, v->h);
			v->have_durable = true;
			v->g = r->gen;
			v->durable_size = r->a;
			v->durable_crc = r->b;
			v->crc_known = true;
			break;
		case R_R:
		case R_U:
			o->type = r->type;
			o->n1 = r->n1;
			o->n2 = r->n2;
			o->fid = names[r->n1];
			o->line = r->line;
			if (!o->fid)
				die("log line %lu: %s of an empty name", r->line,
				    r->type == R_R ? "rename" : "unlink");
			if (r->type == R_U)
				vf(o->fid)->live = false;
			else if (names[r->n2])	/* renamed over */
				vf(names[r->n2])->live = false;
			if (r->type == R_R)
				names[r->n2] = o->fid;
			names[r->n1] = 0;
			nr_nsops++;
			break;
		case R_S:
			if (setup_started)
				setup_done = true;
			for (j = 1; j <= nr_fids; j++) {
				v = &vfiles[j];
				if (v->live && (v->h > v->g || !v->have_durable)) {
					v->have_durable = true;
					v->g = v->h;
					v->crc_known = false;
				}
			}
			/* fall through */
		case R_B:
			ns_barrier = nr_nsops;
			barrier_line = r->line;
			break;
		}
	}
}

/* what is in c<C>: name index -> inode number, 0 for none */
static int scan_dirs(const char *cdir, uint64_t *seen, int *problems)
{
	char path[4096];
	struct dirent *de;
	DIR *dir;
	int d, nr = 0;

	dir = opendir(cdir);
	if (!dir) {
		if (errno == ENOENT && !setup_done)
			return 0;
		die("opening %s: %s", cdir, strerror(errno));
	}
	while ((de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (strcmp(de->d_name, "d0") && strcmp(de->d_name, "d1")) {
			printf("MISMATCH %s/%s: not made by the workload\n", cdir,
			       de->d_name);
			(*problems)++;
		}
	}
	closedir(dir);

	for (d = 0; d < NR_DIRS; d++) {
		char dname[8];

		snprintf(dname, sizeof(dname), "d%d", d);
		join(path, sizeof(path), cdir, dname);
		dir = opendir(path);
		if (!dir) {
			if (errno == ENOENT && !setup_done)
				continue;
			printf("MISMATCH %s: %s\n", path, strerror(errno));
			(*problems)++;
			continue;
		}
		while ((de = readdir(dir))) {
			char name[300];
			struct stat sb;
			int n;

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			snprintf(name, sizeof(name), "d%d/%s", d, de->d_name);
			n = parse_name(name);
			join(path, sizeof(path), cdir, name);
			if (n < 0) {
				printf("MISMATCH %s: not a name the workload uses\n",
				       path);
				(*problems)++;
				continue;
			}
			if (lstat(path, &sb) < 0)
				die("stat %s: %s", path, strerror(errno));
			if (!S_ISREG(sb.st_mode) || sb.st_nlink != 1) {
				printf("MISMATCH %s: mode %o nlink %lu, want a regular file with one link\n",
				       path, (unsigned)sb.st_mode,
				       (unsigned long)sb.st_nlink);
				(*problems)++;
			}
			seen[n] = sb.st_ino;
			nr++;
		}
		closedir(dir);
	}
	return nr;
}

static void apply_nsop(uint64_t *state, const struct nsop *o)
{
	switch (o->type) {
	case R_C:
		state[o->n1] = o->fid;
		break;
	case R_R:
		state[o->n2] = state[o->n1];
		state[o->n1] = 0;
		break;
	case R_U:
		state[o->n1] = 0;
		break;
	}
}

static bool state_matches(const uint64_t *state, const uint64_t *seen)
{
	int n;

	for (n = 0; n < NR_NAMES; n++) {
		if (!state[n] != !seen[n])
			return false;
		if (state[n] && vfiles[state[n]].ino &&
		    vfiles[state[n]].ino != seen[n])
			return false;
	}
	return true;
}

static void print_state_diff(const uint64_t *state, const uint64_t *seen)
{
	char name[32];
	int n;

	for (n = 0; n < NR_NAMES; n++) {
		uint64_t want = state[n] ? vfiles[state[n]].ino : 0;

		if (!state[n] == !seen[n] && (!want || want == seen[n]))
			continue;
		name_of(n, name, sizeof(name));
		if (state[n] && seen[n])
			printf("#   %s: want fid %" PRIu64 " (ino %" PRIu64 "), found ino %" PRIu64 "\n",
			       name, state[n], want, seen[n]);
		else if (state[n])
			printf("#   %s: want fid %" PRIu64 " (ino %" PRIu64 "), found nothing\n",
			       name, state[n], want);
		else
			printf("#   %s: want nothing, found ino %" PRIu64 "\n",
			       name, seen[n]);
	}
}

/*
 * The names must be those after ns ops [0, k) for some k in
 * [ns_barrier, nr_nsops].  Fills fid_of[] (name -> fid) from the first
 * k that matches; returns false (and says why) when none does.
 */
static bool check_names(const uint64_t *seen, uint64_t *fid_of, size_t *k_out)
{
	uint64_t *state = xcalloc(NR_NAMES, sizeof(*state));
	uint64_t *at_barrier = xcalloc(NR_NAMES, sizeof(*state));
	size_t k;
	bool found = false;

	for (k = 0; k <= nr_nsops; k++) {
		if (k == ns_barrier)
			memcpy(at_barrier, state, NR_NAMES * sizeof(*state));
		if (k >= ns_barrier && state_matches(state, seen)) {
			memcpy(fid_of, state, NR_NAMES * sizeof(*state));
			*k_out = k;
			found = true;
			break;
		}
		if (k < nr_nsops)
			apply_nsop(state, &nsops[k]);
	}
	if (!found) {
		printf("MISMATCH names: what is in the directories is the result of no prefix of the logged operations from the last barrier (log line %lu, after %zu of %zu name operations) to the end\n",
		       barrier_line, ns_barrier, nr_nsops);
		printf("#  against the names at the last barrier:\n");
		print_state_diff(at_barrier, seen);
		printf("#  against the names at the end of the log:\n");
		print_state_diff(state, seen);
	}
	free(state);
	free(at_barrier);
	return found;
}

struct model {
	unsigned char *buf;	/* MAX_SIZE */
	unsigned char *alloc;	/* per block: has an extent */
	size_t size;
};

static void model_apply(struct model *m, const struct rec *r)
{
	size_t b;

	if (r->type == R_W) {
		pattern(log_seed, r->fid, r->gen, r->a, r->b, m->buf + r->a);
		for (b = r->a / BLK; b * BLK < r->a + r->b; b++)
			m->alloc[b] = 1;
		if (r->a + r->b > m->size)
			m->size = r->a + r->b;
	} else {
		if (r->a < m->size)
			memset(m->buf + r->a, 0, m->size - r->a);
		for (b = (r->a + BLK - 1) / BLK; b < MAX_SIZE / BLK; b++)
			m->alloc[b] = 0;
		m->size = r->a;
	}
}

/* counts over all files */
static unsigned long files_exact, files_torn, zero_blocks;

/* What was read from one file, and how the generations compare with it. */
struct found {
	const unsigned char *got;
	size_t size, nblk;
	unsigned char *blk_ok;		/* block equals that of some gen */
	unsigned char *blk_new;		/* block newly allocated by a gen > G */
	bool size_ok, exact;
	size_t lo, hi;			/* sizes of the gens */
};

static void compare_gen(struct found *fd, const struct model *m)
{
	size_t b;

	if (m->size == fd->size) {
		fd->size_ok = true;
		if (!memcmp(m->buf, fd->got, fd->size))
			fd->exact = true;
	}
	if (m->size < fd->lo)
		fd->lo = m->size;
	if (m->size > fd->hi)
		fd->hi = m->size;
	for (b = 0; b < fd->nblk; b++) {
		size_t off = b * BLK;
		size_t len = fd->size - off < BLK ? fd->size - off : BLK;

		/* m->buf is zero beyond m->size */
		if (!fd->blk_ok[b] && !memcmp(m->buf + off, fd->got + off, len))
			fd->blk_ok[b] = 1;
	}
}

static bool is_data_rec(const struct rec *r, uint64_t fid)
{
	return (r->type == R_W || r->type == R_T) && r->fid == fid;
}

static unsigned char *read_whole(const char *path, struct stat *sb,
				 size_t *len)
{
	unsigned char *got;
	size_t i = 0;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, sb) < 0)
		die("opening %s: %s", path, strerror(errno));
	*len = (size_t)sb->st_size;
	if (sb->st_size >= MAX_SIZE) {
		close(fd);
		return NULL;
	}
	got = xcalloc(1, *len);
	while (i < *len) {
		ssize_t r = pread(fd, got + i, *len - i, (off_t)i);

		if (r < 0)
			die("reading %s: %s", path, strerror(errno));
		if (r == 0)
			die("reading %s: %zu bytes of a %zu byte file", path, i,
			    *len);
		i += (size_t)r;
	}
	close(fd);
	return got;
}

/*
 * Check the file found at name N against fid FID's generations G..H.
 * Returns the number of problems (0 or 1).
 */
static int check_data(const char *cdir, int n, uint64_t fid)
{
	struct vfile *v = &vfiles[fid];
	struct model m = { 0 };
	struct found fd = { .lo = SIZE_MAX };
	char name[32], path[4096], who[128];
	unsigned char *gbuf;
	size_t gsize, b, i;
	struct stat sb;
	int ret = 0;

	name_of(n, name, sizeof(name));
	join(path, sizeof(path), cdir, name);
	fd.got = read_whole(path, &sb, &fd.size);
	snprintf(who, sizeof(who), "%s (fid %" PRIu64 ", ino %" PRIu64 ")",
		 name, fid, (uint64_t)sb.st_ino);
	if (!fd.got) {
		printf("MISMATCH %s: size %zu, bigger than the workload makes\n",
		       who, fd.size);
		return 1;
	}
	fd.nblk = (fd.size + BLK - 1) / BLK;
	fd.blk_ok = xcalloc(fd.nblk, 1);
	fd.blk_new = xcalloc(fd.nblk, 1);
	m.buf = xcalloc(1, MAX_SIZE);
	m.alloc = xcalloc(MAX_SIZE / BLK, 1);

	/* gen G */
	for (i = 0; i < nr_recs && !(is_data_rec(&recs[i], fid) &&
				     recs[i].gen > v->g); i++)
		if (is_data_rec(&recs[i], fid))
			model_apply(&m, &recs[i]);
	if (v->crc_known && (m.size != v->durable_size ||
			     checksum(m.buf, m.size) != v->durable_crc))
		die("the model of fid %" PRIu64 " gen %" PRIu64
		    " does not match the checksum the workload logged",
		    fid, v->g);
	gsize = m.size;
	gbuf = xcalloc(1, MAX_SIZE);
	memcpy(gbuf, m.buf, MAX_SIZE);
	compare_gen(&fd, &m);

	/* then each gen started after it */
	for (; i < nr_recs; i++) {
		const struct rec *r = &recs[i];

		if (!is_data_rec(r, fid))
			continue;
		if (r->type == R_W) {
			for (b = r->a / BLK; b * BLK < r->a + r->b && b < fd.nblk;
			     b++)
				if (!m.alloc[b])
					fd.blk_new[b] = 1;
			/* an extending write cut short leaves a size between */
			if (fd.size > m.size && fd.size < r->a + r->b)
				fd.size_ok = true;
		}
		model_apply(&m, r);
		compare_gen(&fd, &m);
	}

	/* a deleted file's bytes, whatever the generations say */
	for (b = 0; b < fd.nblk; b++) {
		size_t off = b * BLK;
		size_t len = fd.size - off < BLK ? fd.size - off : BLK;

		if (memmem(fd.got + off, len, MARKER, sizeof(MARKER) - 1)) {
			printf("MISMATCH %s: the block at offset %zu holds a deleted file's bytes (the marker)%s\n",
			       who, off, fd.blk_new[b] ?
			       "; a write of an unsynced gen allocated it" : "");
			ret = 1;
			goto out;
		}
	}
	if (fd.exact) {
		files_exact++;
		goto out;
	}
	if (v->h == v->g) {
		size_t first = 0;

		while (first < fd.size && first < gsize &&
		       fd.got[first] == gbuf[first])
			first++;
		printf("MISMATCH %s: want exactly gen %" PRIu64 " (%s, %zu bytes), found %zu bytes; first difference at offset %zu",
		       who, v->g, v->have_durable ?
		       "durable, nothing started after it" :
		       "the empty file created", gsize, fd.size, first);
		if (first < fd.size && first < gsize)
			printf(" (0x%02x, want 0x%02x)", fd.got[first],
			       gbuf[first]);
		printf("\n");
		ret = 1;
		goto out;
	}
	if (!fd.size_ok) {
		printf("MISMATCH %s: size %zu is that of no gen from %" PRIu64 " (%s, %zu bytes) to %" PRIu64 " (started; sizes %zu..%zu)\n",
		       who, fd.size, v->g, v->have_durable ? "durable" : "created",
		       gsize, v->h, fd.lo, fd.hi);
		ret = 1;
		goto out;
	}
	for (b = 0; b < fd.nblk; b++) {
		size_t off = b * BLK;
		size_t end = fd.size - off < BLK ? fd.size : off + BLK;

		if (fd.blk_ok[b]) {
			if (fd.blk_new[b]) {
				for (i = off; i < end && !fd.got[i]; i++)
					;
				if (i == end)
					zero_blocks++;
			}
			continue;
		}
		for (i = off; i < end && fd.got[i] == gbuf[i]; i++)
			;
		printf("MISMATCH %s: the block at offset %zu is that of no gen from %" PRIu64 " (%s) to %" PRIu64 " (started)%s; first difference from gen %" PRIu64 " at offset %zu",
		       who, off, v->g, v->have_durable ? "durable" : "created",
		       v->h, fd.blk_new[b] ?
		       ", and a write of those gens allocated it: stale data" :
		       "", v->g, i);
		if (i < end)
			printf(" (0x%02x, want 0x%02x)", fd.got[i], gbuf[i]);
		printf("\n");
		ret = 1;
		goto out;
	}
	files_torn++;
out:
	free((void *)fd.got);
	free(fd.blk_ok);
	free(fd.blk_new);
	free(m.buf);
	free(m.alloc);
	free(gbuf);
	return ret;
}

static int cmd_verify(const char *root, const char *log_path)
{
	uint64_t seen[NR_NAMES] = { 0 }, fid_of[NR_NAMES] = { 0 };
	char cdir[4096];
	size_t k = 0;
	int problems = 0, nr_seen, n;

	if (!read_log(log_path)) {
		printf("crashtest verify: %s has no record: the power cut came before the workload started, nothing to check\n",
		       log_path);
		return 0;
	}
	scan_log();
	snprintf(cdir, sizeof(cdir), "%s/c%u", root, log_cycle);
	printf("crashtest verify: seed %" PRIu64 " cycle %u: %zu log records, %" PRIu64 " files created, %zu name operations (%zu before the last barrier)\n",
	       log_seed, log_cycle, nr_recs, nr_fids, nr_nsops, ns_barrier);
	nr_seen = scan_dirs(cdir, seen, &problems);
	if (!check_names(seen, fid_of, &k)) {
		problems++;
	} else {
		for (n = 0; n < NR_NAMES; n++)
			if (fid_of[n])
				problems += check_data(cdir, n, fid_of[n]);
	}
	printf("crashtest verify: %d files found, names as after %zu of %zu name operations; %lu exactly one generation, %lu pieced from blocks of in-flight generations, %lu newly allocated blocks read as zeros; %d problem%s\n",
	       nr_seen, k, nr_nsops, files_exact, files_torn, zero_blocks,
	       problems, problems == 1 ? "" : "s");
	return problems ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: crashtest run --root DIR --log FILE --seed S --cycle C [--seconds N] [--ops N] [--dm-mark NAME]... [--flush-dev DEV]\n"
		"       crashtest verify --root DIR --log FILE [--durable-upto LINE]\n"
		"       crashtest replay --seed S LOG:IMAGE [LOG:IMAGE...]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "log", required_argument, NULL, 'l' },
		{ "seed", required_argument, NULL, 's' },
		{ "cycle", required_argument, NULL, 'c' },
		{ "seconds", required_argument, NULL, 'S' },
		{ "ops", required_argument, NULL, 'o' },
		{ "dm-mark", required_argument, NULL, 'd' },
		{ "durable-upto", required_argument, NULL, 'u' },
		{ "flush-dev", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	const char *root = NULL, *log_path = NULL, *cmd;
	uint64_t seed = 0;
	unsigned cycle = 0, seconds = 600;
	unsigned long ops = ~0UL;
	int c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		usage();
	cmd = argv[1];
	if (!strcmp(cmd, "replay"))
		return cmd_replay(argc - 1, argv + 1);
	optind = 2;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': root = optarg; break;
		case 'l': log_path = optarg; break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'c': cycle = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'S': seconds = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'o': ops = strtoul(optarg, NULL, 0); break;
		case 'u': durable_upto = strtoul(optarg, NULL, 0); break;
		case 'F': flush_dev = optarg; break;
		case 'd':
			dm_marks = xrealloc(dm_marks, (nr_dm_marks + 1) *
					    sizeof(*dm_marks));
			dm_marks[nr_dm_marks++] = optarg;
			break;
		default: usage();
		}
	}
	if (!root || !log_path || optind != argc)
		usage();
	if (!strcmp(cmd, "run"))
		return cmd_run(root, log_path, seed, cycle, seconds, ops);
	if (!strcmp(cmd, "verify"))
		return cmd_verify(root, log_path);
	usage();
	return 2;
}
