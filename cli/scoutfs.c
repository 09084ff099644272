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
	{ "walk-inodes", "list inodes changed in a range of the meta_seq or data_seq index", cmd_walk_inodes },
	{ "ino-path", "print every path of an inode number", cmd_ino_path },
	{ "stat", "print the attributes scoutfs keeps beyond stat(2)", cmd_stat },
	{ "statfs", "print fsid, mount id, committed seq and device sizes", cmd_statfs },
	{ "df", "show used and free metadata and data blocks", cmd_df },
	{ "data-waiting", "list tasks waiting for offline data to be staged", cmd_data_waiting },
	{ "data-wait-err", "give tasks waiting for offline data an error", cmd_data_wait_err },
	{ "release", "free a file's blocks, leaving the range offline (archived)", cmd_release },
	{ "stage", "write archived data back into a file's offline range", cmd_stage },
	{ "setattr", "make an empty file an offline file of a given size and version", cmd_setattr },
	{ "listxattr-hidden", "list the scoutfs.hide. xattrs that listxattr leaves out", cmd_listxattr_hidden },
	{ "list-hidden-xattrs", "the same, by upstream's name", cmd_listxattr_hidden },
	{ "search-xattrs", "list the inodes carrying an indexed (.srch.) xattr", cmd_search_xattrs },
	{ "get-fiemap", "print a file's extents (FIEMAP), offline ones flagged O", cmd_get_fiemap },
	{ "get-referring-entries", "print every directory entry that refers to an inode number", cmd_get_referring_entries },
	{ "punch-offline", "turn an offline range of a file into a hole", cmd_punch_offline },
	{ "move-blocks", "move extents from one file into another without copying", cmd_move_blocks },
	{ "get-attr-x", "print a file's extensible attributes (retention, seqs, times...)", cmd_get_attr_x },
	{ "set-attr-x", "set a file's extensible attributes (here: the retention mark)", cmd_set_attr_x },
	{ 0 }
};

int main(int argc, char **argv)
{
	return cli_dispatch("scoutfs", scoutfs_cmds, argc, argv);
}
