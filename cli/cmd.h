/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SCOUTFS_CLI_CMD_H
#define SCOUTFS_CLI_CMD_H
/*
 * cmd.h: how the `scoutfs` and `scoutfs-hsm` programs find their
 * subcommands.  Each subcommand lives in its own file and is listed once in
 * its program's table; main() parses nothing but the subcommand name and
 * hands the rest of argv to it.  Subcommands print errors to stderr and
 * return a process exit status: 0 success, 1 failure, 2 usage error.
 */

#define CMD_EXIT_OK 0
#define CMD_EXIT_FAILURE 1
#define CMD_EXIT_USAGE 2

struct cli_cmd {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

/* Runs the subcommand named by argv[1] from a NULL-terminated table. */
int cli_dispatch(const char *prog, const struct cli_cmd *cmds, int argc,
		 char **argv);

#endif
