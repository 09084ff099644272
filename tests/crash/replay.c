// SPDX-License-Identifier: GPL-2.0
/*
 * replay.c: the dm-log-writes side of crashtest.
 *
 * In the "power" mode of tests/crash/run-cycles the guest puts a
 * dm-log-writes target over each scoutfs device, with a log device of its
 * own, and the device's image is attached with its writes discarded
 * (tests/vm/run --disk-file-snapshot).  dm-log-writes logs a write only
 * once a FLUSH on its device has covered it, or when it was itself FUA
 * (drivers/md/dm-log-writes.c), so a log replayed onto the image as it
 * was at boot gives the device as a power cut would leave a disk with a
 * volatile write cache that lost everything not yet flushed.
 *
 *   crashtest replay --seed S LOG:IMAGE [LOG:IMAGE...]
 *
 * picks a cut and writes each LOG's entries up to it onto its IMAGE.
 * Each log carries the marks the workload sent after every durability
 * record (crashtest run --dm-mark: "mark N", N the record's log line).
 * The cut is a mark M found in every log (half the time the last such
 * mark, otherwise any, or none: before the first).  The first LOG (the
 * metadata device's) stops at a random entry between M and its next
 * mark; every other LOG (the data device's) at its next mark, or its
 * end.  The two logs share no clock but the marks, and a power cut is
 * one moment: what the data device had flushed before the metadata
 * device's last write is on it.  scoutfs flushes the data device before
 * it writes the super that refers to the data (kmod/src/trans.c), so a
 * data log cut earlier than the metadata log would make a disk no power
 * cut can make (a committed extent whose flushed data is missing; seen
 * as a deleted file's bytes in a live file).  The mark a workload sends
 * after a durability record reaches the metadata log first, so the data
 * log's next mark is later than any metadata entry before its own.
 * A missing flush is still caught: data never flushed is in no log.
 * The last stdout line is "durable-upto M": durability records after
 * line M are to be ignored by crashtest verify --durable-upto.
 *
 * Log format (dm-log-writes.c): sector 0 holds struct log_write_super;
 * from sector 1 (in the log's sector size), nr_entries of one sector of
 * struct log_write_entry (a mark's text follows it in that sector) and
 * then the entry's nr_sectors of data.  Entries logged after the last
 * super update are ignored, and so is everything from an entry that is
 * not whole: the super is written once the entries before it were
 * submitted, not completed, so a kill can leave a hole.  (A lost data
 * bio behind a whole entry header would not be noticed: it replays as
 * zeros.)
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/dm-ioctl.h>

#include "crashtest.h"

#define LOG_FLUSH_FLAG		(1 << 0)
#define LOG_FUA_FLAG		(1 << 1)
#define LOG_DISCARD_FLAG	(1 << 2)
#define LOG_MARK_FLAG		(1 << 3)
#define WRITE_LOG_VERSION	1ULL
#define WRITE_LOG_MAGIC		0x6a736677736872ULL

struct log_write_super {
	uint64_t magic;
	uint64_t version;
	uint64_t nr_entries;
	uint32_t sectorsize;
} __attribute__((packed));

struct log_write_entry {
	uint64_t sector;
	uint64_t nr_sectors;
	uint64_t flags;
	uint64_t data_len;
};

/* "mark N" to a dm-log-writes device, through the dm control ioctl */
void dm_mark(const char *dm_name, unsigned long line)
{
	static int ctl = -1;
	union {
		struct dm_ioctl io;
		char buf[sizeof(struct dm_ioctl) + sizeof(struct dm_target_msg) + 64];
	} u;
	struct dm_target_msg *msg;

	if (ctl < 0) {
		ctl = open("/dev/mapper/control", O_RDWR);
		if (ctl < 0)
			die("opening /dev/mapper/control: %s", strerror(errno));
	}
	memset(&u, 0, sizeof(u));
	u.io.version[0] = DM_VERSION_MAJOR;
	u.io.data_size = sizeof(u);
	u.io.data_start = sizeof(struct dm_ioctl);
	snprintf(u.io.name, sizeof(u.io.name), "%s", dm_name);
	msg = (struct dm_target_msg *)(u.buf + sizeof(struct dm_ioctl));
	msg->sector = 0;
	snprintf(msg->message, 64, "mark %lu", line);
	if (ioctl(ctl, DM_TARGET_MSG, &u.io) < 0)
		die("mark %lu on %s: %s", line, dm_name, strerror(errno));
}

