// SPDX-License-Identifier: GPL-2.0
/*
 * hsm_release.c: `scoutfs-hsm release [--dry-run] [--json] [--socket PATH]
 * [--timeout S] [MOUNT]`: what the hsm-agent's releaser would release now
 * and why, or a release pass now.
 *
 * Both go through the running agent, so the choice is the releaser's own
 * (releaser.c, rl_choose(): the same candidates, skip reasons and order as
 * its passes, min_residence included, which only the agent knows):
 *
 *  --dry-run  GET /release: every candidate in release order with its
 *             size, access age, weight and the valid, verified copies of
 *             its current data_version that make its release safe, marked
 *             "release" for those a pass would release to bring usage to
 *             the low watermark; then the files skipped by reason.
 *             Whether the releaser releases now (above the high
 *             watermark) is said first.  Nothing is released.
 *  (none)     POST /release: the releaser runs a pass now, down to the
 *             low watermark, even below the high one; the command waits
 *             for it (at most --timeout seconds, 600 by default) and
 *             prints its outcome (exit 1 when it could not run, with
 *             the reason).
 *
 * --json prints the agent's answer as it came (the dry run's list, or the
 * releaser's status after the pass).  Exit status: 0, 1 when no agent
 * answers or it failed (the reason on stderr), 2 usage.
 */
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "hsm_agent_client.h"
#include "hsm_commands.h"

#define RL_CMD "scoutfs-hsm release"

static int release_usage(void)
{
	fprintf(stderr, "usage: scoutfs-hsm release [--dry-run] [--json] [--socket PATH] [--timeout S] [MOUNT]\n"
		"  --dry-run: list what the agent's releaser would release now and why\n"
		"  otherwise: the releaser releases now, down to the low watermark\n");
	return CMD_EXIT_USAGE;
}

static void print_copies(struct json_object *c)
{
	struct json_object *cps = hsm_json_get(c, "copies");
	size_t i, nr = cps ? json_object_array_length(cps) : 0;

	for (i = 0; i < nr; i++) {
		struct json_object *cp = json_object_array_get_idx(cps, i);
		time_t at = (time_t)hsm_json_num(cp, "verified_at");
		char when[32] = "never";
		struct tm tm;

		if (at && gmtime_r(&at, &tm))
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		printf("%s copy %.0f on '%s' verified %s", i ? "," : "",
		       hsm_json_num(cp, "copy"), hsm_json_str(cp, "backend"),
		       when);
	}
	if (!nr)
		printf(" none listed");
}

static void print_dry_run(const char *mount, struct json_object *o)
{
	struct json_object *cands = hsm_json_get(o, "candidates");
	struct json_object *sk = hsm_json_get(o, "skipped");
	size_t i, nr = cands ? json_object_array_length(cands) : 0, nrel = 0;
	bool now = json_object_get_boolean(hsm_json_get(o, "releasing_now"));
	bool first = true;

	for (i = 0; i < nr; i++)
		if (json_object_get_boolean(hsm_json_get(
				json_object_array_get_idx(cands, i), "release")))
			nrel++;
	printf("%s: %.1f%% used; releases start at %.0f%% and go down to %.0f%%\n",
	       mount, hsm_json_num(o, "used_percent"),
	       hsm_json_num(o, "high_watermark"),
	       hsm_json_num(o, "low_watermark"));
	if (now)
		printf("the releaser is releasing now: %zu of %zu candidates (%s order) to reach the low watermark\n",
		       nrel, nr, hsm_json_str(o, "order"));
	else
		printf("below the high watermark, the releaser releases nothing now; `scoutfs-hsm release` would release %zu of %zu candidates (%s order)\n",
		       nrel, nr, hsm_json_str(o, "order"));
	for (i = 0; i < nr; i++) {
		struct json_object *c = json_object_array_get_idx(cands, i);
		bool rel = json_object_get_boolean(hsm_json_get(c, "release"));
		char b[32], t[32];

		hsm_human_bytes(hsm_json_num(c, "release_bytes"), b, sizeof(b));
		hsm_human_bytes(hsm_json_num(c, "size"), t, sizeof(t));
		printf("  %-7s /%s: %s of %s, accessed %.0f s ago, weight %.3f, data_version %.0f, safe by",
		       rel ? "release" : "keep", hsm_json_str(c, "path"), b, t,
		       hsm_json_num(c, "access_age_s"), hsm_json_num(c, "weight"),
		       hsm_json_num(c, "data_version"));
		print_copies(c);
		printf("%s\n", rel ? "" : " (the low watermark is reached before it)");
	}
	printf("skipped:");
	json_object_object_foreach(sk, name, val) {
		if (json_object_get_int64(val)) {
			printf("%s %lld %s", first ? "" : ",",
			       (long long)json_object_get_int64(val), name);
			first = false;
		}
	}
	printf("%s\ndry run: nothing was released\n", first ? " none" : "");
}

