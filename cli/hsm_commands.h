/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SCOUTFS_CLI_HSM_COMMANDS_H
#define SCOUTFS_CLI_HSM_COMMANDS_H
/* hsm_commands.h: the subcommands only `scoutfs-hsm` has, one file each. */
#include "cmd.h"

int cmd_hsm_catalog(int argc, char **argv);
int cmd_hsm_index(int argc, char **argv);
int cmd_hsm_status(int argc, char **argv);
int cmd_hsm_release(int argc, char **argv);
int cmd_hsm_stage(int argc, char **argv);

#endif
