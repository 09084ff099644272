// SPDX-License-Identifier: GPL-2.0
/*
 * range_opts.c: the -V/-o/-l options release, stage and punch-offline
 * share, in upstream's forms: -V/--data-version (also --version, the
 * spelling of upstream's man page), -o/--offset, -l/--length; numbers in
 * decimal or 0x hex, sizes with K/M/G/T/P suffixes; options before or
 * after the positional arguments.
 */
#include <getopt.h>
#include <string.h>

#include "commands.h"
#include "parse.h"
#include "range_opts.h"

int cli_parse_range_opts(int argc, char **argv, const char *prog,
			 void (*usage)(FILE *f), struct range_opts *ro)
{
	static const struct option longopts[] = {
		{ "data-version", required_argument, NULL, 'V' },
		{ "version", required_argument, NULL, 'V' },
		{ "offset", required_argument, NULL, 'o' },
		{ "length", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	bool have_vers = false;
	int c;

	memset(ro, 0, sizeof(*ro));
	optind = 1;
	while ((c = getopt_long(argc, argv, "V:o:l:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'V':
			if (scoutfs_parse_u64(optarg, &ro->data_version))
				goto bad_number;
			have_vers = true;
			break;
		case 'o':
			if (scoutfs_parse_size(optarg, &ro->offset))
				goto bad_number;
			ro->have_offset = true;
			break;
		case 'l':
			if (scoutfs_parse_size(optarg, &ro->length))
				goto bad_number;
			ro->have_length = true;
			break;
		case 'h':
			usage(stdout);
			return CMD_EXIT_OK;
		default:
			usage(stderr);
			return CMD_EXIT_USAGE;
		}
	}
	if (!have_vers) {
		fprintf(stderr, "%s: -V VERSION (the file's data_version) is required\n",
			prog);
		usage(stderr);
		return CMD_EXIT_USAGE;
	}
	return -1;

bad_number:
	fprintf(stderr, "%s: bad number '%s'\n", prog, optarg);
	return CMD_EXIT_USAGE;
}
