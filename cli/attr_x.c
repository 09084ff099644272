// SPDX-License-Identifier: GPL-2.0
/*
 * attr_x.c: `scoutfs get-attr-x [FIELD OPTIONS] FILE` and
 * `scoutfs set-attr-x FIELD OPTION VALUE... FILE`, upstream's commands
 * over the GET_ATTR_X and SET_ATTR_X ioctls (18, 19; kmod/src/ioctl.h).
 *
 * The field options are upstream's: -m/--meta_seq, -d/--data_seq,
 * -v/--data_version, -n/--online_blocks, -f/--offline_blocks,
 * -c/--ctime, -r/--crtime, -s/--size, -t/--retention, -p/--project_id.
 * get-attr-x prints the fields asked for (all of them when none is), one
 * "name: value" line each, or only the value when one field is asked
 * for.  set-attr-x takes a value after each option (times as SECS.NSECS,
 * NSECS a count of nanoseconds as get-attr-x prints it; retention 0 or 1) and hands them all to the kernel, which decides what
 * may be set (this module sets only the retention mark; root only).
 * Nothing to set is success.  A failed open or call prints upstream's two
 * lines; a FILE elsewhere than on scoutfs is refused before any ioctl.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "commands.h"
#include "ioctl.h"
#include "parse.h"
#include "fsioctl.h"

/* one field: its option letter, long name, mask bit and place in iax */
struct iax_field {
	char opt;
	const char *name;
	unsigned long long mask;
};

static const struct iax_field iax_fields[] = {
	{ 'm', "meta_seq", SCOUTFS_IOC_IAX_META_SEQ },
	{ 'd', "data_seq", SCOUTFS_IOC_IAX_DATA_SEQ },
	{ 'v', "data_version", SCOUTFS_IOC_IAX_DATA_VERSION },
	{ 'n', "online_blocks", SCOUTFS_IOC_IAX_ONLINE_BLOCKS },
	{ 'f', "offline_blocks", SCOUTFS_IOC_IAX_OFFLINE_BLOCKS },
	{ 'c', "ctime", SCOUTFS_IOC_IAX_CTIME },
	{ 'r', "crtime", SCOUTFS_IOC_IAX_CRTIME },
	{ 's', "size", SCOUTFS_IOC_IAX_SIZE },
	{ 't', "retention", SCOUTFS_IOC_IAX_RETENTION },
	{ 'p', "project_id", SCOUTFS_IOC_IAX_PROJECT_ID },
};
#define NR_FIELDS (sizeof(iax_fields) / sizeof(iax_fields[0]))

static void attr_x_usage(FILE *f, bool set)
{
	fprintf(f, "usage: scoutfs %s [-m|--meta_seq%s] [-d|--data_seq%s] [-v|--data_version%s]\n"
		"         [-n|--online_blocks%s] [-f|--offline_blocks%s] [-c|--ctime%s]\n"
		"         [-r|--crtime%s] [-s|--size%s] [-t|--retention%s] [-p|--project_id%s] FILE\n",
		set ? "set-attr-x" : "get-attr-x",
		set ? " SEQ" : "", set ? " SEQ" : "", set ? " VERSION" : "",
		set ? " COUNT" : "", set ? " COUNT" : "", set ? " SECS.NSECS" : "",
		set ? " SECS.NSECS" : "", set ? " SIZE" : "", set ? " 0|1" : "",
		set ? " PROJECT_ID" : "");
	fprintf(f, "  %s\n", set ? "set extensible file attributes (here: the retention mark)" :
		"print extensible file attributes (all of them when none is named)");
}

/* the value of a field's option into iax; -1 (and a message) on garbage */
static int set_value(struct scoutfs_ioctl_inode_attr_x *iax, char opt,
		     const char *arg)
{
	__u64 *u = NULL;
	uint64_t x;
	uint32_t ns;

	switch (opt) {
	case 'm': u = &iax->meta_seq; break;
	case 'd': u = &iax->data_seq; break;
	case 'v': u = &iax->data_version; break;
	case 'n': u = &iax->online_blocks; break;
	case 'f': u = &iax->offline_blocks; break;
	case 's': u = &iax->size; break;
	case 'p': u = &iax->project_id; break;
	case 'c':
	case 'r':
		if (scoutfs_parse_time(arg, &x, &ns))
			goto bad;
		if (opt == 'c') {
			iax->ctime_sec = x;
			iax->ctime_nsec = ns;
		} else {
			iax->crtime_sec = x;
			iax->crtime_nsec = ns;
		}
		return 0;
	case 't':
		if (scoutfs_parse_u64(arg, &x))
			goto bad;
		if (x)
			iax->bits |= SCOUTFS_IOC_IAX_B_RETENTION;
		return 0;
	}
	if (!u || scoutfs_parse_u64(arg, &x))
		goto bad;
	*u = x;
	if (opt == 'v' && *u == 0) {
		fprintf(stderr, "scoutfs set-attr-x: data version must not be 0\n");
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "scoutfs set-attr-x: invalid value '%s' for -%c\n", arg, opt);
	return -1;
}

