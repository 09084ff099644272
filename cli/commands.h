/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SCOUTFS_CLI_COMMANDS_H
#define SCOUTFS_CLI_COMMANDS_H
/* commands.h: every subcommand's entry point, one file each. */
#include "cmd.h"

#ifndef SCOUTFS_VERSION
#define SCOUTFS_VERSION "0.1.0"
#endif

int cmd_version(int argc, char **argv);
int cmd_walk_inodes(int argc, char **argv);
int cmd_ino_path(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_statfs(int argc, char **argv);
int cmd_df(int argc, char **argv);
int cmd_data_waiting(int argc, char **argv);
int cmd_data_wait_err(int argc, char **argv);
int cmd_release(int argc, char **argv);
int cmd_stage(int argc, char **argv);
int cmd_setattr(int argc, char **argv);
int cmd_listxattr_hidden(int argc, char **argv);
int cmd_search_xattrs(int argc, char **argv);
int cmd_get_fiemap(int argc, char **argv);
int cmd_get_referring_entries(int argc, char **argv);
int cmd_punch_offline(int argc, char **argv);
int cmd_move_blocks(int argc, char **argv);
int cmd_get_attr_x(int argc, char **argv);
int cmd_set_attr_x(int argc, char **argv);
int cmd_mkfs(int argc, char **argv);
int cmd_print(int argc, char **argv);
int cmd_fsck(int argc, char **argv);

#endif
