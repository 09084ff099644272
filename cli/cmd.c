// SPDX-License-Identifier: GPL-2.0
/*
 * cmd.c: the subcommand dispatch shared by scoutfs and scoutfs-hsm (see
 * cmd.h).  `PROG help` and `PROG` alone list the subcommands; an unknown
 * subcommand is a usage error.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static void list_cmds(FILE *f, const char *prog, const struct cli_cmd *cmds)
{
	const struct cli_cmd *c;

	fprintf(f, "usage: %s COMMAND [ARGS...]\n\ncommands:\n", prog);
	for (c = cmds; c->name; c++)
		fprintf(f, "  %-18s %s\n", c->name, c->summary);
	fprintf(f, "\n'%s COMMAND -h' shows a command's options.\n", prog);
}

int cli_dispatch(const char *prog, const struct cli_cmd *cmds, int argc,
		 char **argv)
{
	const struct cli_cmd *c;

	if (argc < 2) {
		list_cmds(stderr, prog, cmds);
		return CMD_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "--help")) {
		list_cmds(stdout, prog, cmds);
		return CMD_EXIT_OK;
	}
	for (c = cmds; c->name; c++) {
		if (!strcmp(argv[1], c->name))
			return c->run(argc - 1, argv + 1);
	}
	fprintf(stderr, "%s: unknown command '%s' (see '%s help')\n", prog,
		argv[1], prog);
	return CMD_EXIT_USAGE;
}
