// SPDX-License-Identifier: GPL-2.0
/*
 * metrics.c: the registry behind metrics.h.
 *
 * A registry is a list of families (one metric name, its help text and
 * kind) each with a list of samples (one label set and value).  Families
 * and samples are appended, never removed, so a pointer handed out by
 * agent_metric_get() stays valid until agent_metrics_free() and updates
 * need no lock: counters are atomic uint64_t, gauges atomic doubles.
 *
 * Rendering follows the Prometheus text format 0.0.4: per family one
 * "# HELP" line (backslash and newline escaped), one "# TYPE" line, then
 * "name{k="v",...} value" per sample, label values escaped (backslash,
 * double quote, newline).  Families come out in registration order.
 * Names must match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
 * [a-zA-Z_][a-zA-Z0-9_]* and not start with "__" (reserved).
 */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "metrics.h"

struct agent_metric {
	struct agent_metric *next;
	char *labels;		/* rendered: {k="v",...} or "" */
	enum agent_metric_kind kind;
	_Atomic uint64_t count;
	_Atomic double gauge;
};

struct family {
	struct family *next;
	char *name;
	char *help;
	enum agent_metric_kind kind;
	struct agent_metric *samples, **samples_tail;
};

struct agent_metrics {
	pthread_mutex_t lock;
	struct family *families, **tail;
};

struct agent_metrics *agent_metrics_new(void)
{
	struct agent_metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	pthread_mutex_init(&m->lock, NULL);
	m->tail = &m->families;
	return m;
}

