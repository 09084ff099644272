// SPDX-License-Identifier: GPL-2.0
/*
 * scoutfs.c: the `scoutfs` filesystem tool.  The table below is the one
 * list of its subcommands; each lives in its own file.
 */
#include "commands.h"

static const struct cli_cmd scoutfs_cmds[] = {
	{ "version", "print the version of the tools", cmd_version },
	{ "mkfs", "make a new filesystem on a metadata and a data device", cmd_mkfs },
	{ "print", "print the metadata of a filesystem for people", cmd_print },
	{ "fsck", "check a filesystem's metadata, read-only", cmd_fsck },
	{ 0 }
};

int main(int argc, char **argv)
{
	return cli_dispatch("scoutfs", scoutfs_cmds, argc, argv);
}
