// SPDX-License-Identifier: GPL-2.0
/*
 * agent_lock.c: the one-agent-per-filesystem lock, an abstract unix socket.
 *
 * The lock is a listening socket bound to the abstract name
 * "\0scoutfs-hsm-agent/<id>", where id is the filesystem's fsid (or, for
 * a directory that is not a scoutfs mount, its device and inode).  The
 * kernel allows one bind per name in a network namespace and drops the
 * name when the process dies in any way, kill -9 included, so there is no
 * stale lock file to clean up and no race between checking and taking.
 *
 * A second agent's bind fails with EADDRINUSE; it then connects to the
 * name and reads SO_PEERCRED, which holds the pid of the process that
 * called listen(), to say which agent holds the filesystem.  The holder
 * accepts such connections and closes them (agent_lock_serve()) so the
 * backlog never fills.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent_lock.h"

static socklen_t lock_addr(const char *id, struct sockaddr_un *sun)
{
	int n;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	n = snprintf(sun->sun_path + 1, sizeof(sun->sun_path) - 1,
		     "scoutfs-hsm-agent/%s", id);
	if (n < 0 || (size_t)n >= sizeof(sun->sun_path) - 1)
		return 0;
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

static pid_t lock_holder(const struct sockaddr_un *sun, socklen_t len)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	pid_t pid = 0;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return 0;
	if (!connect(fd, (const struct sockaddr *)sun, len) &&
	    !getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen))
		pid = cred.pid;
	close(fd);
	return pid;
}

int agent_lock_take(const char *id, int *fd_out, pid_t *holder)
{
	struct sockaddr_un sun;
	socklen_t len = lock_addr(id, &sun);
	int fd, err;

	*holder = 0;
	if (!len)
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sun, len)) {
		err = errno;
		close(fd);
		if (err == EADDRINUSE) {
			*holder = lock_holder(&sun, len);
			return -EBUSY;
		}
		return -err;
	}
	if (listen(fd, 16)) {
		err = errno;
		close(fd);
		return -err;
	}
	*fd_out = fd;
	return 0;
}

void agent_lock_serve(int fd)
{
	int c;

	while ((c = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		close(c);
}
