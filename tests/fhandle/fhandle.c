// SPDX-License-Identifier: GPL-2.0
/*
 * fhandle.c: file handles from the shell, for the NFS export tests.
 *
 *   fhandle save PATH HANDLE_FILE    name_to_handle_at(PATH) -> HANDLE_FILE
 *   fhandle open MOUNT HANDLE_FILE   open_by_handle_at() on MOUNT, and
 *                                    print "ino N path P" (P is what
 *                                    /proc/self/fd shows: the dentry's
 *                                    path once reconnected), and the
 *                                    first bytes of a file's data as
 *                                    "data D" (up to 32, printable)
 *
 * HANDLE_FILE holds the handle type and bytes in hex on one line.  On
 * failure prints the errno's symbolic name (ESTALE, ...) and exits 1;
 * usage errors exit 2.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HANDLE_MAX	128

static const char *errname(int err)
{
	switch (err) {
	case ESTALE: return "ESTALE";
	case ENOENT: return "ENOENT";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EINVAL: return "EINVAL";
	case EPERM: return "EPERM";
	case EOVERFLOW: return "EOVERFLOW";
	case EIO: return "EIO";
	default: return strerror(err);
	}
}

static int fail(const char *what)
{
	int err = errno;

	fprintf(stderr, "fhandle: %s: %s\n", what, strerror(err));
	printf("%s\n", errname(err));
	return 1;
}

static int save(const char *path, const char *out)
{
	union {
		struct file_handle fh;
		char buf[sizeof(struct file_handle) + HANDLE_MAX];
	} h;
	unsigned int i;
	int mount_id;
	FILE *f;

	h.fh.handle_bytes = HANDLE_MAX;
	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0))
		return fail("name_to_handle_at");
	f = fopen(out, "w");
	if (!f)
		return fail(out);
	fprintf(f, "%d ", h.fh.handle_type);
	for (i = 0; i < h.fh.handle_bytes; i++)
		fprintf(f, "%02x", h.fh.f_handle[i]);
	fprintf(f, "\n");
	return fclose(f) ? fail(out) : 0;
}

static int open_handle(const char *mnt, const char *in)
{
	union {
		struct file_handle fh;
		char buf[sizeof(struct file_handle) + HANDLE_MAX];
	} h;
	char hex[2 * HANDLE_MAX + 1], link[64], path[4096], data[33];
	unsigned int i, byte;
	struct stat st;
	int mfd, fd, type;
	ssize_t len;
	FILE *f;

	f = fopen(in, "r");
	if (!f)
		return fail(in);
	if (fscanf(f, "%d %256s", &type, hex) != 2 || strlen(hex) % 2) {
		fprintf(stderr, "fhandle: %s: not a handle\n", in);
		return 2;
	}
	fclose(f);
	h.fh.handle_type = type;
	h.fh.handle_bytes = strlen(hex) / 2;
	for (i = 0; i < h.fh.handle_bytes; i++) {
		if (sscanf(hex + 2 * i, "%2x", &byte) != 1)
			return 2;
		h.fh.f_handle[i] = byte;
	}
	mfd = open(mnt, O_RDONLY | O_DIRECTORY);
	if (mfd < 0)
		return fail(mnt);
	fd = open_by_handle_at(mfd, &h.fh, O_RDONLY);
	if (fd < 0)
		return fail("open_by_handle_at");
	if (fstat(fd, &st))
		return fail("fstat");
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	len = readlink(link, path, sizeof(path) - 1);
	if (len < 0)
		return fail(link);
	path[len] = '\0';
	printf("ino %llu path %s\n", (unsigned long long)st.st_ino, path);
	if (S_ISREG(st.st_mode)) {
		len = read(fd, data, sizeof(data) - 1);
		if (len < 0)
			return fail("read");
		for (i = 0; i < len; i++)
			if (!isprint((unsigned char)data[i]))
				data[i] = '.';
		data[len] = '\0';
		printf("data %s\n", data);
	}
	close(fd);
	close(mfd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "save"))
		return save(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "open"))
		return open_handle(argv[2], argv[3]);
	fprintf(stderr, "usage: fhandle save PATH HANDLE_FILE | fhandle open MOUNT HANDLE_FILE\n");
	return 2;
}
