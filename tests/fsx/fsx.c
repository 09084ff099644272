// SPDX-License-Identifier: GPL-2.0
/*
 * fsx: random file operations checked against an in-memory model.
 *
 * In the spirit of the classic fsx: several files in one directory, each
 * with a model of what its bytes must be (a buffer covering a window of
 * the file; everything outside the window is a hole that must read zeros)
 * and its size.  Every operation is applied to the file and to the model,
 * and every read, of any kind, is compared with the model:
 *
 *   write      pwrite of random length at a random offset (may extend)
 *   read       pread, compared
 *   mapwrite   store through a shared mmap (extending with ftruncate
 *              first), sometimes msync
 *   mapread    load through a mmap, compared
 *   truncate   ftruncate up or down; beyond the new size the model is zero
 *   falloc     fallocate mode 0 or FALLOC_FL_KEEP_SIZE; contents unchanged
 *   direct     O_DIRECT pwrite/pread of aligned blocks
 *   seek       SEEK_DATA/SEEK_HOLE from a random offset: a reported hole
 *              must be zeros in the model
 *   fsync      fsync or fdatasync
 *
 * With --remount-cmd, every --remount-every operations the files are
 * closed, the command runs (e.g. "umount /mnt && mount ... /mnt") and the
 * files are reopened and compared in full, so what reaches the disk is
 * checked, not just the page cache.  File 0 may have its window placed
 * beyond 4 GiB (-B) to exercise large offsets.
 *
 * Any mismatch or unexpected error prints the last LOG_OPS operations and
 * exits 1.  -N sets the number of operations (default 3000, bounded for
 * CI); -S the seed, printed at the start, so a failure can be replayed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_OPS		3000
#define DEFAULT_FILES		3
#define DEFAULT_WINDOW		(4ULL << 20)	/* bytes of each file's model */
#define DEFAULT_REMOUNT_EVERY	500
#define MAX_IO			(256U << 10)	/* largest single write/read */
#define BIG_BASE		(5ULL << 30)	/* -B: file 0's window at 5 GiB */
#define DIRECT_ALIGN		4096U
#define LOG_OPS			50
#define LOG_LINE		160

struct model_file {
	char path[4096];
	int fd;
	int dfd;		/* O_DIRECT descriptor, -1 if refused */
	uint64_t base;		/* the window: [base, base + window) */
	uint64_t size;		/* i_size the file must have */
	unsigned char *buf;	/* window bytes; zero beyond size */
};

static struct {
	uint64_t nr_ops;
	unsigned int nr_files;
	uint64_t window;
	uint64_t remount_every;
	const char *remount_cmd;
	const char *dir;
	bool big;
	uint64_t seed;
	bool verbose;
} opt = {
	.nr_ops = DEFAULT_OPS,
	.nr_files = DEFAULT_FILES,
	.window = DEFAULT_WINDOW,
	.remount_every = DEFAULT_REMOUNT_EVERY,
};

static struct model_file *files;
static unsigned char *iobuf;
static char oplog[LOG_OPS][LOG_LINE];
static uint64_t opnr;
static uint64_t rng_state;

/* xorshift64*: fast, deterministic for a seed, good enough here. */
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static void logop(const char *fmt, ...)
{
	char *line = oplog[opnr % LOG_OPS];
	va_list ap;
	int n;

	n = snprintf(line, LOG_LINE, "%6" PRIu64 " ", opnr);
	va_start(ap, fmt);
	vsnprintf(line + n, LOG_LINE - n, fmt, ap);
	va_end(ap);
	if (opt.verbose)
		printf("%s\n", line);
}

static void dump_log(void)
{
	uint64_t first = opnr >= LOG_OPS - 1 ? opnr - (LOG_OPS - 1) : 0;
	uint64_t i;

	fprintf(stderr, "fsx: seed %" PRIu64 "; the last operations:\n",
		opt.seed);
	for (i = first; i <= opnr; i++)
		fprintf(stderr, "  %s\n", oplog[i % LOG_OPS]);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fsx: FAILED at op %" PRIu64 ": ", opnr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	dump_log();
	exit(1);
}

/* The model byte at absolute file offset off. */
static unsigned char model_byte(const struct model_file *f, uint64_t off)
{
	if (off >= f->size || off < f->base || off >= f->base + opt.window)
		return 0;
	return f->buf[off - f->base];
}

