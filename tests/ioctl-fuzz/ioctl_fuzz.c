// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl_fuzz.c: throws random arguments at every scoutfs ioctl.
 *
 * usage: ioctl-fuzz [-n ITERATIONS] [-s SEED] FILE DIR
 *
 * Each iteration picks an ioctl (the real numbers, and neighbours with the
 * wrong size or direction), fills its struct with random bytes, and
 * plants in the pointer fields NULL, an unmapped address, a kernel
 * address, a pointer into a too-small buffer or a real buffer, with
 * random counts and sizes.  The kernel must answer each with a result or
 * an errno and never oops, hang or allocate what a user number asks for;
 * the VM harness fails the run on any console splat.  The program itself
 * only checks that the filesystem still answers afterwards.  Prints the
 * seed so a failure can be replayed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ioctl.h"

#define FUZZ_BUF_BYTES (1024 * 1024)

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64*: deterministic per seed */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static const unsigned long fuzz_cmds[] = {
	SCOUTFS_IOC_WALK_INODES, SCOUTFS_IOC_INO_PATH, SCOUTFS_IOC_RELEASE,
	SCOUTFS_IOC_STAGE, SCOUTFS_IOC_STAT_MORE, SCOUTFS_IOC_DATA_WAITING,
	SCOUTFS_IOC_SETATTR_MORE, SCOUTFS_IOC_LISTXATTR_HIDDEN,
	SCOUTFS_IOC_SEARCH_XATTRS, SCOUTFS_IOC_STATFS_MORE,
	SCOUTFS_IOC_DATA_WAIT_ERR, SCOUTFS_IOC_GET_REFERRING_ENTRIES,
	SCOUTFS_IOC_PUNCH_OFFLINE, SCOUTFS_IOC_MOVE_BLOCKS,
};

static uint8_t *big_buf;
static uint8_t *small_buf;
static void *unmapped;

/* a value for a pointer field */
static uint64_t fuzz_ptr(void)
{
	switch (rnd() % 6) {
	case 0: return 0;
	case 1: return (uintptr_t)unmapped;
	case 2: return 0xffffffff81000000ULL;	/* kernel text */
	case 3: return (uintptr_t)small_buf;
	case 4: return (uintptr_t)(big_buf + FUZZ_BUF_BYTES - (rnd() % 64));
	default: return (uintptr_t)big_buf;
	}
}

/* a value for a count or size field */
static uint64_t fuzz_count(void)
{
	switch (rnd() % 5) {
	case 0: return 0;
	case 1: return rnd() % 16;
	case 2: return rnd() % 70000;
	case 3: return UINT64_MAX - (rnd() % 4);
	default: return rnd();
	}
}

