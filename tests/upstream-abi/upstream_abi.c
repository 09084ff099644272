// SPDX-License-Identifier: GPL-2.0
/*
 * upstream_abi.c: `upstream-abi DIR` calls every ioctl of a mounted
 * scoutfs the way a tool built against upstream scoutfs's ioctl.h does,
 * and checks what upstream's module answers.
 *
 * It deliberately does not include kmod/src/ioctl.h: each argument is a
 * byte buffer of upstream's size, its fields put at upstream's offsets
 * (written out below from upstream's kmod/src/ioctl.h), and each ioctl
 * number is built from upstream's direction, number and size.  So if our
 * ioctl.h drifts from upstream (a field moved, a struct grown, a number
 * changed), this program fails although everything built from our header
 * still agrees with itself.
 *
 * Prints one TAP line per check; exits 1 if any failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define UP_MAGIC 0xE8

/* upstream's numbers and struct sizes */
#define UP_WALK_INODES		_IOC(_IOC_WRITE, UP_MAGIC, 1, 72)
#define UP_INO_PATH		_IOC(_IOC_WRITE, UP_MAGIC, 2, 40)
#define UP_RELEASE		_IOC(_IOC_WRITE, UP_MAGIC, 3, 24)
#define UP_STAGE		_IOC(_IOC_WRITE, UP_MAGIC, 4, 32)
#define UP_STAT_MORE		_IOC(_IOC_READ, UP_MAGIC, 5, 56)
#define UP_DATA_WAITING		_IOC(_IOC_WRITE, UP_MAGIC, 6, 40)
#define UP_SETATTR_MORE		_IOC(_IOC_WRITE, UP_MAGIC, 7, 48)
#define UP_LISTXATTR_HIDDEN	_IOC(_IOC_READ | _IOC_WRITE, UP_MAGIC, 8, 24)
#define UP_SEARCH_XATTRS	_IOC(_IOC_WRITE, UP_MAGIC, 9, 56)
#define UP_STATFS_MORE		_IOC(_IOC_READ, UP_MAGIC, 10, 48)
#define UP_DATA_WAIT_ERR	_IOC(_IOC_WRITE, UP_MAGIC, 11, 48)
#define UP_MOVE_BLOCKS		_IOC(_IOC_WRITE, UP_MAGIC, 13, 48)

#define FILE_BYTES	(3 * 4096)

static int nr_checks;
static int nr_failed;

static void check(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", ok ? "" : "not ", ++nr_checks);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok)
		nr_failed++;
}

static void put64(uint8_t *buf, int off, uint64_t v) { memcpy(buf + off, &v, 8); }
static void put32(uint8_t *buf, int off, uint32_t v) { memcpy(buf + off, &v, 4); }
static void put16(uint8_t *buf, int off, uint16_t v) { memcpy(buf + off, &v, 2); }
static void put8(uint8_t *buf, int off, uint8_t v) { buf[off] = v; }
static uint64_t get64(const uint8_t *buf, int off) { uint64_t v; memcpy(&v, buf + off, 8); return v; }
static uint16_t get16(const uint8_t *buf, int off) { uint16_t v; memcpy(&v, buf + off, 2); return v; }