static void compare(const struct model_file *f, const char *how,
		    uint64_t off, const unsigned char *got, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (got[i] != model_byte(f, off + i))
			break;
	}
	if (i == len)
		return;

	fprintf(stderr, "fsx: %s of %s at %" PRIu64 " len %zu: byte %" PRIu64
		" is 0x%02x, expected 0x%02x\n", how, f->path, off, len,
		off + i, got[i], model_byte(f, off + i));
	fprintf(stderr, "fsx:   got:     ");
	for (size_t j = i; j < len && j < i + 16; j++)
		fprintf(stderr, "%02x ", got[j]);
	fprintf(stderr, "\nfsx:   expected:");
	for (size_t j = i; j < len && j < i + 16; j++)
		fprintf(stderr, " %02x", model_byte(f, off + j));
	fprintf(stderr, "\n");
	fail("data mismatch");
}

static void check_size(const struct model_file *f)
{
	struct stat st;

	if (fstat(f->fd, &st))
		fail("fstat %s: %s", f->path, strerror(errno));
	if ((uint64_t)st.st_size != f->size)
		fail("%s has size %lld, expected %" PRIu64, f->path,
		     (long long)st.st_size, f->size);
}

/* A random range inside the window: [*off, *off + *len). */
static void pick_range(const struct model_file *f, uint64_t maxlen,
		       uint64_t *off, uint64_t *len)
{
	*off = f->base + rnd_below(opt.window);
	*len = 1 + rnd_below(maxlen);
	if (*off + *len > f->base + opt.window)
		*len = f->base + opt.window - *off;
}

static void fill_pattern(unsigned char *buf, size_t len)
{
	uint64_t r = rnd();
	size_t i;

	/* a recognisable pattern: op number in the high bits, no zeros */
	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(((opnr * 7 + i + r) % 255) + 1);
}

static void model_write(struct model_file *f, uint64_t off,
			const unsigned char *data, uint64_t len)
{
	memcpy(f->buf + (off - f->base), data, len);
	if (off + len > f->size)
		f->size = off + len;
}

static void model_truncate(struct model_file *f, uint64_t size)
{
	uint64_t end = f->base + opt.window;

	/* bytes beyond the new size are gone: they must read zero later */
	if (size < f->size && size < end) {
		uint64_t from = size > f->base ? size : f->base;

		memset(f->buf + (from - f->base), 0, end - from);
	}
	f->size = size;
}

static void read_and_compare(struct model_file *f, uint64_t off,
			     uint64_t len, const char *how)
{
	ssize_t ret;
	uint64_t want = len;

	if (off >= f->size)
		want = 0;
	else if (off + len > f->size)
		want = f->size - off;
	ret = pread(f->fd, iobuf, len, off);
	if (ret < 0)
		fail("pread %s at %" PRIu64 ": %s", f->path, off, strerror(errno));
	if ((uint64_t)ret != want)
		fail("pread %s at %" PRIu64 " len %" PRIu64 " returned %zd, expected %" PRIu64,
		     f->path, off, len, ret, want);
	compare(f, how, off, iobuf, ret);
}

static void op_write(struct model_file *f)
{
	uint64_t off, len;
	ssize_t ret;

	pick_range(f, MAX_IO, &off, &len);
	logop("write    %s %" PRIu64 " +%" PRIu64 " (size %" PRIu64 ")",
	      f->path, off, len, f->size);
	fill_pattern(iobuf, len);
	ret = pwrite(f->fd, iobuf, len, off);
	if (ret < 0 || (uint64_t)ret != len)
		fail("pwrite %s: %zd: %s", f->path, ret, strerror(errno));
	model_write(f, off, iobuf, len);
}

static void op_read(struct model_file *f)
{
	uint64_t off, len;

	pick_range(f, MAX_IO, &off, &len);
	logop("read     %s %" PRIu64 " +%" PRIu64 " (size %" PRIu64 ")",
	      f->path, off, len, f->size);
	read_and_compare(f, off, len, "read");
}

static void *map_range(struct model_file *f, uint64_t off, uint64_t len,
		       uint64_t *map_off, size_t *map_len, int prot)
{
	long pagesize = sysconf(_SC_PAGESIZE);
	void *p;

	*map_off = off - off % (uint64_t)pagesize;
	*map_len = off + len - *map_off;
	p = mmap(NULL, *map_len, prot, MAP_SHARED, f->fd, *map_off);
	if (p == MAP_FAILED)
		fail("mmap %s at %" PRIu64 " len %zu: %s", f->path, *map_off,
		     *map_len, strerror(errno));
	return p;
}

