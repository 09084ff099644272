// SPDX-License-Identifier: GPL-2.0
/*
 * test_config.c: the hsm-agent configuration loader (hsm-agent/src/config.c)
 * on real files: the shipped example loads with the values it documents,
 * each class of error is reported as FILE:LINE: problem with the line of
 * the offending setting, several errors are reported together, and archive
 * set matching picks the first set that holds.
 *
 * Each case writes its file into a fresh temporary directory, so the file
 * name in every message is known and the line numbers are those of the
 * text in the case.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

struct fixture {
	char dir[64];
	char path[128];
	struct agent_config *cfg;
	struct agent_config_errors errs;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/agent-config-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/agent.conf", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	agent_config_free(f->cfg);
	agent_config_errors_free(&f->errs);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* minimal valid head: line 1 and 2 */
#define HEAD "catalog = \"/var/lib/c.db\";\n" \
	     "backends = ( { name = \"d\"; type = \"dir\"; root = \"/a\"; } );\n"

static int load_text(struct fixture *f, const char *text)
{
	FILE *fp = fopen(f->path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	agent_config_free(f->cfg);
	f->cfg = NULL;
	agent_config_errors_free(&f->errs);
	return agent_config_load(f->path, &f->cfg, &f->errs);
}

/* the load failed with exactly nr errors, and one is "PATH:LINE: ...needle..." */
static void expect_error(struct fixture *f, size_t nr, unsigned int line,
			 const char *needle)
{
	char prefix[200];
	size_t i;

	assert_null(f->cfg);
	if (f->errs.nr != nr) {
		for (i = 0; i < f->errs.nr; i++)
			print_message("# got: %s\n", f->errs.msgs[i]);
	}
	assert_int_equal(f->errs.nr, nr);
	if (line)
		snprintf(prefix, sizeof(prefix), "%s:%u: ", f->path, line);
	else
		snprintf(prefix, sizeof(prefix), "%s: ", f->path);
	for (i = 0; i < f->errs.nr; i++) {
		if (!strncmp(f->errs.msgs[i], prefix, strlen(prefix)) &&
		    strstr(f->errs.msgs[i], needle))
			return;
	}
	for (i = 0; i < f->errs.nr; i++)
		print_message("# got: %s\n", f->errs.msgs[i]);
	fail_msg("no error \"%s...%s\"", prefix, needle);
}

/* packing: defaults, and a threshold a pack could never hold */
#define CATALOG "catalog = \"/var/lib/c.db\";\n"

static void test_pack_settings(void **state)
{
	struct fixture *f = *state;
	const struct agent_backend_conf *b;

	assert_int_equal(load_text(f, CATALOG
		"backends = ( { name = \"s\"; type = \"s3\";"
		" endpoint = \"http://127.0.0.1:1\"; bucket = \"b\"; } );\n"), 0);
	b = &f->cfg->backends[0];
	assert_int_equal(b->pack_threshold, 1 << 20);
	assert_int_equal(b->pack_max_files, 1000);
	assert_int_equal(b->pack_max_bytes, 64 << 20);
	assert_int_equal(b->pack_delay, 5);
	assert_int_equal(load_text(f, CATALOG
		"backends = ( { name = \"s\"; type = \"s3\";"
		" endpoint = \"http://127.0.0.1:1\"; bucket = \"b\";"
		" pack_threshold = \"8K\"; pack_max_files = 50;"
		" pack_max_bytes = \"1M\"; pack_delay = \"2m\"; } );\n"), 0);
	b = &f->cfg->backends[0];
	assert_int_equal(b->pack_threshold, 8 << 10);
	assert_int_equal(b->pack_max_files, 50);
	assert_int_equal(b->pack_max_bytes, 1 << 20);
	assert_int_equal(b->pack_delay, 120);
	assert_int_not_equal(load_text(f, CATALOG
		"backends = ( { name = \"s\"; type = \"s3\";\n"
		" endpoint = \"http://127.0.0.1:1\"; bucket = \"b\";\n"
		" pack_threshold = \"2M\"; pack_max_bytes = \"1M\"; } );\n"), 0);
	expect_error(f, 1, 4, "'pack_threshold' (2097152) is above 'pack_max_bytes' (1048576)");
	assert_int_not_equal(load_text(f, CATALOG
		"backends = ( { name = \"s\"; type = \"s3\";\n"
		" endpoint = \"http://127.0.0.1:1\"; bucket = \"b\";\n"
		" pack_max_files = 0; } );\n"), 0);
	expect_error(f, 1, 4, "pack_max_files");
}

static void test_example_loads(void **state)
{
	struct fixture *f = *state;
	const struct agent_backend_conf *s3, *tape;
	const struct agent_set_conf *set;

	assert_int_equal(agent_config_load(AGENT_EXAMPLE_CONF, &f->cfg,
					   &f->errs), 0);
	assert_int_equal(f->errs.nr, 0);
	assert_string_equal(f->cfg->catalog, "/var/lib/scoutfs-hsm/catalog.db");
	assert_int_equal(f->cfg->log_level, LOG_INFO);
	assert_int_equal(f->cfg->drain_timeout, 30);
	assert_int_equal(f->cfg->nr_backends, 3);
	assert_int_equal(f->cfg->backends[0].type, AGENT_BACKEND_DIR);
	assert_string_equal(f->cfg->backends[0].dir_root, "/srv/archive/disk");
	s3 = &f->cfg->backends[1];
	assert_int_equal(s3->type, AGENT_BACKEND_S3);
	assert_string_equal(s3->s3.endpoint, "http://127.0.0.1:9000");
	assert_int_equal(s3->s3.addressing, HSM_S3_ADDRESSING_PATH);
	assert_int_equal(s3->s3.part_size, 16 << 20);
	assert_int_equal(s3->s3.multipart_threshold, 64 << 20);
	assert_int_equal(s3->s3.stall_timeout_s, 60);
	assert_int_equal(s3->s3.credential_refresh_s, 300);
	assert_int_equal(s3->pack_threshold, 1 << 20);
	assert_int_equal(s3->pack_max_files, 1000);
	assert_int_equal(s3->pack_max_bytes, 64 << 20);
	assert_int_equal(s3->pack_delay, 5);
	assert_int_equal(s3->archive_workers, 8);
	tape = &f->cfg->backends[2];
	assert_int_equal(tape->type, AGENT_BACKEND_TAPE);
	assert_string_equal(tape->tape.device, "/dev/nst0");
	assert_int_equal(tape->tape.nr_volumes, 2);
	assert_string_equal(tape->tape.volumes[1].label, "VOL002");
	assert_int_equal(tape->tape.volumes[1].capacity, 12ULL << 40);
	assert_int_equal(tape->tape.volumes[1].slot, 2);
	assert_int_equal(tape->tape.block_size, 256 << 10);
	assert_string_equal(tape->tape.changer.device, "/dev/sg3");
	assert_int_equal(tape->archive_workers, 1);
	assert_int_equal(tape->tape.durability, HSM_TAPE_SYNC_EACH_PUT);

	assert_int_equal(f->cfg->nr_sets, 3);
	assert_true(f->cfg->sets[0].never_archive);
	set = &f->cfg->sets[2];
	assert_string_equal(set->name, "climate");
	assert_int_equal(set->nr_copies, 2);
	assert_int_equal(set->copies[1].backend, 2);
	assert_int_equal(set->copies[1].age, 3600);
	assert_true(set->has_gid);
	assert_int_equal(set->gid, 0);
	assert_string_equal(set->xattr_value, "climate");
	assert_int_equal(set->min_age, 60);
	assert_int_equal(set->keep_first_kib, 64);
	assert_int_equal(f->cfg->sets[1].nr_paths, 2);
	assert_true(f->cfg->sets[1].norelease);

	assert_int_equal(f->cfg->release.high_watermark, 90);
	assert_int_equal(f->cfg->release.low_watermark, 80);
	assert_int_equal(f->cfg->release.min_residence, 600);
	assert_int_equal(f->cfg->stager.timeout, 3600);
	assert_int_equal(f->cfg->stager.storm_action, AGENT_STORM_QUEUE);
	assert_null(f->cfg->metrics.socket);
	assert_int_equal(f->cfg->metrics.port, 0);
}

static void test_minimal_defaults(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load_text(f, "catalog = \"/c.db\";\n"), 0);
	assert_int_equal(f->cfg->nr_backends, 0);
	assert_int_equal(f->cfg->nr_sets, 0);
	assert_int_equal(f->cfg->release.high_watermark, 90);
	assert_int_equal(f->cfg->release.order, AGENT_RELEASE_WEIGHTED);
	assert_int_equal(f->cfg->stager.max_queued, 100000);
	assert_string_equal(f->cfg->release.pin_xattr, "user.hsm.norelease");
}

