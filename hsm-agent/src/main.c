// SPDX-License-Identifier: GPL-2.0
/*
 * main.c: the hsm-agent command line.
 *
 *   hsm-agent [-c FILE] MOUNT         run the agent of the filesystem at MOUNT
 *   hsm-agent --check-config FILE     check FILE and exit
 *
 * FILE defaults to $HSM_AGENT_CONF, else /etc/scoutfs/hsm-agent.conf.
 * Exit status: 0 success (a clean stop after SIGTERM included), 1 a bad
 * configuration or a failure to start, 2 a usage error.  Everything else
 * is in agent.c (the daemon) and config.c (the file).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "config.h"

#define DEFAULT_CONF "/etc/scoutfs/hsm-agent.conf"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hsm-agent [-c|--config FILE] MOUNT\n"
		"       hsm-agent --check-config FILE\n"
		"FILE defaults to $HSM_AGENT_CONF, else " DEFAULT_CONF ".\n"
		"Signals: SIGHUP reloads FILE, SIGTERM drains and stops.\n");
}

static int check_config(const char *path)
{
	struct agent_config_errors errs = { 0 };
	struct agent_config *cfg = NULL;
	size_t i;
	int ret;

	ret = agent_config_load(path, &cfg, &errs);
	for (i = 0; i < errs.nr; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	if (ret) {
		fprintf(stderr, "%s: %zu error%s\n", path, errs.nr,
			errs.nr == 1 ? "" : "s");
	} else {
		printf("%s: ok: %zu backends, %zu archive sets\n", path,
		       cfg->nr_backends, cfg->nr_sets);
	}
	agent_config_errors_free(&errs);
	agent_config_free(cfg);
	return ret ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct agent_options opts = { 0 };
	const char *check = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			opts.config_path = optarg;
			break;
		case 'C':
			check = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (check) {
		if (optind != argc || opts.config_path) {
			usage(stderr);
			return 2;
		}
		return check_config(check);
	}
	if (optind != argc - 1) {
		fprintf(stderr, "hsm-agent: %s\n", optind == argc ?
			"MOUNT is missing" : "one MOUNT only");
		usage(stderr);
		return 2;
	}
	opts.mount = argv[optind];
	if (!opts.config_path)
		opts.config_path = getenv("HSM_AGENT_CONF");
	if (!opts.config_path || !*opts.config_path)
		opts.config_path = DEFAULT_CONF;
	return agent_main(&opts);
}
