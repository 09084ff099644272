// SPDX-License-Identifier: GPL-2.0
/*
 * backends.c: turn the configuration's backends into hsm_backend
 * instances (hsm-agent/lib), and the checks the agent makes before it
 * says it is ready.
 *
 * The configuration holds each backend's settings already in the structs
 * that hsm-agent/lib's constructors take (config.c fills them), so opening
 * is one call per type.  At start and on every reload the agent opens each
 * backend once and closes it again, so a directory that is missing or not
 * writable, S3 credentials that cannot be found or a malformed tape
 * configuration stop the start (or refuse the reload) with the backend's
 * own reason, rather than failing later, file by file.  S3 is also asked
 * for one listing page under a prefix no copy uses: that proves the
 * endpoint answers, the bucket exists and the credentials are accepted
 * (an unreachable server fails here, after the backend's retries).  Tape
 * opens nothing before first use (backend_tape.h), so its check is the
 * configuration's.
 *
 * The catalog is opened the same way (created when missing, migrated when
 * old, which is the agent's job as the catalog's owner) and closed; the
 * workers open their own connections, one per thread.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backend_dir.h"
#include "backend_s3.h"
#include "backend_tape.h"
#include "backends.h"
#include "catalog.h"
#include "log.h"

/*
 * No '/' in it: a list prefix with '/' in it is refused by moto as a
 * SignatureDoesNotMatch with backend_s3.c at main 7f1d1b0 (the query's
 * signing, reported); a prefix without one checks the same things.
 */
#define PROBE_PREFIX ".hsm-agent-probe"

int agent_backend_open(const struct agent_backend_conf *b,
		       struct hsm_backend **out, char *err, size_t err_len)
{
	*out = NULL;
	err[0] = 0;
	switch (b->type) {
	case AGENT_BACKEND_DIR:
		return hsm_backend_dir_open(b->dir_root, out, err, err_len);
	case AGENT_BACKEND_S3:
		return hsm_s3_backend_create(&b->s3, out, err, err_len);
	case AGENT_BACKEND_TAPE:
		return hsm_tape_create(&b->tape, out, err, err_len);
	}
	snprintf(err, err_len, "unknown backend type");
	return -EINVAL;
}

static int stop_at_first(void *arg, const char *location, uint64_t bytes)
{
	(void)arg;
	(void)location;
	(void)bytes;
	return 1;
}

int agent_backends_check(const struct agent_config *cfg)
{
	char err[HSM_ERROR_MAX + 64];
	int first = 0;
	size_t i;

	for (i = 0; i < cfg->nr_backends; i++) {
		const struct agent_backend_conf *b = &cfg->backends[i];
		struct hsm_backend *be;
		int ret = agent_backend_open(b, &be, err, sizeof(err));

		if (!ret && b->type == AGENT_BACKEND_S3) {
			ret = hsm_backend_list(be, PROBE_PREFIX, stop_at_first,
					       NULL);
			if (ret > 0)
				ret = 0;
			if (ret)
				snprintf(err, sizeof(err), "%s",
					 hsm_backend_error(be));
		}
		hsm_backend_destroy(be);
		if (ret) {
			agent_err("backend '%s' (%s): %s", b->name,
				  agent_backend_type_name(b->type),
				  err[0] ? err : strerror(-ret));
			if (!first)
				first = ret;
		} else {
			agent_debug("backend '%s' (%s): ok", b->name,
				    agent_backend_type_name(b->type));
		}
	}
	return first;
}

int agent_catalog_check(const struct agent_config *cfg)
{
	struct hsm_catalog *cat = NULL;
	char err[512] = "";
	int ret;

	ret = hsm_catalog_open(cfg->catalog, HSM_CATALOG_CREATE, &cat, err,
			       sizeof(err));
	if (ret)
		agent_err("catalog %s: %s", cfg->catalog,
			  err[0] ? err : strerror(-ret));
	hsm_catalog_close(cat);
	return ret;
}
