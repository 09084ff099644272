// SPDX-License-Identifier: GPL-2.0
/*
 * hsm_status.c: `scoutfs-hsm status [--json] [--socket PATH] [MOUNT]`:
 * what the hsm-agent of a mount is doing.
 *
 * It asks the agent itself: GET /status over the agent's unix socket
 * (libcurl's CURLOPT_UNIX_SOCKET_PATH), the socket being --socket or the
 * default for MOUNT (agent_socket.h: the same rule the agent uses; MOUNT
 * defaults as the other commands' paths do, scoutfs_mount_path()).  With
 * --json the agent's JSON is printed as it came; otherwise a summary in
 * plain words: the agent's state, the data device's usage against the
 * release watermarks, the queues and the oldest waiting reader, each
 * worker's state and counts, and per backend the files and bytes
 * archived and staged and its errors (from the agent's metrics).
 * Exit status: 0, 1 when no agent answers or the answer is not its
 * status (the reason on stderr), 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "hsm_agent_client.h"
#include "hsm_commands.h"

static int status_usage(void)
{
	fprintf(stderr, "usage: scoutfs-hsm status [--json] [--socket PATH] [MOUNT]\n"
		"  asks the hsm-agent of MOUNT (default: $SCOUTFS_MOUNT_PATH or .)\n"
		"  over its socket (default: the agent's default for MOUNT)\n");
	return CMD_EXIT_USAGE;
}

#define get hsm_json_get
#define str hsm_json_str
#define num hsm_json_num

static double metric(struct json_object *metrics, const char *name,
		     const char *backend)
{
	char key[256];

	snprintf(key, sizeof(key), "%s{backend=\"%s\"}", name, backend);
	return num(metrics, key);
}

#define human hsm_human_bytes

static void print_worker(struct json_object *w)
{
	const char *name = str(w, "name");
	char b[32];

	printf("  %-9s %s\n", name, str(w, "state"));
	if (!strcmp(name, "indexer")) {
		printf("            passes %.0f, inodes walked %.0f, at seq %.0f\n",
		       num(w, "passes"), num(w, "inodes_walked"),
		       num(w, "indexed_seq"));
	} else if (!strcmp(name, "archiver")) {
		human(num(w, "bytes"), b, sizeof(b));
		printf("            %.0f copies made (%s), %.0f queued, %.0f failed, %.0f discarded (file changed while copied)\n",
		       num(w, "copies_made"), b, num(w, "queued"),
		       num(w, "failures"), num(w, "discarded_changed"));
	} else if (!strcmp(name, "releaser")) {
		human(num(w, "released_bytes"), b, sizeof(b));
		printf("            %.0f files released (%s), %.0f refused as changed (ESTALE)\n",
		       num(w, "released_files"), b, num(w, "stale"));
	} else if (!strcmp(name, "stager")) {
		human(num(w, "staged_bytes"), b, sizeof(b));
		printf("            %.0f files staged (%s), %.0f failed (%.0f timed out), %.0f waiting now\n",
		       num(w, "staged_files"), b, num(w, "failures"),
		       num(w, "timeouts"), num(w, "waiting_files"));
	}
	if (get(w, "last_error"))
		printf("            last error: %s\n", str(w, "last_error"));
}

static void print_summary(struct json_object *s)
{
	struct json_object *cfg = get(s, "config");
	struct json_object *rel = get(cfg, "release");
	struct json_object *ws = get(s, "workers");
	struct json_object *bes = get(cfg, "backends");
	struct json_object *metrics = get(s, "metrics");
	struct json_object *fs = get(s, "filesystem");
	struct json_object *releaser = NULL, *stager = NULL, *archiver = NULL;
	size_t i;

	printf("hsm-agent on %s: %s (pid %.0f, up %.0f s, configuration generation %.0f)\n",
	       str(s, "mount"), str(s, "state"), num(s, "pid"),
	       num(s, "uptime_s"), num(cfg, "generation"));
	if (get(fs, "scoutfs") && json_object_get_boolean(get(fs, "scoutfs")))
		printf("filesystem: scoutfs, fsid %s\n", str(fs, "fsid"));
	else
		printf("filesystem: not a scoutfs mount: %s\n", str(fs, "reason"));
	for (i = 0; ws && i < json_object_array_length(ws); i++) {
		struct json_object *w = json_object_array_get_idx(ws, i);

		if (!strcmp(str(w, "name"), "releaser"))
			releaser = w;
		else if (!strcmp(str(w, "name"), "stager"))
			stager = w;
		else if (!strcmp(str(w, "name"), "archiver"))
			archiver = w;
	}
	if (releaser && get(releaser, "used_percent"))
		printf("data device: %.1f%% used; releases start above %.0f%% and go down to %.0f%%\n",
		       num(releaser, "used_percent"), num(rel, "high_watermark"),
		       num(rel, "low_watermark"));
	else
		printf("data device: usage not measured yet; release watermarks %.0f%% / %.0f%%\n",
		       num(rel, "high_watermark"), num(rel, "low_watermark"));
	printf("queues: %.0f archive requests; %.0f files with waiting readers (oldest waiting %.1f s)\n",
	       num(archiver, "queued"), num(stager, "waiting_files"),
	       num(stager, "oldest_wait_s"));
	printf("workers:\n");
	for (i = 0; ws && i < json_object_array_length(ws); i++)
		print_worker(json_object_array_get_idx(ws, i));
	printf("backends:\n");
	for (i = 0; bes && i < json_object_array_length(bes); i++) {
		struct json_object *b = json_object_array_get_idx(bes, i);
		const char *name = str(b, "name");
		char ab[32], sb[32];

		human(metric(metrics, "scoutfs_hsm_archive_bytes_total", name),
		      ab, sizeof(ab));
		human(metric(metrics, "scoutfs_hsm_stage_bytes_total", name),
		      sb, sizeof(sb));
		printf("  %-9s (%s) archived %.0f copies (%s), staged %.0f files (%s), %.0f errors\n",
		       name, str(b, "type"),
		       metric(metrics, "scoutfs_hsm_archive_files_total", name), ab,
		       metric(metrics, "scoutfs_hsm_stage_files_total", name), sb,
		       metric(metrics, "scoutfs_hsm_backend_errors_total", name));
	}
}

int cmd_hsm_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char sock[PATH_MAX], err[PATH_MAX + 512];
	const char *socket_path = NULL;
	struct json_object *s;
	bool is_json = false;
	char *raw = NULL;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "js:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': is_json = true; break;
		case 's': socket_path = optarg; break;
		case 'h': status_usage(); return CMD_EXIT_OK;
		default: return status_usage();
		}
	}
	if (argc - optind > 1)
		return status_usage();
	if (hsm_agent_socket("scoutfs-hsm status", socket_path,
			     optind < argc ? argv[optind] : NULL, sock,
			     sizeof(sock), NULL, 0))
		return CMD_EXIT_FAILURE;
	if (hsm_agent_call(sock, "GET", "/status", 10, &s, &raw, err,
			   sizeof(err))) {
		fprintf(stderr, "scoutfs-hsm status: %s\n", err);
		return CMD_EXIT_FAILURE;
	}
	if (!get(s, "workers")) {
		fprintf(stderr, "scoutfs-hsm status: %s: the answer is not an agent's status\n",
			sock);
		json_object_put(s);
		free(raw);
		return CMD_EXIT_FAILURE;
	}
	if (is_json)
		fputs(raw, stdout);
	else
		print_summary(s);
	json_object_put(s);
	free(raw);
	return CMD_EXIT_OK;
}