static void print_fields(const struct scoutfs_ioctl_inode_attr_x *iax)
{
	bool labels = __builtin_popcountll(iax->x_mask) > 1;
	unsigned int i;
	char val[64];

	for (i = 0; i < NR_FIELDS; i++) {
		const struct iax_field *fl = &iax_fields[i];

		if (!(iax->x_mask & fl->mask))
			continue;
		switch (fl->opt) {
		case 'm': snprintf(val, sizeof(val), "%llu", (unsigned long long)iax->meta_seq); break;
		case 'd': snprintf(val, sizeof(val), "%llu", (unsigned long long)iax->data_seq); break;
		case 'v': snprintf(val, sizeof(val), "%llu", (unsigned long long)iax->data_version); break;
		case 'n': snprintf(val, sizeof(val), "%llu", (unsigned long long)iax->online_blocks); break;
		case 'f': snprintf(val, sizeof(val), "%llu", (unsigned long long)iax->offline_blocks); break;
		case 'c': snprintf(val, sizeof(val), "%llu.%u", (unsigned long long)iax->ctime_sec, iax->ctime_nsec); break;
		case 'r': snprintf(val, sizeof(val), "%llu.%u", (unsigned long long)iax->crtime_sec, iax->crtime_nsec); break;
		case 's': snprintf(val, sizeof(val), "%llu", (unsigned long long)iax->size); break;
		case 't': snprintf(val, sizeof(val), "%u", !!(iax->bits & SCOUTFS_IOC_IAX_B_RETENTION)); break;
		default: snprintf(val, sizeof(val), "%llu", (unsigned long long)iax->project_id); break;
		}
		if (labels)
			printf("%s: %s\n", fl->name, val);
		else
			printf("%s\n", val);
	}
}

static int attr_x_cmd(int argc, char **argv, bool set)
{
	const char *prog = set ? "set-attr-x" : "get-attr-x";
	struct option longopts[NR_FIELDS + 2];
	struct scoutfs_ioctl_inode_attr_x iax;
	char shortopts[3 * NR_FIELDS + 2];
	char *s = shortopts;
	unsigned int i;
	const char *file;
	int fd, c, ret;

	for (i = 0; i < NR_FIELDS; i++) {
		longopts[i] = (struct option){ iax_fields[i].name,
			set ? required_argument : no_argument, NULL, iax_fields[i].opt };
		*s++ = iax_fields[i].opt;
		if (set)
			*s++ = ':';
	}
	longopts[i++] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[i] = (struct option){ NULL, 0, NULL, 0 };
	*s++ = 'h';
	*s = '\0';

	memset(&iax, 0, sizeof(iax));
	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (c == 'h') {
			attr_x_usage(stdout, set);
			return CMD_EXIT_OK;
		}
		for (i = 0; i < NR_FIELDS && iax_fields[i].opt != c; i++)
			;
		if (i == NR_FIELDS) {
			attr_x_usage(stderr, set);
			return CMD_EXIT_USAGE;
		}
		iax.x_mask |= iax_fields[i].mask;
		if (set && set_value(&iax, c, optarg))
			return CMD_EXIT_USAGE;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "scoutfs %s: %s\n", prog,
			optind == argc ? "no filename given" :
			"more than one argument given");
		attr_x_usage(stderr, set);
		return CMD_EXIT_USAGE;
	}
	file = argv[optind];

	if (set && iax.x_mask == 0)
		return CMD_EXIT_OK;
	if (!set && iax.x_mask == 0)
		iax.x_mask = ~SCOUTFS_IOC_IAX__UNKNOWN;

	fd = scoutfs_open_on_fs_upstream(prog, file, O_RDONLY);
	if (fd < 0)
		return CMD_EXIT_FAILURE;
	ret = ioctl(fd, set ? SCOUTFS_IOC_SET_ATTR_X : SCOUTFS_IOC_GET_ATTR_X,
		    &iax);
	if (ret < 0) {
		scoutfs_upstream_fail(prog, errno, "attr_x ioctl failed on '%s'",
				      file);
		close(fd);
		return CMD_EXIT_FAILURE;
	}
	close(fd);
	if (!set)
		print_fields(&iax);
	return CMD_EXIT_OK;
}

int cmd_get_attr_x(int argc, char **argv)
{
	return attr_x_cmd(argc, argv, false);
}

int cmd_set_attr_x(int argc, char **argv)
{
	return attr_x_cmd(argc, argv, true);
}