void agent_metrics_free(struct agent_metrics *m)
{
	struct family *f, *fn;
	struct agent_metric *s, *sn;

	if (!m)
		return;
	for (f = m->families; f; f = fn) {
		fn = f->next;
		for (s = f->samples; s; s = sn) {
			sn = s->next;
			free(s->labels);
			free(s);
		}
		free(f->name);
		free(f->help);
		free(f);
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static bool valid_name(const char *n, bool label)
{
	const char *p;

	if (!n || !*n || (label && n[0] == '_' && n[1] == '_'))
		return false;
	for (p = n; *p; p++) {
		char ch = *p;
		bool alpha = (ch >= 'a' && ch <= 'z') ||
			     (ch >= 'A' && ch <= 'Z') || ch == '_' ||
			     (!label && ch == ':');

		if (!alpha && !(p > n && ch >= '0' && ch <= '9'))
			return false;
	}
	return true;
}

static void put_escaped(FILE *f, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (quote && *s == '"')
			fputs("\\\"", f);
		else
			fputc(*s, f);
	}
}

/* {k="v",...} from the va_list pairs, "" for none; NULL if invalid */
static char *render_labels(va_list ap)
{
	const char *k, *v;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	bool any = false, ok = true;

	if (!f)
		return NULL;
	while ((k = va_arg(ap, const char *))) {
		v = va_arg(ap, const char *);
		if (!v || !valid_name(k, true)) {
			ok = false;
			break;
		}
		fprintf(f, "%s%s=\"", any ? "," : "{", k);
		put_escaped(f, v, true);
		fputc('"', f);
		any = true;
	}
	if (any)
		fputc('}', f);
	fclose(f);
	if (!ok) {
		free(buf);
		return NULL;
	}
	return buf;
}

struct agent_metric *agent_metric_get(struct agent_metrics *m,
				      enum agent_metric_kind kind,
				      const char *name, const char *help, ...)
{
	struct agent_metric *s = NULL;
	struct family *f;
	char *labels;
	va_list ap;

	if (!m || !valid_name(name, false) || !help)
		return NULL;
	va_start(ap, help);
	labels = render_labels(ap);
	va_end(ap);
	if (!labels)
		return NULL;

	pthread_mutex_lock(&m->lock);
	for (f = m->families; f; f = f->next) {
		if (!strcmp(f->name, name))
			break;
	}
	if (f && (f->kind != kind || strcmp(f->help, help)))
		goto out;
	if (!f) {
		f = calloc(1, sizeof(*f));
		if (!f)
			goto out;
		f->name = strdup(name);
		f->help = strdup(help);
		if (!f->name || !f->help) {
			free(f->name);
			free(f->help);
			free(f);
			goto out;
		}
		f->kind = kind;
		f->samples_tail = &f->samples;
		*m->tail = f;
		m->tail = &f->next;
	}
	for (s = f->samples; s; s = s->next) {
		if (!strcmp(s->labels, labels))
			goto out;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		goto out;
	s->labels = labels;
	labels = NULL;
	s->kind = kind;
	atomic_init(&s->count, 0);
	atomic_init(&s->gauge, 0.0);
	*f->samples_tail = s;
	f->samples_tail = &s->next;
out:
	pthread_mutex_unlock(&m->lock);
	free(labels);
	return s;
}

void agent_metric_add(struct agent_metric *c, uint64_t n)
{
	if (c && c->kind == AGENT_METRIC_COUNTER)
		atomic_fetch_add(&c->count, n);
}

void agent_metric_set(struct agent_metric *g, double v)
{
	if (g && g->kind == AGENT_METRIC_GAUGE)
		atomic_store(&g->gauge, v);
}

double agent_metric_value(const struct agent_metric *mt)
{
	if (!mt)
		return 0;
	if (mt->kind == AGENT_METRIC_COUNTER)
		return (double)atomic_load(&((struct agent_metric *)mt)->count);
	return atomic_load(&((struct agent_metric *)mt)->gauge);
}

static void put_value(FILE *f, const struct agent_metric *s)
{
	double v;

	if (s->kind == AGENT_METRIC_COUNTER) {
		fprintf(f, "%llu\n", (unsigned long long)
			atomic_load(&((struct agent_metric *)s)->count));
		return;
	}
	v = agent_metric_value(s);
	if (isnan(v))
		fputs("NaN\n", f);
	else if (isinf(v))
		fputs(v > 0 ? "+Inf\n" : "-Inf\n", f);
	else
		fprintf(f, "%.17g\n", v);
}

char *agent_metrics_render(struct agent_metrics *m, size_t *len)
{
	struct agent_metric *s;
	struct family *fam;
	char *buf = NULL;
	size_t blen = 0;
	FILE *f = open_memstream(&buf, &blen);

	if (!f)
		return NULL;
	pthread_mutex_lock(&m->lock);
	for (fam = m->families; fam; fam = fam->next) {
		fprintf(f, "# HELP %s ", fam->name);
		put_escaped(f, fam->help, false);
		fprintf(f, "\n# TYPE %s %s\n", fam->name,
			fam->kind == AGENT_METRIC_COUNTER ? "counter" : "gauge");
		for (s = fam->samples; s; s = s->next) {
			fprintf(f, "%s%s ", fam->name, s->labels);
			put_value(f, s);
		}
	}
	pthread_mutex_unlock(&m->lock);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	if (len)
		*len = blen;
	return buf;
}

struct json_object *agent_metrics_json(struct agent_metrics *m)
{
	struct json_object *o = json_object_new_object();
	struct agent_metric *s;
	struct family *fam;
	char key[1024];

	if (!o)
		return NULL;
	pthread_mutex_lock(&m->lock);
	for (fam = m->families; fam; fam = fam->next) {
		for (s = fam->samples; s; s = s->next) {
			snprintf(key, sizeof(key), "%s%s", fam->name, s->labels);
			if (s->kind == AGENT_METRIC_COUNTER)
				json_object_object_add(o, key,
					json_object_new_uint64(atomic_load(&s->count)));
			else
				json_object_object_add(o, key,
					json_object_new_double(atomic_load(&s->gauge)));
		}
	}
	pthread_mutex_unlock(&m->lock);
	return o;
}
