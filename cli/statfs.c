// SPDX-License-Identifier: GPL-2.0
/*
 * statfs.c: `scoutfs statfs [--json] PATH`: the filesystem-wide facts
 * statfs(2) cannot carry (STATFS_MORE): fsid, this mount's rid, the last
 * committed seq and the device sizes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <json-c/json.h>

#include "commands.h"
#include "fsioctl.h"
#include "ioctl.h"

int cmd_statfs(int argc, char **argv)
{
	struct scoutfs_ioctl_statfs_more sfm;
	const char *path = NULL;
	bool json = false;
	int fd;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: scoutfs statfs [--json] PATH\n");
			return CMD_EXIT_OK;
		} else if (!path) {
			path = argv[i];
		} else {
			path = NULL;
			break;
		}
	}
	if (!path) {
		fprintf(stderr, "usage: scoutfs statfs [--json] PATH\n");
		return CMD_EXIT_USAGE;
	}
	fd = scoutfs_open_on_fs("scoutfs statfs", path, O_RDONLY);
	if (fd < 0)
		return CMD_EXIT_FAILURE;
	if (ioctl(fd, SCOUTFS_IOC_STATFS_MORE, &sfm) < 0) {
		fprintf(stderr, "scoutfs statfs: %s: %s\n", path, strerror(errno));
		close(fd);
		return CMD_EXIT_FAILURE;
	}
	close(fd);

	if (json) {
		json_object *obj = json_object_new_object();
		char fsid[17];

		snprintf(fsid, sizeof(fsid), "%016llx", (unsigned long long)sfm.fsid);
		json_object_object_add(obj, "fsid", json_object_new_string(fsid));
		json_object_object_add(obj, "rid", json_object_new_uint64(sfm.rid));
		json_object_object_add(obj, "committed_seq",
				       json_object_new_uint64(sfm.committed_seq));
		json_object_object_add(obj, "total_meta_blocks",
				       json_object_new_uint64(sfm.total_meta_blocks));
		json_object_object_add(obj, "total_data_blocks",
				       json_object_new_uint64(sfm.total_data_blocks));
		json_object_object_add(obj, "reserved_meta_blocks",
				       json_object_new_uint64(sfm.reserved_meta_blocks));
		printf("%s\n", json_object_to_json_string_ext(obj,
						JSON_C_TO_STRING_PLAIN));
		json_object_put(obj);
		return CMD_EXIT_OK;
	}
	printf("  fsid                 %016llx\n", (unsigned long long)sfm.fsid);
	printf("  rid                  %016llx\n", (unsigned long long)sfm.rid);
	printf("  committed_seq        %llu\n", (unsigned long long)sfm.committed_seq);
	printf("  total_meta_blocks    %llu\n", (unsigned long long)sfm.total_meta_blocks);
	printf("  total_data_blocks    %llu\n", (unsigned long long)sfm.total_data_blocks);
	printf("  reserved_meta_blocks %llu\n", (unsigned long long)sfm.reserved_meta_blocks);
	return CMD_EXIT_OK;
}
