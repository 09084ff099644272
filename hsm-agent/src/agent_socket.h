/* SPDX-License-Identifier: GPL-2.0 */
/*
 * agent_socket.h: the default metrics/status socket of the agent of a
 * mount: $RUNTIME_DIRECTORY/agent.sock under systemd (RuntimeDirectory=),
 * else /run/scoutfs-hsm/<systemd-escape --path MOUNT>/agent.sock.
 */
#ifndef SCOUTFS_HSM_AGENT_SOCKET_H
#define SCOUTFS_HSM_AGENT_SOCKET_H

#include <stddef.h>

/*
 * systemd-escape --path: "/srv/archive" -> "srv-archive", "/" -> "-".
 * 0, or -ENAMETOOLONG when out is too small.
 */
int agent_escape_path(const char *path, char *out, size_t len);

/* The metrics/status socket when the configuration names none. */
#define AGENT_RUN_DIR "/run/scoutfs-hsm"
int agent_default_socket(const char *mount, char *out, size_t len);

#endif
