// SPDX-License-Identifier: GPL-2.0
/*
 * test_metrics.c: the agent's metrics registry (hsm-agent/src/metrics.c):
 * registration by name returns the same metric again, invalid names and
 * kind or help conflicts are refused, the text rendering is the Prometheus
 * exposition format (HELP/TYPE once per family, escaped label values and
 * help), counters from many threads add up exactly, and the JSON view
 * carries the same values.
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "metrics.h"

static void test_register_and_render(void **state)
{
	struct agent_metrics *m = agent_metrics_new();
	struct agent_metric *a, *a2, *b, *g;
	size_t len;
	char *text;

	(void)state;
	a = agent_metric_get(m, AGENT_METRIC_COUNTER, "x_files_total",
			     "Files.", "backend", "s3", NULL);
	b = agent_metric_get(m, AGENT_METRIC_COUNTER, "x_files_total",
			     "Files.", "backend", "disk", NULL);
	a2 = agent_metric_get(m, AGENT_METRIC_COUNTER, "x_files_total",
			      "Files.", "backend", "s3", NULL);
	g = agent_metric_get(m, AGENT_METRIC_GAUGE, "x_age_seconds",
			     "Age.\nSecond line \\ here.", NULL);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(g);
	assert_ptr_equal(a, a2);
	assert_ptr_not_equal(a, b);
	agent_metric_add(a, 3);
	agent_metric_add(a2, 4);
	agent_metric_add(b, 1);
	agent_metric_set(g, 2.5);
	/* the wrong kind of update is ignored, NULL is ignored */
	agent_metric_set(a, 100);
	agent_metric_add(g, 100);
	agent_metric_add(NULL, 1);
	assert_true(agent_metric_value(a) == 7);
	assert_true(agent_metric_value(g) == 2.5);

	text = agent_metrics_render(m, &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	assert_string_equal(text,
		"# HELP x_files_total Files.\n"
		"# TYPE x_files_total counter\n"
		"x_files_total{backend=\"s3\"} 7\n"
		"x_files_total{backend=\"disk\"} 1\n"
		"# HELP x_age_seconds Age.\\nSecond line \\\\ here.\n"
		"# TYPE x_age_seconds gauge\n"
		"x_age_seconds 2.5\n");
	free(text);
	agent_metrics_free(m);
}

static void test_refused(void **state)
{
	struct agent_metrics *m = agent_metrics_new();

	(void)state;
	assert_non_null(agent_metric_get(m, AGENT_METRIC_COUNTER, "ok_total",
					 "Help.", NULL));
	/* same name, other kind or other help */
	assert_null(agent_metric_get(m, AGENT_METRIC_GAUGE, "ok_total",
				     "Help.", NULL));
	assert_null(agent_metric_get(m, AGENT_METRIC_COUNTER, "ok_total",
				     "Other help.", NULL));
	/* invalid names */
	assert_null(agent_metric_get(m, AGENT_METRIC_GAUGE, "9lives", "h", NULL));
	assert_null(agent_metric_get(m, AGENT_METRIC_GAUGE, "a-b", "h", NULL));
	assert_null(agent_metric_get(m, AGENT_METRIC_GAUGE, "", "h", NULL));
	assert_null(agent_metric_get(m, AGENT_METRIC_GAUGE, "ok", "h",
				     "__reserved", "v", NULL));
	assert_null(agent_metric_get(m, AGENT_METRIC_GAUGE, "ok", "h",
				     "a:b", "v", NULL));
	assert_null(agent_metric_get(m, AGENT_METRIC_GAUGE, "ok", "h",
				     "k", NULL, NULL));
	/* colons are allowed in metric names */
	assert_non_null(agent_metric_get(m, AGENT_METRIC_GAUGE, "job:rate",
					 "h", NULL));
	agent_metrics_free(m);
}

static void test_label_escaping(void **state)
{
	struct agent_metrics *m = agent_metrics_new();
	struct agent_metric *g;
	char *text;

	(void)state;
	g = agent_metric_get(m, AGENT_METRIC_GAUGE, "esc", "h", "path",
			     "a\"b\\c\nd", "k2", "v2", NULL);
	assert_non_null(g);
	agent_metric_set(g, NAN);
	text = agent_metrics_render(m, NULL);
	assert_non_null(strstr(text, "esc{path=\"a\\\"b\\\\c\\nd\",k2=\"v2\"} NaN\n"));
	free(text);
	agent_metric_set(g, INFINITY);
	text = agent_metrics_render(m, NULL);
	assert_non_null(strstr(text, "} +Inf\n"));
	free(text);
	agent_metrics_free(m);
}

#define THREADS 4
#define ADDS 100000

static void *adder(void *arg)
{
	for (int i = 0; i < ADDS; i++)
		agent_metric_add(arg, 1);
	return NULL;
}

static void test_concurrent_adds(void **state)
{
	struct agent_metrics *m = agent_metrics_new();
	struct agent_metric *c = agent_metric_get(m, AGENT_METRIC_COUNTER,
						  "n_total", "h", NULL);
	pthread_t t[THREADS];
	int i;

	(void)state;
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, adder, c), 0);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	assert_true(agent_metric_value(c) == (double)THREADS * ADDS);
	agent_metrics_free(m);
}

static void test_json(void **state)
{
	struct agent_metrics *m = agent_metrics_new();
	struct json_object *o, *v;

	(void)state;
	agent_metric_add(agent_metric_get(m, AGENT_METRIC_COUNTER, "c_total",
					  "h", "b", "x", NULL), 5);
	agent_metric_set(agent_metric_get(m, AGENT_METRIC_GAUGE, "g", "h",
					  NULL), 0.25);
	o = agent_metrics_json(m);
	assert_true(json_object_object_get_ex(o, "c_total{b=\"x\"}", &v));
	assert_int_equal(json_object_get_uint64(v), 5);
	assert_true(json_object_object_get_ex(o, "g", &v));
	assert_true(json_object_get_double(v) == 0.25);
	json_object_put(o);
	agent_metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_and_render),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_concurrent_adds),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests_name("agent_metrics", tests, NULL, NULL);
}