struct entry {
	uint64_t off;		/* byte offset of the entry's sector in the log */
	uint64_t sector, nr_sectors, flags;
	unsigned long mark;	/* mark N, 0 when not a mark */
};

struct wlog {
	const char *log_path, *img_path;
	int fd;
	uint32_t sectorsize;
	struct entry *e;
	uint64_t nr;
};

static void pread_all(int fd, void *buf, size_t len, uint64_t off,
		      const char *what)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = pread(fd, (char *)buf + done, len - done,
				  (off_t)(off + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("reading %s at %" PRIu64 ": %s", what, off + done,
			    r ? strerror(errno) : "end of file");
		done += (size_t)r;
	}
}

static void pwrite_all(int fd, const void *buf, size_t len, uint64_t off,
		       const char *what)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = pwrite(fd, (const char *)buf + done, len - done,
				   (off_t)(off + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("writing %s at %" PRIu64 ": %s", what, off + done,
			    strerror(errno));
		done += (size_t)r;
	}
}

static void read_wlog(struct wlog *l)
{
	struct log_write_super super;
	struct stat sb;
	char *sec;
	uint64_t off, i;

	l->fd = open(l->log_path, O_RDONLY);
	if (l->fd < 0 || fstat(l->fd, &sb) < 0)
		die("opening %s: %s", l->log_path, strerror(errno));
	pread_all(l->fd, &super, sizeof(super), 0, l->log_path);
	if (super.magic == 0 && super.nr_entries == 0) {
		/* nothing was ever logged */
		l->nr = 0;
		return;
	}
	if (super.magic != WRITE_LOG_MAGIC || super.version != WRITE_LOG_VERSION ||
	    super.sectorsize < 512 || super.sectorsize > 65536)
		die("%s is not a dm-log-writes log", l->log_path);
	l->sectorsize = super.sectorsize;
	l->nr = super.nr_entries;
	l->e = calloc(l->nr ? l->nr : 1, sizeof(*l->e));
	sec = malloc(l->sectorsize);
	if (!l->e || !sec)
		die("out of memory");
	off = l->sectorsize;
	for (i = 0; i < l->nr; i++) {
		struct log_write_entry we;
		struct entry *e = &l->e[i];
		uint64_t data;

		pread_all(l->fd, sec, l->sectorsize, off, l->log_path);
		memcpy(&we, sec, sizeof(we));
		/*
		 * The super counts entries whose bios had been submitted;
		 * a kill can lose one of them.  A hole or nonsense ends the
		 * log there.
		 */
		data = we.flags & (LOG_DISCARD_FLAG | LOG_MARK_FLAG) ? 0 :
		       we.nr_sectors * l->sectorsize;
		if ((we.flags & ~0x1fULL) || (!we.nr_sectors &&
		    !(we.flags & (LOG_FLUSH_FLAG | LOG_MARK_FLAG))) ||
		    off + l->sectorsize + data > (uint64_t)sb.st_size) {
			printf("crashtest replay: %s: entry %" PRIu64 " of %" PRIu64 " is not whole; the log ends there\n",
			       l->log_path, i, l->nr);
			l->nr = i;
			break;
		}
		e->off = off;
		e->sector = we.sector;
		e->nr_sectors = we.nr_sectors;
		e->flags = we.flags;
		if (we.flags & LOG_MARK_FLAG) {
			char text[64] = "";
			size_t len = we.data_len < sizeof(text) - 1 ?
				     we.data_len : sizeof(text) - 1;

			memcpy(text, sec + sizeof(we), len);
			e->mark = strtoul(text, NULL, 10);
		}
		off += l->sectorsize + data;
	}
	free(sec);
}

/* index of the entry after mark M in L; 0 for M == 0; -1 when absent */
static int64_t after_mark(const struct wlog *l, unsigned long m)
{
	uint64_t i;

	if (m == 0)
		return 0;
	for (i = 0; i < l->nr; i++)
		if ((l->e[i].flags & LOG_MARK_FLAG) && l->e[i].mark == m)
			return (int64_t)i + 1;
	return -1;
}

