// SPDX-License-Identifier: GPL-2.0
/*
 * get_referring_entries.c: `scoutfs get-referring-entries [-p|--path
 * PATH] INODE-NUM`
 *
 * Prints every directory entry that refers to inode INODE-NUM, in
 * upstream's format, "dir DIR_INO pos DIR_POS type D_TYPE name NAME" a
 * line (D_TYPE is readdir(3)'s DT_ number), in (dir, pos) order.  Nothing
 * is printed for an inode with no entries.  PATH is any path on the
 * mount: -p, else $SCOUTFS_MOUNT_PATH, else the current directory.  Each
 * GET_REFERRING_ENTRIES call fills a buffer and the next resumes one past
 * the last entry seen, until an entry carries the LAST flag.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "commands.h"
#include "fsioctl.h"
#include "ioctl.h"
#include "parse.h"

#define GRE_BUF_BYTES (256 * 1024)

static void gre_usage(FILE *f)
{
	fprintf(f, "usage: scoutfs get-referring-entries [-p|--path PATH] INODE-NUM\n"
		"  prints \"dir DIR pos POS type DT name NAME\" for each entry referring to the inode\n");
}

int cmd_get_referring_entries(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "path", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct scoutfs_ioctl_get_referring_entries gre;
	struct scoutfs_ioctl_dirent *dent;
	const char *path = NULL;
	uint64_t ino;
	void *buf = NULL;
	int ret = 0, fd, c, i;
	int status = CMD_EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			path = optarg;
			break;
		case 'h':
			gre_usage(stdout);
			return CMD_EXIT_OK;
		default:
			gre_usage(stderr);
			return CMD_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "scoutfs get-referring-entries: %s\n",
			optind == argc ? "must provide inode number" :
			"more than one argument given");
		gre_usage(stderr);
		return CMD_EXIT_USAGE;
	}
	if (scoutfs_parse_u64(argv[optind], &ino) || ino == 0) {
		fprintf(stderr, "scoutfs get-referring-entries: inode parse error: '%s'\n",
			argv[optind]);
		return CMD_EXIT_USAGE;
	}
	path = scoutfs_mount_path(path);
	fd = scoutfs_open_on_fs("scoutfs get-referring-entries", path, O_RDONLY);
	if (fd < 0)
		return CMD_EXIT_FAILURE;
	/* the kernel wants the buffer aligned to 16 bytes */
	if (posix_memalign(&buf, SCOUTFS_IOCTL_DIRENT_ALIGN, GRE_BUF_BYTES)) {
		fprintf(stderr, "scoutfs get-referring-entries: out of memory\n");
		close(fd);
		return CMD_EXIT_FAILURE;
	}

	memset(&gre, 0, sizeof(gre));
	gre.ino = ino;
	gre.entries_ptr = (uintptr_t)buf;
	gre.entries_bytes = GRE_BUF_BYTES;
	for (;;) {
		ret = ioctl(fd, SCOUTFS_IOC_GET_REFERRING_ENTRIES, &gre);
		if (ret < 0) {
			fprintf(stderr, "scoutfs get-referring-entries: ioctl failed: %s (%d)\n",
				strerror(errno), errno);
			status = CMD_EXIT_FAILURE;
			break;
		}
		if (ret == 0)
			break;
		dent = buf;
		for (i = 0; i < ret; i++) {
			printf("dir %llu pos %llu type %u name %s\n",
			       (unsigned long long)dent->dir_ino,
			       (unsigned long long)dent->dir_pos, dent->d_type,
			       (char *)dent->name);
			gre.dir_ino = dent->dir_ino;
			gre.dir_pos = dent->dir_pos;
			if (dent->flags & SCOUTFS_IOCTL_DIRENT_FLAG_LAST)
				goto done;
			dent = (void *)dent + dent->entry_bytes;
		}
		if (++gre.dir_pos == 0 && ++gre.dir_ino == 0)
			break;
	}
done:
	free(buf);
	close(fd);
	return status;
}