/* the settings of the workers: the indexer's interval, the stager's poll and spool */
static void test_worker_settings(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load_text(f, "catalog = \"/c.db\";\n"), 0);
	assert_int_equal(f->cfg->indexer.interval_ms, 1000);
	assert_int_equal(f->cfg->stager.poll_ms, 100);
	assert_string_equal(f->cfg->stager.spool_dir, "/var/tmp");

	assert_int_equal(load_text(f, HEAD "indexer = { interval_ms = 250; };\n"
				   "stager = { poll_ms = 20; spool_dir = \"/srv/spool\"; };\n"),
			 0);
	assert_int_equal(f->cfg->indexer.interval_ms, 250);
	assert_int_equal(f->cfg->stager.poll_ms, 20);
	assert_string_equal(f->cfg->stager.spool_dir, "/srv/spool");

	assert_int_equal(load_text(f, HEAD "indexer = { interval_ms = 10; };\n"),
			 -EINVAL);
	expect_error(f, 1, 3, "'interval_ms' = 10 is out of range (50 to 3600000)");
	assert_int_equal(load_text(f, HEAD "stager = { poll_ms = 0; };\n"), -EINVAL);
	expect_error(f, 1, 3, "'poll_ms' = 0 is out of range (10 to 10000)");
	assert_int_equal(load_text(f, HEAD "stager = { spool_dir = \"spool\"; };\n"),
			 -EINVAL);
	expect_error(f, 1, 3, "'spool_dir' = \"spool\" must be an absolute path");
	assert_int_equal(load_text(f, HEAD "indexer = { interval = 1; };\n"), -EINVAL);
	expect_error(f, 1, 3, "interval");
}

