/* SPDX-License-Identifier: GPL-2.0 */
/*
 * metrics.h: the agent's metrics registry, rendered in the Prometheus text
 * exposition format (version 0.0.4) and as JSON for the status query.
 *
 * A metric is registered by name (and label pairs) by whoever updates it:
 * the core registers its own at startup, each worker its own when it
 * starts.  Registering an existing name and labels returns the same
 * metric, so a worker that is restarted, or a reload, keeps its counts.
 * Updates are lock-free (C11 atomics); registration and rendering take
 * the registry's mutex.  metrics.c explains the format details.
 */
#ifndef SCOUTFS_HSM_AGENT_METRICS_H
#define SCOUTFS_HSM_AGENT_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct json_object;

enum agent_metric_kind {
	AGENT_METRIC_COUNTER = 0,	/* only grows: files, bytes, errors */
	AGENT_METRIC_GAUGE,		/* goes up and down: queue depth, age */
};

struct agent_metrics;
struct agent_metric;

struct agent_metrics *agent_metrics_new(void);
void agent_metrics_free(struct agent_metrics *m);

/*
 * The metric name{label pairs}: labels are NULL-terminated key, value
 * pairs ("backend", "s3a", NULL).  NULL when the name or a label is not
 * valid Prometheus, the name is already registered with another kind or
 * help, or memory ran out.  Metrics live as long as the registry.
 */
struct agent_metric *agent_metric_get(struct agent_metrics *m,
				      enum agent_metric_kind kind,
				      const char *name, const char *help, ...)
	__attribute__((sentinel));

/* Counters; a NULL metric is ignored, so callers need not check. */
void agent_metric_add(struct agent_metric *c, uint64_t n);
/* Gauges. */
void agent_metric_set(struct agent_metric *g, double v);
double agent_metric_value(const struct agent_metric *mt);

/* The whole registry in the text format; malloc'd, caller frees. */
char *agent_metrics_render(struct agent_metrics *m, size_t *len);
/* { "name{labels}": value, ... }; a new reference. */
struct json_object *agent_metrics_json(struct agent_metrics *m);

#endif
