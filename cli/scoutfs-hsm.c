// SPDX-License-Identifier: GPL-2.0
/*
 * scoutfs-hsm.c: the `scoutfs-hsm` archive tool.  The table below is the
 * one list of its subcommands; each lives in its own file.
 */
#include "commands.h"
#include "hsm_commands.h"

static const struct cli_cmd hsm_cmds[] = {
	{ "version", "print the version of the tools", cmd_version },
	{ "catalog", "check or back up the catalog", cmd_hsm_catalog },
	{ "index", "bring the catalog's inode rows up to date with a mount", cmd_hsm_index },
	{ "status", "what the hsm-agent of a mount is doing (--json)", cmd_hsm_status },
	{ "release", "what the agent would release now and why (--dry-run), or release now", cmd_hsm_release },
	{ "stage", "stage the files of a list through the agent, behind waiting readers (--list)", cmd_hsm_stage },
	{ 0 }
};

int main(int argc, char **argv)
{
	return cli_dispatch("scoutfs-hsm", hsm_cmds, argc, argv);
}
