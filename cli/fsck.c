// SPDX-License-Identifier: GPL-2.0
/*
 * fsck.c: `scoutfs fsck META_DEV DATA_DEV`: a read-only check of the whole
 * filesystem (lib/inspect.c).  Each problem is one line on stderr; exit 0
 * only when there are none.
 */
#include <stdio.h>

#include "commands.h"
#include "inspect.h"

int cmd_fsck(int argc, char **argv)
{
	int ret;

	if (argc != 3) {
		fprintf(stderr, "usage: scoutfs fsck META_DEV DATA_DEV\n");
		return CMD_EXIT_USAGE;
	}
	ret = scoutfs_fsck_image(argv[1], argv[2], stdout, stderr);
	if (ret < 0)
		return CMD_EXIT_FAILURE;
	if (ret > 0) {
		fprintf(stderr, "scoutfs fsck: %d problem%s found\n", ret,
			ret == 1 ? "" : "s");
		return CMD_EXIT_FAILURE;
	}
	printf("scoutfs fsck: %s and %s are clean\n", argv[1], argv[2]);
	return CMD_EXIT_OK;
}