static void test_missing_file(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(agent_config_load(f->path, &f->cfg, &f->errs),
			 -ENOENT);
	expect_error(f, 1, 0, "cannot read: No such file or directory");
}

static void test_syntax_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load_text(f, HEAD "\nrelease = { high_watermark 90; };\n"
				   "stager = { };\n"), -EINVAL);
	/* libconfig's own message, at the line it stopped */
	expect_error(f, 1, 4, "syntax error");
}

static void test_duplicate_setting_syntax(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load_text(f, HEAD "release = {\n high_watermark = 90;\n"
				   " high_watermark = 95;\n};\n"), -EINVAL);
	expect_error(f, 1, 5, "duplicate setting name");
}

static void test_unknown_keys(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load_text(f, HEAD "log_levl = \"debug\";\n"), -EINVAL);
	expect_error(f, 1, 3, "top level: unknown setting 'log_levl'");

	assert_int_equal(load_text(f, HEAD "release = {\n hihg_watermark = 95;\n};\n"),
			 -EINVAL);
	expect_error(f, 1, 4, "release: unknown setting 'hihg_watermark'");

	/* an S3 setting on a dir backend */
	assert_int_equal(load_text(f, "catalog = \"/c.db\";\nbackends = (\n"
				   " { name = \"d\"; type = \"dir\";\n"
				   "   root = \"/a\";\n   bucket = \"b\"; }\n);\n"),
			 -EINVAL);
	expect_error(f, 1, 5, "backend 'd': unknown setting 'bucket'");

	assert_int_equal(load_text(f, HEAD "archive_sets = ( { name = \"s\";\n"
				   " match = { paht = \"/x\"; };\n never_archive = true; } );\n"),
			 -EINVAL);
	expect_error(f, 1, 4, "archive set 's' match: unknown setting 'paht'");
}