static int open_or_die(const char *path, int flags)
{
	int fd = open(path, flags, 0644);

	if (fd < 0) {
		printf("Bail out! %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

/* stat_more: meta_seq 0, data_seq 8, data_version 16, online 24, offline 32 */
static uint64_t stat_more(int fd, int field_off)
{
	uint8_t sm[56];

	memset(sm, 0xff, sizeof(sm));
	if (ioctl(fd, UP_STAT_MORE, sm) < 0)
		return UINT64_MAX;
	return get64(sm, field_off);
}

static void check_walk_and_ino_path(int dirfd, const char *dir, uint64_t ino)
{
	uint8_t walk[72], ents[64 * 24], ip[40], res[24 + 4096];
	uint64_t found = 0;
	long ret;
	int i;

	/* first: major 0, ino 8, minor 16; last at 24; entries_ptr 48 */
	memset(walk, 0, sizeof(walk));
	memset(walk + 24, 0xff, 20);
	put64(walk, 48, (uintptr_t)ents);
	put32(walk, 56, 64);
	put8(walk, 60, 0);	/* meta_seq */
	ret = ioctl(dirfd, UP_WALK_INODES, walk);
	for (i = 0; i < ret; i++)
		if (get64(ents, i * 24 + 8) == ino)
			found = 1;
	check(ret > 0 && found, "WALK_INODES (72 bytes) lists the committed file (ret %ld, %s)",
	      ret, ret < 0 ? strerror(errno) : "");

	memset(ip, 0, sizeof(ip));
	put64(ip, 0, ino);
	put64(ip, 24, (uintptr_t)res);
	put16(ip, 32, sizeof(res));
	memset(res, 0, sizeof(res));
	ret = ioctl(dirfd, UP_INO_PATH, ip);
	check(ret == 0 && get16(res, 16) > 0 && strstr((char *)res + 24, "abi-file"),
	      "INO_PATH (40 bytes) gives the file's path in %s (ret %ld, path '%.*s')",
	      dir, ret, get16(res, 16), (char *)res + 24);
}

static void check_release_and_stage(int fd, const uint8_t *data)
{
	uint8_t rel[24], stg[32], dw[40], dwe[48], ents[24 * 4];
	uint64_t dv = stat_more(fd, 16);
	long ret;

	check(dv != UINT64_MAX && dv != 0,
	      "STAT_MORE (56 bytes) gives a written file's data_version (%llu)",
	      (unsigned long long)dv);

	memset(rel, 0, sizeof(rel));
	put64(rel, 16, dv + 1000);	/* length 0: nothing is checked */
	ret = ioctl(fd, UP_RELEASE, rel);
	check(ret == 0, "RELEASE of length 0 returns 0 (ret %ld, %s)", ret,
	      ret < 0 ? strerror(errno) : "");

	put64(rel, 0, 0);
	put64(rel, 8, FILE_BYTES);
	put64(rel, 16, dv);
	ret = ioctl(fd, UP_RELEASE, rel);
	check(ret == 0 && stat_more(fd, 32) == FILE_BYTES / 4096 &&
	      stat_more(fd, 24) == 0,
	      "RELEASE (24 bytes) makes the whole file offline (ret %ld, %s)", ret,
	      ret < 0 ? strerror(errno) : "");

	memset(dw, 0, sizeof(dw));
	put64(dw, 24, (uintptr_t)ents);
	put16(dw, 32, 4);
	ret = ioctl(fd, UP_DATA_WAITING, dw);
	check(ret == 0, "DATA_WAITING (40 bytes) with no waiters returns 0 (ret %ld, %s)",
	      ret, ret < 0 ? strerror(errno) : "");

	memset(dwe, 0, sizeof(dwe));
	put64(dwe, 0, 1);		/* ino: nobody waits on it */
	put64(dwe, 16, 0);
	put64(dwe, 24, 4096);
	put64(dwe, 32, 1);		/* op read */
	put64(dwe, 40, (uint64_t)-5);	/* err -EIO */
	ret = ioctl(fd, UP_DATA_WAIT_ERR, dwe);
	check(ret == 0, "DATA_WAIT_ERR (48 bytes) with no waiters returns 0 (ret %ld, %s)",
	      ret, ret < 0 ? strerror(errno) : "");

	/* stage the first block, then all of it: the first is online by then */
	memset(stg, 0, sizeof(stg));
	put64(stg, 0, dv);
	put64(stg, 8, (uintptr_t)data);
	put64(stg, 16, 0);
	put32(stg, 24, 4096);
	ret = ioctl(fd, UP_STAGE, stg);
	check(ret == 4096, "STAGE (32 bytes) returns the bytes staged (ret %ld, %s)",
	      ret, ret < 0 ? strerror(errno) : "");
	put32(stg, 24, FILE_BYTES);
	ret = ioctl(fd, UP_STAGE, stg);
	check(ret == FILE_BYTES && stat_more(fd, 32) == 0,
	      "STAGE over a range already partly online succeeds (ret %ld, %s)",
	      ret, ret < 0 ? strerror(errno) : "");
	check(stat_more(fd, 16) == dv, "release and stage leave data_version alone");
}

static void check_setattr_more(const char *dir)
{
	uint8_t sa[48];
	char path[4096];
	long ret;
	int fd;

	snprintf(path, sizeof(path), "%s/abi-restored", dir);
	fd = open_or_die(path, O_RDWR | O_CREAT | O_TRUNC);
	check(stat_more(fd, 16) == 0, "a new empty file has data_version 0 (%llu)",
	      (unsigned long long)stat_more(fd, 16));

	memset(sa, 0, sizeof(sa));
	put64(sa, 8, 10000);		/* a size with data_version 0 */
	put64(sa, 16, 1);		/* OFFLINE */
	ret = ioctl(fd, UP_SETATTR_MORE, sa);
	check(ret < 0 && errno == EINVAL, "SETATTR_MORE refuses a size with data_version 0 (EINVAL)");

	put64(sa, 0, 42);
	put64(sa, 24, 1000);
	put32(sa, 32, 5);
	ret = ioctl(fd, UP_SETATTR_MORE, sa);
	check(ret == 0 && stat_more(fd, 16) == 42 && stat_more(fd, 32) == 3,
	      "SETATTR_MORE (48 bytes) makes an offline file of version 42 (ret %ld, %s)",
	      ret, ret < 0 ? strerror(errno) : "");

	put64(sa, 0, 43);
	ret = ioctl(fd, UP_SETATTR_MORE, sa);
	check(ret < 0 && errno == EINVAL,
	      "SETATTR_MORE refuses a file whose data_version is not 0 (EINVAL)");
	close(fd);
}

static void check_xattr_ioctls(int fd, const char *dir, uint64_t ino)
{
	static const char srch[] = "user.abi.srch.tag";
	uint8_t lh[24], sx[56];
	uint64_t inodes[16];
	char buf[4096];
	long ret;
	int i, found = 0;

	if (fsetxattr(fd, "scoutfs.hide.abi", "1", 1, 0) ||
	    fsetxattr(fd, srch, "1", 1, 0)) {
		check(0, "setting the xattrs: %s", strerror(errno));
		return;
	}
	memset(lh, 0, sizeof(lh));
	put64(lh, 8, (uintptr_t)buf);
	put32(lh, 16, sizeof(buf));
	ret = ioctl(fd, UP_LISTXATTR_HIDDEN, lh);
	check(ret > 0 && memmem(buf, ret, "scoutfs.hide.abi", 16),
	      "LISTXATTR_HIDDEN (24 bytes) lists the hidden name (ret %ld)", ret);

	syncfs(fd);
	memset(sx, 0, sizeof(sx));
	put64(sx, 8, UINT64_MAX);
	put64(sx, 16, (uintptr_t)srch);
	put64(sx, 24, (uintptr_t)inodes);
	put64(sx, 40, 16);
	put16(sx, 48, strlen(srch));
	ret = ioctl(fd, UP_SEARCH_XATTRS, sx);
	for (i = 0; i < ret; i++)
		if (inodes[i] == ino)
			found = 1;
	check(ret > 0 && found, "SEARCH_XATTRS (56 bytes) finds the .srch. xattr in %s (ret %ld)",
	      dir, ret);
}

/*
 * move_blocks: from_fd 0, from_off 8, len 16, to_off 24, data_version
 * 32, flags 40 (MB_STAGE 1); called on the destination.
 */
static void check_move_blocks(const char *dir, const uint8_t *data)
{
	uint8_t mb[48], got[FILE_BYTES];
	char path[4096];
	int from, to;
	long ret;

	snprintf(path, sizeof(path), "%s/abi-mb-from", dir);
	from = open_or_die(path, O_RDWR | O_CREAT | O_TRUNC);
	snprintf(path, sizeof(path), "%s/abi-mb-to", dir);
	to = open_or_die(path, O_RDWR | O_CREAT | O_TRUNC);
	if (write(from, data, FILE_BYTES) != FILE_BYTES) {
		printf("Bail out! writing %s: %s\n", path, strerror(errno));
		exit(1);
	}

	memset(mb, 0, sizeof(mb));
	put64(mb, 0, from);
	put64(mb, 8, 0);
	put64(mb, 16, FILE_BYTES);
	put64(mb, 24, 4096);
	ret = ioctl(to, UP_MOVE_BLOCKS, mb);
	check(ret == 0 && pread(to, got, FILE_BYTES, 4096) == FILE_BYTES &&
	      memcmp(got, data, FILE_BYTES) == 0,
	      "MOVE_BLOCKS (48 bytes) moves the extents to to_off (ret %ld)", ret);
	check(stat_more(from, 24) == 0,
	      "MOVE_BLOCKS leaves the source without online blocks");

	put64(mb, 24, 1);
	ret = ioctl(to, UP_MOVE_BLOCKS, mb);
	check(ret < 0 && errno == EINVAL,
	      "MOVE_BLOCKS of an unaligned to_off is EINVAL (ret %ld)", ret);
	put64(mb, 24, 0);
	put64(mb, 32, 12345);
	put64(mb, 40, 1);
	ret = ioctl(to, UP_MOVE_BLOCKS, mb);
	check(ret < 0 && errno == ESTALE,
	      "MOVE_BLOCKS with MB_STAGE and a wrong data_version is ESTALE (ret %ld)", ret);
	close(from);
	close(to);
}

int main(int argc, char **argv)
{
	static uint8_t data[FILE_BYTES];
	uint8_t sfm[48];
	char path[4096];
	struct stat st;
	int dirfd, fd;
	long ret;
	size_t i;

	if (argc != 2) {
		fprintf(stderr, "usage: upstream-abi DIR (on a mounted scoutfs)\n");
		return 2;
	}
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 1);
	dirfd = open_or_die(argv[1], O_RDONLY);
	snprintf(path, sizeof(path), "%s/abi-file", argv[1]);
	fd = open_or_die(path, O_RDWR | O_CREAT | O_TRUNC);
	if (write(fd, data, sizeof(data)) != (ssize_t)sizeof(data) || fsync(fd) ||
	    syncfs(fd) || fstat(fd, &st)) {
		printf("Bail out! writing %s: %s\n", path, strerror(errno));
		return 1;
	}

	memset(sfm, 0, sizeof(sfm));
	ret = ioctl(dirfd, UP_STATFS_MORE, sfm);
	check(ret == 0 && get64(sfm, 0) != 0 && get64(sfm, 32) != 0,
	      "STATFS_MORE (48 bytes) gives fsid and total_data_blocks (ret %ld)", ret);

	check_walk_and_ino_path(dirfd, argv[1], st.st_ino);
	check_release_and_stage(fd, data);
	check_setattr_more(argv[1]);
	check_xattr_ioctls(fd, argv[1], st.st_ino);
	check_move_blocks(argv[1], data);

	close(fd);
	close(dirfd);
	printf("1..%d\n", nr_checks);
	return nr_failed ? 1 : 0;
}