static void op_mapwrite(struct model_file *f)
{
	uint64_t off, len, map_off;
	size_t map_len;
	unsigned char *p;
	bool do_msync = rnd_below(2);

	pick_range(f, MAX_IO, &off, &len);
	logop("mapwrite %s %" PRIu64 " +%" PRIu64 " (size %" PRIu64 ")%s",
	      f->path, off, len, f->size, do_msync ? " msync" : "");
	/* stores cannot extend a file: grow it first, like fsx */
	if (off + len > f->size) {
		if (ftruncate(f->fd, off + len))
			fail("ftruncate %s to %" PRIu64 ": %s", f->path,
			     off + len, strerror(errno));
		model_truncate(f, off + len);
	}
	p = map_range(f, off, len, &map_off, &map_len, PROT_READ | PROT_WRITE);
	fill_pattern(iobuf, len);
	memcpy(p + (off - map_off), iobuf, len);
	if (do_msync && msync(p, map_len, MS_SYNC))
		fail("msync %s: %s", f->path, strerror(errno));
	if (munmap(p, map_len))
		fail("munmap: %s", strerror(errno));
	model_write(f, off, iobuf, len);
}

static void op_mapread(struct model_file *f)
{
	uint64_t off, len, map_off;
	size_t map_len;
	unsigned char *p;

	if (f->size <= f->base) {
		logop("mapread  %s skipped: nothing in the window", f->path);
		return;
	}
	off = f->base + rnd_below(f->size - f->base);
	len = 1 + rnd_below(MAX_IO);
	if (off + len > f->size)
		len = f->size - off;
	logop("mapread  %s %" PRIu64 " +%" PRIu64 " (size %" PRIu64 ")",
	      f->path, off, len, f->size);
	p = map_range(f, off, len, &map_off, &map_len, PROT_READ);
	compare(f, "mapread", off, p + (off - map_off), len);
	if (munmap(p, map_len))
		fail("munmap: %s", strerror(errno));
}

static void op_truncate(struct model_file *f)
{
	uint64_t size = f->base + rnd_below(opt.window + 1);

	/* now and then all the way down, window or not */
	if (rnd_below(20) == 0)
		size = 0;
	logop("truncate %s %" PRIu64 " -> %" PRIu64, f->path, f->size, size);
	if (ftruncate(f->fd, size))
		fail("ftruncate %s to %" PRIu64 ": %s", f->path, size,
		     strerror(errno));
	model_truncate(f, size);
}

static void op_falloc(struct model_file *f)
{
	bool keep = rnd_below(2);
	uint64_t off, len;

	pick_range(f, 4 * MAX_IO, &off, &len);
	logop("falloc   %s %" PRIu64 " +%" PRIu64 "%s (size %" PRIu64 ")",
	      f->path, off, len, keep ? " keep_size" : "", f->size);
	if (fallocate(f->fd, keep ? FALLOC_FL_KEEP_SIZE : 0, off, len))
		fail("fallocate %s: %s", f->path, strerror(errno));
	if (!keep && off + len > f->size)
		f->size = off + len;
}

static void op_direct(struct model_file *f)
{
	uint64_t nr_blocks = opt.window / DIRECT_ALIGN;
	uint64_t first = rnd_below(nr_blocks);
	uint64_t count = 1 + rnd_below(MAX_IO / DIRECT_ALIGN);
	uint64_t off, len;
	bool is_write = rnd_below(2);
	ssize_t ret;

	if (f->dfd < 0) {
		logop("direct   %s skipped: O_DIRECT refused", f->path);
		return;
	}
	if (first + count > nr_blocks)
		count = nr_blocks - first;
	off = f->base + first * DIRECT_ALIGN;
	len = count * DIRECT_ALIGN;
	logop("direct   %s %s %" PRIu64 " +%" PRIu64 " (size %" PRIu64 ")",
	      f->path, is_write ? "write" : "read", off, len, f->size);
	if (is_write) {
		fill_pattern(iobuf, len);
		ret = pwrite(f->dfd, iobuf, len, off);
		if (ret < 0 || (uint64_t)ret != len)
			fail("O_DIRECT pwrite %s: %zd: %s", f->path, ret,
			     strerror(errno));
		model_write(f, off, iobuf, len);
		return;
	}
	ret = pread(f->dfd, iobuf, len, off);
	if (ret < 0)
		fail("O_DIRECT pread %s: %s", f->path, strerror(errno));
	if (off + len <= f->size && (uint64_t)ret != len)
		fail("O_DIRECT pread %s returned %zd, expected %" PRIu64,
		     f->path, ret, len);
	compare(f, "direct read", off, iobuf, ret);
}

