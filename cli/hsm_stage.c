// SPDX-License-Identifier: GPL-2.0
/*
 * hsm_stage.c: `scoutfs-hsm stage --list FILE [--socket PATH] [--catalog
 * PATH] [--no-wait] [MOUNT]`: bulk prestage of the files listed in FILE,
 * one path per line ("-" reads stdin; empty lines are skipped; relative
 * paths are relative to the current directory), through the hsm-agent.
 *
 * The command does no staging itself: the agent's stager does, so the
 * copy choice, the checksum check before any byte reaches the file, the
 * fallback to the next copy and the one-stage-at-a-time rule are the
 * stager's (stager.c) and a prestage never competes with the agent for
 * the drives or the backends.  The work goes through the catalog, as
 * every request of the agent does:
 *
 *  1. Each file is looked at now (STAT_MORE): one fully online needs
 *     nothing; otherwise the catalog must hold a valid, verified copy of
 *     its current data_version, else it fails here with the reason.
 *  2. The files are sorted by where the copy the stager tries first is
 *     (backend, tape volume and position: stage_order.h), and queued in
 *     that order as stage requests
 *     (hsm_catalog_request_enqueue()).  The stager takes stage requests
 *     oldest first, so it reads each volume in one pass in position order.
 *  3. The stager runs them only while no reader waits on DATA_WAITING,
 *     one file between two listings: waiting readers always go first.
 *  4. The command waits for every request to finish, printing progress
 *     at every tenth of the list, and one line on stderr per file that
 *     could not be staged ("scoutfs-hsm stage: PATH: reason").
 *
 * The catalog is the agent's (its status names it) unless --catalog is
 * given.  Without a running agent the command refuses, unless --no-wait
 * and --catalog are given: then it only queues the requests, which the
 * agent runs when it starts.  If the agent stops answering while the
 * command waits, the command says how many requests are left queued and
 * exits 1.
 *
 * Exit status: 0 when every file is online at the end (or, with
 * --no-wait, queued), 1 when any failed, 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "catalog.h"
#include "hsm_agent_client.h"
#include "hsm_commands.h"
#include "ioctl.h"
#include "stage_order.h"

#define SG_CMD "scoutfs-hsm stage"
#define SG_POLL_MS 200
#define SG_ALIVE_S 5		/* how often the waiting asks the agent */

struct sg_ent {
	char *path;
	uint64_t ino;
	uint64_t dv;
	int64_t file_id;
	int64_t req_id;
	struct hsm_stage_key key;	/* where its first copy is read */
	bool done;
};

static int stage_usage(void)
{
	fprintf(stderr, "usage: scoutfs-hsm stage --list FILE [--socket PATH] [--catalog PATH] [--no-wait] [MOUNT]\n"
		"  asks the hsm-agent of MOUNT to stage the files listed in FILE (one path\n"
		"  per line, - for stdin), behind the readers that wait, and waits for them\n");
	return CMD_EXIT_USAGE;
}

static int cmp_ent(const void *a, const void *b)
{
	const struct sg_ent *x = a, *y = b;

	return hsm_stage_key_cmp(&x->key, &y->key);
}

/*
 * Look at path now: 1 when it is online (nothing to do), 0 when e is to
 * be queued, -1 with the reason printed.
 */
static int sg_look(struct hsm_catalog *cat, const char *fsid, dev_t dev,
		   const char *path, struct sg_ent *e)
{
	struct scoutfs_ioctl_stat_more sm;
	struct hsm_catalog_file file;
	struct hsm_catalog_copy cp;
	const char *why = NULL;
	struct stat st;
	size_t nr = 0;
	int fd;

	fd = open(path, O_RDONLY | O_NOATIME | O_CLOEXEC);
	if (fd < 0 && errno == EPERM)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, SG_CMD ": %s: %s\n", path, strerror(errno));
		return -1;
	}
	memset(&sm, 0, sizeof(sm));
	if (fstat(fd, &st)) {
		why = strerror(errno);
	} else if (!S_ISREG(st.st_mode)) {
		why = "not a regular file";
	} else if (st.st_dev != dev) {
		why = "not on the mount";
	} else if (ioctl(fd, SCOUTFS_IOC_STAT_MORE, &sm) < 0) {
		why = strerror(errno);
	}
	if (why) {
		fprintf(stderr, SG_CMD ": %s: %s\n", path, why);
		close(fd);
		return -1;
	}
	close(fd);
	if (!sm.offline_blocks)
		return 1;
	memset(e, 0, sizeof(*e));
	e->ino = st.st_ino;
	e->dv = sm.data_version;
	if (hsm_catalog_file_find(cat, fsid, e->ino, e->dv, &file)) {
		fprintf(stderr, SG_CMD ": %s: the catalog has no copy of data_version %llu\n",
			path, (unsigned long long)e->dv);
		return -1;
	}
	if (hsm_catalog_copy_list_valid(cat, fsid, e->ino, e->dv, &cp, 1, &nr) ||
	    !nr) {
		fprintf(stderr, SG_CMD ": %s: the catalog has no valid copy of data_version %llu\n",
			path, (unsigned long long)e->dv);
		return -1;
	}
	e->file_id = file.id;
	hsm_stage_key_set(&e->key, e->ino, &cp);
	e->path = strdup(path);
	if (!e->path) {
		fprintf(stderr, SG_CMD ": %s: out of memory\n", path);
		return -1;
	}
	return 0;
}