static struct json_object *releaser_of(struct json_object *s)
{
	struct json_object *ws = hsm_json_get(s, "workers");
	size_t i;

	for (i = 0; ws && i < json_object_array_length(ws); i++) {
		struct json_object *w = json_object_array_get_idx(ws, i);

		if (!strcmp(hsm_json_str(w, "name"), "releaser"))
			return w;
	}
	return NULL;
}

/* POST /release, then the status until the pass asked for is done. */
static int release_now(const char *sock, bool is_json, long timeout_s)
{
	char err[PATH_MAX + 512];
	struct json_object *o, *s, *r;
	time_t end = time(NULL) + timeout_s;
	double asked;
	char *raw;

	if (hsm_agent_call(sock, "POST", "/release", 30, &o, NULL, err,
			   sizeof(err))) {
		fprintf(stderr, RL_CMD ": %s\n", err);
		return CMD_EXIT_FAILURE;
	}
	asked = hsm_json_num(o, "asked");
	json_object_put(o);
	for (;;) {
		struct timespec ts = { 0, 200 * 1000000L };

		if (hsm_agent_call(sock, "GET", "/status", 30, &s, &raw, err,
				   sizeof(err))) {
			fprintf(stderr, RL_CMD ": %s\n", err);
			return CMD_EXIT_FAILURE;
		}
		r = releaser_of(s);
		if (r && hsm_json_num(r, "forced_done") >= asked) {
			bool ok = json_object_get_boolean(hsm_json_get(r,
							  "forced_ok"));

			if (is_json)
				printf("%s\n", json_object_to_json_string_ext(
				       r, JSON_C_TO_STRING_PRETTY));
			else if (ok)
				printf("%s\n", hsm_json_str(r, "forced_result"));
			if (!ok)
				fprintf(stderr, RL_CMD ": the pass did not run: %s\n",
					hsm_json_str(r, "forced_result"));
			json_object_put(s);
			free(raw);
			return ok ? CMD_EXIT_OK : CMD_EXIT_FAILURE;
		}
		json_object_put(s);
		free(raw);
		if (time(NULL) >= end) {
			fprintf(stderr, RL_CMD ": the releaser did not finish the pass within %ld s (it steps aside while readers wait for stages)\n",
				timeout_s);
			return CMD_EXIT_FAILURE;
		}
		nanosleep(&ts, NULL);
	}
}

int cmd_hsm_release(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char sock[PATH_MAX], mount[PATH_MAX], err[PATH_MAX + 512];
	const char *socket_path = NULL;
	bool is_dry = false, is_json = false;
	struct json_object *o;
	long timeout_s = 600;
	char *raw, *end;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "njs:t:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'n': is_dry = true; break;
		case 'j': is_json = true; break;
		case 's': socket_path = optarg; break;
		case 't':
			timeout_s = strtol(optarg, &end, 10);
			if (*end || end == optarg || timeout_s <= 0)
				return release_usage();
			break;
		case 'h': release_usage(); return CMD_EXIT_OK;
		default: return release_usage();
		}
	}
	if (argc - optind > 1)
		return release_usage();
	if (hsm_agent_socket(RL_CMD, socket_path,
			     optind < argc ? argv[optind] : NULL, sock,
			     sizeof(sock), mount, sizeof(mount)))
		return CMD_EXIT_FAILURE;
	if (!is_dry)
		return release_now(sock, is_json, timeout_s);
	if (hsm_agent_call(sock, "GET", "/release", timeout_s, &o, &raw, err,
			   sizeof(err))) {
		fprintf(stderr, RL_CMD ": %s\n", err);
		return CMD_EXIT_FAILURE;
	}
	if (is_json)
		fputs(raw, stdout);
	else
		print_dry_run(mount, o);
	json_object_put(o);
	free(raw);
	return CMD_EXIT_OK;
}