/* Is the model zero over [from, to)? */
static bool model_zero(const struct model_file *f, uint64_t from, uint64_t to)
{
	uint64_t lo = from > f->base ? from : f->base;
	uint64_t hi = to < f->base + opt.window ? to : f->base + opt.window;

	if (hi > f->size)
		hi = f->size;
	for (; lo < hi; lo++)
		if (f->buf[lo - f->base])
			return false;
	return true;
}

static void op_seek(struct model_file *f)
{
	bool data = rnd_below(2);
	uint64_t from;
	off_t ret;

	if (f->size == 0) {
		logop("seek     %s skipped: empty", f->path);
		return;
	}
	from = rnd_below(2) ? f->base + rnd_below(opt.window) :
			      rnd_below(f->size);
	if (from >= f->size)
		from = f->size - 1;
	logop("seek     %s %s from %" PRIu64 " (size %" PRIu64 ")", f->path,
	      data ? "SEEK_DATA" : "SEEK_HOLE", from, f->size);
	ret = lseek(f->fd, from, data ? SEEK_DATA : SEEK_HOLE);
	if (ret < 0 && data && errno == ENXIO) {
		/* no data from here on: all zeros */
		if (!model_zero(f, from, f->size))
			fail("SEEK_DATA from %" PRIu64 " found none but the model has data",
			     from);
		return;
	}
	if (ret < 0)
		fail("lseek %s: %s", f->path, strerror(errno));
	if ((uint64_t)ret < from || (uint64_t)ret > f->size)
		fail("lseek %s from %" PRIu64 " returned %lld, outside [from, size]",
		     data ? "SEEK_DATA" : "SEEK_HOLE", from, (long long)ret);
	if (data && !model_zero(f, from, ret))
		fail("SEEK_DATA from %" PRIu64 " skipped to %lld over data",
		     from, (long long)ret);
	/* a hole at ret: at least its first byte is zero */
	if (!data && (uint64_t)ret < f->size && !model_zero(f, ret, ret + 1))
		fail("SEEK_HOLE from %" PRIu64 " reported a hole at %lld over data",
		     from, (long long)ret);
}

static void op_fsync(struct model_file *f)
{
	bool datasync = rnd_below(2);

	logop("%s %s", datasync ? "fdatasync" : "fsync   ", f->path);
	if ((datasync ? fdatasync(f->fd) : fsync(f->fd)))
		fail("fsync %s: %s", f->path, strerror(errno));
}

static void open_file(struct model_file *f, bool create)
{
	f->fd = open(f->path, O_RDWR | (create ? O_CREAT | O_TRUNC : 0), 0644);
	if (f->fd < 0)
		fail("open %s: %s", f->path, strerror(errno));
	f->dfd = open(f->path, O_RDWR | O_DIRECT);
}

static void close_file(struct model_file *f)
{
	if (close(f->fd))
		fail("close %s: %s", f->path, strerror(errno));
	if (f->dfd >= 0 && close(f->dfd))
		fail("close %s: %s", f->path, strerror(errno));
	f->fd = f->dfd = -1;
}

/* Compare every byte of the window and the size. */
static void check_whole(struct model_file *f)
{
	uint64_t off;

	check_size(f);
	for (off = f->base; off < f->base + opt.window; off += MAX_IO)
		read_and_compare(f, off, MAX_IO, "full read");
	/* below the window only holes */
	if (f->base) {
		read_and_compare(f, 0, MAX_IO, "read below the window");
		read_and_compare(f, f->base - MAX_IO, MAX_IO,
				 "read below the window");
	}
}

static void remount(void)
{
	unsigned int i;
	int ret;

	logop("remount  %s", opt.remount_cmd);
	for (i = 0; i < opt.nr_files; i++)
		close_file(&files[i]);
	ret = system(opt.remount_cmd);
	if (ret != 0)
		fail("remount command '%s' failed (status %d)", opt.remount_cmd,
		     ret);
	for (i = 0; i < opt.nr_files; i++) {
		open_file(&files[i], false);
		check_whole(&files[i]);
	}
}