static void fill_args(unsigned long cmd, uint8_t *args, size_t size)
{
	size_t i;

	for (i = 0; i < size; i++)
		args[i] = (uint8_t)rnd();
	/* often: zero padding and plausible fields, to get deeper */
	if (rnd() % 2)
		return;
	memset(args, 0, size);
	switch (cmd) {
	case SCOUTFS_IOC_WALK_INODES: {
		struct scoutfs_ioctl_walk_inodes *w = (void *)args;

		w->last.major = fuzz_count();
		w->last.ino = fuzz_count();
		w->entries_ptr = fuzz_ptr();
		w->nr_entries = (uint32_t)fuzz_count();
		w->index = rnd() % 3;
		break;
	}
	case SCOUTFS_IOC_INO_PATH: {
		struct scoutfs_ioctl_ino_path *p = (void *)args;

		p->ino = rnd() % 4 ? 1 + rnd() % 64 : fuzz_count();
		p->result_ptr = fuzz_ptr();
		p->result_bytes = (uint16_t)fuzz_count();
		break;
	}
	case SCOUTFS_IOC_RELEASE: {
		struct scoutfs_ioctl_release *r = (void *)args;

		r->offset = fuzz_count() & ~4095ULL;
		r->length = fuzz_count();
		r->data_version = rnd() % 8;
		break;
	}
	case SCOUTFS_IOC_STAGE: {
		struct scoutfs_ioctl_stage *s = (void *)args;

		s->data_version = rnd() % 8;
		s->buf_ptr = fuzz_ptr();
		s->offset = fuzz_count();
		s->length = (int32_t)fuzz_count();
		break;
	}
	case SCOUTFS_IOC_DATA_WAITING: {
		struct scoutfs_ioctl_data_waiting *d = (void *)args;

		d->flags = rnd() % 4 ? 0 : rnd();
		d->ents_ptr = fuzz_ptr();
		d->ents_nr = (uint16_t)fuzz_count();
		break;
	}
	case SCOUTFS_IOC_SETATTR_MORE: {
		struct scoutfs_ioctl_setattr_more *a = (void *)args;

		a->i_size = fuzz_count();
		a->flags = rnd() % 3 ? 1 : rnd();
		a->ctime_nsec = (uint32_t)rnd();
		break;
	}
	case SCOUTFS_IOC_LISTXATTR_HIDDEN: {
		struct scoutfs_ioctl_listxattr_hidden *l = (void *)args;

		l->buf_ptr = fuzz_ptr();
		l->buf_bytes = (uint32_t)fuzz_count();
		break;
	}
	case SCOUTFS_IOC_SEARCH_XATTRS: {
		struct scoutfs_ioctl_search_xattrs *x = (void *)args;

		x->last_ino = fuzz_count();
		x->name_ptr = fuzz_ptr();
		x->name_bytes = (uint16_t)fuzz_count();
		x->inodes_ptr = fuzz_ptr();
		x->nr_inodes = fuzz_count();
		break;
	}
	case SCOUTFS_IOC_GET_REFERRING_ENTRIES: {
		struct scoutfs_ioctl_get_referring_entries *g = (void *)args;

		g->ino = rnd() % 4 ? 1 + rnd() % 64 : fuzz_count();
		g->entries_ptr = fuzz_ptr();
		g->entries_bytes = fuzz_count();
		break;
	}
	case SCOUTFS_IOC_PUNCH_OFFLINE: {
		struct scoutfs_ioctl_punch_offline *o = (void *)args;

		/*
		 * Never the file's data_version: a real punch would turn a
		 * random release into a hole, and the test checks the
		 * contents of a file with no offline blocks left.
		 */
		o->offset = rnd() % 2 ? fuzz_count() & ~4095ULL : fuzz_count();
		o->len = fuzz_count();
		o->data_version = 1000 + rnd() % 8;
		o->flags = rnd() % 3 ? 0 : rnd();
		break;
	}
	case SCOUTFS_IOC_MOVE_BLOCKS: {
		struct scoutfs_ioctl_move_blocks *m = (void *)args;

		/*
		 * from_fd: stdio, the FILE (the same file as the target, or
		 * the DIR's target: EINVAL/EISDIR), the DIR, closed or huge
		 * numbers; never a second file, so nothing really moves and
		 * the FILE's contents stay as the test wrote them.
		 */
		m->from_fd = rnd() % 4 ? rnd() % 8 : fuzz_count();
		m->from_off = rnd() % 2 ? fuzz_count() & ~4095ULL : fuzz_count();
		m->len = fuzz_count();
		m->to_off = rnd() % 2 ? fuzz_count() & ~4095ULL : fuzz_count();
		m->data_version = rnd() % 8;
		m->flags = rnd() % 3 ? rnd() % 2 : rnd();
		break;
	}
	case SCOUTFS_IOC_DATA_WAIT_ERR: {
		struct scoutfs_ioctl_data_wait_err *e = (void *)args;

		e->ino = rnd() % 64;
		e->offset = fuzz_count();
		e->count = fuzz_count();
		e->op = rnd() % 9;
		e->err = -(int64_t)(rnd() % 5000);
		break;
	}
	}
}

int main(int argc, char **argv)
{
	unsigned long iterations = 20000, i;
	unsigned long cmd;
	uint8_t args[256];
	uint64_t seed = (uint64_t)time(NULL);
	int fds[2];
	int c;

	while ((c = getopt(argc, argv, "n:s:")) != -1) {
		if (c == 'n')
			iterations = strtoul(optarg, NULL, 0);
		else if (c == 's')
			seed = strtoull(optarg, NULL, 0);
		else
			return 2;
	}
	if (optind != argc - 2) {
		fprintf(stderr, "usage: ioctl-fuzz [-n ITERATIONS] [-s SEED] FILE DIR\n");
		return 2;
	}
	printf("ioctl-fuzz: seed %llu, %lu iterations\n",
	       (unsigned long long)seed, iterations);
	rng_state = seed | 1;

	fds[0] = open(argv[optind], O_RDWR);
	fds[1] = open(argv[optind + 1], O_RDONLY);
	big_buf = malloc(FUZZ_BUF_BYTES);
	small_buf = malloc(8);
	unmapped = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fds[0] < 0 || fds[1] < 0 || !big_buf || !small_buf ||
	    unmapped == MAP_FAILED) {
		perror("ioctl-fuzz: setup");
		return 1;
	}
	memset(big_buf, 'x', FUZZ_BUF_BYTES);

	for (i = 0; i < iterations; i++) {
		cmd = fuzz_cmds[rnd() % (sizeof(fuzz_cmds) / sizeof(fuzz_cmds[0]))];
		/* sometimes the right number with the wrong size or direction */
		if (rnd() % 16 == 0)
			cmd = _IOC(rnd() % 4, SCOUTFS_IOCTL_MAGIC, _IOC_NR(cmd),
				   rnd() % 256);
		fill_args(cmd, args, sizeof(args));
		/* the struct pointer itself is sometimes bad too */
		ioctl(fds[rnd() % 2], cmd, rnd() % 32 ? (void *)args :
						       (void *)fuzz_ptr());
	}

	/* the filesystem still answers */
	if (fstat(fds[0], &(struct stat){0}) || fsync(fds[0])) {
		perror("ioctl-fuzz: filesystem after fuzzing");
		return 1;
	}
	printf("ioctl-fuzz: done\n");
	return 0;
}