static void test_types(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load_text(f, HEAD "release = { high_watermark = \"95\"; };\n"),
			 -EINVAL);
	expect_error(f, 1, 3, "'high_watermark' must be an integer, not a string");

	assert_int_equal(load_text(f, HEAD "catalog2 = 1;\n"), -EINVAL);
	expect_error(f, 1, 3, "unknown setting 'catalog2'");

	assert_int_equal(load_text(f, "catalog = 5;\n"), -EINVAL);
	expect_error(f, 1, 1, "'catalog' must be a string, not an integer");

	assert_int_equal(load_text(f, HEAD "release = 5;\n"), -EINVAL);
	expect_error(f, 1, 3, "'release' must be a group");

	assert_int_equal(load_text(f, HEAD "stager = { window_bytes = \"12Q\"; };\n"),
			 -EINVAL);
	expect_error(f, 1, 3, "'window_bytes' = \"12Q\" is not a size");

	assert_int_equal(load_text(f, HEAD "stager = { timeout = \"5 minutes\"; };\n"),
			 -EINVAL);
	expect_error(f, 1, 3, "'timeout' = \"5 minutes\" is not a duration");

	assert_int_equal(load_text(f, HEAD "stager = { storm_action = \"drop\"; };\n"),
			 -EINVAL);
	expect_error(f, 1, 3, "'storm_action' = \"drop\" is not one of: queue, eagain");

	/* a wrong type is one error, not one more per setting of that type */
	assert_int_equal(load_text(f, "catalog = \"/c.db\";\nbackends = (\n"
				   " { name = \"t\"; type = \"tap\"; device = \"/dev/nst0\"; } );\n"),
			 -EINVAL);
	expect_error(f, 1, 3, "backend 't': 'type' = \"tap\" is not one of: dir, s3, tape");

	assert_int_equal(load_text(f, HEAD "archive_sets = ( { name = \"s\";\n"
				   " never_archive = 1; } );\n"), -EINVAL);
	expect_error(f, 2, 4, "'never_archive' must be true or false");
}

static void test_ranges(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load_text(f, HEAD "release = { high_watermark = 150; };\n"),
			 -EINVAL);
	expect_error(f, 1, 3, "'high_watermark' = 150 is out of range (1 to 100)");

	assert_int_equal(load_text(f, HEAD "release = { high_watermark = -1; };\n"),
			 -EINVAL);
	expect_error(f, 1, 3, "must not be negative");

	assert_int_equal(load_text(f, HEAD "release = {\n high_watermark = 70;\n"
				   " low_watermark = 75;\n};\n"), -EINVAL);
	expect_error(f, 1, 5, "'low_watermark' (75%) must be below 'high_watermark' (70%)");

	assert_int_equal(load_text(f, HEAD "release = { order = \"weighted\";\n"
				   " size_weight = 0; age_weight = 0.0; };\n"),
			 -EINVAL);
	expect_error(f, 1, 3, "both 0");

	assert_int_equal(load_text(f, HEAD "archive_sets = ( { name = \"s\";\n"
				   " match = { size_min = \"2M\";\n size_max = \"1M\"; };\n"
				   " never_archive = true; } );\n"), -EINVAL);
	expect_error(f, 1, 4, "'size_min' (2097152) is above 'size_max' (1048576)");

	assert_int_equal(load_text(f, "catalog = \"/c.db\";\nbackends = ( {\n"
				   " name = \"t\"; type = \"tape\"; volume_dir = \"/v\";\n"
				   " auto_label_prefix = \"FB\";\n stage_workers = 2; } );\n"),
			 -EINVAL);
	expect_error(f, 1, 5, "one drive, so 'stage_workers' must be 1");

	assert_int_equal(load_text(f, HEAD "metrics = { port = 70000; };\n"), -EINVAL);
	expect_error(f, 1, 3, "'port' = 70000 is out of range");
}

