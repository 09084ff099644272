// SPDX-License-Identifier: GPL-2.0
/*
 * statfs.c: `scoutfs statfs [-s|--single-field FIELD] [-p|--path PATH]
 * [--json] [PATH]`: the filesystem-wide facts statfs(2) cannot carry
 * (STATFS_MORE): fsid, this mount's rid, the last committed seq and the
 * device sizes.  Upstream's forms: "%-17s VALUE" a line (fsid and rid in
 * 16 hex digits), -s for one bare value, the path from -p, else
 * $SCOUTFS_MOUNT_PATH, else the current directory.  Ours besides: the
 * path may also be given as the argument, reserved_meta_blocks is listed
 * last, and --json prints an object.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <json-c/json.h>

#include "commands.h"
#include "fsioctl.h"
#include "ioctl.h"

struct statfs_field {
	const char *name;
	bool is_hex;
	unsigned long long (*get)(const struct scoutfs_ioctl_statfs_more *s);
};

#define STATFS_GETTER(f) \
	static unsigned long long get_##f(const struct scoutfs_ioctl_statfs_more *s) \
	{ return s->f; }
STATFS_GETTER(fsid)
STATFS_GETTER(rid)
STATFS_GETTER(committed_seq)
STATFS_GETTER(total_meta_blocks)
STATFS_GETTER(total_data_blocks)
STATFS_GETTER(reserved_meta_blocks)

static const struct statfs_field statfs_fields[] = {
	{ "fsid", true, get_fsid },
	{ "rid", true, get_rid },
	{ "committed_seq", false, get_committed_seq },
	{ "total_meta_blocks", false, get_total_meta_blocks },
	{ "total_data_blocks", false, get_total_data_blocks },
	{ "reserved_meta_blocks", false, get_reserved_meta_blocks },
};
#define NR_STATFS_FIELDS (sizeof(statfs_fields) / sizeof(statfs_fields[0]))

static void statfs_usage(FILE *f)
{
	fprintf(f, "usage: scoutfs statfs [-s|--single-field FIELD] [-p|--path PATH] [--json] [PATH]\n");
}

static void print_value(const struct statfs_field *fi,
			const struct scoutfs_ioctl_statfs_more *sfm)
{
	printf(fi->is_hex ? "%016llx" : "%llu", fi->get(sfm));
}

static void print_json(const struct scoutfs_ioctl_statfs_more *sfm)
{
	json_object *obj = json_object_new_object();
	char hex[17];
	size_t i;

	for (i = 0; i < NR_STATFS_FIELDS; i++) {
		const struct statfs_field *fi = &statfs_fields[i];

		snprintf(hex, sizeof(hex), "%016llx", fi->get(sfm));
		/* fsid is a name, kept as upstream prints it */
		json_object_object_add(obj, fi->name, !strcmp(fi->name, "fsid") ?
				       json_object_new_string(hex) :
				       json_object_new_uint64(fi->get(sfm)));
	}
	printf("%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN));
	json_object_put(obj);
}

int cmd_statfs(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "single-field", required_argument, NULL, 's' },
		{ "path", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct statfs_field *single = NULL;
	struct scoutfs_ioctl_statfs_more sfm;
	const char *path = NULL;
	bool json = false;
	size_t i;
	int fd, c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "s:p:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			for (i = 0; i < NR_STATFS_FIELDS; i++)
				if (!strcmp(optarg, statfs_fields[i].name))
					single = &statfs_fields[i];
			if (!single) {
				fprintf(stderr, "scoutfs statfs: unknown field '%s'\n", optarg);
				return CMD_EXIT_USAGE;
			}
			break;
		case 'p':
			path = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			statfs_usage(stdout);
			return CMD_EXIT_OK;
		default:
			statfs_usage(stderr);
			return CMD_EXIT_USAGE;
		}
	}
	if (optind < argc - 1 || (optind == argc - 1 && path)) {
		statfs_usage(stderr);
		return CMD_EXIT_USAGE;
	}
	if (optind == argc - 1)
		path = argv[optind];
	path = scoutfs_mount_path(path);

	fd = scoutfs_open_on_fs("scoutfs statfs", path, O_RDONLY);
	if (fd < 0)
		return CMD_EXIT_FAILURE;
	if (ioctl(fd, SCOUTFS_IOC_STATFS_MORE, &sfm) < 0) {
		fprintf(stderr, "scoutfs statfs: %s: %s\n", path, strerror(errno));
		close(fd);
		return CMD_EXIT_FAILURE;
	}
	close(fd);

	if (single) {
		print_value(single, &sfm);
		printf("\n");
	} else if (json) {
		print_json(&sfm);
	} else {
		for (i = 0; i < NR_STATFS_FIELDS; i++) {
			printf("%-17s ", statfs_fields[i].name);
			print_value(&statfs_fields[i], &sfm);
			printf("\n");
		}
	}
	return CMD_EXIT_OK;
}