/* The agent's catalog path from its status, into out. */
static int agent_catalog(const char *sock, char *out, size_t len, char *err,
			 size_t err_len)
{
	struct json_object *s, *cfg;
	int ret = -1;

	if (hsm_agent_call(sock, "GET", "/status", 10, &s, NULL, err, err_len))
		return -1;
	cfg = hsm_json_get(s, "config");
	if (hsm_json_get(cfg, "catalog")) {
		snprintf(out, len, "%s", hsm_json_str(cfg, "catalog"));
		ret = 0;
	} else {
		snprintf(err, err_len, "%s: the agent's status names no catalog",
			 sock);
	}
	json_object_put(s);
	return ret;
}

/* Wait for every queued request; the number that failed, or -1. */
static int sg_wait_all(struct hsm_catalog *cat, const char *sock,
		       struct sg_ent *ents, size_t nr, size_t *staged)
{
	size_t left = nr, step = nr / 10 ? nr / 10 : 1, next = step;
	time_t alive = time(NULL) + SG_ALIVE_S;
	char err[PATH_MAX + 512];
	int failed = 0;
	size_t i;

	while (left) {
		struct timespec ts = { 0, SG_POLL_MS * 1000000L };

		for (i = 0; i < nr; i++) {
			struct hsm_catalog_request req;
			struct sg_ent *e = &ents[i];
			int ret;

			if (e->done)
				continue;
			ret = hsm_catalog_request_get(cat, e->req_id, &req);
			if (ret == -ENOENT) {
				req.state = HSM_REQ_DONE;	/* done, purged */
			} else if (ret) {
				fprintf(stderr, SG_CMD ": catalog: %s\n",
					hsm_catalog_error(cat));
				return -1;
			}
			if (req.state == HSM_REQ_DONE) {
				(*staged)++;
			} else if (req.state == HSM_REQ_FAILED) {
				fprintf(stderr, SG_CMD ": %s: %s\n", e->path,
					req.last_error[0] ? req.last_error :
					"the stage failed");
				failed++;
			} else {
				continue;
			}
			e->done = true;
			left--;
			if (nr - left >= next || !left) {
				printf("%zu of %zu done: %zu staged, %d failed\n",
				       nr - left, nr, *staged, failed);
				fflush(stdout);
				while (next <= nr - left)
					next += step;
			}
		}
		if (!left)
			break;
		if (time(NULL) >= alive) {
			struct json_object *s;

			if (hsm_agent_call(sock, "GET", "/status", 10, &s,
					   NULL, err, sizeof(err))) {
				fprintf(stderr, SG_CMD ": %s; %zu files are left queued in the catalog, staged when the agent runs again\n",
					err, left);
				return -1;
			}
			json_object_put(s);
			alive = time(NULL) + SG_ALIVE_S;
		}
		nanosleep(&ts, NULL);
	}
	return failed;
}