static void test_required(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load_text(f, "log_level = \"debug\";\n"), -EINVAL);
	expect_error(f, 1, 0, "'catalog' is required");

	assert_int_equal(load_text(f, "catalog = \"relative.db\";\n"), -EINVAL);
	expect_error(f, 1, 1, "must be an absolute path");

	assert_int_equal(load_text(f, "catalog = \"/c.db\";\nbackends = (\n"
				   " { name = \"s\"; type = \"s3\"; bucket = \"b\"; }\n);\n"),
			 -EINVAL);
	expect_error(f, 1, 3, "backend 's': 'endpoint' is required");

	assert_int_equal(load_text(f, "catalog = \"/c.db\";\nbackends = (\n"
				   " { name = \"s\"; root = \"/a\"; }\n);\n"),
			 -EINVAL);
	expect_error(f, 1, 3, "'type' is required");

	assert_int_equal(load_text(f, HEAD "archive_sets = (\n { name = \"s\"; }\n);\n"),
			 -EINVAL);
	expect_error(f, 1, 4, "needs 'copies' (1 to 4) or never_archive = true");
}

static void test_references(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load_text(f, HEAD "archive_sets = ( { name = \"s\";\n"
				   " copies = (\n  { backend = \"d\"; },\n"
				   "  { backend = \"nosuch\"; age = \"1h\"; }\n ); } );\n"),
			 -EINVAL);
	expect_error(f, 1, 6, "archive set 's' copy 2: unknown backend 'nosuch' (defined: d)");

	/* a backend defined after the set that uses it is fine */
	assert_int_equal(load_text(f, "catalog = \"/c.db\";\n"
				   "archive_sets = ( { name = \"s\"; copies = ( { backend = \"late\"; } ); } );\n"
				   "backends = ( { name = \"late\"; type = \"dir\"; root = \"/a\"; } );\n"),
			 0);
	assert_int_equal(f->cfg->sets[0].copies[0].backend, 0);

	assert_int_equal(load_text(f, HEAD "archive_sets = ( { name = \"s\";\n"
				   " copies = ( { backend = \"d\"; },\n { backend = \"d\"; } ); } );\n"),
			 -EINVAL);
	expect_error(f, 1, 5, "backend 'd' already holds copy 1");

	assert_int_equal(load_text(f, HEAD "archive_sets = ( { name = \"s\";\n"
				   " never_archive = true;\n copies = ( { backend = \"d\"; } ); } );\n"),
			 -EINVAL);
	expect_error(f, 1, 5, "never_archive = true has no copies");

	assert_int_equal(load_text(f, "catalog = \"/c.db\";\nbackends = (\n"
				   " { name = \"a\"; type = \"dir\"; root = \"/a\"; },\n"
				   " { name = \"b\"; type = \"dir\"; root = \"/b\"; },\n"
				   " { name = \"c\"; type = \"dir\"; root = \"/c\"; },\n"
				   " { name = \"d\"; type = \"dir\"; root = \"/d\"; },\n"
				   " { name = \"e\"; type = \"dir\"; root = \"/e\"; } );\n"
				   "archive_sets = ( { name = \"s\"; copies = (\n"
				   " { backend = \"a\"; }, { backend = \"b\"; }, { backend = \"c\"; },\n"
				   " { backend = \"d\"; }, { backend = \"e\"; } ); } );\n"),
			 -EINVAL);
	expect_error(f, 1, 8, "5 copies; at most 4");
}

static void test_duplicates(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load_text(f, "catalog = \"/c.db\";\nbackends = (\n"
				   " { name = \"a\"; type = \"dir\"; root = \"/a\"; },\n"
				   " { name = \"a\";\n   type = \"dir\"; root = \"/b\"; } );\n"),
			 -EINVAL);
	expect_error(f, 1, 4, "backend 'a': a backend of this name is already defined at line 3");

	assert_int_equal(load_text(f, HEAD "archive_sets = (\n"
				   " { name = \"s\"; never_archive = true; },\n"
				   " { name = \"s\"; never_archive = true; } );\n"),
			 -EINVAL);
	expect_error(f, 1, 5, "an archive set of this name is already defined at line 4");

	assert_int_equal(load_text(f, "catalog = \"/c.db\";\nbackends = ( {\n"
				   " name = \"t\"; type = \"tape\"; volume_dir = \"/v\";\n"
				   " volumes = ( { label = \"V1\"; },\n { label = \"V1\"; } ); } );\n"),
			 -EINVAL);
	expect_error(f, 1, 5, "volume 'V1' is listed twice");

	assert_int_equal(load_text(f, "catalog = \"/c.db\";\nbackends = (\n"
				   " { name = \"bad name\"; type = \"dir\"; root = \"/a\"; } );\n"),
			 -EINVAL);
	expect_error(f, 1, 3, "name \"bad name\" must be 1 to 63 letters");
}

