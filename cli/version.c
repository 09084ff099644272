// SPDX-License-Identifier: GPL-2.0
/* version.c: `scoutfs version` / `scoutfs-hsm version`. */
#include <stdio.h>

#include "commands.h"

int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("%s\n", SCOUTFS_VERSION);
	return CMD_EXIT_OK;
}
