/* SPDX-License-Identifier: GPL-2.0 */
/*
 * backends.h: backends from the configuration (backends.c explains).
 */
#ifndef SCOUTFS_HSM_AGENT_BACKENDS_H
#define SCOUTFS_HSM_AGENT_BACKENDS_H

#include <stdbool.h>
#include <stddef.h>

#include "backend.h"
#include "config.h"

/*
 * Open one configured backend: 0 and *out (free with
 * hsm_backend_destroy()), or -errno with the reason in err.  A backend is
 * used by one thread at a time: each worker opens its own.
 */
int agent_backend_open(const struct agent_backend_conf *b,
		       struct hsm_backend **out, char *err, size_t err_len);

/*
 * Open every backend of cfg and, for S3, ask the service for one listing
 * page; close them again.  0, or the first failure with every failure
 * logged as "backend 'NAME' (TYPE): reason".
 */
int agent_backends_check(const struct agent_config *cfg);

/* The catalog opens (created if missing, migrated if old): 0 or -errno, logged. */
int agent_catalog_check(const struct agent_config *cfg);

#endif
