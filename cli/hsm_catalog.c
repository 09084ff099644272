// SPDX-License-Identifier: GPL-2.0
/*
 * hsm_catalog.c: `scoutfs-hsm catalog check|backup DEST --catalog PATH`,
 * the on-demand maintenance of the catalog: a full integrity check (which
 * opening a catalog never does, it is O(size)) and an online consistent
 * copy.  Both are one library call.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "hsm_commands.h"

static int catalog_usage(void)
{
	fprintf(stderr,
		"usage: scoutfs-hsm catalog check --catalog PATH\n"
		"       scoutfs-hsm catalog backup DEST --catalog PATH\n");
	return CMD_EXIT_USAGE;
}

int cmd_hsm_catalog(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "catalog", required_argument, NULL, 'c' },
		{ 0 }
	};
	const char *path = NULL;
	struct hsm_catalog *cat;
	char err[HSM_ERROR_MAX];
	const char *verb;
	int ret;
	int c;

	while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		if (c != 'c')
			return catalog_usage();
		path = optarg;
	}
	if (!path || optind >= argc)
		return catalog_usage();
	verb = argv[optind];
	if (!(strcmp(verb, "check") == 0 && optind + 1 == argc) &&
	    !(strcmp(verb, "backup") == 0 && optind + 2 == argc))
		return catalog_usage();

	ret = hsm_catalog_open(path, 0, &cat, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "scoutfs-hsm catalog: %s\n", err);
		return CMD_EXIT_FAILURE;
	}
	if (strcmp(verb, "check") == 0)
		ret = hsm_catalog_check(cat);
	else
		ret = hsm_catalog_backup(cat, argv[optind + 1]);
	if (ret)
		fprintf(stderr, "scoutfs-hsm catalog %s: %s\n", verb,
			hsm_catalog_error(cat));
	else if (strcmp(verb, "check") == 0)
		printf("%s: ok\n", path);
	hsm_catalog_close(cat);
	return ret ? CMD_EXIT_FAILURE : CMD_EXIT_OK;
}