static void usage(FILE *out)
{
	fprintf(out,
"usage: fsx [options] DIR\n"
"  -N OPS              operations to run (default %d)\n"
"  -S SEED             random seed (default: time)\n"
"  -n FILES            files to work on (default %d)\n"
"  -w BYTES            bytes of each file's window (default %llu)\n"
"  -B                  put file 0's window at 5 GiB (large offsets)\n"
"  --remount-cmd CMD   run CMD (via system()) with the files closed, then\n"
"                      reopen and check them in full\n"
"  --remount-every OPS how often (default %d)\n"
"  -v                  print every operation\n",
		DEFAULT_OPS, DEFAULT_FILES, DEFAULT_WINDOW,
		DEFAULT_REMOUNT_EVERY);
}

static uint64_t parse_u64(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || end == s) {
		fprintf(stderr, "fsx: %s wants a number, got '%s'\n", what, s);
		exit(2);
	}
	return v;
}

static void parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "remount-cmd", required_argument, NULL, 'r' },
		{ "remount-every", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool seeded = false;
	int c;

	while ((c = getopt_long(argc, argv, "N:S:n:w:Bvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'N': opt.nr_ops = parse_u64(optarg, "-N"); break;
		case 'S': opt.seed = parse_u64(optarg, "-S"); seeded = true; break;
		case 'n': opt.nr_files = parse_u64(optarg, "-n"); break;
		case 'w': opt.window = parse_u64(optarg, "-w"); break;
		case 'B': opt.big = true; break;
		case 'r': opt.remount_cmd = optarg; break;
		case 'e': opt.remount_every = parse_u64(optarg, "--remount-every"); break;
		case 'v': opt.verbose = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		exit(2);
	}
	opt.dir = argv[optind];
	if (opt.nr_files < 1 || opt.nr_files > 64 ||
	    opt.window < DIRECT_ALIGN || opt.window > (1ULL << 30) ||
	    opt.window % DIRECT_ALIGN) {
		fprintf(stderr, "fsx: need 1..64 files and a window of 4 KiB multiples up to 1 GiB\n");
		exit(2);
	}
	if (!seeded)
		opt.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	rng_state = opt.seed ? opt.seed : 1;
}

int main(int argc, char **argv)
{
	static void (*const ops[])(struct model_file *) = {
		op_write, op_write, op_write, op_read, op_read,
		op_mapwrite, op_mapread, op_truncate, op_falloc,
		op_direct, op_seek, op_fsync,
	};
	unsigned int i;

	parse_args(argc, argv);
	printf("fsx: seed %" PRIu64 ", %" PRIu64 " ops on %u files in %s\n",
	       opt.seed, opt.nr_ops, opt.nr_files, opt.dir);

	if (posix_memalign((void **)&iobuf, DIRECT_ALIGN, 4 * MAX_IO)) {
		fprintf(stderr, "fsx: out of memory\n");
		return 2;
	}
	files = calloc(opt.nr_files, sizeof(*files));
	if (!files) {
		fprintf(stderr, "fsx: out of memory\n");
		return 2;
	}
	for (i = 0; i < opt.nr_files; i++) {
		struct model_file *f = &files[i];

		snprintf(f->path, sizeof(f->path), "%s/fsx.%u", opt.dir, i);
		f->base = (opt.big && i == 0) ? BIG_BASE : 0;
		f->buf = calloc(1, opt.window);
		if (!f->buf) {
			fprintf(stderr, "fsx: out of memory\n");
			return 2;
		}
		open_file(f, true);
	}

	for (opnr = 1; opnr <= opt.nr_ops; opnr++) {
		struct model_file *f = &files[rnd_below(opt.nr_files)];

		ops[rnd_below(sizeof(ops) / sizeof(ops[0]))](f);
		check_size(f);
		if (opt.remount_cmd && opt.remount_every &&
		    opnr % opt.remount_every == 0)
			remount();
	}
	opnr--;

	for (i = 0; i < opt.nr_files; i++)
		check_whole(&files[i]);
	if (opt.remount_cmd)
		remount();
	printf("fsx: %" PRIu64 " ops passed (seed %" PRIu64 ")\n", opt.nr_ops,
	       opt.seed);
	return 0;
}
