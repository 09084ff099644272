// SPDX-License-Identifier: GPL-2.0
/*
 * test_agent.c: the parts of the agent core that have no daemon around
 * them: the one-agent-per-filesystem lock (a second take fails naming the
 * holder's pid, closing lets go; a lock held in another process is seen),
 * systemd's path escaping compared with systemd-escape itself when it is
 * installed, the default socket, and the filesystem probe on a directory
 * that is not scoutfs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent.h"
#include "agent_lock.h"

static void test_lock_twice(void **state)
{
	char id[64];
	pid_t holder = -1;
	int fd, fd2 = -1;

	(void)state;
	snprintf(id, sizeof(id), "test-%d", (int)getpid());
	assert_int_equal(agent_lock_take(id, &fd, &holder), 0);
	assert_int_equal(holder, 0);
	assert_int_equal(agent_lock_take(id, &fd2, &holder), -EBUSY);
	assert_int_equal(holder, getpid());
	assert_int_equal(fd2, -1);
	/* asking left a connection: serving it is harmless */
	agent_lock_serve(fd);
	close(fd);
	assert_int_equal(agent_lock_take(id, &fd, &holder), 0);
	close(fd);
}

static void test_lock_other_process(void **state)
{
	char id[64];
	int pipefd[2], fd;
	pid_t child, holder;
	char c;

	(void)state;
	snprintf(id, sizeof(id), "test-child-%d", (int)getpid());
	assert_int_equal(pipe(pipefd), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		pid_t h;

		close(pipefd[0]);
		if (agent_lock_take(id, &fd, &h))
			_exit(1);
		if (write(pipefd[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	assert_int_equal(read(pipefd[0], &c, 1), 1);
	assert_int_equal(agent_lock_take(id, &fd, &holder), -EBUSY);
	assert_int_equal(holder, child);
	/* the holder dies any way at all: the lock is free */
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	close(pipefd[0]);
	assert_int_equal(agent_lock_take(id, &fd, &holder), 0);
	close(fd);
}

static void check_escape(const char *path, const char *want)
{
	char out[256];

	assert_int_equal(agent_escape_path(path, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

static void test_escape(void **state)
{
	static const char *const paths[] = {
		"/", "/srv/archive", "/srv//archive/", "/mnt/a b", "/mnt/x-y",
		"/mnt/.hidden/x", "/mnt/./a", "/mnt/ü", "/a:b_c.d", "/mnt/a\\b",
	};
	char cmd[512], want[256], out[256];
	size_t i;
	FILE *p;

	(void)state;
	check_escape("/", "-");
	check_escape("/srv/archive", "srv-archive");
	check_escape("//srv//archive//", "srv-archive");
	check_escape("/mnt/a b", "mnt-a\\x20b");
	check_escape("/mnt/x-y", "mnt-x\\x2dy");
	check_escape("/.hidden", "\\x2ehidden");
	check_escape("/mnt/./a", "mnt-a");
	assert_int_equal(agent_escape_path("/srv/archive", out, 5),
			 -ENAMETOOLONG);

	if (system("command -v systemd-escape > /dev/null 2>&1")) {
		print_message("# systemd-escape is not installed: compared with the table above only\n");
		return;
	}
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		snprintf(cmd, sizeof(cmd), "systemd-escape --path '%s'", paths[i]);
		p = popen(cmd, "r");
		assert_non_null(p);
		assert_non_null(fgets(want, sizeof(want), p));
		pclose(p);
		want[strcspn(want, "\n")] = 0;
		assert_int_equal(agent_escape_path(paths[i], out, sizeof(out)), 0);
		if (strcmp(out, want))
			fail_msg("%s: ours %s, systemd-escape %s", paths[i], out, want);
	}
}

static void test_default_socket(void **state)
{
	char out[108];

	(void)state;
	unsetenv("RUNTIME_DIRECTORY");
	assert_int_equal(agent_default_socket("/srv/archive", out, sizeof(out)), 0);
	assert_string_equal(out, "/run/scoutfs-hsm/srv-archive/agent.sock");
	setenv("RUNTIME_DIRECTORY", "/run/x/y:/run/other", 1);
	assert_int_equal(agent_default_socket("/srv/archive", out, sizeof(out)), 0);
	assert_string_equal(out, "/run/x/y/agent.sock");
	unsetenv("RUNTIME_DIRECTORY");
	assert_int_equal(agent_default_socket("/srv/archive", out, 20),
			 -ENAMETOOLONG);
}

static void test_probe_not_scoutfs(void **state)
{
	struct agent_fs_info fs;

	(void)state;
	agent_fs_probe("/tmp", &fs);
	assert_false(fs.is_scoutfs);
	assert_non_null(strstr(fs.reason, "is not a scoutfs mount"));
	agent_fs_probe("/nonexistent-agent-test", &fs);
	assert_false(fs.is_scoutfs);
	assert_non_null(strstr(fs.reason, "No such file or directory"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock_twice),
		cmocka_unit_test(test_lock_other_process),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_default_socket),
		cmocka_unit_test(test_probe_not_scoutfs),
	};

	return cmocka_run_group_tests_name("agent_core", tests, NULL, NULL);
}
