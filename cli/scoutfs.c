// SPDX-License-Identifier: GPL-2.0
/*
 * scoutfs.c: the `scoutfs` filesystem tool.  The table below is the one
 * list of its subcommands; each lives in its own file.
 */
#include "commands.h"

static const struct cli_cmd scoutfs_cmds[] = {
	{ "version", "print the version of the tools", cmd_version },
	{ 0 }
};

int main(int argc, char **argv)
{
	return cli_dispatch("scoutfs", scoutfs_cmds, argc, argv);
}
