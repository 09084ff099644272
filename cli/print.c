// SPDX-License-Identifier: GPL-2.0
/*
 * print.c: `scoutfs print META_DEV`: both super slots (which is current),
 * quorum slots, every tree block and every item decoded by type.  The
 * walk is lib/inspect.c; problems found on the way are printed to stderr
 * and make the exit status 1.
 */
#include <stdio.h>

#include "commands.h"
#include "inspect.h"

int cmd_print(int argc, char **argv)
{
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: scoutfs print META_DEV\n");
		return CMD_EXIT_USAGE;
	}
	ret = scoutfs_print_image(argv[1], stdout, stderr);
	return ret == 0 ? CMD_EXIT_OK : CMD_EXIT_FAILURE;
}