/* index of the first mark at or after FROM, or nr */
static uint64_t next_mark(const struct wlog *l, uint64_t from)
{
	while (from < l->nr && !(l->e[from].flags & LOG_MARK_FLAG))
		from++;
	return from;
}

static uint64_t apply(struct wlog *l, uint64_t upto)
{
	char *buf = NULL;
	size_t cap = 0;
	uint64_t i, writes = 0;
	int img;

	img = open(l->img_path, O_WRONLY);
	if (img < 0)
		die("opening %s: %s", l->img_path, strerror(errno));
	for (i = 0; i < upto; i++) {
		struct entry *e = &l->e[i];
		size_t len = (size_t)(e->nr_sectors * l->sectorsize);

		if ((e->flags & LOG_MARK_FLAG) || len == 0)
			continue;
		if (len > cap) {
			buf = realloc(buf, len);
			if (!buf)
				die("out of memory");
			cap = len;
		}
		if (e->flags & LOG_DISCARD_FLAG)
			memset(buf, 0, len);
		else
			pread_all(l->fd, buf, len, e->off + l->sectorsize,
				  l->log_path);
		pwrite_all(img, buf, len, e->sector * l->sectorsize, l->img_path);
		writes++;
	}
	if (fsync(img) < 0 || close(img) < 0)
		die("writing %s: %s", l->img_path, strerror(errno));
	free(buf);
	return writes;
}

int cmd_replay(int argc, char **argv)
{
	struct wlog *logs;
	unsigned long *marks = NULL, m = 0;
	uint64_t seed = 0, st, i, nr_marks = 0;
	int nr_logs = 0, a, j;

	logs = calloc((size_t)argc, sizeof(*logs));
	if (!logs)
		die("out of memory");
	for (a = 1; a < argc; a++) {
		char *colon;

		if (!strcmp(argv[a], "--seed") && a + 1 < argc) {
			seed = strtoull(argv[++a], NULL, 0);
			continue;
		}
		colon = strchr(argv[a], ':');
		if (!colon || argv[a][0] == '-')
			die("usage: crashtest replay --seed S LOG:IMAGE [LOG:IMAGE...]");
		*colon = '\0';
		logs[nr_logs].log_path = argv[a];
		logs[nr_logs].img_path = colon + 1;
		nr_logs++;
	}
	if (!nr_logs)
		die("usage: crashtest replay --seed S LOG:IMAGE [LOG:IMAGE...]");
	for (j = 0; j < nr_logs; j++)
		read_wlog(&logs[j]);

	/* the marks every log has, in the first log's order */
	marks = calloc(logs[0].nr + 1, sizeof(*marks));
	if (!marks)
		die("out of memory");
	for (i = 0; i < logs[0].nr; i++) {
		if (!(logs[0].e[i].flags & LOG_MARK_FLAG))
			continue;
		for (j = 1; j < nr_logs; j++)
			if (after_mark(&logs[j], logs[0].e[i].mark) < 0)
				break;
		if (j == nr_logs)
			marks[nr_marks++] = logs[0].e[i].mark;
	}
	st = seed;
	if (nr_marks) {
		uint64_t pick = rng_next(&st) % 2 ? nr_marks :
				rng_next(&st) % (nr_marks + 1);

		m = pick ? marks[pick - 1] : 0;
	}
	printf("crashtest replay: seed %" PRIu64 ", %" PRIu64 " marks in every log; cut after mark %lu\n",
	       seed, nr_marks, m);
	for (j = 0; j < nr_logs; j++) {
		struct wlog *l = &logs[j];
		uint64_t lo = (uint64_t)after_mark(l, m), hi, cut, w;

		hi = next_mark(l, lo);
		cut = j == 0 ? lo + rng_next(&st) % (hi - lo + 1) : hi;
		w = apply(l, cut);
		printf("crashtest replay: %s: %" PRIu64 " of %" PRIu64 " entries (%" PRIu64 " writes) onto %s\n",
		       l->log_path, cut, l->nr, w, l->img_path);
		close(l->fd);
		free(l->e);
	}
	printf("durable-upto %lu\n", m);
	free(marks);
	free(logs);
	return 0;
}