static void test_consistency(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load_text(f, "catalog = \"/c.db\";\nbackends = ( {\n"
				   " name = \"s\"; type = \"s3\"; endpoint = \"http://127.0.0.1:1\";\n"
				   " bucket = \"b\";\n access_key = \"AK\"; } );\n"),
			 -EINVAL);
	expect_error(f, 1, 5, "'access_key' and 'secret_key' go together");

	assert_int_equal(load_text(f, "catalog = \"/c.db\";\nbackends = ( {\n"
				   " name = \"s\"; type = \"s3\";\n endpoint = \"127.0.0.1:1\";\n"
				   " bucket = \"b\"; } );\n"), -EINVAL);
	expect_error(f, 1, 4, "must start with http:// or https://");

	assert_int_equal(load_text(f, "catalog = \"/c.db\";\nbackends = (\n"
				   " { name = \"t\"; type = \"tape\";\n"
				   "   device = \"/dev/nst0\"; volume_dir = \"/v\"; } );\n"),
			 -EINVAL);
	expect_error(f, 1, 3, "exactly one of 'device'");

	assert_int_equal(load_text(f, "catalog = \"/c.db\";\nbackends = ( {\n"
				   " name = \"t\"; type = \"tape\"; volume_dir = \"/v\";\n"
				   " volumes = ( { label = \"no/slash\"; } ); } );\n"),
			 -EINVAL);
	expect_error(f, 1, 4, "'no/slash' is not a valid volume label");

	assert_int_equal(load_text(f, HEAD "metrics = {\n address = \"10.0.0.1\"; port = 9477; };\n"),
			 -EINVAL);
	expect_error(f, 1, 4, "\"10.0.0.1\" is not a loopback address");

	assert_int_equal(load_text(f, HEAD "metrics = { address = \"::1\"; port = 9477; };\n"), 0);
	assert_int_equal(load_text(f, HEAD "metrics = { port = 9477; };\n"), 0);
	assert_string_equal(f->cfg->metrics.address, "127.0.0.1");

	assert_int_equal(load_text(f, HEAD "archive_sets = ( { name = \"s\"; never_archive = true;\n"
				   " match = { owner = \"no-such-user-here\"; }; } );\n"),
			 -EINVAL);
	expect_error(f, 1, 4, "no such user");

	assert_int_equal(load_text(f, HEAD "archive_sets = ( { name = \"s\"; never_archive = true;\n"
				   " match = { path = \"relative/*\"; }; } );\n"),
			 -EINVAL);
	expect_error(f, 1, 4, "must start with '/'");
}

/* every problem in the file, not just the first */
static void test_all_errors_reported(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load_text(f, "catalog = \"/c.db\";\n"
				   "log_level = \"loud\";\n"
				   "release = { low_watermark = 100; };\n"
				   "stager = { max_queued = 0; };\n"
				   "bogus = 1;\n"), -EINVAL);
	expect_error(f, 4, 2, "'log_level' = \"loud\" is not one of: error, warning, notice, info, debug");
	expect_error(f, 4, 3, "'low_watermark' = 100 is out of range (0 to 99)");
	expect_error(f, 4, 4, "'max_queued' = 0 is out of range");
	expect_error(f, 4, 5, "unknown setting 'bogus'");
}