int cmd_hsm_stage(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "list", required_argument, NULL, 'l' },
		{ "socket", required_argument, NULL, 's' },
		{ "catalog", required_argument, NULL, 'c' },
		{ "no-wait", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char sock[PATH_MAX], mount[PATH_MAX], catpath[PATH_MAX];
	char err[PATH_MAX + 512], fsid[17];
	const char *socket_path = NULL, *list = NULL, *catalog = NULL;
	struct scoutfs_ioctl_statfs_more sfm;
	struct hsm_catalog *cat = NULL;
	struct sg_ent *ents = NULL;
	size_t nr = 0, max = 0, online = 0, staged = 0, queued = 0, i, n;
	bool no_wait = false, have_agent;
	int opt, ret = CMD_EXIT_FAILURE, bad = 0, mfd;
	char *line = NULL;
	struct stat mst;
	ssize_t len;
	FILE *f;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "l:s:c:nh", opts, NULL)) != -1) {
		switch (opt) {
		case 'l': list = optarg; break;
		case 's': socket_path = optarg; break;
		case 'c': catalog = optarg; break;
		case 'n': no_wait = true; break;
		case 'h': stage_usage(); return CMD_EXIT_OK;
		default: return stage_usage();
		}
	}
	if (!list || argc - optind > 1)
		return stage_usage();
	if (hsm_agent_socket(SG_CMD, socket_path,
			     optind < argc ? argv[optind] : NULL, sock,
			     sizeof(sock), mount, sizeof(mount)))
		return CMD_EXIT_FAILURE;
	have_agent = !agent_catalog(sock, catpath, sizeof(catpath), err,
				    sizeof(err));
	if (!have_agent && !(no_wait && catalog)) {
		fprintf(stderr, SG_CMD ": %s (--no-wait --catalog PATH queues the files for the agent's next start)\n",
			err);
		return CMD_EXIT_FAILURE;
	}
	if (catalog)
		snprintf(catpath, sizeof(catpath), "%s", catalog);

	mfd = open(mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mfd < 0 || fstat(mfd, &mst) ||
	    ioctl(mfd, SCOUTFS_IOC_STATFS_MORE, &sfm) < 0) {
		fprintf(stderr, SG_CMD ": %s: not a scoutfs mount: %s\n", mount,
			strerror(errno));
		if (mfd >= 0)
			close(mfd);
		return CMD_EXIT_FAILURE;
	}
	close(mfd);
	snprintf(fsid, sizeof(fsid), "%016llx", (unsigned long long)sfm.fsid);
	if (hsm_catalog_open(catpath, 0, &cat, err, sizeof(err))) {
		fprintf(stderr, SG_CMD ": catalog %s: %s\n", catpath, err);
		return CMD_EXIT_FAILURE;
	}
	f = strcmp(list, "-") ? fopen(list, "r") : stdin;
	if (!f) {
		fprintf(stderr, SG_CMD ": %s: %s\n", list, strerror(errno));
		goto out;
	}
	n = 0;
	while ((len = getline(&line, &n, f)) >= 0) {
		if (len && line[len - 1] == '\n')
			line[--len] = 0;
		if (!len)
			continue;
		if (nr == max) {
			size_t m = max ? max * 2 : 64;
			struct sg_ent *ne = realloc(ents, m * sizeof(*ne));

			if (!ne) {
				fprintf(stderr, SG_CMD ": out of memory\n");
				goto out;
			}
			ents = ne;
			max = m;
		}
		switch (sg_look(cat, fsid, mst.st_dev, line, &ents[nr])) {
		case 1: online++; break;
		case 0: nr++; break;
		default: bad++; break;
		}
	}
	if (f != stdin)
		fclose(f);
	if (nr)
		qsort(ents, nr, sizeof(*ents), cmp_ent);
	for (queued = 0; queued < nr; queued++) {
		if (hsm_catalog_request_enqueue(cat, HSM_REQ_STAGE,
						ents[queued].file_id,
						HSM_REQ_PRIORITY_DEFAULT,
						&ents[queued].req_id)) {
			fprintf(stderr, SG_CMD ": catalog: %s: %zu files not queued\n",
				hsm_catalog_error(cat), nr - queued);
			bad += (int)(nr - queued);
			break;
		}
	}
	printf("%zu files queued for staging, %zu already online, %d cannot be staged\n",
	       queued, online, bad);
	fflush(stdout);
	if (no_wait) {
		ret = bad ? CMD_EXIT_FAILURE : CMD_EXIT_OK;
		goto out;
	}
	if (queued) {
		int failed = sg_wait_all(cat, sock, ents, queued, &staged);

		if (failed < 0)
			goto out;
		bad += failed;
	}
	printf("%zu files staged, %zu were online, %d failed\n", staged, online,
	       bad);
	ret = bad ? CMD_EXIT_FAILURE : CMD_EXIT_OK;
out:
	for (i = 0; i < nr; i++)
		free(ents[i].path);
	free(ents);
	free(line);
	hsm_catalog_close(cat);
	return ret;
}
