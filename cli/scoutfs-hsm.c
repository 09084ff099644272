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
	{ 0 }
};

int main(int argc, char **argv)
{
	return cli_dispatch("scoutfs-hsm", hsm_cmds, argc, argv);
}