static void test_units(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(agent_parse_size("4K", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(agent_parse_size("10GiB", &v), 0);
	assert_int_equal(v, 10ULL << 30);
	assert_int_equal(agent_parse_size("7", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(agent_parse_size("2t", &v), 0);
	assert_int_equal(v, 2ULL << 40);
	assert_int_equal(agent_parse_size("1X", &v), -EINVAL);
	assert_int_equal(agent_parse_size("-1", &v), -EINVAL);
	assert_int_equal(agent_parse_size("", &v), -EINVAL);
	assert_int_equal(agent_parse_size("99999999P", &v), -ERANGE);
	assert_int_equal(agent_parse_duration("90", &v), 0);
	assert_int_equal(v, 90);
	assert_int_equal(agent_parse_duration("10m", &v), 0);
	assert_int_equal(v, 600);
	assert_int_equal(agent_parse_duration("2h", &v), 0);
	assert_int_equal(v, 7200);
	assert_int_equal(agent_parse_duration("1w", &v), 0);
	assert_int_equal(v, 604800);
	assert_int_equal(agent_parse_duration("1mo", &v), -EINVAL);
	assert_int_equal(agent_parse_duration("m", &v), -EINVAL);
}

struct xattrs {
	const char *name;
	const char *value;
};

static ssize_t fake_getxattr(void *arg, const char *name, char *buf,
			     size_t len)
{
	const struct xattrs *x = arg;
	size_t n;

	if (!x || !x->name || strcmp(x->name, name))
		return -ENODATA;
	n = strlen(x->value);
	if (n > len)
		return -ERANGE;
	memcpy(buf, x->value, n);
	return (ssize_t)n;
}

static const char *match(struct fixture *f, const char *path, uint64_t size,
			 uid_t uid, uint64_t age, const struct xattrs *x)
{
	struct agent_file_facts facts = {
		.path = path, .size = size, .uid = uid, .gid = 100,
		.change_age = age, .get_xattr = fake_getxattr,
		.xattr_arg = (void *)x,
	};
	const struct agent_set_conf *set = agent_config_match_set(f->cfg,
								 &facts);

	return set ? set->name : "(none)";
}

static void test_match_first_wins(void **state)
{
	struct fixture *f = *state;
	struct xattrs proj = { "user.project", "climate" };
	struct xattrs other = { "user.project", "climatex" };

	assert_int_equal(load_text(f, HEAD "archive_sets = (\n"
		" { name = \"scratch\"; match = { path = \"/scratch/*\"; }; never_archive = true; },\n"
		" { name = \"tagged\"; match = { xattr = { name = \"user.project\"; value = \"climate\"; }; };\n"
		"   copies = ( { backend = \"d\"; } ); },\n"
		" { name = \"small\"; match = { path = [ \"/p/*\", \"/h/*\" ]; size_max = \"1M\"; };\n"
		"   copies = ( { backend = \"d\"; } ); },\n"
		" { name = \"alice-old\"; match = { owner = 1000; age = \"1h\"; size_min = 1; };\n"
		"   copies = ( { backend = \"d\"; age = \"1d\"; } ); }\n);\n"), 0);

	/* first set wins even though later ones match too */
	assert_string_equal(match(f, "/scratch/x", 10, 1000, 99999, &proj), "scratch");
	/* '*' crosses '/' */
	assert_string_equal(match(f, "/scratch/a/b/c", 10, 0, 0, NULL), "scratch");
	assert_string_equal(match(f, "/p/x", 10, 1000, 99999, &proj), "tagged");
	/* xattr value compared exactly */
	assert_string_equal(match(f, "/p/x", 10, 1000, 99999, &other), "small");
	assert_string_equal(match(f, "/h/deep/x", 1 << 20, 0, 0, NULL), "small");
	/* size_max inclusive; above it falls through to the uid set */
	assert_string_equal(match(f, "/h/x", (1 << 20) + 1, 1000, 3600, NULL), "alice-old");
	/* too young, wrong owner, empty: no set */
	assert_string_equal(match(f, "/h/x", (1 << 20) + 1, 1000, 3599, NULL), "(none)");
	assert_string_equal(match(f, "/q", 5, 1001, 99999, NULL), "(none)");
	assert_string_equal(match(f, "/q", 0, 1000, 99999, NULL), "(none)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_example_loads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pack_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_minimal_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syntax_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_setting_syntax, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_required, setup, teardown),
		cmocka_unit_test_setup_teardown(test_references, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_consistency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_errors_reported, setup, teardown),
		cmocka_unit_test(test_units),
		cmocka_unit_test_setup_teardown(test_match_first_wins, setup, teardown),
	};

	return cmocka_run_group_tests_name("agent_config", tests, NULL, NULL);
}
